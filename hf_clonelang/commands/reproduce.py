"""``hf-clonelang reproduce``: the paper's experimental grid at a chosen scale, through the main training job.

The grid: monolingual runs at budget fractions (each with its own full learning-rate schedule, as in the paper;
dense between 0.1 and 0.5, and above the full budget), then bilingual 50/50, 90/10 and the ``0.1_0.9`` schedule
(repeated per seed, and per budget multiplier of ``--lengths``: the paper's longer training), and optionally ten
languages (uniform, and the paper's ``l1:0.5``). Every run uses the same model and the same joint vocabulary of two
languages (ten for the ten-language runs), so monolingual and bilingual runs differ only in the languages of their
blocks. The paper's scales (``mini``, ``small``, ``medium``) use the paper's recipe; the CPU scales a recipe for few
steps. Flags after ``--`` go to every run (an ablation is one command); ``--dry-run`` writes ``plan.json`` with
every run's resolved arguments and trains nothing.

Real languages (``--languages en=TEXT,fr=TEXT``, the paper's Section 5): monolingual runs per language (its own
curve: the English fit for English, the French fit for French), then per vocabulary mode (disjoint, anchored), length
and seed the bilingual runs at p(L2) = 0.1, 0.5, 0.9 and the ``0.1_0.9`` schedule; alignment on translation pairs
(``--pairs``). Monolingual runs train on the disjoint corpus (a language alone never meets an anchored piece of the
other's, so its model is the same up to unused embedding rows).

Runs go in parallel processes with one thread each (two 1-thread runs beat one 2-thread run on small CPUs), longest
first; a run already finished in the output folder is skipped, an interrupted one resumes from its last
checkpoint. The analysis (`hf_clonelang.analysis.report`) then fits the monolingual curve, computes TEff by both
estimators, measures alignment on the final models, and writes ``report.md``, ``results.json`` and figures.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import queue
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..common import GRID_CORPUS_CACHE, CorpusFiles, RunFiles
from ..errors import ConfigError
from ..training.recipes import CPU_RECIPE, PAPER_MODEL, PAPER_RECIPE
from .parser import collect_repeated, flag_value
from .placement import GpuHost, device_slots, fit_batch, gpu_host, launch_command
from .slurm import slurm_scripts, write_slurm_scripts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scale:
    """Model, data, budget and training recipe of one reproduction scale (budget T = steps × batch × block tokens).

    ``model`` and ``recipe`` are flags of the training script (model preset and options; learning rate, schedule,
    optimizer, precision); ``fractions`` are the monolingual budget fractions, above 1 too, so that settings that
    beat the monolingual full budget are read off the curve rather than extrapolated."""

    model: dict[str, Any]
    block_size: int
    vocab_size: int
    batch: int
    steps: int
    eval_blocks: int
    align_blocks: int
    max_documents: int | None
    fractions: tuple[float, ...]
    recipe: dict[str, Any] = field(default_factory=dict)
    gradient_pairs: int = 32  # parallel pairs of the gradient cosine (the paper: 500; each costs two backward passes)

    @property
    def budget_tokens(self) -> int:
        return self.steps * self.batch * self.block_size


SCALES: dict[str, Scale] = {
    "test": Scale(
        model={"model_preset": "tiny", "n_layer": 2, "n_embd": 32, "n_head": 2},
        block_size=32, vocab_size=300, batch=8, steps=30, eval_blocks=16, align_blocks=16, max_documents=600,
        fractions=(0.2, 0.5, 1.0, 1.5), recipe={**CPU_RECIPE, "learning_rate": 3e-3},
    ),
    "cpu-tiny": Scale(
        model={"model_preset": "cpu"},
        block_size=128, vocab_size=1024, batch=16, steps=1000, eval_blocks=256, align_blocks=256,
        max_documents=40_000, fractions=(0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0), recipe=CPU_RECIPE,
    ),
    "mini": Scale(
        model={"model_preset": "mini", **PAPER_MODEL},
        block_size=512, vocab_size=16384, batch=128, steps=18265, eval_blocks=500, align_blocks=500,
        max_documents=None, fractions=(0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0), recipe=PAPER_RECIPE, gradient_pairs=500,
    ),
    "small": Scale(
        model={"model_preset": "small", **PAPER_MODEL},
        block_size=512, vocab_size=16384, batch=128, steps=18265, eval_blocks=500, align_blocks=500,
        max_documents=None, fractions=(0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0, 1.5, 2.0, 3.0),
        recipe=PAPER_RECIPE, gradient_pairs=500,
    ),
    "medium": Scale(
        model={"model_preset": "medium", **PAPER_MODEL},
        block_size=512, vocab_size=16384, batch=256, steps=9132, eval_blocks=500, align_blocks=500,
        max_documents=None, fractions=(0.1, 0.24, 0.5, 1.0, 1.2, 1.5, 2.0, 2.4), recipe=PAPER_RECIPE,
        gradient_pairs=500,
    ),
}  # fmt: skip
"""The paper trains 512-token blocks, 128 per step (256 for medium), 18,265 steps (9,132 for medium), V = 16,384
per language, with monolingual references at the fractions of its notebook plus 1.5× and 2×. The CPU scales are the
smallest that showed both TEff and the alignment effect on a 2-core CPU (4 × 128, ~2M tokens; docs/reproduction.md)."""

LAUNCHERS = ("local", "slurm")
STEPS = ("all", "prepare", "report")
GRID_FLAGS = ("output_dir", "language_schedule", "num_languages", "max_steps", "seed", "resume_from_checkpoint")
"""Flags every run gets from the grid itself: extra run flags may not change them."""


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
        if scale.max_documents and not {"--dataset_name", "--train_files", "--language"} & set(corpus_flags):
            flags["max_documents"] = scale.max_documents
        return [*(x for k, v in flags.items() for x in (f"--{k}", flag_value(v))), *corpus_flags, *extra]


def _length_tag(length: float) -> str:
    return "" if length == 1 else f"-x{length:g}"


def mono_fractions(scale: Scale, lengths: Sequence[float] = (1.0,)) -> list[float]:
    """The scale's monolingual fractions plus, for every longer length L, the points 0.75·L and L (the curve must
    reach the tokens a longer run's languages see)."""
    extra = {round(length * f, 6) for length in lengths if length > 1 for f in (0.75, 1.0)}
    return sorted(set(scale.fractions) | extra)


