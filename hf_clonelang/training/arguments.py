"""The arguments of a cloned-language run: `ImbalanceTrainingArguments` (Trainer's arguments with the language
machinery and a CPU-sized run's defaults) and `ModelArguments` (which model to train)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import TrainingArguments
from transformers.trainer_utils import IntervalStrategy, SchedulerType

from ..common import check_num_languages
from ..errors import ConfigError
from .recipes import CPU_RECIPE
from .sampling import POOL_EXHAUSTED, SAMPLING_MODES
from .schedules import LanguageSchedule

DATA_MODES = ("auto", "clone", "pool")
ATTENTION = ("auto", "sdpa", "eager", "flash_attention_2")
DTYPES = ("float32", "bfloat16", "float16", "auto")


def _help(name: str) -> Any:
    """The help text (field metadata) of `TrainingArguments` field ``name``, for a field given a new default."""
    return TrainingArguments.__dataclass_fields__[name].metadata


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

    attn_implementation: str = field(
        default="auto",
        metadata={
            "help": "Attention kernel, as transformers names it: auto (flash_attention_2 where the flash-attn package "
            "and a GPU are there, else sdpa), sdpa, eager, flash_attention_2.",
            "choices": list(ATTENTION),
        },
    )
    dtype: str = field(
        default="float32",
        metadata={
            "help": "The weights' dtype: float32 (with --bf16 / --mixed_precision bf16 for mixed precision, the "
            "paper's setting), bfloat16, float16, or auto (a checkpoint's own).",
            "choices": list(DTYPES),
        },
    )

    def __post_init__(self) -> None:
        if self.model_name_or_path:  # a checkpoint brings its own architecture
            architecture = ("config_name", "n_layer", "n_embd", "n_head", "tie_word_embeddings")
            architecture += ("scale_input_embedding",)
            given = [f"--{name} {getattr(self, name)}" for name in architecture if getattr(self, name) is not None]
            if self.model_preset != "tiny":
                given.insert(0, f"--model_preset {self.model_preset}")
            if given:
                raise ConfigError(
                    f"{', '.join(given)} cannot apply to --model_name_or_path {self.model_name_or_path}: a checkpoint "
                    "keeps its architecture (train from scratch without --model_name_or_path to choose one)"
                )


@dataclass
class ImbalanceTrainingArguments(TrainingArguments):
    """`TrainingArguments` plus the language machinery, with defaults for a CPU-sized cloned-language run (the
    command line and Python share them: ``ImbalanceTrainingArguments()`` is what the script runs without flags).

    Defaults changed from `TrainingArguments` (TRL's ``SFTConfig`` pattern):

    * ``output_dir="runs/default"``, ``max_steps=800``, ``per_device_train_batch_size=16``,
      ``per_device_eval_batch_size=32``, ``seed=0``;
    * ``learning_rate=2e-3``, ``warmup_steps=0.05`` (a fraction of the run), ``lr_scheduler_type="cosine_with_min_lr"``
      with ``lr_scheduler_kwargs={"min_lr_rate": 0.1}``, ``adam_beta2=0.95``, ``weight_decay=0.1``;
    * ``eval_strategy="steps"``, ``eval_steps=100``, ``eval_on_start`` whenever evaluating (the per-language curves
      start at the untrained model); a Python caller without eval sets passes ``eval_strategy="no"``;
    * ``logging_steps=20``, ``save_steps=400``, ``save_total_limit=2``;
    * ``dataloader_pin_memory``: on only where CUDA is available;
    * ``ddp_find_unused_parameters=False`` (every GPT-2 parameter is used);
    * ``remove_unused_columns=False``: nothing to remove from the corpus's blocks (True works too: the trainer
      keeps the ``language`` tag the collator needs beside the model's inputs).
    """

    output_dir: str | None = field(default="runs/default", metadata=_help("output_dir"))
    max_steps: int = field(default=800, metadata=_help("max_steps"))
    per_device_train_batch_size: int = field(default=16, metadata=_help("per_device_train_batch_size"))
    per_device_eval_batch_size: int = field(default=32, metadata=_help("per_device_eval_batch_size"))
    learning_rate: float = field(default=CPU_RECIPE["learning_rate"], metadata=_help("learning_rate"))
    warmup_steps: float = field(default=CPU_RECIPE["warmup_steps"], metadata=_help("warmup_steps"))
    lr_scheduler_type: SchedulerType | str = field(
        default=CPU_RECIPE["lr_scheduler_type"], metadata=_help("lr_scheduler_type")
    )
    lr_scheduler_kwargs: dict | str | None = field(
        default_factory=lambda: dict(CPU_RECIPE["lr_scheduler_kwargs"]), metadata=_help("lr_scheduler_kwargs")
    )
    adam_beta2: float = field(default=CPU_RECIPE["adam_beta2"], metadata=_help("adam_beta2"))
    weight_decay: float = field(default=CPU_RECIPE["weight_decay"], metadata=_help("weight_decay"))
    eval_strategy: IntervalStrategy | str = field(default="steps", metadata=_help("eval_strategy"))
    eval_steps: float | None = field(default=100, metadata=_help("eval_steps"))
    eval_on_start: bool | None = field(
        default=None, metadata={"help": "Evaluate before the first step (default: when eval_strategy is not 'no')."}
    )
    logging_steps: float = field(default=20, metadata=_help("logging_steps"))
    save_steps: float = field(default=400, metadata=_help("save_steps"))
    save_total_limit: int | None = field(default=2, metadata=_help("save_total_limit"))
    seed: int = field(default=0, metadata=_help("seed"))
    dataloader_pin_memory: bool | None = field(
        default=None, metadata={"help": "Pin memory in the data loaders (default: where CUDA is available)."}
    )

    language_schedule: str = field(
        default="0.9,0.1",
        metadata={
            "help": "Language probabilities over training, e.g. 0.9,0.1 (constant), 0.1_0.9 (equal stages of "
            "p(L2)), linear:0.1@0_0.5@1, l1:0.5, temperature:0.3 (grammar: docs/training.md)."
        },
    )
    num_languages: int = field(default=2, metadata={"help": "Number of cloned languages N (numbered 1..N)."})
    sampling: str = field(
        default="exact",
        metadata={
            "help": "exact: low-discrepancy language assignment (counts track the schedule within a few "
            "samples); bernoulli: independent draws per sample, as in the paper.",
            "choices": list(SAMPLING_MODES),
        },
    )
    data_mode: str = field(
        default="auto",
        metadata={
            "help": "clone: base blocks put into the sampled language (the paper); pool: rows that already "
            "have a language (a corpus built with ratios), the sampler picks the next row of each language; "
            "auto: pool when the training set has a 'language' column, else clone.",
            "choices": list(DATA_MODES),
        },
    )
    pool_exhausted: str = field(
        default="repeat",
        metadata={
            "help": "Pool mode, when a language's rows run out: repeat (reshuffle and reuse them; the "
            "epochs per language are reported) or stop (end training there).",
            "choices": list(POOL_EXHAUSTED),
        },
    )
    alignment_blocks: int = field(
        default=32,
        metadata={
            "help": "Parallel held-out blocks used for the alignment measures at every evaluation "
            "(0: off). They are the first blocks of the eval sets, the same in every language."
        },
    )
    alignment_gradient_blocks: int = field(
        default=4, metadata={"help": "How many of those blocks also go into the gradient cosine (0: skip it)."}
    )
    alignment_pairs: str | None = field(
        default=None,
        metadata={
            "help": "Real languages: a TSV of translation pairs (L1 sentence, tab, L2 translation; .gz too); "
            "alignment_blocks parallel sequences packed from its consecutive pairs (a quarter to a whole block per "
            "side, as the paper's Europarl sequences) are measured at every evaluation (the paper's matched token "
            "cosine)."
        },
    )
    cosine_spans_warmup: bool = field(
        default=False,
        metadata={
            "help": "The paper's (Languini's) learning-rate shape: the cosine decay runs over the whole run and the "
            "linear warm-up multiplies it, lr(s) = min(s, W)/W * cosine(s / T) for step s = 1..T, instead of the "
            "cosine starting after the warm-up. Needs lr_scheduler_type cosine or cosine_with_min_lr."
        },
    )
    remove_unused_columns: bool = field(
        default=False,
        metadata={"help": "Trainer's: drop the columns neither the model nor the collator uses (keeps the language)."},
    )
    ddp_find_unused_parameters: bool | None = field(
        default=False, metadata={"help": "DDP find_unused_parameters (False: every parameter is used)."}
    )

    loss_chunk_tokens: int = field(
        default=4096,
        metadata={
            "help": "Tokens whose logits are upcast to float32 at a time in the loss (forward and backward), so the "
            "loss needs one chunk of memory, not the whole batch's (0: all at once). The value is the same."
        },
    )
    max_eval_blocks: int | None = field(
        default=None, metadata={"help": "Validate every language on at most this many held-out blocks (not test)."}
    )
    eval_last_n: int | None = field(
        default=None,
        metadata={
            "help": "The paper's test perplexity: each language's test text as one stream, windows of the block size "
            "advanced by N tokens, the last N targets of each scored, so every token has block_size - N + 1 to "
            "block_size tokens of context (test_L{k}_ppl). Default: a quarter of the block size, the paper's "
            "512 / 128."
        },
    )

    def __post_init__(self) -> None:
        self.num_languages = check_num_languages(self.num_languages)
        if self.eval_on_start is None:
            self.eval_on_start = str(getattr(self.eval_strategy, "value", self.eval_strategy)) != "no"
        if self.dataloader_pin_memory is None:
            self.dataloader_pin_memory = torch.cuda.is_available()
        if self.train_sampling_strategy != "random":
            raise ConfigError(
                f"train_sampling_strategy={self.train_sampling_strategy!r} is not allowed: the language schedule's "
                "sampler decides the order (seeded by data_seed, else seed); leave it 'random'"
            )
        if self.alignment_blocks < 0 or self.alignment_gradient_blocks < 0:
            raise ConfigError(
                f"alignment_blocks={self.alignment_blocks}, alignment_gradient_blocks={self.alignment_gradient_blocks}"
                " are not allowed: both must be >= 0 (0: off)"
            )
        if self.loss_chunk_tokens < 0:
            raise ConfigError(f"loss_chunk_tokens={self.loss_chunk_tokens} is not allowed: give >= 1 (0: no chunks)")
        if self.alignment_pairs is not None and not os.path.isfile(self.alignment_pairs):
            raise ConfigError(f"--alignment_pairs {self.alignment_pairs!r} does not exist: give a TSV file of pairs")
        if self.max_steps == 0 or (self.max_steps < 0 and self.num_train_epochs <= 0):
            raise ConfigError(
                f"max_steps={self.max_steps}, num_train_epochs={self.num_train_epochs} train nothing: "
                "give max_steps >= 1"
            )
        default_epochs = TrainingArguments.__dataclass_fields__["num_train_epochs"].default
        if self.max_steps > 0 and self.num_train_epochs != default_epochs:
            raise ConfigError(
                f"num_train_epochs={self.num_train_epochs} has no effect with max_steps={self.max_steps}: give "
                "--max_steps -1 to train by epochs"
            )
        if self.eval_last_n is not None and self.eval_last_n < 1:
            raise ConfigError(f"eval_last_n={self.eval_last_n} is not allowed: it must lie in 1..the block size")
        if self.max_eval_blocks is not None and self.max_eval_blocks < 1:
            raise ConfigError(f"max_eval_blocks={self.max_eval_blocks} is not allowed: it must be >= 1")
        for name, allowed in (
            ("sampling", SAMPLING_MODES),
            ("data_mode", DATA_MODES),
            ("pool_exhausted", POOL_EXHAUSTED),
        ):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name}={getattr(self, name)!r} is not allowed: use one of {', '.join(allowed)}")
        scheduler = str(getattr(self.lr_scheduler_type, "value", self.lr_scheduler_type))
        if self.cosine_spans_warmup and scheduler not in ("cosine", "cosine_with_min_lr"):
            raise ConfigError(
                f"cosine_spans_warmup=True is not allowed with lr_scheduler_type={scheduler!r}: use cosine or "
                "cosine_with_min_lr"
            )
        if not str(self.language_schedule).startswith("temperature:"):  # temperature needs the pool's sizes
            schedule = LanguageSchedule.from_string(self.language_schedule, self.num_languages)
            if not schedule.is_constant and self.max_steps <= 0:
                raise ConfigError(
                    f"language_schedule={self.language_schedule!r} changes over training, so the run length must "
                    "be known: set max_steps"
                )
        super().__post_init__()


TRAINING_SCRIPT = "run_clm_imbalance.py"
"""The training script's name, as its help and errors call it."""


def parse_training_args(
    argv: list[str], description: str = ""
) -> tuple[ModelArguments, Any, ImbalanceTrainingArguments]:
    """The training script's command line (flags and / or a YAML / JSON file of them; the command line wins) as its
    three argument classes, validated: `ModelArguments`, `CorpusArguments` and `ImbalanceTrainingArguments`. The
    classes' own defaults fill the rest, so Python users and the command line get the same run, and the reproduction
    grid resolves a run's command line exactly as the script will."""
    from ..data.arguments import CorpusArguments
    from ..parser import parse_dataclasses

    types = (ModelArguments, CorpusArguments, ImbalanceTrainingArguments)
    return parse_dataclasses(types, argv, prog=TRAINING_SCRIPT, description=description)
