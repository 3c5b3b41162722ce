"""The main job: train a causal LM on cloned languages with a language schedule, evaluate every language, save.

Launch it as ``accelerate launch run_clm_imbalance.py [args | config.json | config.yaml]`` (the top-level script
calls `main`), or ``python -m hf_clonelang.commands.train``. This module only wires library pieces:

    base text -> (builder) cloned corpus -> ClonedTokenizer -> GPT-2 -> ImbalanceTrainer -> metrics, plots, card

Data: the embedded stories by default; any `load_dataset` source or local files as base text (clone mode: base
blocks put into the sampled language); or an already built cloned corpus, a folder or Hub repo plus config
(pool mode: the rows keep their languages).
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError

SCRIPT_DEFAULTS: dict[str, Any] = {
    "output_dir": "runs/default",
    "max_steps": 800,
    "per_device_train_batch_size": 16,
    "per_device_eval_batch_size": 32,
    "learning_rate": 2e-3,
    "warmup_steps": 0.05,
    "lr_scheduler_type": "cosine_with_min_lr",
    "lr_scheduler_kwargs": {"min_lr_rate": 0.1},
    "adam_beta2": 0.95,
    "weight_decay": 0.1,
    "max_grad_norm": 1.0,
    "eval_strategy": "steps",
    "eval_steps": 100,
    "eval_on_start": True,
    "logging_steps": 20,
    "save_steps": 400,
    "save_total_limit": 2,
    "report_to": "none",
    "seed": 0,
}
"""Defaults of the script (a CPU-sized run: the `tiny` model, 800 steps of 16 blocks of 128 tokens)."""


@dataclass
class ModelArguments:
    """Which model to train."""

    model_preset: str = field(
        default="tiny",
        metadata={
            "help": "GPT-2 size from scratch: tiny (2x128), cpu (4x128), mini (4x512), small (12x768), "
            "medium (24x1024)."
        },
    )
    model_name_or_path: str | None = field(
        default=None, metadata={"help": "Start from these weights instead (its embedding must fit the vocabulary)."}
    )
    config_name: str | None = field(
        default=None, metadata={"help": "Model config (name or path) to train from scratch."}
    )
    n_layer: int | None = field(default=None, metadata={"help": "Override the preset's number of layers."})
    n_embd: int | None = field(default=None, metadata={"help": "Override the preset's hidden size."})
    n_head: int | None = field(default=None, metadata={"help": "Override the preset's number of heads."})
    tie_word_embeddings: bool | None = field(
        default=None, metadata={"help": "Tie input and output embeddings (presets: untied, as in the paper)."}
    )
    scale_input_embedding: bool | None = field(
        default=None,
        metadata={
            "help": "Train as the paper's GPT, whose input embedding is multiplied by sqrt(hidden size): the factor "
            "is folded into the weights (initialised sqrt(h) x larger, trained with a sqrt(h) x larger learning "
            "rate), so the saved model stays a plain GPT-2. Default: on for models trained from scratch with untied "
            "embeddings, off for tied ones (the factor would scale the output layer too); false: GPT-2's own "
            "unscaled embedding. A --model_name_or_path checkpoint keeps what its config says."
        },
    )


@dataclass
class DataArguments:
    """Where the text comes from and how it is cloned."""

    dataset_name: str | None = field(
        default=None, metadata={"help": "Base text from load_dataset (a Hub name or folder); default: embedded."}
    )
    dataset_config_name: str | None = field(default=None, metadata={"help": "Config of --dataset_name."})
    dataset_split: str = field(default="train", metadata={"help": "Split of --dataset_name to read."})
    text_column: str = field(default="text", metadata={"help": "Column holding the text."})
    train_files: list[str] | None = field(
        default=None, metadata={"help": "Base text from local .txt/.jsonl/.json/.parquet files (.gz too)."}
    )
    sample_by: str = field(
        default="paragraph", metadata={"help": "Documents in .txt files: line, paragraph, document."}
    )
    max_documents: int | None = field(default=None, metadata={"help": "Read at most this many documents."})
    cloned_corpus: str | None = field(
        default=None, metadata={"help": "An already built cloned corpus (folder or Hub dataset repo): pool mode."}
    )
    cloned_corpus_config: str | None = field(default=None, metadata={"help": "Config of --cloned_corpus."})
    tokenizer_name: str | None = field(
        default=None,
        metadata={"help": "Base tokenizer (name or path); default: a byte-level BPE trained on the text."},
    )
    vocab_size: int = field(default=1024, metadata={"help": "Size of the trained BPE per language."})
    eod_token: str | None = field(default=None, metadata={"help": "End-of-document token (default: the eos)."})
    clone_fraction: float = field(default=1.0, metadata={"help": "Cloned share of the vocabulary, in (0, 1]."})
    anchors: str = field(default="random", metadata={"help": "Anchors when clone_fraction < 1: random or frequent."})
    share_special_tokens: bool = field(
        default=False,
        metadata={
            "help": "Share every special token (end-of-document included) by all languages. Default: as in the "
            "paper, every id except padding is cloned."
        },
    )
    block_size: int = field(default=128, metadata={"help": "Tokens per training block."})
    eval_blocks: int = field(default=256, metadata={"help": "Held-out blocks per language for validation (and test)."})
    max_eval_blocks: int | None = field(default=None, metadata={"help": "Evaluate on at most this many blocks."})
    corpus_seed: int = field(default=0, metadata={"help": "Seed of the held-out blocks (kept across training seeds)."})
    corpus_cache_dir: str | None = field(default=None, metadata={"help": "Where built corpora are cached."})


def parse_args(argv: list[str] | None = None) -> tuple[ModelArguments, DataArguments, Any]:
    """Command-line flags, or one JSON / YAML file holding them; the script's defaults fill the rest."""
    from transformers import HfArgumentParser

    from ..training.trainer import ImbalanceTrainingArguments

    argv = sys.argv[1:] if argv is None else list(argv)
    parser = HfArgumentParser((ModelArguments, DataArguments, ImbalanceTrainingArguments))
    if len(argv) == 1 and argv[0].endswith((".json", ".yaml", ".yml")):
        path = Path(argv[0])
        if not path.is_file():
            raise ConfigError(f"config file {argv[0]!r} does not exist")
        import yaml

        loaded = yaml.safe_load(path.read_text()) if path.suffix != ".json" else json.loads(path.read_text())
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {argv[0]!r} must hold a mapping of argument names to values")
        argv = _as_flags(loaded)  # the command line's own type conversion (YAML reads 3e-3 as a string)
    import torch

    parser.set_defaults(**SCRIPT_DEFAULTS, dataloader_pin_memory=torch.cuda.is_available())
    return parser.parse_args_into_dataclasses(argv)