def grid(
    scale: Scale, seeds: tuple[int, ...] = (0,), ten_languages: bool = False, lengths: Sequence[float] = (1.0,)
) -> list[RunSpec]:
    """The runs of the paper's grid at ``scale``: the monolingual curve, then per length and seed 50/50, 90/10 and
    the ``0.1_0.9`` schedule (and the two ten-language settings)."""
    runs = [
        RunSpec(f"mono-{f:g}", "mono", "1,0", 2, max(1, round(f * scale.steps)), seeds[0], fraction=f)
        for f in mono_fractions(scale, lengths)
    ]
    settings = [("bi-50-50", "0.5,0.5", 2), ("bi-90-10", "0.9,0.1", 2), ("sched-0.1_0.9", "0.1_0.9", 2)]
    if ten_languages:
        settings += [("ten-uniform", "uniform", 10), ("ten-l1-0.5", "l1:0.5", 10)]
    for length in lengths:
        steps = max(1, round(length * scale.steps))
        for seed in seeds:
            runs += [
                RunSpec(f"{name}{_length_tag(length)}-s{seed}", "multi", schedule, n, steps, seed, length=length)
                for name, schedule, n in settings
            ]
    return runs


REAL_SETTINGS = (("p10", "0.9,0.1"), ("p50", "0.5,0.5"), ("p90", "0.1,0.9"), ("sched-0.1_0.9", "0.1_0.9"))
"""The bilingual settings of real languages by p(L2) (the paper's p_FR: Table 3, Figure 3)."""
REAL_FRACTIONS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
"""Monolingual points of real languages (per language): a bilingual run gives one language 0.1 to 0.9 of the
budget, and real languages gain less than clones (the paper's TEff 0.6 to 1.3), so 0.05..1 covers them; longer
lengths add their points as for clones."""


def real_grid(
    scale: Scale, names: Sequence[str], seeds: tuple[int, ...] = (0,), lengths: Sequence[float] = (1.0,)
) -> list[RunSpec]:
    """The runs of the paper's real-language grid: monolingual points per language, then per vocabulary mode,
    length and seed the `REAL_SETTINGS`."""
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
    for mode in ("disjoint", "anchored"):
        for length in lengths:
            steps = max(1, round(length * scale.steps))
            for seed in seeds:
                runs += [
                    RunSpec(f"{mode}-{tag}{_length_tag(length)}-s{seed}", "multi", schedule, 2, steps, seed,
                            length=length, vocab_mode=mode)
                    for tag, schedule in REAL_SETTINGS
                ]  # fmt: skip
    return runs


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


