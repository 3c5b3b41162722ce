"""Packing: blocks independent of batching, the block store round trip."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hf_clonelang import ConfigError
from hf_clonelang.data.packing import BlockPacker, BlockStore


@settings(max_examples=60, deadline=None)
@given(
    docs=st.lists(st.lists(st.integers(1, 50), max_size=30), max_size=40),
    block_size=st.integers(2, 17),
    cuts=st.lists(st.integers(0, 40), max_size=6),
)
def test_packing_does_not_depend_on_batching(docs, block_size, cuts):
    stream = [t for d in docs for t in [*d, 0]]
    expected = np.array(stream[: len(stream) // block_size * block_size]).reshape(-1, block_size)
    packer = BlockPacker(block_size, eod_id=0)
    bounds = sorted({0, len(docs), *[c for c in cuts if c < len(docs)]})
    got = [packer.add(docs[a:b]) for a, b in itertools.pairwise(bounds)]
    blocks = np.concatenate(got) if got else np.zeros((0, block_size), int)
    assert np.array_equal(blocks.reshape(-1, block_size), expected)
    assert packer.num_documents == len(docs)


def test_block_size_below_two_is_rejected():
    with pytest.raises(ConfigError, match="block_size=1 is not allowed"):
        BlockPacker(1, eod_id=0)


def test_block_store_round_trip(tmp_path):
    store = BlockStore(tmp_path, block_size=4)
    store.append(np.arange(8).reshape(2, 4))
    store.append(np.arange(8, 12).reshape(1, 4))
    store.save_array("ids", np.array([2, 0]))
    assert store.num_blocks == 3
    assert store.read(np.array([0, 2])).tolist() == [[0, 1, 2, 3], [8, 9, 10, 11]]
    assert store.read(np.array([1])).tolist() == [[4, 5, 6, 7]]
    assert store.array("ids").tolist() == [2, 0] and store.array("ids", 1).tolist() == [0]
    many = BlockStore(tmp_path / "many", block_size=2)
    (tmp_path / "many").mkdir()
    many.append(np.arange(200).reshape(100, 2))
    scattered = np.array([3, 50, 99])  # sparse ids: read block by block
    assert many.read(scattered).tolist() == np.arange(200).reshape(100, 2)[scattered].tolist()
