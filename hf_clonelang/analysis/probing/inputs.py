"""A probe's inputs: each text in one language's ids, in the paper's format.

Each text (each sentence of a pair) is followed by the language's end-of-document token, then the input is
right-padded with the shared padding id and cut to ``max_length`` (pad, then truncate, as the reference's
``finetuning/tokenizer.py:21-44``: a text longer than that loses its end-of-document). With ``final-position``
pooling (the paper's) there is no attention mask and the head reads position ``max_length - 1``, usually a padding
token that attends to the whole text; with ``last-token`` pooling the mask hides the padding and the head reads the
last real token.
"""

from __future__ import annotations

from typing import Any

import torch

from ...errors import ConfigError


def encode(tokenizer: Any, texts: list[tuple[str, ...]], max_length: int, pooling: str) -> dict[str, torch.Tensor]:
    """``input_ids`` (and for ``last-token`` pooling ``attention_mask`` and ``last``, the index of the last real
    token) of ``texts`` in the language of ``tokenizer`` (a run's standalone per-language tokenizer)."""
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    if eos is None or pad is None:
        raise ConfigError(
            f"the tokenizer {tokenizer.name_or_path!r} has no {'end-of-document' if eos is None else 'padding'} "
            "token: probe a run whose per-language tokenizers were saved by hf_clonelang"
        )
    ids: list[list[int]] = [[] for _ in texts]
    for part in range(len(texts[0]) if texts else 0):
        encoded = tokenizer([t[part] for t in texts], add_special_tokens=False)["input_ids"]
        for row, extra in zip(ids, encoded, strict=True):
            row += [*extra, eos]
    input_ids = torch.full((len(ids), max_length), pad, dtype=torch.long)
    lengths = torch.zeros(len(ids), dtype=torch.long)
    for i, row in enumerate(ids):
        row = row[:max_length]
        input_ids[i, : len(row)] = torch.as_tensor(row)
        lengths[i] = len(row)
    if pooling == "final-position":
        return {"input_ids": input_ids}
    mask = (torch.arange(max_length)[None, :] < lengths[:, None]).long()
    return {"input_ids": input_ids, "attention_mask": mask, "last": lengths - 1}
