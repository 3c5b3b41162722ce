"""The probe's classifier: dropout and a linear layer on the last block's output (the residual stream before the
final norm) at the pooled position (``classification_model.py:96,141`` of the reference).

`FeatureHead` trains on features computed once from the frozen model (`features`): the paper's probe, whose model
``detach()``es the hidden states the head reads. `ModelHead` holds the model too, for full fine-tuning.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from ..alignment import transformer_blocks

logger = logging.getLogger(__name__)

FEATURE_BATCH = 64
"""Inputs per forward pass when features are computed."""


def last_block_output(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """The last transformer block's output for every position (``output_hidden_states`` would give it after the
    final norm). Runs the base model only: no logits."""
    block = transformer_blocks(model)[-1]
    kept: list[torch.Tensor] = []

    def keep(module: Any, args: tuple, output: Any) -> None:
        kept.append(output[0] if isinstance(output, (tuple, list)) else output)

    handle = block.register_forward_hook(keep)
    try:
        getattr(model, "base_model", model)(input_ids=input_ids, attention_mask=attention_mask)
    finally:
        handle.remove()
    return kept[0]


def pooled(states: torch.Tensor, last: torch.Tensor | None) -> torch.Tensor:
    """The state at the final position, or at each input's last real token (``last``)."""
    if last is None:
        return states[:, -1]
    return states[torch.arange(len(last), device=states.device), last.to(states.device)]


@torch.no_grad()
def features(model: Any, inputs: dict[str, torch.Tensor], batch_size: int = FEATURE_BATCH) -> torch.Tensor:
    """The frozen model's pooled last-block states of ``inputs`` (see `inputs.encode`), float32 on the CPU."""
    from tqdm.auto import tqdm

    model.eval()
    device = next(model.parameters()).device
    n = len(inputs["input_ids"])
    out = []
    for start in tqdm(range(0, n, batch_size), desc="features", disable=not logger.isEnabledFor(logging.INFO)):
        part = {k: v[start : start + batch_size].to(device) for k, v in inputs.items()}
        states = last_block_output(model, part["input_ids"], part.get("attention_mask"))
        out.append(pooled(states, part.get("last")).float().cpu())
    return torch.cat(out) if out else torch.zeros(0, model.config.hidden_size)


class FeatureHead(torch.nn.Module):
    """Dropout and a linear layer on given features; Trainer's loss is the cross-entropy of its logits."""

    def __init__(self, hidden_size: int, num_labels: int, dropout: float) -> None:
        super().__init__()
        self.dropout = torch.nn.Dropout(dropout)
        self.classifier = torch.nn.Linear(hidden_size, num_labels)

    def forward(self, features: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        logits = self.classifier(self.dropout(features))
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = torch.nn.functional.cross_entropy(logits, labels)
        return out


class ModelHead(torch.nn.Module):
    """The language model with the head on its last block's pooled output: every parameter trains (full
    fine-tuning, a variant of the paper's recipe)."""

    def __init__(self, model: Any, num_labels: int, dropout: float) -> None:
        super().__init__()
        self.model = model
        self.head = FeatureHead(model.config.hidden_size, num_labels, dropout)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        last: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        states = last_block_output(self.model, input_ids, attention_mask)
        return self.head(pooled(states, last), labels)
