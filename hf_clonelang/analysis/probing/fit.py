"""Training a probe with `transformers.Trainer`: the reference's settings (AdamW without weight decay, linear decay,
clipping at 1 — Trainer's defaults, which the reference kept), an evaluation every ``eval_steps`` (logged), every
epoch trained and the last weights kept, as the reference ran; with ``early_stopping`` a checkpoint at every
evaluation, `EarlyStoppingCallback` and the best weights loaded at the end. Trainer's progress bars, logging and
``report_to`` work as in any Trainer run."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .recipe import ProbeRecipe

logger = logging.getLogger(__name__)


class TensorRows(torch.utils.data.Dataset):
    """Rows of equally long tensors (``features`` or ``input_ids`` ..., and ``labels``) for Trainer's collator."""

    def __init__(self, columns: dict[str, torch.Tensor], labels: np.ndarray) -> None:
        self.columns = {**columns, "labels": torch.as_tensor(labels, dtype=torch.long)}

    def __len__(self) -> int:
        return len(self.columns["labels"])

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {k: v[i] for k, v in self.columns.items()}


def scores(predictions: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Accuracy, and for two labels the F1 of label 1 (the reference selects two-label tasks on it)."""
    out = {"accuracy": float(np.mean(predictions == labels)) if len(labels) else float("nan")}
    if labels.max(initial=0) <= 1 and predictions.max(initial=0) <= 1:
        tp = float(np.sum((predictions == 1) & (labels == 1)))
        fp, fn = float(np.sum((predictions == 1) & (labels == 0))), float(np.sum((predictions == 0) & (labels == 1)))
        out["f1"] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return out


@dataclass
class Fitted:
    """A trained probe: the Trainer (with the best weights loaded) and how its training went."""

    trainer: Any
    steps: int
    epochs: float
    evaluations: int
    best_step: int | None
    best_metric: float | None

    def predict(self, data: TensorRows) -> np.ndarray:
        """The predicted label of every row."""
        logits = self.trainer.predict(data).predictions
        logits = logits[0] if isinstance(logits, tuple) else logits
        return np.asarray(logits).argmax(-1)

    def summary(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "epochs": round(self.epochs, 3),
            "evaluations": self.evaluations,
            "best_step": self.best_step,  # early stopping: the step whose weights were kept
            "best_evaluation": self.best_metric,
        }


def fit(
    module: torch.nn.Module,
    train: TensorRows,
    selection: TensorRows,
    recipe: ProbeRecipe,
    output_dir: str | Path,
    num_labels: int,
    report_to: str | list[str] = "none",
    disable_tqdm: bool | None = None,
) -> Fitted:
    """Train ``module`` (whatever in it requires grad) on ``train``, evaluating on ``selection``; with early
    stopping, the weights are selected on F1 for two labels, accuracy otherwise
    (``finetune_classification.py:580-587``)."""
    from transformers import EarlyStoppingCallback, Trainer, TrainingArguments, set_seed

    metric = "f1" if num_labels == 2 else "accuracy"

    def compute_metrics(prediction: Any) -> dict[str, float]:
        logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
        return scores(np.asarray(logits).argmax(-1), np.asarray(prediction.label_ids))

    set_seed(recipe.seed)
    args = TrainingArguments(
        output_dir=str(output_dir),
        per_device_train_batch_size=recipe.batch_size,
        per_device_eval_batch_size=max(recipe.batch_size, 64),
        gradient_accumulation_steps=recipe.gradient_accumulation_steps,
        learning_rate=recipe.learning_rate,
        num_train_epochs=recipe.epochs,
        eval_strategy="steps",
        eval_steps=recipe.eval_steps,
        save_strategy="steps" if recipe.early_stopping else "no",
        save_steps=recipe.eval_steps,
        save_total_limit=1,
        save_only_model=True,
        load_best_model_at_end=recipe.early_stopping,
        metric_for_best_model=metric,
        greater_is_better=True,
        logging_steps=recipe.eval_steps,
        label_names=["labels"],
        seed=recipe.seed,
        data_seed=recipe.seed,
        report_to=report_to,
        run_name=f"probe-{Path(output_dir).parent.name}-{Path(output_dir).name}",
        disable_tqdm=disable_tqdm,
        dataloader_pin_memory=torch.cuda.is_available(),
    )
    trainer = Trainer(
        model=module,
        args=args,
        train_dataset=train,
        eval_dataset=selection,
        compute_metrics=compute_metrics,
        callbacks=[EarlyStoppingCallback(recipe.patience, recipe.threshold)] if recipe.early_stopping else None,
    )
    trainer.train()
    for checkpoint in Path(output_dir).glob("checkpoint-*"):  # the best weights are loaded: what is left is logs
        shutil.rmtree(checkpoint, ignore_errors=True)
    state = trainer.state
    evaluations = sum(1 for entry in state.log_history if f"eval_{metric}" in entry)
    best = state.best_model_checkpoint
    return Fitted(
        trainer,
        steps=state.global_step,
        epochs=float(state.epoch or 0.0),
        evaluations=evaluations,
        best_step=int(best.rsplit("-", 1)[-1]) if best else None,
        best_metric=state.best_metric,
    )
