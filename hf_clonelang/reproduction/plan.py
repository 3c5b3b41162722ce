"""A grid resolved into runs: which runs the paper's grid has at a scale, each run's training command line, where
it goes (`placement`), and ``plan.json``, every run's arguments as the training script will resolve them.

Cloned languages (`cloned_runs`): monolingual runs at budget fractions (each with its own full learning-rate
schedule, as in the paper; dense between 0.1 and 0.5, and above the full budget), then bilingual 50/50, 90/10 and
the ``0.1_0.9`` schedule (repeated per seed, and per budget multiplier of ``lengths``: the paper's longer training),
and optionally ten languages (uniform, and the paper's ``l1:0.5``). Every run uses the same model and the same
joint vocabulary of two languages (ten for the ten-language runs), so monolingual and bilingual runs differ only in
the languages of their blocks.

Real languages (`real_runs`, the paper's Section 5): monolingual runs per language (its own curve: the English fit
for English, the French fit for French), then per vocabulary mode (disjoint, anchored), length and seed the
bilingual runs at p(L2) = 0.1, 0.5, 0.9 and the ``0.1_0.9`` schedule. Monolingual runs train on the disjoint corpus
(a language alone never meets an anchored piece of the other's, so its model is the same up to unused embedding
rows).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..common import GRID_CORPUS_CACHE, CorpusFiles
from ..errors import ConfigError
from ..parser import flag_value
from .arguments import ReproduceArguments
from .placement import GpuHost, launch_command, plan_devices
from .scales import SCALES, Scale

logger = logging.getLogger(__name__)

GRID_FLAGS = ("output_dir", "language_schedule", "num_languages", "max_steps", "seed", "resume_from_checkpoint")
"""Flags every run gets from the grid itself: extra run flags may not change them."""
GRID_RECORD = "reproduce.json"
"""A grid folder's record of its settings (`grid.record_grid`): a folder holds one grid."""
EMBEDDED_TOKEN_LIMIT = 100_000_000
"""Above this budget per run the embedded stories (a few million tokens) would be repeated hundreds of times."""


