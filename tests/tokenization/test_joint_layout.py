"""Real languages in one joint vocabulary: the layout by hand (disjoint and anchored), and the facade with two
tiny BPEs trained on English and French text written here (round trips, standalone tokenizers, persistence)."""

import numpy as np
import pytest
from transformers import AutoTokenizer

from hf_clonelang import ConfigError, train_byte_level_bpe
from hf_clonelang.tokenization.clone_layout import SHARED
from hf_clonelang.tokenization.joint_layout import JointLayout
from hf_clonelang.tokenization.joint_tokenizer import JointTokenizer

L1 = {"<pad>": 0, "<eod>": 1, "a": 2, "b": 3, "ab": 4}
L2 = {"<pad>": 0, "<eod>": 1, "a": 2, "c": 3, "ca": 4, "b": 5}
SPECIALS = [["<pad>", "<eod>"], ["<pad>", "<eod>"]]


def _layout(mode):
    return JointLayout([L1, L2], mode=mode, specials=SPECIALS, pads=["<pad>", "<pad>"])


def test_disjoint_by_hand():
    layout = _layout("disjoint")
    assert layout.vocab_size == 10  # 5 + 6, the padding shared
    assert layout.to_joint_ids([0, 1, 2, 3, 4], 1).tolist() == [0, 1, 2, 3, 4]
    assert layout.to_joint_ids([0, 1, 2, 3, 4, 5], 2).tolist() == [0, 5, 6, 7, 8, 9]
    assert layout.language_of(range(10)).tolist() == [SHARED, 1, 1, 1, 1, 2, 2, 2, 2, 2]
    assert layout.to_base_ids([0, 5, 9, 3], 2).tolist() == [0, 1, 5, -1]  # 3 is L1's "b"


def test_anchored_by_hand():
    layout = _layout("anchored")
    assert layout.vocab_size == 8  # L2's "a" and "b" reuse L1's ids; its end-of-document stays its own
    assert layout.to_joint_ids([0, 1, 2, 3, 4, 5], 2).tolist() == [0, 5, 2, 6, 7, 3]
    assert layout.language_of(range(8)).tolist() == [SHARED, 1, SHARED, SHARED, 1, 2, 2, 2]
    assert layout.num_shared == [3, 3]  # padding, "a", "b"
    assert sorted(layout.ids_of(2).tolist()) == [0, 2, 3, 5, 6, 7]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"vocabs": [L1]}, "1 language given: real-language corpora need at least two"),
        ({"vocabs": [L1, L2], "mode": "mixed"}, "vocab mode 'mixed' is not allowed: use disjoint or anchored"),
        ({"vocabs": [L1, {"a": 0, "b": 2}]}, "the vocabulary of L2 must use the ids 0..1 once each"),
    ],
)
def test_bad_layouts(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        JointLayout(**kwargs)


ENGLISH = [f"The little fox {w} to the river with the red kite, and the bird sang." for w in ("ran", "went", "flew")]
FRENCH = [f"Le petit renard {w} vers la rivière avec le cerf-volant rouge, et l'oiseau chantait." for w in ("a", "b")]


@pytest.fixture(scope="module")
def pair():
    en = train_byte_level_bpe(ENGLISH * 40, vocab_size=300)
    fr = train_byte_level_bpe(FRENCH * 40, vocab_size=300)
    return en, fr


@pytest.mark.parametrize("mode", ["disjoint", "anchored"])
def test_the_facade_round_trips_and_its_standalone_tokenizers_give_joint_ids(pair, mode, tmp_path):
    en, fr = pair
    tok = JointTokenizer([en, fr], mode=mode)
    expected = len(en) + len(fr) - 1 - (sum(tok.layout.num_shared) // 2 - 1 if mode == "anchored" else 0)
    assert tok.vocab_size == expected
    text = FRENCH[0]
    ids = tok(text, language=2)["input_ids"]
    assert max(ids) < tok.vocab_size and tok.decode(ids, language=2) == text
    owners = tok.language_of(ids)
    assert set(owners.tolist()) <= {SHARED, 2} and (owners == 2).any()
    assert tok.eod_token_id(1) != tok.eod_token_id(2)  # each language keeps its own end-of-document
    rows = tok([FRENCH[0], FRENCH[0] + " " + FRENCH[1]], language=2)["input_ids"]  # a batch of unequal lengths
    assert (
        rows[0] == ids
        and len(rows[1]) > len(ids)
        and rows[1] == tok(FRENCH[0] + " " + FRENCH[1], language=2)["input_ids"]
    )
    tok.save_pretrained(tmp_path)
    plain = AutoTokenizer.from_pretrained(tmp_path, subfolder="tokenizers/L2")
    assert plain(text)["input_ids"] == ids
    again = JointTokenizer.from_pretrained(tmp_path)
    assert again.vocab_size == tok.vocab_size and again(ENGLISH[0], language=1)["input_ids"] == tok.encode(ENGLISH[0])
    if mode == "anchored":
        assert tok.layout.num_shared[1] > 1  # byte-level pieces both BPEs learned ("e", " ", ...)
        assert np.array_equal(tok.ids_of(1), np.unique(tok.layout.to_joint[0]))