def _finished(run_dir: Path) -> bool:
    return (run_dir / RunFiles.ALL_RESULTS).is_file()


def _launch(
    spec: RunSpec, argv: list[str], run_dir: Path, log: Path, slots: queue.Queue, gpus_per_run: int = 1
) -> tuple[str, int, float]:
    """Run one training process (one CPU thread; with GPUs, alone on the GPUs of a slot taken from ``slots`` and
    given back, through ``accelerate launch`` when a run has several)."""
    if not _finished(run_dir) and any(run_dir.glob(RunFiles.CHECKPOINTS)):
        argv = [*argv, "--resume_from_checkpoint", "true"]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    }
    index, devices = slots.get()
    if devices is not None:
        env["CUDA_VISIBLE_DEVICES"] = devices
    start = time.perf_counter()
    try:
        with open(log, "w") as f:
            code = subprocess.run(
                launch_command(argv, gpus_per_run, port=29500 + index), stdout=f, stderr=subprocess.STDOUT, env=env
            ).returncode
    finally:
        slots.put((index, devices))
    return spec.name, code, time.perf_counter() - start


def plan_devices(
    scale: Scale,
    runs: list[RunSpec],
    jobs: int | None,
    gpus_per_run: int = 1,
    per_device_batch: int | None = None,
    host: GpuHost | None = None,
) -> tuple[list[str | None], tuple[int, int] | None]:
    """The device slots of the parallel runs and, on GPUs, the batch split every run uses (the scale's global
    batch over ``gpus_per_run`` processes, fitted to the GPU's memory unless ``per_device_batch`` is given)."""
    host = host or gpu_host()
    slots = device_slots(host, gpus_per_run, jobs, len(runs))
    if host.count == 0:
        if per_device_batch is not None:
            raise ConfigError("--per-device-batch applies to GPU hosts: on CPUs every run takes the scale's batch")
        return slots, None
    vocab = scale.vocab_size * max(r.num_languages for r in runs)
    split = fit_batch(scale.batch, gpus_per_run, host.memory, scale.model, scale.block_size, vocab, per_device_batch)
    return slots, split