def _as_flags(values: dict[str, Any]) -> list[str]:
    flags: list[str] = []
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, list):
            flags += [f"--{key}", *map(str, value)]
        else:
            flags += [f"--{key}", json.dumps(value) if isinstance(value, dict) else str(value)]
    return flags


def _resume_value(value: str | None) -> str | bool | None:
    if value is None or str(value).lower() in ("", "false", "none"):
        return None
    return True if str(value).lower() == "true" else value


def load_corpus(data: DataArguments, num_languages: int, seed: int) -> tuple[Any, Any]:
    """(DatasetDict, ClonedTokenizer): a built corpus (pool mode) or one built from base text (clone mode)."""
    from ..data.builder import ClonedCorpusBuilder, ClonedCorpusConfig
    from ..data.corpora import BaseCorpus
    from ..data.corpus_folder import load_cloned_corpus

    if data.cloned_corpus:
        dsd, tok = load_cloned_corpus(data.cloned_corpus, data.cloned_corpus_config)
        if tok.num_languages != num_languages:
            raise ConfigError(
                f"num_languages={num_languages} but corpus {data.cloned_corpus} has {tok.num_languages} languages"
            )
        return dsd, tok
    if data.dataset_name and data.train_files:
        raise ConfigError("give either --dataset_name or --train_files, not both")
    spec = data.train_files or data.dataset_name or "embedded"
    base = BaseCorpus.from_spec(
        spec,
        config=data.dataset_config_name,
        split=data.dataset_split,
        text_column=data.text_column,
        sample_by=data.sample_by,
        max_documents=data.max_documents,
    )
    config = ClonedCorpusConfig(
        base=base,
        tokenizer=data.tokenizer_name,
        vocab_size=data.vocab_size,
        eod_token=data.eod_token,
        num_languages=num_languages,
        clone_fraction=data.clone_fraction,
        anchors=data.anchors,
        share_special_tokens=data.share_special_tokens,
        block_size=data.block_size,
        eval_blocks=data.eval_blocks,
        seed=data.corpus_seed,
    )
    builder = ClonedCorpusBuilder(config=config, cache_dir=data.corpus_cache_dir)
    builder.download_and_prepare()
    dsd = builder.as_dataset()
    # clone mode: the training set is just blocks (the collator moves ids of any language into the sampled one)
    dsd["train"] = dsd["train"].remove_columns(["language"])
    return dsd, builder.cloned_tokenizer


