"""CloneLayout and the id maps of ClonedTokenizer: property tests, hand computations, anchors, containers, ranges."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hf_clonelang import SHARED, ClonedTokenizer, ConfigError
from hf_clonelang.data.tokenizers import token_frequencies
from hf_clonelang.tokenization.clone_layout import CloneLayout, joint_vocab_size

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _valid_base_ids(tok):
    return np.array(sorted(tok.base.get_vocab().values()))


def test_layout_by_hand():
    """N=3 over base ids 0..9, padding (id 1) shared: m = 9 cloned ids, L2 owns [10, 19), L3 owns [19, 28)."""
    layout = CloneLayout(range(10), 3, shared_special_ids=[1])
    assert layout.num_cloned == 9 and layout.vocab_size == 28 == joint_vocab_size(10, 3)
    assert [layout.language_range(k) for k in (1, 2, 3)] == [(0, 10), (10, 19), (19, 28)]
    assert layout.cloned_ids.tolist() == [0, 2, 3, 4, 5, 6, 7, 8, 9] and layout.shared_ids.tolist() == [1]
    # id 4 is the cloned id of rank 3 (after 0, 2, 3): 10 + 3 in L2, 19 + 3 in L3
    assert layout.to_language(4, 2) == 13 and layout.to_language(4, 3) == 22
    assert layout.to_language(13, 3) == 22 and layout.to_language(22, 1) == 4
    assert layout.to_base([4, 13, 22, 1]) == [4, 4, 4, 1]
    assert layout.language_of([4, 13, 22, 1]) == [1, 2, 3, SHARED]
    assert [layout.to_language(1, k) for k in (1, 2, 3)] == [1, 1, 1]  # padding is shared
    assert layout.to_language(9, 3) == 27 and layout.language_of(27) == 3


def test_layout_with_anchors_by_hand():
    """Anchors 0 and 5 (and padding 1) are shared: cloned 2, 3, 4, 6, 7, 8, 9 (m = 7), L2 owns [10, 17)."""
    layout = CloneLayout(range(10), 2, shared_special_ids=[1], anchors=[0, 5])
    assert layout.num_cloned == 7 and layout.vocab_size == 17 == joint_vocab_size(10, 2, clone_fraction=7 / 9)
    assert layout.shared_ids.tolist() == [0, 1, 5] and layout.anchors_mode == "ids"
    assert layout.to_language([5, 6, 0], 2) == [5, 13, 0] and layout.language_of([5, 13]) == [SHARED, 2]
    with pytest.raises(ConfigError, match="token id 17 is out of range"):
        layout.to_base(17)


@pytest.mark.parametrize(
    ("n", "fraction", "share_specials"), [(1, 1.0, False), (2, 1.0, True), (3, 0.9, False), (5, 0.37, True)]
)
def test_joint_vocab_size_is_the_tokenizers(base_tokenizer, n, fraction, share_specials):
    tok = ClonedTokenizer(base_tokenizer, n, clone_fraction=fraction, share_special_tokens=share_specials)
    assert len(base_tokenizer.get_vocab()) == tok.base_vocab_size  # a dense vocabulary, as a trained BPE has
    shared = len(tok.shared_special_ids)
    assert joint_vocab_size(tok.base_vocab_size, n, fraction, shared) == tok.vocab_size == len(tok)
    with pytest.raises(ConfigError, match="num_languages=0"):
        joint_vocab_size(tok.base_vocab_size, 0)
    with pytest.raises(ConfigError, match="leaves nothing to clone"):
        joint_vocab_size(3, 2, num_shared_specials=3)


@SETTINGS
@given(
    n=st.integers(1, 6),
    fraction=st.floats(0.05, 1.0),
    seed=st.integers(0, 2**16),
    share_specials=st.booleans(),
    data=st.data(),
)
def test_id_maps_round_trip_and_stay_disjoint(base_tokenizer, n, fraction, seed, share_specials, data):
    tok = ClonedTokenizer(base_tokenizer, n, clone_fraction=fraction, seed=seed, share_special_tokens=share_specials)
    base_ids = np.array(data.draw(st.lists(st.sampled_from(_valid_base_ids(tok).tolist()), min_size=1, max_size=50)))
    cloned = set(tok.cloned_ids.tolist())
    for k in range(1, n + 1):
        ids = tok.to_language(base_ids, k)
        assert np.array_equal(tok.to_base(ids), base_ids)
        is_cloned = np.isin(base_ids, list(cloned))
        assert np.array_equal(tok.language_of(ids), np.where(is_cloned, k, SHARED))
        lo, hi = tok.language_range(k)
        assert np.all((ids[is_cloned] >= lo) & (ids[is_cloned] < hi))
        assert np.array_equal(ids[~is_cloned], base_ids[~is_cloned])  # shared ids never move
        for j in range(1, n + 1):  # mapping from any language lands in the same place
            assert np.array_equal(tok.to_language(tok.to_language(base_ids, j), k), ids)
    ranges = sorted(tok.language_range(k) for k in range(1, n + 1))
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ranges))
    assert ranges[-1][1] == tok.vocab_size == tok.base_vocab_size + (n - 1) * tok.num_cloned


@SETTINGS
@given(n=st.integers(2, 5), fraction=st.floats(0.1, 0.95), seed=st.integers(0, 1000))
def test_anchors_are_shared_by_every_language(base_tokenizer, n, fraction, seed):
    tok = ClonedTokenizer(base_tokenizer, n, clone_fraction=fraction, seed=seed)
    cloneable = len(_valid_base_ids(tok)) - len(tok.shared_special_ids)
    assert len(tok.anchor_ids) == round((1 - fraction) * cloneable)
    assert not set(tok.anchor_ids) & set(tok.cloned_ids)
    for k in range(1, n + 1):
        assert np.array_equal(tok.to_language(tok.anchor_ids, k), tok.anchor_ids)
    assert np.all(tok.language_of(tok.anchor_ids) == SHARED)
    assert np.all(tok.language_of(tok.shared_special_ids) == SHARED)


def test_anchor_choice_is_seeded(base_tokenizer):
    a = ClonedTokenizer(base_tokenizer, 2, clone_fraction=0.5, seed=1).anchor_ids
    b = ClonedTokenizer(base_tokenizer, 2, clone_fraction=0.5, seed=1).anchor_ids
    c = ClonedTokenizer(base_tokenizer, 2, clone_fraction=0.5, seed=2).anchor_ids
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_frequent_anchors_are_the_most_frequent_ids(base_tokenizer, story_texts):
    counts = token_frequencies(base_tokenizer, story_texts)
    tok = ClonedTokenizer(base_tokenizer, 3, clone_fraction=0.9, anchors="frequent", frequencies=counts)
    specials = set(tok.shared_special_ids.tolist())
    ranked = [i for i in np.argsort(-counts, kind="stable") if i not in specials]
    assert set(tok.anchor_ids.tolist()) == set(ranked[: len(tok.anchor_ids)])
    assert counts[tok.anchor_ids].min() >= counts[tok.cloned_ids].max()


def test_explicit_anchor_list_and_conflicting_fraction(base_tokenizer):
    tok = ClonedTokenizer(base_tokenizer, 4, anchors=[10, 20, 30])
    assert tok.anchor_ids.tolist() == [10, 20, 30]
    assert tok.to_language(20, 4) == 20 and tok.language_of(tok.to_language(11, 4)) == 4
    with pytest.raises(ConfigError, match="either an explicit anchor list or a clone_fraction"):
        ClonedTokenizer(base_tokenizer, 2, clone_fraction=0.5, anchors=[10, 20, 30])
    with pytest.raises(ConfigError, match="anchor id 1"):  # 1 is padding, shared anyway
        ClonedTokenizer(base_tokenizer, 2, anchors=[1])


def test_every_container_type(base_tokenizer):
    tok = ClonedTokenizer(base_tokenizer, 3)
    ids = [5, 17, 1, 299]  # 1: padding, shared
    expected = tok.to_language(np.array(ids), 2)
    assert tok.to_language(ids, 2) == expected.tolist()
    assert tok.to_language(tuple(ids), 2) == expected.tolist()
    assert tok.to_language(17, 2) == int(expected[1])
    assert tok.to_language([[5, 17], [1], []], 2) == [expected[:2].tolist(), [1], []]  # ragged batch
    as_int32 = tok.to_language(np.array(ids, dtype=np.int32), 2)
    assert as_int32.dtype == np.int32 and as_int32.tolist() == expected.tolist()
    tensor = tok.to_language(torch.tensor([ids, ids]), 2)
    assert tensor.dtype == torch.int64 and tensor.tolist() == [expected.tolist()] * 2
    assert tok.to_base(torch.tensor(expected, dtype=torch.int32)).tolist() == ids
    assert tok.language_of(torch.tensor(expected)).tolist() == [2, 2, 0, 2]


def test_out_of_range_ids_and_languages_are_rejected(base_tokenizer):
    tok = ClonedTokenizer(base_tokenizer, 2)
    with pytest.raises(ConfigError, match=f"token id {tok.vocab_size} is out of range"):
        tok.to_base([1, tok.vocab_size])
    with pytest.raises(ConfigError, match="token id -1"):
        tok.language_of(np.array([-1]))
    with pytest.raises(ConfigError, match="language=3 is not allowed: languages are numbered 1..2"):
        tok.to_language([1], 3)
    with pytest.raises(ConfigError, match="language=0"):
        tok("hello", language=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_languages": 0}, "num_languages=0 is not allowed"),
        ({"clone_fraction": 0.0}, r"clone_fraction=0.0 is not allowed: it must lie in \(0, 1\]"),
        ({"clone_fraction": 1.5}, "clone_fraction=1.5 is not allowed"),
        ({"num_languages": 10_000_000}, "num_languages=10000000 is not allowed: at most 100"),
        ({"anchors": "often", "clone_fraction": 0.5}, "anchors='often' is not allowed"),
        ({"anchors": "frequent", "clone_fraction": 0.5}, "anchors='frequent' needs token counts"),
    ],
)
def test_bad_arguments(base_tokenizer, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ClonedTokenizer(base_tokenizer, **kwargs)
