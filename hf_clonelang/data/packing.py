"""Packing: tokenized documents, with an end-of-document id after each, cut into fixed-length blocks, and
disk-backed stores of the documents and of the blocks. Tokenization and packing work on batches of documents, so
memory is bounded by the batch and not by the corpus.

Held-out text is whole documents that training never reads (the paper evaluates on other books):
`held_out_documents` draws them from the seed, and `pack_documents` packs any subset of the stored documents, in
their order, into blocks of their own.

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
        return self.add_tokens(fresh)

    def add_tokens(self, tokens: np.ndarray) -> np.ndarray:
        """Add a run of tokens that already holds its end-of-document ids; return the blocks they complete."""
        self.num_tokens += int(tokens.size)
        fresh = np.asarray(tokens, dtype=self.dtype)
        flat = np.concatenate([self._carry, fresh]) if self._carry.size else fresh
        n = flat.size // self.block_size
        self._carry = flat[n * self.block_size :].copy()
        return flat[: n * self.block_size].reshape(n, self.block_size)


READ_TOKENS = 1 << 22
"""Tokens a `DocumentStore` reads back at a time (16 MiB of int32)."""


class DocumentStore:
    """Tokenized documents on disk, in their order: raw int32 tokens, each document followed by its end-of-document
    id, and the length of each (with that id). Reading back fetches a run of consecutive documents at a time."""

    def __init__(self, directory: str | os.PathLike, eod_id: int) -> None:
        self.directory = os.fspath(directory)
        self.eod_id = int(eod_id)
        self._path = os.path.join(self.directory, "documents.bin")
        self._lengths: list[np.ndarray] = []
        self.num_tokens = 0

    def append(self, docs: Sequence[Sequence[int]]) -> None:
        """Add tokenized documents (without their end-of-document id, which is added here)."""
        lengths = np.fromiter((len(d) + 1 for d in docs), dtype=np.int64, count=len(docs))
        stream = itertools.chain.from_iterable(itertools.chain(d, (self.eod_id,)) for d in docs)
        tokens = np.fromiter(stream, dtype=np.int32, count=int(lengths.sum()))
        with open(self._path, "ab") as f:
            f.write(tokens.tobytes())
        self._lengths.append(lengths)
        self.num_tokens += int(lengths.sum())

    def remove(self) -> None:
        """Delete the stored tokens (once every part is packed)."""
        if os.path.exists(self._path):
            os.remove(self._path)

    @property
    def lengths(self) -> np.ndarray:
        """Tokens of every document, its end-of-document id included."""
        return np.concatenate(self._lengths) if self._lengths else np.zeros(0, dtype=np.int64)

    @property
    def num_documents(self) -> int:
        return int(sum(len(x) for x in self._lengths))

    def documents(self, doc_ids: np.ndarray) -> Iterator[list[np.ndarray]]:
        """The documents ``doc_ids`` (sorted ascending), each with its end-of-document id, in batches of about
        `READ_TOKENS` tokens: one read per batch where the documents lie close together, one per document where
        they are scattered (held-out documents)."""
        lengths = self.lengths
        starts = np.concatenate([[0], np.cumsum(lengths)])
        ids = np.asarray(doc_ids, dtype=np.int64)
        batch_of = np.cumsum(lengths[ids]) // READ_TOKENS  # consecutive documents of about READ_TOKENS each
        with open(self._path, "rb") as f:
            for b in np.unique(batch_of):
                chunk = ids[batch_of == b]
                first, last = int(chunk[0]), int(chunk[-1])
                span = int(starts[last + 1] - starts[first])
                if span <= 2 * int(lengths[chunk].sum()):
                    f.seek(int(starts[first]) * 4)
                    data = np.fromfile(f, dtype=np.int32, count=span)
                    yield [data[starts[d] - starts[first] : starts[d + 1] - starts[first]] for d in chunk]
                else:
                    out = []
                    for d in chunk:
                        f.seek(int(starts[d]) * 4)
                        out.append(np.fromfile(f, dtype=np.int32, count=int(lengths[d])))
                    yield out


def held_out_documents(
    lengths: np.ndarray, tokens_each: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray] | None:
    """Two disjoint sets of whole documents (validation, test), drawn at random from ``rng``, each with at least
    ``tokens_each`` tokens; sorted ids. None when the documents cannot fill both and leave some for training."""
    order = rng.permutation(lengths.size)
    filled = np.cumsum(lengths[order])
    first = int(np.searchsorted(filled, tokens_each)) + 1  # the fewest documents that hold tokens_each
    if first >= order.size:
        return None
    second = int(np.searchsorted(filled, filled[first - 1] + tokens_each)) + 1
    if second >= order.size:  # not enough documents, or none left for training
        return None
    return np.sort(order[:first]), np.sort(order[first:second])


def pack_documents(
    documents: DocumentStore, doc_ids: np.ndarray, store: BlockStore, block_size: int, limit: int | None = None
) -> int:
    """Pack the documents ``doc_ids`` (sorted), in order, into blocks appended to ``store`` (at most ``limit``; the
    last partial block is dropped); the number of blocks written."""
    packer = BlockPacker(block_size, documents.eod_id)
    written = 0
    for batch in documents.documents(doc_ids):
        flat = np.concatenate(batch) if batch else np.zeros(0, dtype=np.int32)
        blocks = packer.add_tokens(flat)
        if limit is not None:
            blocks = blocks[: max(limit - written, 0)]
        if len(blocks):
            store.append(blocks)
            written += len(blocks)
        if limit is not None and written >= limit:
            break
    return written


def pack_held_out(
    documents: DocumentStore, store: BlockStore, eval_blocks: int, rng: np.random.Generator, what: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole documents drawn from ``rng`` held out, ``eval_blocks`` blocks for validation and as many for test,
    every other document packed for training, each part on its own, into ``store``; the block ids of (train,
    validation, test). ``what`` names the text in the error when its documents are too few."""
    block_size = store.block_size
    held = held_out_documents(documents.lengths, eval_blocks * block_size, rng)
    num_train = 0
    if held is not None:
        train_docs = np.setdiff1d(np.arange(documents.num_documents), np.concatenate(held))
        num_train = pack_documents(documents, train_docs, store, block_size)
    if num_train < 1:
        raise ConfigError(
            f"{what} has {documents.num_documents} documents ({documents.num_tokens} tokens): too few whole documents "
            f"to hold out eval_blocks={eval_blocks} blocks of {block_size} tokens twice (validation, test) and keep "
            "training text: lower eval_blocks, give more text, cut it into smaller documents (sample_by paragraph "
            "or line), or hold out random blocks (held_out random_blocks)"
        )
    for docs in held:
        pack_documents(documents, docs, store, block_size, limit=eval_blocks)
    documents.remove()
    first = num_train + np.arange(2 * eval_blocks, dtype=np.int64)
    return np.arange(num_train, dtype=np.int64), first[:eval_blocks], first[eval_blocks:]


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


def tokenize_documents(texts: Iterable[str], tokenizer: Any, batch_size: int = 1000) -> Iterator[list[list[int]]]:
    """Tokenize documents in batches (no special tokens added)."""
    for batch in _batched(texts, batch_size):
        yield tokenizer(batch, add_special_tokens=False)["input_ids"]


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