def model_config(model_args: ModelArguments, vocab_size: int, block_size: int) -> Any:
    """The config of the model to train from scratch (a preset, or ``--config_name``, with the overrides), checked
    against the cloned vocabulary; it records the paper's √h input-embedding factor unless
    ``--scale_input_embedding false`` or the embeddings are tied."""
    from transformers import AutoConfig

    from ..training.modeling import EMBEDDING_SCALE_KEY, check_model_fits, gpt2_config

    keys = ("n_layer", "n_embd", "n_head", "tie_word_embeddings")
    overrides = {k: v for k in keys if (v := getattr(model_args, k)) is not None}
    if model_args.config_name:
        config = AutoConfig.from_pretrained(model_args.config_name, **overrides)
        if getattr(config, "vocab_size", 0) < vocab_size:
            config.vocab_size = vocab_size
    else:
        config = gpt2_config(model_args.model_preset, vocab_size, block_size, **overrides)
    check_model_fits(config, vocab_size, block_size)
    tied = bool(getattr(config, "tie_word_embeddings", False))
    if model_args.scale_input_embedding and tied:
        raise ConfigError(
            "--scale_input_embedding true needs untied embeddings: with --tie_word_embeddings true the folded factor "
            "would scale the output layer too; leave --scale_input_embedding unset (it is off for tied models)"
        )
    if model_args.scale_input_embedding is not False and not tied:  # the paper's GPT unless switched off or tied
        setattr(config, EMBEDDING_SCALE_KEY, math.sqrt(config.hidden_size))
    return config


def build_model(model_args: ModelArguments, vocab_size: int, block_size: int) -> Any:
    """A GPT-2 from a preset (or a given config / checkpoint), checked against the cloned vocabulary."""
    from transformers import AutoConfig, AutoModelForCausalLM

    from ..training.modeling import EMBEDDING_SCALE_KEY, check_model_fits, fold_input_embedding_scale

    if model_args.model_name_or_path:
        if model_args.scale_input_embedding is not None:
            raise ConfigError(
                "--scale_input_embedding applies to models trained from scratch, not to --model_name_or_path "
                "(a checkpoint trained with it keeps the factor in its config)"
            )
        config = AutoConfig.from_pretrained(model_args.model_name_or_path)
        check_model_fits(config, vocab_size, block_size)
        return AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path)
    model = AutoModelForCausalLM.from_config(model_config(model_args, vocab_size, block_size))
    if getattr(model.config, EMBEDDING_SCALE_KEY, None):
        fold_input_embedding_scale(model)
    return model


def _final_evaluation(trainer: Any) -> dict[str, float]:
    """The evaluation of the final weights: reused from the log when Trainer just evaluated the last step."""
    step = trainer.state.global_step
    logged = [e for e in trainer.state.log_history if e.get("step") == step and any(k.startswith("eval_") for k in e)]
    if logged and (trainer.last_alignment is not None or trainer.args.alignment_blocks == 0):
        merged: dict[str, float] = {}
        for entry in logged:
            merged.update({k: v for k, v in entry.items() if k.startswith("eval_")})
        if all(f"eval_L{k}_loss" in merged for k in range(1, trainer.args.num_languages + 1)):
            return merged
    return trainer.evaluate()


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
)


