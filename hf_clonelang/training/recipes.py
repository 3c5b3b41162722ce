"""Training recipes: the CPU recipe (the arguments class's defaults and the CPU scales of ``reproduce``) and the
paper's (Languini GPT) recipe and model options for the paper's scales."""

from __future__ import annotations

from typing import Any

CPU_RECIPE: dict[str, Any] = {
    "learning_rate": 2e-3,
    "warmup_steps": 0.05,
    "lr_scheduler_type": "cosine_with_min_lr",
    "lr_scheduler_kwargs": {"min_lr_rate": 0.1},
    "adam_beta1": 0.9,
    "adam_beta2": 0.95,
    "weight_decay": 0.1,
    "max_grad_norm": 1.0,
}
"""The CPU recipe, and the defaults of `ImbalanceTrainingArguments`: a higher peak rate for few steps, 5% warm-up,
cosine to 10% (it trained the CPU-scale grids; docs/reproduction.md)."""

PAPER_RECIPE: dict[str, Any] = {
    "learning_rate": 6e-4,
    "warmup_steps": 200,
    "lr_scheduler_type": "cosine_with_min_lr",
    "lr_scheduler_kwargs": {"min_lr_rate": 0.01},
    "cosine_spans_warmup": True,
    "adam_beta1": 0.9,
    "adam_beta2": 0.95,
    "adam_epsilon": 1e-8,
    "weight_decay": 0.0,
    "max_grad_norm": 0.0,
    "bf16": True,
}
"""The paper's recipe (Languini GPT): Adam (0.9, 0.95), no weight decay, no clipping, 6e-4 with 200 linear warm-up
steps multiplying a cosine decay to 6e-6 over the run. The paper trained in fp16 with a gradient scaler; bf16 needs
no scaler and is what current GPUs train in."""

PAPER_MODEL: dict[str, Any] = {"tie_word_embeddings": False}
"""The paper's GPT: untied embeddings (named so that the plan shows them), which with the script's default brings
the input embedding × √h (folded into the weights: see `modeling`; the plan's model config records the factor)."""