@dataclass(frozen=True)
class RunSpec:
    """One training run of the grid. ``length`` multiplies the budget of a bilingual run (1, 2, 4: the paper's
    longer training); monolingual runs cover ``fraction`` of the 1× budget."""

    name: str
    kind: str  # "mono" or "multi"
    schedule: str
    num_languages: int
    steps: int
    seed: int
    fraction: float = 1.0
    length: float = 1.0
    language: int = 1  # the language of a monolingual run
    vocab_mode: str | None = None  # real languages: the joint vocabulary the run trains with
    clone_fraction: float = 1.0  # the anchor sweep: the share of the base vocabulary cloned ...
    anchors: str = "random"  # ... and how the shared rest (the anchors) is chosen

    def args(
        self,
        scale: Scale,
        corpus_flags: list[str],
        out: Path,
        cache: Path,
        extra: Sequence[str] = (),
        batch: tuple[int, int] | None = None,
    ) -> list[str]:
        """The training script's command line for this run (``extra`` flags last, so they win); ``batch`` is the
        (per-device batch, accumulation steps) of a GPU placement (default: the scale's batch in one step)."""
        per_device, accumulation = batch or (scale.batch, 1)
        flags = {
            "output_dir": out / "runs" / self.name,
            "language_schedule": self.schedule,
            "num_languages": self.num_languages,
            "max_steps": self.steps,
            "seed": self.seed,
            "block_size": scale.block_size,
            "vocab_size": scale.vocab_size,
            "per_device_train_batch_size": per_device,
            "gradient_accumulation_steps": accumulation,
            "per_device_eval_batch_size": max(per_device, 32) if batch is None else per_device,
            "eval_blocks": scale.eval_blocks,
            "eval_steps": max(1, self.steps // 4),
            "eval_on_start": "false",
            "save_steps": max(1, self.steps // 2),
            "save_total_limit": 1,
            "logging_steps": max(1, self.steps // 20),
            "corpus_cache_dir": cache,
            "disable_tqdm": "true",
            **scale.model,
            **scale.recipe,
        }
        if self.vocab_mode is not None:
            flags["vocab_mode"] = self.vocab_mode
        if self.clone_fraction != 1:
            flags["clone_fraction"], flags["anchors"] = self.clone_fraction, self.anchors
        if scale.max_documents and not {"--dataset_name", "--train_files", "--language"} & set(corpus_flags):
            flags["max_documents"] = scale.max_documents
        return [*(x for k, v in flags.items() for x in (f"--{k}", flag_value(v))), *corpus_flags, *extra]


# ---------------------------------------------------------------------- the runs of a grid
CLONE_SETTINGS = (("bi-50-50", "0.5,0.5", 2), ("bi-90-10", "0.9,0.1", 2), ("sched-0.1_0.9", "0.1_0.9", 2))
"""The bilingual settings of cloned languages: run name, schedule, languages (the paper's Table 1)."""
TEN_LANGUAGE_SETTINGS = (("ten-uniform", "uniform", 10), ("ten-l1-0.5", "l1:0.5", 10))
SETTING_NAMES = {
    ("0.5,0.5", 2): "50/50", ("0.9,0.1", 2): "90/10", ("0.1_0.9", 2): "schedule 0.1_0.9",
    ("uniform", 10): "10 languages, uniform", ("l1:0.5", 10): "10 languages, L1 50%",
}  # fmt: skip
"""How reports and figures name the cloned settings (schedule, languages)."""
REAL_SETTINGS = (("p10", "0.9,0.1"), ("p50", "0.5,0.5"), ("p90", "0.1,0.9"), ("sched-0.1_0.9", "0.1_0.9"))
ANCHOR_REFERENCE_FRACTIONS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
"""Monolingual budget fractions Figure 8 draws as reference lines: an anchored 50/50 run sits between a monolingual
run of half the tokens (nothing shared helps) and one of all of them (everything shared)."""
"""The bilingual settings of real languages by p(L2) (the paper's p_FR: Table 3, Figure 3)."""
REAL_FRACTIONS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
"""Monolingual points of real languages (per language): a bilingual run gives one language 0.1 to 0.9 of the
budget, and real languages gain less than clones (the paper's TEff 0.6 to 1.3), so 0.05..1 covers them; longer
lengths add their points as for clones."""


def _length_tag(length: float) -> str:
    return "" if length == 1 else f"-x{length:g}"


def mono_fractions(scale: Scale, lengths: Sequence[float] = (1.0,), anchors: bool = False) -> list[float]:
    """The scale's monolingual fractions plus, for every longer length L, the points 0.75·L and L (the curve must
    reach the tokens a longer run's languages see), and with the anchor sweep Figure 8's reference lines."""
    extra = {round(length * f, 6) for length in lengths if length > 1 for f in (0.75, 1.0)}
    if anchors:
        extra |= set(ANCHOR_REFERENCE_FRACTIONS)
    return sorted(set(scale.fractions) | extra)


def share_schedule(p2: float) -> str:
    """The constant two-language schedule with p(L2) = ``p2`` (``0.1`` -> ``0.9,0.1``)."""
    return f"{round(1 - p2, 6):g},{p2:g}"


def _percent(p: float) -> str:
    return f"{round(100 * p, 4):g}"


def cloned_runs(
    scale: Scale,
    seeds: tuple[int, ...] = (0,),
    ten_languages: bool = False,
    lengths: Sequence[float] = (1.0,),
    shares: Sequence[float] = (),
    clone_fractions: Sequence[float] = (),
    long_seeds: int | None = None,
) -> list[RunSpec]:
    """The runs of the paper's grid at ``scale``: the monolingual curve, then per length and seed 50/50, 90/10 and
    the ``0.1_0.9`` schedule (and the two ten-language settings); ``shares``: more constant settings p(L2) at 1×
    (Figure 1's sweep: ``bi-95-5`` ...); ``clone_fractions``: 50/50 runs with only that share of the vocabulary
    cloned, random and frequent anchors, with the first seed (Figure 8: ``anchor-random-0.5-s0`` ...). Runs longer
    than 1× use the first ``long_seeds`` seeds (default: all)."""
    runs = [
        RunSpec(f"mono-{f:g}", "mono", "1,0", 2, max(1, round(f * scale.steps)), seeds[0], fraction=f)
        for f in mono_fractions(scale, lengths, anchors=bool(clone_fractions))
    ]
    settings = [*CLONE_SETTINGS, *(TEN_LANGUAGE_SETTINGS if ten_languages else ())]
    known = {schedule for _, schedule, _ in CLONE_SETTINGS}
    sweep = [(f"bi-{_percent(1 - p)}-{_percent(p)}", share_schedule(p), 2) for p in shares]
    sweep = [s for s in sweep if s[1] not in known]
    for length in lengths:
        steps = max(1, round(length * scale.steps))
        for seed in seeds if length == 1 or long_seeds is None else seeds[:long_seeds]:
            runs += [
                RunSpec(f"{name}{_length_tag(length)}-s{seed}", "multi", schedule, n, steps, seed, length=length)
                for name, schedule, n in settings + (sweep if length == 1 else [])
            ]
    runs += [  # one seed, the grid's first (the paper's Figure 8: one run per point)
        RunSpec(f"anchor-{mode}-{cf:g}-s{seeds[0]}", "multi", "0.5,0.5", 2, scale.steps, seeds[0], clone_fraction=cf,
                anchors=mode)
        for mode in ("random", "frequent")
        for cf in clone_fractions
        if cf != 1
    ]  # fmt: skip
    return runs


def real_runs(
    scale: Scale,
    names: Sequence[str],
    seeds: tuple[int, ...] = (0,),
    lengths: Sequence[float] = (1.0,),
    shares: Sequence[float] = (),
    long_seeds: int | None = None,
) -> list[RunSpec]:
    """The runs of the paper's real-language grid: monolingual points per language, then per vocabulary mode,
    length and seed the `REAL_SETTINGS`; ``shares``: more p(L2) settings at 1× (Figure 3's sweep: ``p5`` ...)."""
    if len(names) != 2:
        raise ConfigError(
            f"--languages names {len(names)} languages: the real-language grid takes two (p(L2) settings)"
        )
    fractions = sorted(
        set(REAL_FRACTIONS) | {f for f in mono_fractions(scale, lengths) if f > 1 and f <= max(lengths)}
    )
    runs = []
    for k, name in enumerate(names, 1):
        one_hot = ",".join("1" if j == k else "0" for j in range(1, len(names) + 1))
        runs += [
            RunSpec(f"mono-{name}-{f:g}", "mono", one_hot, 2, max(1, round(f * scale.steps)), seeds[0], fraction=f,
                    language=k, vocab_mode="disjoint")
            for f in fractions
        ]  # fmt: skip
    known = {schedule for _, schedule in REAL_SETTINGS}
    sweep = [(f"p{_percent(p)}", share_schedule(p)) for p in shares if share_schedule(p) not in known]
    for mode in ("disjoint", "anchored"):
        for length in lengths:
            steps = max(1, round(length * scale.steps))
            for seed in seeds if length == 1 or long_seeds is None else seeds[:long_seeds]:
                runs += [
                    RunSpec(f"{mode}-{tag}{_length_tag(length)}-s{seed}", "multi", schedule, 2, steps, seed,
                            length=length, vocab_mode=mode)
                    for tag, schedule in [*REAL_SETTINGS, *(sweep if length == 1 else [])]
                ]  # fmt: skip
    return runs


# ---------------------------------------------------------------------- the data of every run
def language_flags(languages: str) -> tuple[list[str], list[str]]:
    """``en=PATH,fr=PATH`` as the names and the training script's ``--language`` flags (local paths absolute)."""
    from ..data.arguments import split_language
    from ..data.base_text import looks_like_file

    names, flags = [], []
    for item in languages.split(","):
        name, text = split_language(item, "--languages")
        if os.path.exists(text):
            text = os.path.abspath(text)
        elif looks_like_file(text):
            raise ConfigError(f"--languages: the text of {name}, {text!r}, does not exist")
        names.append(name)
        flags += ["--language", f"{name}={text}"]
    return names, flags


def corpus_flags(corpus: str) -> list[str]:
    """``embedded``, local text files, or a `load_dataset` name."""
    if corpus == "embedded":
        return []
    if os.path.isfile(corpus):
        return ["--train_files", os.path.abspath(corpus)]
    built = all((Path(corpus) / sub).is_dir() for sub in (CorpusFiles.DATA_DIR, CorpusFiles.TOKENIZER_DIR))
    if os.path.isdir(corpus) and built:
        raise ConfigError(f"--corpus {corpus!r} is a built cloned corpus: reproduce needs base text")
    return ["--dataset_name", corpus]


def check_extra_args(
    extra_args: Sequence[str], scale: Scale, processes: int = 1, batch: tuple[int, int] | None = None
) -> tuple[str, ...]:
    """Refuse extra run flags that would change what the grid decides (where a run goes, its language mix, the
    tokens per step that the budget T and every TEff assume)."""
    extra = tuple(str(x) for x in extra_args)
    values: dict[str, str] = {}
    for i, item in enumerate(extra):
        if not item.startswith("--"):
            continue
        name, eq, value = item[2:].partition("=")
        name = name.replace("-", "_")
        if name in GRID_FLAGS:
            raise ConfigError(
                f"extra run flag --{name} is not allowed: the grid sets it for every run (use --output, --seeds, "
                "--lengths or --scale instead)"
            )
        values[name] = value if eq else (extra[i + 1] if i + 1 < len(extra) else "")
    try:
        per_device, accumulation = batch or (scale.batch, 1)
        per_device = int(values.get("per_device_train_batch_size", per_device))
        accumulation = int(values.get("gradient_accumulation_steps", accumulation))
        block = int(values.get("block_size", scale.block_size))
    except ValueError as err:
        raise ConfigError(f"extra run flags: {err}") from err
    if per_device * accumulation * processes * block != scale.batch * scale.block_size:
        raise ConfigError(
            f"extra run flags give {per_device} x {accumulation} x {processes} process(es) blocks of {block} tokens "
            "per step, not the scale's "
            f"{scale.batch} x {scale.block_size} that its budget T and every TEff assume: keep "
            f"per_device_train_batch_size x gradient_accumulation_steps = {scale.batch} (e.g. "
            f"--per_device_train_batch_size {max(1, scale.batch // 2)} --gradient_accumulation_steps 2) and "
            f"block_size = {scale.block_size}"
        )
    return extra


# ---------------------------------------------------------------------- the plan
@dataclass
class GridPlan:
    """A grid resolved: its scale, its runs, the corpus flags and extra flags every run gets, and where the runs go
    (``slots``: one per parallel run, the GPUs of each or None on a CPU host; ``split``: the per-device batch and
    accumulation of a GPU placement, None for the scale's batch in one step)."""

    scale_name: str
    corpus: str  # as plan.json and reproduce.json record it: embedded, a dataset, files, or the languages
    out: Path
    runs: list[RunSpec]
    flags: list[str]
    extra: tuple[str, ...]
    slots: list[str | None]
    split: tuple[int, int] | None
    gpus_per_run: int = 1
    pairs: str | None = None

    @property
    def scale(self) -> Scale:
        return SCALES[self.scale_name]

    @property
    def cache(self) -> Path:
        """Where the runs build and find their corpora."""
        return self.out / GRID_CORPUS_CACHE

    def argv(self, run: RunSpec, placed: bool = True) -> list[str]:
        """The training command line of ``run``; ``placed=False``: with the scale's batch in one step (the corpus
        options are the same either way)."""
        return run.args(self.scale, self.flags, self.out, self.cache, self.extra, self.split if placed else None)


def plan_grid(args: ReproduceArguments, host: GpuHost | None = None) -> GridPlan:
    """The grid ``args`` describe, resolved without writing anything: its runs, their data, where they go (``host``:
    this machine's GPUs unless given; on SLURM the cluster's, from ``args``; a ``prepare`` or ``report`` step of a
    grid planned before keeps the batch split that grid recorded in ``reproduce.json``)."""
    scale = SCALES[args.scale]
    seeds, lengths = args.seed_values, args.length_values
    out = Path(args.output).absolute()
    if args.languages is not None:
        names, flags = language_flags(args.languages)
        runs = real_runs(scale, names, seeds, lengths, args.share_values, args.long_seeds)
        corpus = args.languages
    else:
        flags = corpus_flags(args.corpus)
        runs = cloned_runs(
            scale, seeds, args.ten_languages, lengths, args.share_values, args.clone_fraction_values, args.long_seeds
        )
        corpus = args.corpus
    if corpus == "embedded" and scale.budget_tokens > EMBEDDED_TOKEN_LIMIT:
        logger.warning(
            "--corpus embedded (generated stories, a few million tokens) at --scale %s (%s tokens per run): every run "
            "would see the same stories hundreds of times, and its BPE learns fewer than %d entries; give a large "
            "corpus with --corpus",
            args.scale,
            f"{scale.budget_tokens:,}",
            scale.vocab_size,
        )
    recorded = out / GRID_RECORD
    if args.launcher == "slurm":  # the cluster's GPUs, not this host's
        cluster = GpuHost(args.gpus_per_run, int(float(args.gpu_memory_gb or 80) * 2**30))
        slots, split = plan_devices(scale, runs, None, args.gpus_per_run, args.per_device_batch, host=cluster)
    elif args.step != "all" and recorded.is_file():  # a step of a grid planned before: its batch split as recorded
        per_device, accumulation = json.loads(recorded.read_text()).get("batch_split") or (scale.batch, 1)
        slots, split = [None], None if (per_device, accumulation) == (scale.batch, 1) else (per_device, accumulation)
    else:
        slots, split = plan_devices(scale, runs, args.jobs, args.gpus_per_run, args.per_device_batch, host=host)
    extra = check_extra_args(args.run_args, scale, processes=args.gpus_per_run, batch=split)
    return GridPlan(args.scale, corpus, out, runs, flags, extra, slots, split, args.gpus_per_run, args.pairs)


def write_plan(plan: GridPlan) -> dict[str, Any]:
    """``plan.json``: every run's resolved arguments and command line (written aside, then renamed). Trains
    nothing."""
    document: dict[str, Any] = {
        "scale": plan.scale_name,
        "corpus": plan.corpus,
        "budget_tokens": plan.scale.budget_tokens,
        "runs": [],
    }
    for spec in plan.runs:
        argv = plan.argv(spec)
        command = shlex.join(launch_command(argv, plan.gpus_per_run, port=29500))
        document["runs"].append(
            {"name": spec.name, "kind": spec.kind, "length": spec.length, "fraction": spec.fraction,
             "command": command, "args": resolve_run_arguments(argv)}
        )  # fmt: skip
    plan.out.mkdir(parents=True, exist_ok=True)
    tmp = plan.out / ".plan.json.tmp"
    tmp.write_text(json.dumps(document, indent=2, default=str) + "\n")
    tmp.replace(plan.out / "plan.json")
    return document


def resolve_run_arguments(argv: Sequence[str]) -> dict[str, Any]:
    """Every argument of one run as the training script will use it: the training arguments, the model config
    (sized for the expected joint vocabulary) and the corpus settings; without building or training anything."""
    from ..training.arguments import parse_training_args
    from ..training.modeling import model_config

    note = None
    try:
        model_args, data_args, training = parse_training_args(list(argv))
    except ValueError as err:
        if "bf16" not in str(err) and "fp16" not in str(err):
            raise ConfigError(f"the run flags are not valid: {str(err).splitlines()[0]}") from err
        # this machine cannot run the run's precision: resolve everything else the same way
        model_args, data_args, training = parse_training_args([*argv, "--use_cpu", "true"])
        note = f"resolved on a machine without support for the run's precision ({str(err).splitlines()[0]})"
    training_dict = training.to_dict()
    if note:
        training_dict["use_cpu"] = False
    vocab = expected_vocab_size(data_args, training.num_languages)
    config = model_config(model_args, vocab, data_args.block_size)
    resolved = {
        "training": training_dict,
        "model": config.to_dict(),
        "corpus": {
            **dataclasses.asdict(data_args),
            "num_languages": training.num_languages,
            "joint_vocab_size": vocab,
            "joint_vocab_size_note": "at most: a BPE trained on a small corpus learns fewer than vocab_size entries",
        },
        "model_arguments": dataclasses.asdict(model_args),
    }
    if note:
        resolved["note"] = note
    return resolved


def expected_vocab_size(corpus: Any, num_languages: int) -> int:
    """Joint vocabulary of a corpus built with a trained byte-level BPE of ``vocab_size`` entries (two of them
    special: end-of-document and padding; padding alone is shared unless ``share_special_tokens``)."""
    from ..tokenization.clone_layout import joint_vocab_size

    if corpus.tokenizer_name or corpus.cloned_corpus:
        raise ConfigError("a plan resolves corpora built with a trained BPE, not a given tokenizer or corpus")
    shared = 2 if corpus.share_special_tokens else 1
    return joint_vocab_size(corpus.vocab_size, num_languages, corpus.clone_fraction, num_shared_specials=shared)
