"""A finished run's folder: what the training script writes beside Trainer's own files, and how it recognises a
run it already trained (so that rerunning a command whose push failed only retries the push).

Files (names in `common.RunFiles`): ``run_info.json`` (settings, schedule, model, tokenizer layout, the settings
fingerprint), ``alignment.json`` (the last per-layer alignment report), ``eval_loss.png`` and ``schedule.png``,
and the model card ``README.md``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from ..common import RunFiles
from .modeling import EMBEDDING_SCALE_KEY

_NOT_SETTINGS = (
    "push_to_hub",
    "hub_",
    "resume_from_checkpoint",
    "output_dir",
    "logging_dir",
    "disable_tqdm",
    "report_to",
    "run_name",
    "save_",
    "logging_",
    "dataloader_num_workers",
    "dataloader_pin_memory",
    "dataloader_persistent_workers",
    "dataloader_prefetch_factor",
    "use_cpu",
    "local_rank",
)
"""Training arguments that say where a run is written or pushed, not what it trains."""


def settings_fingerprint(model_args: Any, corpus_args: Any, args: Any) -> str:
    """A hash of everything that decides what a run trains (not where it is written or pushed)."""
    training = {k: v for k, v in args.to_dict().items() if not k.startswith(_NOT_SETTINGS)}
    blob = json.dumps([dataclasses.asdict(model_args), corpus_args.to_dict(), training], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def hub_repo(args: Any) -> str:
    """The model repo a run pushes to: ``hub_model_id``, else the output folder's name (Trainer's own rule)."""
    return args.hub_model_id or Path(args.output_dir).absolute().name


def already_trained(output_dir: str | Path, fingerprint: str) -> bool:
    """Whether ``output_dir`` holds a finished run of exactly these settings."""
    info = Path(output_dir) / RunFiles.RUN_INFO
    done = info.is_file() and (Path(output_dir) / RunFiles.ALL_RESULTS).is_file()
    return done and json.loads(info.read_text()).get("settings_fingerprint") == fingerprint


def logged_train_loss(log_history: list[dict[str, Any]], resumed_at: int = 0) -> float | None:
    """The mean training loss of a resumed run over all its sessions, from its logs: each logged ``loss`` (the mean
    since the previous log, or since the resume at step ``resumed_at``) weighted by the steps it covers; steps
    between the checkpoint's last log and the resume were never logged and are left out. Trainer's own
    ``train_loss`` counts only the last session."""
    total, covered, previous = 0.0, 0, 0
    for entry in log_history:
        if "loss" in entry and "step" in entry:
            if previous < resumed_at < entry["step"]:
                previous = resumed_at  # the session's accumulator started at the resume
            steps = entry["step"] - previous
            total, covered, previous = total + entry["loss"] * steps, covered + steps, entry["step"]
    return total / covered if covered else None


def final_evaluation(trainer: Any) -> dict[str, float]:
    """The evaluation of the final weights: reused from the log when Trainer just evaluated the last step."""
    step = trainer.state.global_step
    logged = [e for e in trainer.state.log_history if e.get("step") == step and any(k.startswith("eval_") for k in e)]
    if logged and (trainer.last_alignment is not None or trainer.alignment_callback is None):
        merged: dict[str, float] = {}
        for entry in logged:
            merged.update({k: v for k, v in entry.items() if k.startswith("eval_")})
        if all(f"eval_L{k}_loss" in merged for k in range(1, trainer.args.num_languages + 1)):
            return merged
    return trainer.evaluate()


def training_precision(trainer: Any) -> str:
    """The precision the run trained in, as the accelerator ran it: ``--bf16`` / ``--fp16``, or ``accelerate launch
    --mixed_precision bf16`` (which Trainer's arguments do not show), and the weights' dtype when not float32."""
    mixed = str(getattr(trainer.accelerator, "mixed_precision", "no") or "no")
    text = "fp32" if mixed == "no" else f"{mixed} mixed precision"
    dtype = getattr(trainer.model, "dtype", None)
    if dtype is not None and str(dtype) != "torch.float32":
        text += f" ({str(dtype).removeprefix('torch.')} weights)"
    return text


def evaluation_protocols(trainer: Any) -> dict[str, Any]:
    """How each perplexity of the run was measured, as ``run_info.json`` records it (cards and reports say it)."""
    window, stride = trainer.test_window(trainer.block_size)
    return {
        "test_L{k}_ppl": f"the paper's protocol (the test text as one stream, windows of {window} tokens advanced by "
        f"{stride}, the last {stride} targets of each scored: context {window - stride + 1} to {window} tokens)",
        "test_L{k}_blocks_ppl": "every position of the test blocks (context 0 to block size - 1)",
        "eval_L{k}_ppl": "every position of the validation blocks, during training",
        "test_window": window,
        "test_stride": stride,
    }


def run_info(trainer: Any, model_args: Any, corpus_args: Any, fingerprint: str) -> dict[str, Any]:
    """The run's ``run_info.json``: what was trained, on what, how (read by the analysis, the card and `align`)."""
    args, model = trainer.args, trainer.model
    return {
        "settings_fingerprint": fingerprint,
        "num_languages": args.num_languages,
        "language_schedule": str(trainer.schedule),
        "expected_shares": [round(float(x), 6) for x in trainer.schedule.expected_shares()],
        "sampling": args.sampling,
        "data_mode": trainer.sampler.mode,
        "model_preset": None if model_args.model_name_or_path else model_args.model_preset,
        "num_parameters": sum(p.numel() for p in model.parameters()),
        "input_embedding_scale": getattr(model.config, EMBEDDING_SCALE_KEY, None),
        "tie_word_embeddings": bool(getattr(model.config, "tie_word_embeddings", False)),
        "block_size": trainer.block_size,
        "samples_per_step": trainer.samples_per_step,
        "training": {
            "learning_rate": args.learning_rate,
            "lr_scheduler_type": str(getattr(args.lr_scheduler_type, "value", args.lr_scheduler_type)),
            "warmup_steps": args.warmup_steps,
            "weight_decay": args.weight_decay,
            "adam_betas": f"({args.adam_beta1}, {args.adam_beta2})",
            "max_grad_norm": args.max_grad_norm,
            "gradient_accumulation_steps": args.gradient_accumulation_steps,
            "processes": args.world_size,
            "precision": training_precision(trainer),
            "seed": args.seed,
        },
        "evaluation": evaluation_protocols(trainer),
        "data": corpus_args.to_dict(relative_to=args.output_dir),
        "tokenizer": {
            k: v
            for k, v in trainer.processing_class.to_dict().items()
            if k not in ("anchor_ids", "shared_special_ids")
        },
    }


def write_run_files(trainer: Any, model_args: Any, corpus_args: Any, fingerprint: str) -> None:
    """``run_info.json``, ``alignment.json``, the plots and the model card (main process only)."""
    if not trainer.is_world_process_zero():
        return
    from ..analysis.plots import plot_eval_losses, plot_schedule

    out = Path(trainer.args.output_dir)
    info = run_info(trainer, model_args, corpus_args, fingerprint)
    (out / RunFiles.RUN_INFO).write_text(json.dumps(info, indent=2) + "\n")
    if trainer.last_alignment is not None:
        (out / RunFiles.ALIGNMENT).write_text(json.dumps(trainer.last_alignment, indent=2) + "\n")
    plot_eval_losses(trainer.state.log_history, out / RunFiles.EVAL_LOSS_PLOT)
    plot_schedule(trainer.schedule, out / RunFiles.SCHEDULE_PLOT)
    trainer.create_model_card()
