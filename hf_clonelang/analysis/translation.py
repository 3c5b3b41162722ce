"""Alignment of real languages on translation pairs (the paper's Section 5 method): a text and its translation do
not line up token by token, so per pair of sequences one maximum-weight matching of their tokens is computed on the
layer-averaged cosine similarity and reused for every layer (`hidden_alignment(matching="hungarian")`); retrieval@1
and the gradient cosine per pair come with it.

What is measured, by default, is text of the paper's shape: the reference aligns Europarl sequences of 128 to 512
tokens, made by concatenating consecutive translated lines, in order, while both sides stay within 512 tokens, and
dropping a sequence whose shorter side has fewer than 128 (``languini/dataset_lib/parallel_dataset.py``,
``load_and_preprocess``, lines 46-66). `parallel_sequences` does the same with ``max_length`` (the model's context,
the block size) and ``min_length`` (a quarter of it by default: the reference's 128 of 512). Single sentence pairs
(``packing="sentences"``, at most ``max_length`` tokens each) stay an option; every report says which it used.

Each side is tokenized by its own language's tokenizer of a `JointTokenizer`, so the ids are the joint ids the model
was trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..errors import ConfigError
from .alignment import gradient_alignment, hidden_alignment

PACKINGS = ("sequences", "sentences")
"""What real languages are aligned on: consecutive translation pairs packed into parallel sequences (the paper's),
or single sentence pairs."""
TOKENIZE_CHUNK = 1024
"""Pairs tokenized at a time while packing."""
MIN_LENGTH_FRACTION = 4
"""A packed sequence keeps at least ``max_length // 4`` tokens on both sides by default (the reference: 128 of 512)."""


def encode_side(tokenizer: Any, texts: Sequence[str], language: int, max_length: int) -> tuple[torch.Tensor, ...]:
    """(ids, attention mask) of ``texts`` in ``language``, right-padded to the longest, cut at ``max_length``."""
    encoded = tokenizer(
        list(texts), language=language, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
    )
    return encoded["input_ids"], encoded["attention_mask"]


def _padded(rows: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.as_tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return ids, mask


def _tokenized(tokenizer: Any, pairs: Sequence[tuple[str, str]], languages: tuple[int, int]) -> Any:
    """Each pair's two sides as token ids, tokenized a chunk at a time (packing stops early on a long file)."""
    a, b = languages
    for lo in range(0, len(pairs), TOKENIZE_CHUNK):
        chunk = pairs[lo : lo + TOKENIZE_CHUNK]
        side_a = tokenizer([p[0] for p in chunk], language=a)["input_ids"]
        side_b = tokenizer([p[1] for p in chunk], language=b)["input_ids"]
        yield from zip(side_a, side_b, strict=True)


def parallel_sequences(
    tokenizer: Any,
    pairs: Sequence[tuple[str, str]],
    languages: tuple[int, int] = (1, 2),
    max_length: int = 512,
    min_length: int | None = None,
    limit: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The paper's parallel sequences from consecutive ``pairs``, in order: each side's tokens concatenated while
    both stay within ``max_length``; a pair longer than that on either side is skipped, and a sequence whose shorter
    side has fewer than ``min_length`` tokens (default ``max_length // 4``) is dropped. At most ``limit`` sequences;
    (ids_a, mask_a, ids_b, mask_b), right-padded."""
    min_length = max_length // MIN_LENGTH_FRACTION if min_length is None else min_length
    if not 0 < min_length <= max_length:
        raise ConfigError(f"min_length={min_length} is not allowed: it must lie in 1..max_length ({max_length})")
    done: list[tuple[list[int], list[int]]] = []
    seq_a: list[int] = []
    seq_b: list[int] = []
    for x, y in _tokenized(tokenizer, pairs, languages):
        if max(len(x), len(y)) > max_length:
            continue
        if len(seq_a) + len(x) <= max_length and len(seq_b) + len(y) <= max_length:
            seq_a, seq_b = seq_a + list(x), seq_b + list(y)
            continue
        if min(len(seq_a), len(seq_b)) >= min_length:
            done.append((seq_a, seq_b))
            if limit is not None and len(done) == limit:
                break
        seq_a, seq_b = list(x), list(y)
    else:
        if min(len(seq_a), len(seq_b)) >= min_length and (limit is None or len(done) < limit):
            done.append((seq_a, seq_b))
    if len(done) < 2:
        raise ConfigError(
            f"{len(pairs)} translation pairs make {len(done)} parallel sequence(s) of {min_length} to {max_length} "
            "tokens: give more pairs, or align single sentences"
        )
    pad = tokenizer.pad_token_id or 0
    ids_a, mask_a = _padded([s for s, _ in done], pad)
    ids_b, mask_b = _padded([s for _, s in done], pad)
    return ids_a, mask_a, ids_b, mask_b


def pair_alignment(
    model: Any,
    tokenizer: Any,
    pairs: Sequence[tuple[str, str]],
    languages: tuple[int, int] = (1, 2),
    max_length: int = 64,
    batch_size: int = 32,
    gradient_pairs: int = 32,
    packing: str = "sequences",
    limit: int | None = None,
    min_length: int | None = None,
) -> dict[str, Any]:
    """Hidden-state measures (matched cosine, raw and centred; retrieval@1; CKA) per layer and the gradient cosine
    between the two sides of ``pairs`` (text in ``languages[0]``, translation in ``languages[1]``): with
    ``packing="sequences"`` on `parallel_sequences` of consecutive pairs (at most ``limit``), with ``"sentences"``
    on each pair (the first ``limit``), each side cut at ``max_length`` tokens (at most the model's positions)."""
    if packing not in PACKINGS:
        raise ConfigError(f"packing={packing!r} is not allowed: use {' or '.join(PACKINGS)}")
    a, b = languages
    max_length = min(max_length, getattr(model.config, "n_positions", max_length))  # no position past the model's
    report: dict[str, Any] = {"matching": "hungarian", "packing": packing}
    if packing == "sequences":
        ids_a, mask_a, ids_b, mask_b = parallel_sequences(tokenizer, pairs, languages, max_length, min_length, limit)
        lengths = torch.minimum(mask_a.sum(1), mask_b.sum(1))
        report["sequence_tokens"] = {"min": int(lengths.min()), "mean": round(float(lengths.float().mean()), 1)}
    else:
        chosen = list(pairs)[:limit]
        if len(chosen) < 2:
            raise ConfigError(f"{len(chosen)} pair given: alignment needs at least two translation pairs")
        ids_a, mask_a = encode_side(tokenizer, [p[0] for p in chosen], a, max_length)
        ids_b, mask_b = encode_side(tokenizer, [p[1] for p in chosen], b, max_length)
    report["pairs"] = len(ids_a)
    report.update(hidden_alignment(model, ids_a, ids_b, mask_a, mask_b, batch_size=batch_size, matching="hungarian"))
    k = min(gradient_pairs, len(ids_a))
    if k > 0:
        report.update(gradient_alignment(model, ids_a[:k], ids_b[:k], mask_a[:k], mask_b[:k]))
        report["gradient_pairs"] = k
    return report
