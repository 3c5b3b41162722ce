"""`CloneCollator`: sampled blocks -> ids in the chosen language, labels, and a language tag per row.

Features are ``{"input_ids": block, "language": k}`` with the block's ids in any language (base ids in clone mode,
already-cloned ids in pool mode and evaluation): the collator maps each row into its language with the tokenizer's
``to_language`` (a `LanguageTokenizer`: for real languages, rows are already in their language and stay as they
are), so the same collator serves training and evaluation. The ``language`` tag rides along for the
trainer's per-language bookkeeping; `ImbalanceTrainer` removes it before the model sees the batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..tokenization.language_tokenizer import LanguageTokenizer

LANGUAGE_COLUMN = "language"
"""The feature (and, in pool mode and evaluation, the corpus column) that tags each row with its language."""


class CloneCollator:
    """Stack fixed-length blocks, move each row into its language, and add ``labels`` (= input ids)."""

    def __init__(self, tokenizer: LanguageTokenizer) -> None:
        self.tokenizer = tokenizer

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        ids = np.stack([np.asarray(f["input_ids"], dtype=np.int64) for f in features])
        languages = np.array([int(f[LANGUAGE_COLUMN]) for f in features], dtype=np.int64)
        for k in np.unique(languages):
            rows = languages == k
            ids[rows] = self.tokenizer.to_language(ids[rows], int(k))
        input_ids = torch.from_numpy(ids)
        return {"input_ids": input_ids, "labels": input_ids.clone(), LANGUAGE_COLUMN: torch.from_numpy(languages)}