def settings_fingerprint(model_args: ModelArguments, data_args: DataArguments, args: Any) -> str:
    """A hash of everything that decides what a run trains (not where it is written or pushed)."""
    import hashlib

    training = {k: v for k, v in args.to_dict().items() if not k.startswith(_NOT_SETTINGS)}
    blob = json.dumps([vars(model_args), vars(data_args), training], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _already_trained(output_dir: str, fingerprint: str) -> bool:
    info = Path(output_dir) / "run_info.json"
    done = info.is_file() and (Path(output_dir) / "all_results.json").is_file()
    return done and json.loads(info.read_text()).get("settings_fingerprint") == fingerprint


def _hub_target(args: Any) -> tuple[str, str, dict[str, Any]] | None:
    """Take pushing away from Trainer (it would push before results are saved locally); return what to push."""
    if not args.push_to_hub:
        return None
    args.push_to_hub = False
    repo = args.hub_model_id or Path(args.output_dir).resolve().name
    strategy = str(getattr(args.hub_strategy, "value", args.hub_strategy))
    kwargs = {"token": args.hub_token, "private": args.hub_private_repo, "revision": args.hub_revision}
    return repo, strategy, {k: v for k, v in kwargs.items() if v is not None}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the job; returns the final metrics (also in ``output_dir/all_results.json``)."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        import torch

        if not torch.cuda.is_available():  # several CPU processes: gloo, never silent independent copies
            os.environ.setdefault("ACCELERATE_USE_CPU", "1")
    model_args, data_args, args = parse_args(argv)
    hub = _hub_target(args)
    fingerprint = settings_fingerprint(model_args, data_args, args)
    if hub and _already_trained(args.output_dir, fingerprint):  # a failed push is retried by the same command
        print(f"{args.output_dir} already holds this run: pushing it to {hub[0]}")
        _push(args, hub)
        return json.loads((Path(args.output_dir) / "all_results.json").read_text())

    from transformers import set_seed

    from ..analysis.plots import plot_eval_losses, plot_schedule
    from ..hub.cards import checkpoint_pusher
    from ..training.modeling import EMBEDDING_SCALE_KEY
    from ..training.trainer import ImbalanceTrainer

    set_seed(args.seed)
    with args.main_process_first(desc="building the cloned corpus"):
        dsd, tok = load_corpus(data_args, args.num_languages, args.seed)
    model = build_model(model_args, tok.vocab_size, len(dsd["train"][0]["input_ids"]))
    eval_sets = {}
    for k in range(1, args.num_languages + 1):
        split = dsd[f"validation_L{k}"]
        if data_args.max_eval_blocks:
            split = split.select(range(min(data_args.max_eval_blocks, len(split))))
        eval_sets[f"L{k}"] = split
    trainer = ImbalanceTrainer(
        model=model, args=args, train_dataset=dsd["train"], eval_dataset=eval_sets, processing_class=tok
    )
    if hub and hub[1] != "end":
        trainer.add_callback(checkpoint_pusher(hub[0], hub[1], **hub[2]))
    result = trainer.train(resume_from_checkpoint=_resume_value(args.resume_from_checkpoint))
    metrics = dict(result.metrics)
    metrics.update(_final_evaluation(trainer))
    tests = {f"L{k}": dsd[f"test_L{k}"] for k in range(1, args.num_languages + 1) if f"test_L{k}" in dsd}
    if tests:
        metrics.update(trainer.evaluate(eval_dataset=tests, metric_key_prefix="test"))
    metrics.update({f"train_tokens_{k}": v for k, v in trainer.tokens_seen().items()})
    metrics.update({f"train_epochs_{k}": round(v, 4) for k, v in trainer.pool_epochs().items()})
    trainer.save_model()
    trainer.save_metrics("all", metrics)
    trainer.save_state()
    if trainer.is_world_process_zero():
        run_info = {
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
            "block_size": len(dsd["train"][0]["input_ids"]),
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
                "precision": "bf16" if args.bf16 else "fp16" if args.fp16 else "fp32",
                "seed": args.seed,
            },
            "data": {k: v for k, v in vars(data_args).items() if v is not None},
            "tokenizer": {k: v for k, v in tok.to_dict().items() if k not in ("anchor_ids", "shared_special_ids")},
        }
        Path(args.output_dir, "run_info.json").write_text(json.dumps(run_info, indent=2) + "\n")
        if trainer.last_alignment is not None:
            Path(args.output_dir, "alignment.json").write_text(json.dumps(trainer.last_alignment, indent=2) + "\n")
        plot_eval_losses(trainer.state.log_history, Path(args.output_dir) / "eval_loss.png")
        plot_schedule(trainer.schedule, Path(args.output_dir) / "schedule.png")
        trainer.create_model_card()
        if hub:
            _push(args, hub)
    return metrics


def _push(args: Any, hub: tuple[str, str, dict[str, Any]]) -> None:
    from ..hub.cards import push_run

    url = push_run(args.output_dir, hub[0], **hub[2])
    print(f"pushed {args.output_dir} to {url}")


def cli(argv: list[str] | None = None) -> None:
    """Entry point for scripts: clear one-line errors, and a clean exit of multi-process runs."""
    from ..errors import HubError

    try:
        main(argv)
    except HubError as err:
        print(
            f"run_clm_imbalance.py: error: {err}; the run is saved locally: run the same command again to "
            "retry the push",
            file=sys.stderr,
        )
        sys.exit(2)
    except ConfigError as err:
        print(f"run_clm_imbalance.py: error: {err}", file=sys.stderr)
        sys.exit(2)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        # gloo sometimes aborts at interpreter exit after all work is done (notes/hf-ecosystem.md §6.1)
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    cli()
