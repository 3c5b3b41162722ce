"""The datasets builder: splits, exact ratios, parallel held-out blocks, no leakage, determinism, num_proc."""

import numpy as np
import pytest

from hf_clonelang import ClonedCorpusBuilder, ClonedCorpusConfig, ConfigError, default_config_name
from hf_clonelang.data.builder import exact_counts


def _build(tmp_path, num_proc=None, name="b", **kwargs):
    builder = ClonedCorpusBuilder(cache_dir=str(tmp_path / name), **kwargs)
    builder.download_and_prepare(num_proc=num_proc)
    return builder, builder.as_dataset()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from hf_clonelang import BaseCorpus

    tmp = tmp_path_factory.mktemp("built")
    kwargs = dict(base=BaseCorpus(max_documents=300), vocab_size=300, block_size=32, eval_blocks=8)
    return _build(tmp, num_languages=3, ratios=(0.7, 0.2, 0.1), **kwargs)


def test_split_names_and_columns(built):
    _, dsd = built
    assert list(dsd) == ["train"] + [f"{kind}_L{k}" for kind in ("validation", "test") for k in (1, 2, 3)]
    assert set(dsd["train"].column_names) == {"input_ids", "language", "block_id"}
    assert all(len(row) == 32 for row in dsd["train"][:50]["input_ids"])


def test_train_uses_every_block_once_and_ratios_exactly(built):
    builder, dsd = built
    train = dsd["train"]
    held_out = set(dsd["validation_L1"]["block_id"]) | set(dsd["test_L1"]["block_id"])
    ids = np.array(train["block_id"])
    assert len(set(ids)) == len(ids)  # no base block twice
    assert not set(ids) & held_out  # never a held-out block in train
    assert set(ids) | held_out == set(range(len(ids) + len(held_out)))  # every block somewhere
    counts = np.bincount(train["language"], minlength=4)[1:]
    assert np.all(np.abs(counts - np.array([0.7, 0.2, 0.1]) * len(ids)) <= 1)
    assert builder.summary["train"]["L3"]["blocks"] == counts[2]


def test_rows_are_in_their_language(built):
    builder, dsd = built
    tok = builder.cloned_tokenizer
    train = dsd["train"]
    ids, langs = np.array(train["input_ids"]), np.array(train["language"])
    found = tok.language_of(ids)
    for k in (1, 2, 3):
        rows = found[langs == k]
        assert set(np.unique(rows)) <= {0, k}  # only shared ids and ids of the row's language
        assert (rows == k).mean() > 0.9


def test_defaults_leave_no_shared_id_in_rows_of_other_languages(built):
    """The paper clones every id but padding: with the defaults, a row of language k >= 2 holds only ids of k,
    end-of-document tokens included (a shared EOD is a frequent anchor that changes the alignment result)."""
    builder, dsd = built
    tok = builder.cloned_tokenizer
    eod = tok.base.eos_token_id
    assert tok.shared_ids.tolist() == [tok.pad_token_id]
    train = dsd["train"]
    ids, langs = np.array(train["input_ids"]), np.array(train["language"])
    for k in (2, 3):
        rows = [ids[langs == k]] + [np.array(dsd[f"{kind}_L{k}"]["input_ids"]) for kind in ("validation", "test")]
        for block in rows:
            assert np.all(tok.language_of(block) == k)
            assert not np.isin(block, tok.shared_ids).any()
            assert block.min() >= tok.base_vocab_size  # nothing of L1 either
        assert (rows[0] == tok.to_language(eod, k)).any()  # the end-of-document token is there, in language k


def test_held_out_blocks_are_parallel_in_every_language(built):
    builder, dsd = built
    tok = builder.cloned_tokenizer
    for kind in ("validation", "test"):
        l1 = dsd[f"{kind}_L1"]
        for k in (2, 3):
            lk = dsd[f"{kind}_L{k}"]
            assert lk["block_id"] == l1["block_id"]
            assert set(lk["language"]) == {k}
            assert tok.to_base(np.array(lk["input_ids"])).tolist() == l1["input_ids"]
    assert not set(dsd["validation_L1"]["block_id"]) & set(dsd["test_L1"]["block_id"])


