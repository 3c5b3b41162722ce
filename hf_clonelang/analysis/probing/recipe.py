"""The probe's settings, with the paper's recipe as the default.

Every default is what the reference (``antonschafer/xling-imbalance``) ran: ``finetune_task.sh:8-13,36,54`` (lr 5e-5,
batch 64 as 32 x 2 accumulation steps, evaluation every 200 steps, 10 epochs, seed 12, 128 tokens),
``classification_model.py:96,141`` (dropout 0.1 and a linear layer on the last block's state at the final
position), ``model.py:95`` (the hidden states are ``detach()``ed: only the head trains).

Early stopping is *not* part of what ran. ``finetune_classification.py:237-243`` adds `EarlyStoppingCallback`
(patience 10, threshold 0.001) and ``load_best_model_at_end``, but ``finetune_task.sh:62`` passes
``--save_strategy no``, and the Trainer of that time set ``state.best_metric`` only while saving a checkpoint: the
callback never counted an evaluation and no best weights existed to load, so every probe trained its 10 epochs and
was evaluated with its last weights. ``early_stopping=True`` is what the script meant (patience, threshold, the best
weights restored, selected on F1 for two labels and accuracy otherwise, ``:580-587``), a named variant.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ...errors import ConfigError

POOLINGS = ("final-position", "last-token")
"""Where the head reads the last block's output: the final position of an input padded without an attention mask
(the paper's), or the last real token (the end-of-document) of an input padded with one."""
FINETUNING = ("head", "full")
"""What trains: the head on the frozen model's features (the paper's), or the whole model with the head."""
SELECTIONS = ("eval", "validation")
"""Which examples the evaluations during training read (and, with early stopping, select the weights on): the
evaluation split of the training language (the reference's ``--validation_file``, also the reported split), or a
share of the training examples held out for it."""


@dataclass(frozen=True)
class ProbeRecipe:
    """How a probe is trained. The defaults are the paper's; anything else is a named variant."""

    finetune: str = "head"
    pooling: str = "final-position"
    max_length: int = 128
    learning_rate: float = 5e-5
    batch_size: int = 32
    gradient_accumulation_steps: int = 2
    epochs: float = 10.0
    eval_steps: int = 200
    patience: int = 10
    threshold: float = 0.001
    dropout: float = 0.1
    seed: int = 12
    early_stopping: bool = False
    selection: str = "eval"
    validation_share: float = 0.1

    def __post_init__(self) -> None:
        for name, allowed in (("finetune", FINETUNING), ("pooling", POOLINGS), ("selection", SELECTIONS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"--{name} {getattr(self, name)!r} is not allowed: choose {' or '.join(allowed)}")
        for name in ("max_length", "batch_size", "gradient_accumulation_steps", "eval_steps", "patience"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name}={getattr(self, name)} is not allowed: it must be >= 1")
        if self.max_length < 2:
            raise ConfigError(f"--max_length={self.max_length} is not allowed: an input needs >= 2 tokens")
        for name in ("learning_rate", "epochs"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"--{name}={getattr(self, name)} is not allowed: it must be > 0")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"--dropout={self.dropout} is not allowed: it must be in [0, 1)")
        if not self.threshold >= 0:
            raise ConfigError(f"--threshold={self.threshold} is not allowed: it must be >= 0")
        if self.seed < 0:
            raise ConfigError(f"--seed={self.seed} is not allowed: it must be >= 0")
        if not 0 < self.validation_share < 1:
            raise ConfigError(f"--validation_share={self.validation_share} is not allowed: it must be in (0, 1)")

    @property
    def is_paper(self) -> bool:
        """Whether this is the paper's recipe (every setting at its default)."""
        return self == ProbeRecipe()

    def to_dict(self) -> dict[str, Any]:
        """The settings, and whether they are the paper's, for ``probe.json`` and the card."""
        return {**asdict(self), "paper_recipe": self.is_paper}
