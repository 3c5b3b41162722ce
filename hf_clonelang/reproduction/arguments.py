"""`ReproduceArguments`: everything ``hf-clonelang reproduce`` takes, as one dataclass that the command line (and a
``--config`` file) fills through the same `HfArgumentParser` machinery as the training script, and that Python users
build directly: ``run_grid(ReproduceArguments(output="grids/cpu", seeds="0,1"))``.

Lists that the command line writes with commas (``--seeds 0,1``, ``--lengths 1,2``) stay strings here, as typed;
`seed_values` and `length_values` are their numbers (Python callers may also give a sequence: it is written back
as the same comma string). Every check is made at construction, before any work: one line naming the bad value.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ..parser import comma_numbers
from .scales import PAPER_CLONE_FRACTIONS, SCALES

LAUNCHERS = ("local", "slurm")


def _comma_list(value: Any) -> str:
    """A sequence of numbers as the command line writes it (``(0, 1)`` -> ``"0,1"``); a string as it is."""
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence):
        return ",".join(str(v) for v in value)
    return str(value)


@dataclass
class ReproduceArguments:
    """The grid (scale, data, seeds, lengths, extra run flags), where its runs go (here or on SLURM, on which GPUs)
    and which step to take (all, ``prepare_only``, ``report_only``, ``dry_run``)."""

    output: str = field(
        metadata={"help": "Grid folder (resumable): runs/, logs/, plan.json, results.json, report.md."}
    )
    # ---- the grid
    scale: str = field(default="cpu-tiny", metadata={"help": f"One of {', '.join(SCALES)}."})
    corpus: str = field(
        default="embedded",
        metadata={"help": "embedded (the generated stories), local text files, or a load_dataset name."},
    )
    languages: str | None = field(
        default=None,
        metadata={
            "help": "Real languages instead of clones, NAME=TEXT,NAME=TEXT (e.g. en=en.txt.gz,fr=fr.txt.gz): "
            "monolingual curves per language, bilingual at p(L2) 0.1/0.5/0.9 and 0.1_0.9, disjoint and anchored."
        },
    )
    pairs: str | None = field(
        default=None, metadata={"help": "With --languages: TSV of translation pairs for the alignment."}
    )
    seeds: str = field(default="0", metadata={"help": "Seeds of the multilingual runs, e.g. 0,1."})
    ten_languages: bool = field(default=False, metadata={"help": "Add the two 10-language runs."})
    lengths: str = field(
        default="1",
        metadata={
            "help": "Budget multipliers of the bilingual runs, e.g. 1,2,4 (the paper's longer training; monolingual "
            "points up to the longest are added)."
        },
    )
    shares: str | None = field(
        default=None,
        metadata={
            "help": "More constant settings p(L2) at 1x, e.g. 0.05,0.1,0.2,0.3,0.4,0.5 (the paper's Figure 1; real "
            "languages: p(FR) 0.05..0.95, Figure 3)."
        },
    )
    anchor_sweep: bool = field(
        default=False,
        metadata={"help": "Add Figure 8: 50/50 runs cloning only part of the vocabulary (--clone_fractions)."},
    )
    clone_fractions: str | None = field(
        default=None,
        metadata={
            "help": "With --anchor_sweep: the clone fractions (default 1,0.95,0.9,0.75,0.5,0.2,0.1), each with random "
            "and with frequent anchors."
        },
    )
    embedding_similarity: bool = field(
        default=False,
        metadata={
            "help": "Add Figures 6 and 7: clone-embedding cosine against p(L2) and by training count, with the "
            "paper's word2vec control trained on each run's own token stream."
        },
    )
    long_seeds: int | None = field(
        default=None, metadata={"help": "Runs longer than 1x use only the first N seeds (default: all)."}
    )
    align_blocks: int | None = field(
        default=None, metadata={"help": "Parallel blocks (or pairs) for the final alignment (default: the scale's)."}
    )
    probe: bool = field(
        default=False,
        metadata={
            "help": "Probe every bilingual run (hf-clonelang probe, the paper's recipe; no retraining) and add the "
            "paper's Figure 1 (right) to the report."
        },
    )
    probe_dataset: list[str] = field(
        default_factory=lambda: ["embedded"],
        metadata={"help": "With --probe: the tasks (hf-clonelang probe --dataset; real languages: {lang} in each)."},
    )
    run_args: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Flags for every run's training command: on the command line after -- (hf-clonelang reproduce "
            "--output g -- --tie_word_embeddings true), in a config file as a list."
        },
    )
    # ---- where the runs go
    jobs: int | None = field(
        default=None,
        metadata={"help": "Runs in parallel (default: one per GPU, each on its own; without GPUs one per CPU core)."},
    )
    gpus_per_run: int = field(
        default=1,
        metadata={"help": "GPUs of each run (accelerate launch inside when more than one); runs never share a GPU."},
    )
    per_device_batch: int | None = field(
        default=None,
        metadata={
            "help": "GPU hosts: blocks per device and step; gradient accumulation makes up the scale's batch "
            "(default: the largest power of two that fits the GPU's memory by an estimate)."
        },
    )
    launcher: str = field(
        default="local",
        metadata={
            "help": "local (train here) or slurm (write OUTPUT/slurm/: a job array of the runs, the corpus and report "
            "steps, and submit.sh)."
        },
    )
    partition: str | None = field(default=None, metadata={"help": "slurm: the partition of the jobs."})
    time: str | None = field(default=None, metadata={"help": "slurm: each job's time limit, e.g. 24:00:00."})
    account: str | None = field(default=None, metadata={"help": "slurm: the account to charge."})
    gpu_memory_gb: float = field(
        default=80, metadata={"help": "slurm: the cluster GPUs' memory in GB, for the per-device batch."}
    )
    # ---- which step
    prepare_only: bool = field(default=False, metadata={"help": "Only build the corpora."})
    report_only: bool = field(default=False, metadata={"help": "Only analyse finished runs."})
    dry_run: bool = field(
        default=False,
        metadata={"help": "Write OUTPUT/plan.json (every run's resolved arguments), print each run's command; train "
                  "nothing."},
    )  # fmt: skip

    def __post_init__(self) -> None:
        self.seeds = _comma_list(self.seeds)
        self.lengths = _comma_list(self.lengths)
        self.run_args = [str(x) for x in self.run_args]
        if self.jobs is not None and self.jobs < 1:
            raise ConfigError(f"--jobs={self.jobs} is not allowed: it must be >= 1")
        if self.scale not in SCALES:
            raise ConfigError(f"--scale {self.scale!r} is not allowed: use one of {', '.join(SCALES)}")
        if self.launcher not in LAUNCHERS:
            raise ConfigError(f"--launcher {self.launcher!r} is not allowed: use {' or '.join(LAUNCHERS)}")
        if self.prepare_only and self.report_only:
            raise ConfigError("--prepare-only and --report-only are not allowed together: give one step")
        self.shares = _comma_list(self.shares) if self.shares is not None else None
        self.clone_fractions = _comma_list(self.clone_fractions) if self.clone_fractions is not None else None
        _ = self.seed_values, self.length_values, self.share_values, self.clone_fraction_values  # refused early
        if self.clone_fractions and not self.anchor_sweep:
            raise ConfigError("--clone_fractions is given without --anchor_sweep")
        if self.anchor_sweep and self.languages is not None:
            raise ConfigError("--anchor_sweep is for cloned languages: real languages anchor with --vocab anchored")
        if self.long_seeds is not None and self.long_seeds < 1:
            raise ConfigError(f"--long_seeds={self.long_seeds} is not allowed: it must be >= 1")
        if self.probe_dataset != ["embedded"] and not self.probe:
            raise ConfigError("--probe_dataset is given without --probe")
        if self.probe and self.languages is not None and any("{lang}" not in d for d in self.probe_dataset):
            raise ConfigError(
                "--probe on real languages needs each language's own labelled data: give --probe_dataset with "
                "{lang} where the language's name goes (e.g. data/task_{lang}.csv)"
            )
        if self.languages is not None:
            if self.corpus != "embedded" or self.ten_languages:
                raise ConfigError(
                    "--languages brings each language's text: it cannot go with --corpus or --ten-languages"
                )
            if self.pairs is not None and not os.path.isfile(self.pairs):
                raise ConfigError(f"--pairs {self.pairs!r} does not exist: give a TSV file of translation pairs")
        elif self.pairs is not None:
            raise ConfigError("--pairs is for real languages (--languages): cloned languages align on parallel blocks")

    @property
    def seed_values(self) -> tuple[int, ...]:
        """``seeds`` as integers."""
        return comma_numbers(self.seeds, "--seeds", integers=True)

    @property
    def share_values(self) -> tuple[float, ...]:
        """``shares`` as p(L2) values in (0, 1), sorted, without repeats."""
        if not self.shares:
            return ()
        values = comma_numbers(self.shares, "--shares")
        if any(not 0 < x < 1 for x in values):
            raise ConfigError(f"--shares={self.shares} is not allowed: give shares p(L2) between 0 and 1")
        return tuple(sorted(set(values)))

    @property
    def clone_fraction_values(self) -> tuple[float, ...]:
        """The anchor sweep's clone fractions (empty without ``anchor_sweep``)."""
        if not self.anchor_sweep:
            return ()
        if not self.clone_fractions:
            return PAPER_CLONE_FRACTIONS
        values = comma_numbers(self.clone_fractions, "--clone_fractions")
        if any(not 0 < x <= 1 for x in values):
            raise ConfigError(f"--clone_fractions={self.clone_fractions} is not allowed: give fractions in (0, 1]")
        return tuple(sorted(set(values), reverse=True))

    @property
    def length_values(self) -> tuple[float, ...]:
        """``lengths`` as budget multipliers, sorted and without repeats (each > 0)."""
        values = comma_numbers(self.lengths, "--lengths")
        if any(not x > 0 for x in values):
            raise ConfigError(f"--lengths={','.join(map(str, values))} is not allowed: give budget multipliers > 0")
        return tuple(sorted(set(values)))

    @property
    def step(self) -> str:
        """``all`` (train what is not finished, then analyse), ``prepare`` (only the corpora) or ``report``."""
        return "prepare" if self.prepare_only else "report" if self.report_only else "all"

    @property
    def slurm_options(self) -> dict[str, Any]:
        """The cluster's settings for the job scripts (`slurm.slurm_scripts`)."""
        return {"partition": self.partition, "time": self.time, "account": self.account,
                "gpu_memory_gb": self.gpu_memory_gb}  # fmt: skip