def test_same_seed_same_corpus_and_num_proc_does_not_matter(tmp_path, small_config, monkeypatch):
    monkeypatch.setattr("hf_clonelang.data.builder.SHARD_BLOCKS", 100)  # several shards for the two processes
    _, a = _build(tmp_path, name="a", ratios=(0.9, 0.1), **small_config)
    _, b = _build(tmp_path, name="b", num_proc=2, ratios=(0.9, 0.1), **small_config)
    _, c = _build(tmp_path, name="c", ratios=(0.9, 0.1), **{**small_config, "seed": 1})
    for split in a:
        assert a[split].to_dict() == b[split].to_dict(), split
    assert a["train"]["language"] != c["train"]["language"]
    assert a["validation_L1"]["block_id"] != c["validation_L1"]["block_id"]


def test_the_tokenizer_is_saved_with_a_prepared_corpus(tmp_path, small_config):
    builder, _ = _build(tmp_path, ratios=(0.5, 0.5), **small_config)
    again = ClonedCorpusBuilder(cache_dir=str(tmp_path / "b"), ratios=(0.5, 0.5), **small_config)
    again.download_and_prepare()  # cached: nothing is rebuilt, the tokenizer comes from disk
    assert again.cloned_tokenizer.to_dict() == builder.cloned_tokenizer.to_dict()


def test_given_tokenizer_and_clone_fraction(tmp_path, small_config, base_tokenizer):
    builder, dsd = _build(tmp_path, tokenizer=base_tokenizer, clone_fraction=0.8, **small_config)
    tok = builder.cloned_tokenizer
    assert tok.base_vocab_size == 300 and 0.79 < tok.clone_fraction < 0.81
    anchors = set(tok.anchor_ids.tolist())
    l2 = np.array(dsd["validation_L2"]["input_ids"])
    assert anchors & set(np.unique(l2).tolist())  # anchors appear as they are in L2 text


def test_an_eod_token_that_is_also_padding_is_refused_unless_specials_are_shared(
    tmp_path, small_config, base_tokenizer
):
    """Padding is shared by every language; an end-of-document token equal to it would be a shared anchor again."""
    import copy

    tok = copy.deepcopy(base_tokenizer)
    tok.pad_token = tok.eos_token  # a common Hugging Face setup
    with pytest.raises(ConfigError, match=r"eod token '<\|endoftext\|>' \(id 0\) is also the tokenizer's padding"):
        _build(tmp_path, tokenizer=tok, **small_config)
    assert not list((tmp_path / "b").rglob("*.arrow"))  # refused before any data was written
    builder, _ = _build(tmp_path, name="shared", tokenizer=tok, share_special_tokens=True, **small_config)
    assert builder.cloned_tokenizer.shared_ids.tolist() == [tok.eos_token_id]
    from hf_clonelang import ClonedTokenizer

    assert "also the tokenizer's eos token" in ClonedTokenizer(tok, 2).describe_shared()


def test_default_config_names():
    assert default_config_name(2, (0.9, 0.1)) == "L2-r90-10"
    assert default_config_name(3, (1 / 3,) * 3, 0.95) == "L3-r33.3-33.3-33.3-c0.95"
    assert ClonedCorpusConfig(num_languages=4).name == "L4-r25-25-25-25"
    assert ClonedCorpusConfig(num_languages=10).name == "L10-uniform"
    skewed = default_config_name(30, (0.5,) + (0.5 / 29,) * 29)
    assert skewed.startswith("L30-r") and len(skewed) < 20