def run_grid(
    scale_name: str,
    corpus: str,
    output: str | os.PathLike,
    seeds: tuple[int, ...] = (0,),
    ten_languages: bool = False,
    jobs: int | None = None,
    align_blocks: int | None = None,
    lengths: Sequence[float] = (1.0,),
    extra_args: Sequence[str] = (),
    dry_run: bool = False,
    languages: str | None = None,
    pairs: str | None = None,
    gpus_per_run: int = 1,
    per_device_batch: int | None = None,
    launcher: str = "local",
    step: str = "all",
    slurm: dict[str, Any] | None = None,
    reproduce_argv: Sequence[str] = (),
) -> dict[str, Any]:
    """Train every run of the grid that is not finished yet, then analyse the grid and write the report.

    ``lengths`` multiplies the bilingual runs' budget (the paper's longer training), with the matching monolingual
    points; ``extra_args`` go to every run's command line (an ablation is one command); ``dry_run`` writes
    ``plan.json`` (every run's resolved arguments) and trains nothing. On GPUs, every run gets ``gpus_per_run``
    GPUs of its own and the scale's global batch split as `plan_devices` says. ``languages`` (``en=TEXT,fr=TEXT``) runs
    the real-language grid instead, aligned on the translation pairs of ``pairs``. ``launcher="slurm"`` writes job
    scripts for a cluster instead of training here (`slurm.slurm_scripts`; ``slurm``: partition, time, account,
    gpu_memory_gb; ``reproduce_argv``: this command line, for the scripts' prepare and report steps); ``step``
    ``prepare`` only builds the corpora, ``report`` only analyses finished runs."""
    import datasets
    from tqdm.auto import tqdm

    from ..analysis.report import analyse

    if scale_name not in SCALES:
        raise ConfigError(f"--scale {scale_name!r} is not allowed: use one of {', '.join(SCALES)}")
    if launcher not in LAUNCHERS:
        raise ConfigError(f"--launcher {launcher!r} is not allowed: use {' or '.join(LAUNCHERS)}")
    if not seeds:
        raise ConfigError("--seeds needs at least one seed")
    lengths = _check_lengths(lengths)
    scale = SCALES[scale_name]
    out = Path(output).absolute()
    if languages is not None:
        if corpus != "embedded" or ten_languages:
            raise ConfigError("--languages brings each language's text: it cannot go with --corpus or --ten-languages")
        if pairs is not None and not os.path.isfile(pairs):
            raise ConfigError(f"--pairs {pairs!r} does not exist: give a TSV file of translation pairs")
        names, flags = language_flags(languages)
        runs = real_grid(scale, names, seeds, lengths)
        corpus = languages
    else:
        if pairs is not None:
            raise ConfigError("--pairs is for real languages (--languages): cloned languages align on parallel blocks")
        flags = corpus_flags(corpus)
        runs = grid(scale, seeds, ten_languages, lengths)
    cache = out / GRID_CORPUS_CACHE
    if corpus == "embedded" and scale.budget_tokens > 100_000_000:
        logger.warning(
            "--corpus embedded (generated stories, a few million tokens) at --scale %s (%s tokens per run): every run "
            "would see the same stories hundreds of times, and its BPE learns fewer than %d entries; give a large "
            "corpus with --corpus",
            scale_name,
            f"{scale.budget_tokens:,}",
            scale.vocab_size,
        )
    slurm = dict(slurm or {})
    if step not in STEPS:
        raise ConfigError(f"step={step!r} is not allowed: use {', '.join(STEPS)}")
    recorded = out / "reproduce.json"
    if launcher == "slurm":  # the cluster's GPUs, not this host's
        cluster = GpuHost(gpus_per_run, int(float(slurm.get("gpu_memory_gb") or 80) * 2**30))
        slots, split = plan_devices(scale, runs, None, gpus_per_run, per_device_batch, host=cluster)
    elif step != "all" and recorded.is_file():  # a step of a grid planned before: its batch split as recorded
        per_device, accumulation = json.loads(recorded.read_text()).get("batch_split") or (scale.batch, 1)
        slots, split = [None], None if (per_device, accumulation) == (scale.batch, 1) else (per_device, accumulation)
    else:
        slots, split = plan_devices(scale, runs, jobs, gpus_per_run, per_device_batch)
    extra = _check_extra_args(extra_args, scale, processes=gpus_per_run, batch=split)
    argvs = [r.args(scale, flags, out, cache, extra, split) for r in runs]
    if dry_run:
        plan = write_plan(out, scale_name, corpus, runs, argvs, gpus_per_run)
        if launcher == "slurm":
            plan["slurm"] = slurm_scripts(out, runs, argvs, list(reproduce_argv), gpus_per_run, slurm)
        return plan
    settings = {"scale": scale_name, "corpus": corpus, "scale_settings": asdict(scale), "extra_args": list(extra),
                "batch_split": list(split or (scale.batch, 1)), "gpus_per_run": gpus_per_run}  # fmt: skip
    settings_path = recorded
    if settings_path.is_file():
        previous = {"batch_split": [scale.batch, 1], "gpus_per_run": 1, **json.loads(settings_path.read_text())}
        if {k: previous.get(k) for k in settings} != json.loads(json.dumps(settings, default=str)):
            raise ConfigError(
                f"{out} holds a grid of other settings ({previous.get('scale')}, {previous.get('corpus')}, "
                f"extra flags {previous.get('extra_args') or 'none'}): use another --output"
            )
    (out / "logs").mkdir(parents=True, exist_ok=True)
    record = {**settings, "seeds": list(seeds), "ten_languages": ten_languages, "lengths": list(lengths)}
    settings_path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    if launcher == "slurm":
        folder = write_slurm_scripts(out, slurm_scripts(out, runs, argvs, list(reproduce_argv), gpus_per_run, slurm))
        return {"runs": [r.name for r in runs], "slurm": str(folder)}
    todo = [r for r in runs if not _finished(out / "runs" / r.name)]
    if step == "report" and todo:
        raise ConfigError(
            f"{len(todo)} run(s) are not finished ({', '.join(r.name for r in todo[:5])}): no report yet"
        )
    _prepare_corpora({(r.num_languages, r.vocab_mode): r.args(scale, flags, out, cache, extra) for r in todo})
    if step == "prepare":
        return {"runs": [r.name for r in runs], "prepared": True}
    jobs = len(slots)
    free: queue.Queue = queue.Queue()
    for index, devices in enumerate(slots):
        free.put((index, devices))
    todo.sort(key=lambda r: -r.steps * r.num_languages)  # longest first
    failed = []
    with (
        ThreadPoolExecutor(jobs) as pool,
        tqdm(
            total=len(runs),
            initial=len(runs) - len(todo),
            desc="reproduce runs",
            unit="run",
            disable=datasets.utils.are_progress_bars_disabled(),  # HF_DATASETS_DISABLE_PROGRESS_BARS=1: no bar
        ) as bar,
    ):
        futures = [
            pool.submit(
                _launch,
                r,
                r.args(scale, flags, out, cache, extra, split),
                out / "runs" / r.name,
                out / "logs" / f"{r.name}.log",
                free,
                gpus_per_run,
            )
            for r in todo
        ]
        for fut in as_completed(futures):
            name, code, seconds = fut.result()
            bar.update(1)
            bar.set_postfix_str(f"{name} {'ok' if code == 0 else f'FAILED ({code})'} in {seconds:.0f}s")
            if code != 0:
                failed.append(name)
    if failed:
        raise RuntimeError(f"runs failed: {', '.join(failed)} (see {out / 'logs'})")
    return analyse(out, scale, runs, align_blocks or scale.align_blocks, pairs=pairs)


