"""Packing: tokenized documents, with an end-of-document id after each, cut into fixed-length blocks, and a
disk-backed store of the blocks. Tokenization and packing work on batches of documents, so memory is bounded by
the batch and not by the corpus.

Kept apart from the builder's module on purpose: `datasets` patches file functions inside builder modules.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError


class BlockPacker:
    """Concatenate tokenized documents with an end-of-document id after each and cut fixed-length blocks.

    Block b holds tokens ``[b·L, (b+1)·L)`` of the whole stream, whatever the batches were: the carry-over between
    calls makes the result independent of how documents are batched. The last partial block is dropped.
    """

    def __init__(self, block_size: int, eod_id: int, dtype: Any = np.int32) -> None:
        if block_size < 2:
            raise ConfigError(f"block_size={block_size} is not allowed: it must be >= 2")
        self.block_size = block_size
        self.eod_id = int(eod_id)
        self.dtype = dtype
        self._carry = np.zeros(0, dtype=dtype)
        self.num_documents = 0
        self.num_tokens = 0

    def add(self, docs: Sequence[Sequence[int]]) -> np.ndarray:
        """Add tokenized documents; return the blocks they complete, shape (n, block_size)."""
        total = sum(len(d) for d in docs) + len(docs)
        eod = (self.eod_id,)
        stream = itertools.chain.from_iterable(itertools.chain(d, eod) for d in docs)
        fresh = np.fromiter(stream, dtype=self.dtype, count=total)
        self.num_documents += len(docs)
        self.num_tokens += total
        flat = np.concatenate([self._carry, fresh]) if self._carry.size else fresh
        n = flat.size // self.block_size
        self._carry = flat[n * self.block_size :].copy()
        return flat[: n * self.block_size].reshape(n, self.block_size)


class BlockStore:
    """Packed blocks on disk: raw int32 rows of ``block_size`` tokens, plus named int64 arrays (split membership,
    languages). Writing appends and reading fetches only the rows asked for, so memory stays bounded by one batch
    of blocks whatever the corpus size (no memory map whose touched pages would pile up in RSS)."""

    def __init__(self, directory: str | os.PathLike, block_size: int) -> None:
        self.directory = os.fspath(directory)
        self.block_size = block_size
        self.num_blocks = 0
        self._path = os.path.join(self.directory, "blocks.bin")

    def append(self, blocks: np.ndarray) -> None:
        with open(self._path, "ab") as f:
            f.write(np.ascontiguousarray(blocks, dtype=np.int32).tobytes())
        self.num_blocks += len(blocks)

    def read(self, block_ids: np.ndarray) -> np.ndarray:
        """Rows ``block_ids`` (sorted ascending), shape (len, block_size): one read of the span when the ids are
        dense (training blocks), one read per block when they are scattered (held-out blocks)."""
        ids = np.asarray(block_ids, dtype=np.int64)
        row = self.block_size * 4
        if ids.size == 0:
            return np.zeros((0, self.block_size), dtype=np.int32)
        first, span = int(ids[0]), int(ids[-1] - ids[0]) + 1
        with open(self._path, "rb") as f:
            if span <= 2 * ids.size:
                f.seek(first * row)
                chunk = np.fromfile(f, dtype=np.int32, count=span * self.block_size).reshape(span, self.block_size)
                return chunk[ids - first]
            out = np.empty((ids.size, self.block_size), dtype=np.int32)
            for i, b in enumerate(ids):
                f.seek(int(b) * row)
                out[i] = np.fromfile(f, dtype=np.int32, count=self.block_size)
            return out

    def save_array(self, name: str, values: np.ndarray) -> None:
        np.asarray(values, dtype=np.int64).tofile(os.path.join(self.directory, f"{name}.bin"))

    def array(self, name: str, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Elements ``start:stop`` of a saved array."""
        path = os.path.join(self.directory, f"{name}.bin")
        size = os.path.getsize(path) // 8
        stop = size if stop is None else min(stop, size)
        with open(path, "rb") as f:
            f.seek(start * 8)
            return np.fromfile(f, dtype=np.int64, count=max(stop - start, 0))


def tokenize_and_pack(
    texts: Iterable[str], tokenizer: Any, packer: BlockPacker, batch_size: int = 1000
) -> Iterator[np.ndarray]:
    """Tokenize documents in batches (no special tokens added) and yield the blocks ``packer`` completes."""
    for batch in _batched(texts, batch_size):
        ids = tokenizer(batch, add_special_tokens=False)["input_ids"]
        blocks = packer.add(ids)
        if len(blocks):
            yield blocks


def _batched(items: Iterable[Any], n: int) -> Iterator[list]:
    it = iter(items)
    while batch := list(itertools.islice(it, n)):
        yield batch