def test_exact_counts_are_within_one_of_the_ratio():
    for total in (0, 1, 7, 1000, 12345):
        for ratios in ((0.9, 0.1), (1 / 3,) * 3, (0.5, 0.25, 0.125, 0.125), (1.0, 0.0)):
            counts = exact_counts(total, ratios)
            assert counts.sum() == total
            assert np.all(np.abs(counts - np.array(ratios) * total) < 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ratios": (0.8, 0.1)}, "ratios=0.8,0.1 sum to 0.9: they must sum to 1"),
        ({"ratios": (1.2, -0.2)}, "ratios=1.2,-0.2 are not allowed: ratios must be >= 0"),
        ({"ratios": (0.5, 0.25, 0.25)}, "give 3 values for num_languages=2"),
        ({"num_languages": 0}, "num_languages=0 is not allowed"),
        ({"num_languages": 3_000_000}, "num_languages=3000000 is not allowed: at most 100"),
        ({"num_languages": 100, "vocab_size": 30_000_000}, "num_languages=100 is too large"),
        ({"clone_fraction": 0}, "clone_fraction=0 is not allowed"),
        ({"block_size": 1}, "block_size=1 is not allowed"),
        ({"eval_blocks": 0}, "eval_blocks=0 is not allowed"),
    ],
)
def test_bad_configs(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ClonedCorpusConfig(**kwargs)


def test_a_changed_base_file_is_never_answered_from_the_cache(tmp_path, base_tokenizer):
    from hf_clonelang import BaseCorpus

    text = tmp_path / "base.txt"
    cache = str(tmp_path / "cache")
    paragraph = "The little fox ran to the river and found a red kite in the tall grass."

    def train_rows():
        base = BaseCorpus.from_spec([str(text)])
        builder = ClonedCorpusBuilder(
            cache_dir=cache, base=base, tokenizer=base_tokenizer, block_size=16, eval_blocks=2
        )
        builder.download_and_prepare()
        return builder.as_dataset()["train"].num_rows

    text.write_text("\n\n".join([paragraph] * 40))
    before = train_rows()
    text.write_text("\n\n".join([paragraph] * 80))  # the same path, twice the text
    assert train_rows() > before


def _marked_text(path, n=240):
    """``n`` paragraphs (documents), each carrying a unique marker several times: zq00017qz ..."""
    words = "the fox ran to the river and found a red kite in the grass near the old mill".split()
    rng = np.random.default_rng(0)
    docs = []
    for i in range(n):
        body = " ".join(rng.choice(words, size=int(rng.integers(8, 40))))
        docs.append(f"zq{i:05d}qz {body} zq{i:05d}qz {body[::-1]} zq{i:05d}qz.")
    path.write_text("\n\n".join(docs))
    return path


def _markers(dataset, decode):
    """The document markers in the text of ``dataset``'s blocks, read in block order."""
    import re

    rows = sorted(zip(dataset["block_id"], dataset["input_ids"], strict=True))
    return set(re.findall(r"zq(\d{5})qz", "".join(decode(ids) for _, ids in rows)))


@pytest.mark.parametrize("held_out", ["documents", "random_blocks"])
def test_held_out_text_is_documents_that_training_never_reads(tmp_path, held_out):
    """The paper evaluates on other books: no document that training reads has a word in a held-out block (with
    the default); holding out random blocks of the packed text, the option named for it, shares documents."""
    from hf_clonelang import BaseCorpus

    base = BaseCorpus.from_spec([str(_marked_text(tmp_path / "docs.txt"))])
    builder, dsd = _build(tmp_path, base=base, vocab_size=300, block_size=32, eval_blocks=16, held_out=held_out)
    tok = builder.cloned_tokenizer
    trained = _markers(dsd["train"], tok.decode)
    held = {split: _markers(dsd[f"{split}_L1"], tok.decode) for split in ("validation", "test")}
    assert len(trained) > 150 and all(len(markers) > 3 for markers in held.values())
    if held_out == "documents":
        assert not trained & (held["validation"] | held["test"]) and not held["validation"] & held["test"]
        assert all(len(dsd[f"{s}_L{k}"]) == 16 for s in ("validation", "test") for k in (1, 2))
    else:
        assert trained & (held["validation"] | held["test"])  # random blocks cut documents in two
    assert builder.config.to_dict()["held_out"] == held_out


def test_too_few_documents_to_hold_out_whole_ones(tmp_path):
    from hf_clonelang import BaseCorpus

    one_book = tmp_path / "book.txt"
    one_book.write_text("The fox ran to the river. " * 400)
    base = BaseCorpus.from_spec([str(one_book)], sample_by="document")
    with pytest.raises(ConfigError, match=r"1 documents .* too few whole documents .* \(sample_by paragraph"):
        _build(tmp_path, base=base, vocab_size=300, block_size=32, eval_blocks=4)
    _, dsd = _build(
        tmp_path, name="c", base=base, vocab_size=300, block_size=32, eval_blocks=4, held_out="random_blocks"
    )
    assert len(dsd["test_L1"]) == 4


def test_a_run_recorded_before_documents_were_held_out_rebuilds_its_own_split():
    """Run folders written before the document split record no ``held_out``: `align` and the grid analysis rebuild
    their corpus with the random-block split they trained with; new runs record theirs."""
    from hf_clonelang import CorpusArguments

    assert CorpusArguments.from_run_info({"vocab_size": 300}).held_out == "random_blocks"
    assert CorpusArguments(vocab_size=300).to_dict()["held_out"] == "documents"
    assert CorpusArguments.from_run_info(CorpusArguments(vocab_size=300).to_dict()).held_out == "documents"
    assert CorpusArguments.from_run_info({"cloned_corpus": "me/c"}).held_out == "documents"  # a built corpus's own