def _check_lengths(lengths: Sequence[float]) -> tuple[float, ...]:
    values = tuple(float(x) for x in lengths)
    if not values or any(not x > 0 for x in values):
        raise ConfigError(f"--lengths={','.join(map(str, lengths))} is not allowed: give budget multipliers > 0")
    return tuple(sorted(set(values)))


def _check_extra_args(
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


def resolve_run_arguments(argv: Sequence[str]) -> dict[str, Any]:
    """Every argument of one run as the training script will use it: the training arguments, the model config
    (sized for the expected joint vocabulary) and the corpus settings; without building or training anything."""
    from ..training.modeling import model_config
    from .train import parse_args

    note = None
    try:
        model_args, data_args, training = parse_args(list(argv))
    except ValueError as err:
        if "bf16" not in str(err) and "fp16" not in str(err):
            raise ConfigError(f"the run flags are not valid: {str(err).splitlines()[0]}") from err
        # this machine cannot run the run's precision: resolve everything else the same way
        model_args, data_args, training = parse_args([*argv, "--use_cpu", "true"])
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
    from ..vocab import joint_vocab_size

    if corpus.tokenizer_name or corpus.cloned_corpus:
        raise ConfigError("a plan resolves corpora built with a trained BPE, not a given tokenizer or corpus")
    shared = 2 if corpus.share_special_tokens else 1
    return joint_vocab_size(corpus.vocab_size, num_languages, corpus.clone_fraction, num_shared_specials=shared)


def write_plan(
    out: Path, scale_name: str, corpus: str, runs: list[RunSpec], argvs: list[list[str]], gpus_per_run: int = 1
) -> dict[str, Any]:
    """``plan.json``: every run's resolved arguments and command line. Trains nothing."""
    import shlex

    plan = {
        "scale": scale_name,
        "corpus": corpus,
        "budget_tokens": SCALES[scale_name].budget_tokens,
        "runs": [],
    }
    for spec, argv in zip(runs, argvs, strict=True):
        command = shlex.join(launch_command(argv, gpus_per_run, port=29500))
        plan["runs"].append(
            {"name": spec.name, "kind": spec.kind, "length": spec.length, "fraction": spec.fraction,
             "command": command, "args": resolve_run_arguments(argv)}
        )  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / ".plan.json.tmp"
    tmp.write_text(json.dumps(plan, indent=2, default=str) + "\n")
    tmp.replace(out / "plan.json")
    return plan


def _prepare_corpora(argvs: dict[tuple[int, str | None], list[str]]) -> None:
    """Build each corpus the runs need once (per number of languages and vocabulary mode), from a run's own command
    line, before parallel runs would race to build it."""
    from transformers import HfArgumentParser

    from ..data.arguments import CorpusArguments

    for (n, _), argv in sorted(argvs.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        parser = HfArgumentParser(CorpusArguments, allow_abbrev=False)  # exactly the script's corpus options
        corpus, _ = parser.parse_args_into_dataclasses(collect_repeated(argv, parser), return_remaining_strings=True)
        corpus.load(n)
