"""Alignment of real languages on translation pairs (the paper's Section 5 method): a sentence and its translation
do not line up token by token, so per pair one maximum-weight matching of their tokens is computed on the
layer-averaged cosine similarity and reused for every layer (`hidden_alignment(matching="hungarian")`); sentence
retrieval@1 and the gradient cosine per pair come with it.

Each side is tokenized by its own language's tokenizer of a `JointTokenizer` (the sentence's tokens only, padded
per batch), so the ids are the joint ids the model was trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..errors import ConfigError
from .alignment import gradient_alignment, hidden_alignment


def encode_side(tokenizer: Any, texts: Sequence[str], language: int, max_length: int) -> tuple[torch.Tensor, ...]:
    """(ids, attention mask) of ``texts`` in ``language``, right-padded to the longest, cut at ``max_length``."""
    encoded = tokenizer(
        list(texts), language=language, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
    )
    return encoded["input_ids"], encoded["attention_mask"]


def pair_alignment(
    model: Any,
    tokenizer: Any,
    pairs: Sequence[tuple[str, str]],
    languages: tuple[int, int] = (1, 2),
    max_length: int = 64,
    batch_size: int = 32,
    gradient_pairs: int = 32,
) -> dict[str, Any]:
    """Hidden-state measures (matched cosine, raw and centred; retrieval@1; CKA) per layer and the gradient cosine
    between the two sides of ``pairs`` (sentence in ``languages[0]``, translation in ``languages[1]``); each side is
    cut at ``max_length`` tokens (at most the model's positions)."""
    if len(pairs) < 2:
        raise ConfigError(f"{len(pairs)} pair given: alignment needs at least two translation pairs")
    a, b = languages
    max_length = min(max_length, getattr(model.config, "n_positions", max_length))  # no position past the model's
    ids_a, mask_a = encode_side(tokenizer, [p[0] for p in pairs], a, max_length)
    ids_b, mask_b = encode_side(tokenizer, [p[1] for p in pairs], b, max_length)
    report: dict[str, Any] = {"pairs": len(pairs), "matching": "hungarian"}
    report.update(hidden_alignment(model, ids_a, ids_b, mask_a, mask_b, batch_size=batch_size, matching="hungarian"))
    k = min(gradient_pairs, len(pairs))
    if k > 0:
        report.update(gradient_alignment(model, ids_a[:k], ids_b[:k], mask_a[:k], mask_b[:k]))
        report["gradient_pairs"] = k
    return report
