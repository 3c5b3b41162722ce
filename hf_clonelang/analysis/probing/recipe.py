"""The probe's settings, with the paper's recipe as the default.

Every default is the reference's (``antonschafer/xling-imbalance``): ``finetune_task.sh:8-13,36,54`` (lr 5e-5,
patience 10, batch 64 as 32 x 2 accumulation steps, evaluation every 200 steps, at most 10 epochs, seed 12, 128
tokens), ``finetune_classification.py:237-243`` (early stopping with threshold 0.001, the best weights loaded at the
end) and ``:580-587`` (the model is selected on F1 for two-label tasks, on accuracy otherwise),
``classification_model.py:96,141`` (dropout 0.1 and a linear layer on the last block's state at the final
position), ``model.py:95`` (the hidden states are ``detach()``ed: only the head trains).
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
"""Which examples early stopping and the best weights are chosen on: the evaluation split of the training
language (the reference's: its ``--validation_file`` is also the reported split), or a share of the training
examples held out for it."""


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
        if self.threshold < 0:
            raise ConfigError(f"--threshold={self.threshold} is not allowed: it must be >= 0")
        if not 0 < self.validation_share < 1:
            raise ConfigError(f"--validation_share={self.validation_share} is not allowed: it must be in (0, 1)")

    @property
    def is_paper(self) -> bool:
        """Whether this is the paper's recipe (every setting at its default)."""
        return self == ProbeRecipe()

    def to_dict(self) -> dict[str, Any]:
        """The settings, and whether they are the paper's, for ``probe.json`` and the card."""
        return {**asdict(self), "paper_recipe": self.is_paper}
