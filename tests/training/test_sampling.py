"""The scheduled sampler: purity, exact mixing, clone and pool modes, rank / worker invariance, resume."""

import numpy as np
import pytest
import torch
from accelerate import skip_first_batches
from accelerate.data_loader import BatchSamplerShard
from datasets import Dataset
from torch.utils.data import BatchSampler, DataLoader

from hf_clonelang import ClonedTokenizer, ConfigError
from hf_clonelang.training.collator import CloneCollator
from hf_clonelang.training.sampling import LanguageAssignment, ScheduledDataset, ScheduledSampler
from hf_clonelang.training.schedules import LanguageSchedule

SCHEDULES = [
    ("0.9,0.1", 2),
    ("0.1_0.9", 2),
    ("0.1_0.9_0.5_0.5", 2),
    ("linear:0.1@0_0.5@1", 2),
    ("cosine:0.7,0.2,0.1@0_0.1,0.1,0.8@1", 3),
    ("l1:0.5", 10),
    ("0.99,0.01", 2),
]


def _assignment(text, n, total, seed=0, mode="exact"):
    return LanguageAssignment(LanguageSchedule.from_string(text, n), total, seed=seed, mode=mode)


@pytest.mark.parametrize(("text", "n"), SCHEDULES)
def test_exact_mixing_tracks_the_schedule_over_every_prefix(text, n):
    total = 100_000
    a = _assignment(text, n, total, seed=3)
    langs = a.languages(0, total)
    onehot = np.zeros((total, n))
    onehot[np.arange(total), langs - 1] = 1
    deviation = np.abs(np.cumsum(onehot, axis=0) - np.cumsum(a.schedule(np.arange(total) / total), axis=0))
    assert deviation.max() < 2.0  # "within a few samples", measured ≤ 1.4
    bern = _assignment(text, n, total, seed=3, mode="bernoulli").counts(total)
    assert np.all(np.abs(bern - a.schedule.expected_shares() * total) < 6 * np.sqrt(total))  # independent draws


def test_languages_are_a_pure_function_of_seed_and_index():
    a = _assignment("0.1_0.9", 2, 10_000, seed=1)
    b = _assignment("0.1_0.9", 2, 10_000, seed=1)
    assert np.array_equal(a.languages(0, 10_000), b.languages(0, 10_000))
    assert np.array_equal(a.languages(1234, 5678), a.languages(0, 10_000)[1234:5678])
    assert not np.array_equal(a.languages(0, 10_000), _assignment("0.1_0.9", 2, 10_000, seed=2).languages(0, 10_000))
    for mode in ("exact", "bernoulli"):
        x = _assignment("0.7,0.3", 2, 5000, seed=9, mode=mode)
        assert np.array_equal(x.languages(100, 200), _assignment("0.7,0.3", 2, 5000, 9, mode).languages(100, 200))
    assert np.array_equal(a.counts(7000), np.bincount(a.languages(0, 7000) - 1, minlength=2))


def test_clone_mode_uses_every_block_once_per_pass():
    a = _assignment("0.5,0.5", 2, 300)
    s = ScheduledSampler(a, length=300, num_rows=100)
    items = list(s)
    rows = [r for r, _, _ in items]
    assert [i for _, _, i in items] == list(range(300))
    for p in range(3):
        assert sorted(rows[p * 100 : (p + 1) * 100]) == list(range(100))
    assert rows[:100] != rows[100:200]  # a fresh order per pass
    assert [lang for _, lang, _ in items] == a.languages(0, 300).tolist()


def test_pool_mode_takes_the_next_unused_row_of_each_language():
    row_langs = np.array([1] * 60 + [2] * 10 + [1] * 30)
    a = _assignment("0.8,0.2", 2, 200)
    s = ScheduledSampler(a, length=200, row_languages=row_langs)
    items = list(s)
    assert all(row_langs[r] == lang for r, lang, _ in items)
    l2_rows = [r for r, lang, _ in items if lang == 2]
    assert len(l2_rows) == 40 and sorted(l2_rows[:10]) == list(range(60, 70))  # all of L2 before any repeat
    assert s.pool_epochs(200) == {"L1": 160 / 90, "L2": 4.0}
    stop = ScheduledSampler(a, length=200, row_languages=row_langs, pool_exhausted="stop")
    counts = np.cumsum(a.languages(0, 200) == 2)
    assert stop.available == int(np.argmax(counts > 10)) and len(stop) == stop.available
    assert all(lang != 2 or r in range(60, 70) for r, lang, _ in stop)


def test_pool_lacking_a_scheduled_language_is_refused():
    a = _assignment("0.9,0.1", 2, 100)
    with pytest.raises(ConfigError, match="no rows in language L2, which the schedule 0.9,0.1 uses"):
        ScheduledSampler(a, length=100, row_languages=[1] * 50)
    ScheduledSampler(_assignment("1,0", 2, 100), length=100, row_languages=[1] * 50)  # unused: fine


def _global_batches(sampler, batch):
    return [list(b) for b in BatchSampler(sampler, batch, drop_last=False)]


def test_accelerate_shards_the_same_stream_across_ranks():
    a = _assignment("0.1_0.9", 2, 64)
    stream = _global_batches(ScheduledSampler(a, 64, num_rows=40), 4)
    shards = [
        list(BatchSamplerShard(BatchSampler(ScheduledSampler(a, 64, num_rows=40), 4, False), 2, r)) for r in (0, 1)
    ]
    interleaved = [b for pair in zip(*shards, strict=True) for b in pair]
    assert interleaved == stream  # rank r gets global batches r, r+2, ...


@pytest.fixture(scope="module")
def loader_parts(base_tokenizer):
    tok = ClonedTokenizer(base_tokenizer, 3)
    rows = Dataset.from_dict({"input_ids": np.arange(50 * 8).reshape(50, 8) % 250 + 2})
    return tok, rows


def _batches(tok, rows, workers, skip=0):
    a = _assignment("0.5,0.3,0.2_0.1,0.1,0.8", 3, 96, seed=5)
    loader = DataLoader(
        ScheduledDataset(rows),
        batch_size=4,
        sampler=ScheduledSampler(a, 96, num_rows=len(rows)),
        collate_fn=CloneCollator(tok),
        num_workers=workers,
    )
    if skip:
        loader = skip_first_batches(loader, skip)
    return [{k: v.tolist() for k, v in b.items()} for b in loader]


def test_workers_do_not_change_the_stream(loader_parts):
    tok, rows = loader_parts
    assert _batches(tok, rows, 0) == _batches(tok, rows, 2)


def test_resume_replays_exactly(loader_parts):
    tok, rows = loader_parts
    full = _batches(tok, rows, 0)
    assert _batches(tok, rows, 0, skip=7) == full[7:]


def test_dataset_wrapper_serves_sampler_tuples_and_plain_indices(loader_parts):
    tok, rows = loader_parts
    ds = ScheduledDataset(rows.add_column("language", [2] * len(rows)))
    assert ds[(3, 1, 99)]["language"] == 1 and np.array_equal(ds[(3, 1, 99)]["input_ids"], rows[3]["input_ids"])
    assert ds[4]["language"] == 2
    features = ds.__getitems__([(0, 3, 0), (1, 2, 1)])
    batch = CloneCollator(tok)(features)
    assert torch.equal(batch["language"], torch.tensor([3, 2]))
    assert tok.language_of(batch["input_ids"][0]).unique().tolist() == [3]
    assert torch.equal(batch["labels"], batch["input_ids"])
