"""The scales of a reproduction grid: for each, the model, the data, the token budget T and the training recipe every
run of the grid shares. The paper's scales (``mini``, ``small``, ``medium``) use the paper's model and recipe
(`training.recipes`); the CPU scales (``cpu-tiny``, and ``test`` for the test suite) a recipe for few steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..training.recipes import CPU_RECIPE, PAPER_MODEL, PAPER_RECIPE


@dataclass(frozen=True)
class Scale:
    """Model, data, budget and training recipe of one reproduction scale (budget T = steps × batch × block tokens).

    ``model`` and ``recipe`` are flags of the training script (model preset and options; learning rate, schedule,
    optimizer, precision); ``fractions`` are the monolingual budget fractions, above 1 too, so that settings that
    beat the monolingual full budget are read off the curve rather than extrapolated."""

    model: dict[str, Any]
    block_size: int
    vocab_size: int
    batch: int
    steps: int
    eval_blocks: int
    align_blocks: int
    max_documents: int | None
    fractions: tuple[float, ...]
    recipe: dict[str, Any] = field(default_factory=dict)
    gradient_pairs: int = 32  # parallel pairs of the gradient cosine (the paper: 500; each costs two backward passes)

    @property
    def budget_tokens(self) -> int:
        return self.steps * self.batch * self.block_size


SCALES: dict[str, Scale] = {
    "test": Scale(
        model={"model_preset": "tiny", "n_layer": 2, "n_embd": 32, "n_head": 2},
        block_size=32, vocab_size=300, batch=8, steps=30, eval_blocks=16, align_blocks=16, max_documents=600,
        fractions=(0.2, 0.5, 1.0, 1.5), recipe={**CPU_RECIPE, "learning_rate": 3e-3},
    ),
    "cpu-tiny": Scale(
        model={"model_preset": "cpu"},
        block_size=128, vocab_size=1024, batch=16, steps=1000, eval_blocks=256, align_blocks=256,
        max_documents=40_000, fractions=(0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0), recipe=CPU_RECIPE,
    ),
    "mini": Scale(
        model={"model_preset": "mini", **PAPER_MODEL},
        block_size=512, vocab_size=16384, batch=128, steps=18265, eval_blocks=500, align_blocks=500,
        max_documents=None, fractions=(0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0), recipe=PAPER_RECIPE, gradient_pairs=500,
    ),
    "small": Scale(
        model={"model_preset": "small", **PAPER_MODEL},
        block_size=512, vocab_size=16384, batch=128, steps=18265, eval_blocks=500, align_blocks=500,
        max_documents=None, fractions=(0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0, 1.5, 2.0, 3.0),
        recipe=PAPER_RECIPE, gradient_pairs=500,
    ),
    "medium": Scale(
        model={"model_preset": "medium", **PAPER_MODEL},
        block_size=512, vocab_size=16384, batch=256, steps=9132, eval_blocks=500, align_blocks=500,
        max_documents=None, fractions=(0.1, 0.24, 0.5, 1.0, 1.2, 1.5, 2.0, 2.4), recipe=PAPER_RECIPE,
        gradient_pairs=500,
    ),
}  # fmt: skip
"""The paper trains 512-token blocks, 128 per step (256 for medium), 18,265 steps (9,132 for medium), V = 16,384
per language, with monolingual references at the fractions of its notebook plus 1.5× and 2×. The CPU scales are the
smallest that showed both TEff and the alignment effect on a 2-core CPU (4 × 128, ~2M tokens; docs/reproduction.md)."""

PAPER_CLONE_FRACTIONS = (1.0, 0.95, 0.9, 0.75, 0.5, 0.2, 0.1)
"""The clone fractions of the paper's Figure 8 (50/50; random anchors, and frequent ones)."""
