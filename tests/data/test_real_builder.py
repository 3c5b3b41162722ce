"""The real-language builder: two languages from their own texts (written here), each with its own BPE, in one
joint vocabulary; exact ratios, per-language held-out splits, rows in their language's ids."""

import numpy as np
import pytest

from hf_clonelang import BaseCorpus, ConfigError
from hf_clonelang.data.real_builder import RealCorpusBuilder, RealCorpusConfig
from hf_clonelang.tokenization.clone_layout import SHARED

ENGLISH = [f"The little fox number {i} ran to the river and found a red kite in the grass." for i in range(300)]
FRENCH = [f"Le petit renard numéro {i} courut vers la rivière et trouva un cerf-volant rouge." for i in range(300)]


def _texts(tmp_path):
    paths = []
    for name, lines in (("en", ENGLISH), ("fr", FRENCH)):
        path = tmp_path / f"{name}.txt"
        path.write_text("\n\n".join(lines))
        paths.append(BaseCorpus.from_spec([str(path)]))
    return tuple(paths)


@pytest.mark.parametrize("mode", ["disjoint", "anchored"])
def test_two_real_languages_in_one_corpus(tmp_path, mode):
    config = RealCorpusConfig(
        names=("en", "fr"), bases=_texts(tmp_path), vocab_size=300, vocab_mode=mode, ratios=(0.8, 0.2),
        block_size=32, eval_blocks=4,
    )  # fmt: skip
    assert config.name == f"en-fr-{mode}-r80-20"
    builder = RealCorpusBuilder(config=config, cache_dir=str(tmp_path / "cache"))
    builder.download_and_prepare()
    dsd = builder.as_dataset()
    tok = builder.joint_tokenizer
    assert set(dsd) == {"train", "validation_L1", "validation_L2", "test_L1", "test_L2"}
    langs = np.asarray(dsd["train"]["language"])
    counts = np.bincount(langs, minlength=3)[1:]
    assert abs(counts[0] / counts.sum() - 0.8) < 0.01  # exact ratios (within one row)
    assert builder.limited_by in ("en", "fr")
    for k in (1, 2):
        rows = np.asarray(dsd[f"validation_L{k}"]["input_ids"])
        assert rows.shape == (4, 32) and set(tok.language_of(rows).ravel().tolist()) <= {SHARED, k}
    train = np.asarray(dsd["train"]["input_ids"])
    fr_rows = train[langs == 2]
    assert set(tok.language_of(fr_rows).ravel().tolist()) <= {SHARED, 2}
    assert "renard" in tok.decode(fr_rows[0], language=2) or "rivi" in tok.decode(fr_rows[0], language=2)
    held_out = set(map(tuple, np.asarray(dsd["validation_L2"]["input_ids"]).tolist()))
    assert not held_out & set(map(tuple, fr_rows.tolist()))  # held-out blocks are not trained on


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"names": ("en",)}, "1 language\\(s\\) given: give at least two"),
        ({"names": ("en", "en")}, "language 'en' is given twice"),
        ({"vocab_mode": "mixed"}, "vocab mode 'mixed' is not allowed"),
        ({"vocab_mode": "anchored", "tokenizers": ("gpt2", "gpt2")}, "anchored mode with one tokenizer shared"),
    ],
)
def test_bad_real_configs(tmp_path, kwargs, message):
    base = {"names": ("en", "fr"), "bases": _texts(tmp_path)}
    if len(kwargs.get("names", ("en", "fr"))) == 1:
        base["bases"] = base["bases"][:1]
    with pytest.raises(ConfigError, match=message):
        RealCorpusConfig(**{**base, **kwargs})


def test_each_languages_held_out_text_is_documents_training_never_reads(tmp_path):
    """Per language, as for clones: no document that training reads has a word in that language's held-out blocks."""
    import re

    docs = {name: [f"{name}{i:04d}x {text}" for i, text in enumerate(lines)] for name, lines in
            (("en", ENGLISH), ("fr", FRENCH))}  # fmt: skip
    bases = []
    for name, lines in docs.items():
        (tmp_path / f"{name}.txt").write_text("\n\n".join(lines))
        bases.append(BaseCorpus.from_spec([str(tmp_path / f"{name}.txt")]))
    config = RealCorpusConfig(names=("en", "fr"), bases=tuple(bases), vocab_size=300, block_size=32, eval_blocks=6)
    builder = RealCorpusBuilder(cache_dir=str(tmp_path / "cache"), config=config)
    builder.download_and_prepare()
    dsd, tok = builder.as_dataset(), builder.joint_tokenizer

    def markers(rows, name, k):
        ordered = sorted(zip(rows["block_id"], rows["input_ids"], strict=True))
        text = "".join(tok.decode(ids, language=k) for _, ids in ordered)
        return set(re.findall(rf"{name}(\d{{4}})x", text))

    for k, name in enumerate(("en", "fr"), 1):
        train = dsd["train"].filter(lambda row, k=k: row["language"] == k)
        trained = markers(train, name, k)
        held = markers(dsd[f"validation_L{k}"], name, k) | markers(dsd[f"test_L{k}"], name, k)
        assert len(trained) > 100 and len(held) > 3 and not trained & held, name
