"""Translation pairs: read in order or as a seeded sample; malformed files named with their line."""

import gzip

import pytest

from hf_clonelang import ConfigError
from hf_clonelang.data.pairs import read_pairs

PAIRS = [("Go.", "Va !"), ("Hi.", "Salut !"), ("Run!", "Cours !"), ("Who?", "Qui ?"), ("Wow!", "Ça alors !")]


def _write(path, pairs):
    text = "".join(f"{a}\t{b}\n" for a, b in pairs)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["pairs.tsv", "pairs.tsv.gz"])
def test_pairs_in_order_and_as_a_seeded_sample(tmp_path, name):
    path = _write(tmp_path / name, PAIRS)
    assert read_pairs(path) == PAIRS
    assert read_pairs(path, limit=2) == PAIRS[:2]
    sample = read_pairs(path, limit=3, seed=7)
    assert sample == read_pairs(path, limit=3, seed=7) and len(sample) == 3
    assert sample == [p for p in PAIRS if p in sample]  # file order kept


def test_bad_pairs_files_are_named(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        read_pairs(tmp_path / "none.tsv")
    (tmp_path / "one.tsv").write_text("Go.\tVa !\nHi.\n")
    with pytest.raises(ConfigError, match=r"one.tsv:2 is not a pair: give a sentence and its translation"):
        read_pairs(tmp_path / "one.tsv")
    (tmp_path / "empty.tsv").write_text("\n\n")
    with pytest.raises(ConfigError, match="holds no pairs"):
        read_pairs(tmp_path / "empty.tsv")
    (tmp_path / "binary.tsv").write_bytes(bytes(range(128, 256)))
    with pytest.raises(ConfigError, match="cannot read pairs file .*UnicodeDecodeError"):
        read_pairs(tmp_path / "binary.tsv")
