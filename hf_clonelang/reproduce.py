"""``hf-clonelang reproduce``: the paper's experimental grid at a chosen scale, through the main training job.

The grid: monolingual runs at budget fractions (each with its own full learning-rate schedule, as in the paper;
dense between 0.1 and 0.5), then bilingual 50/50, 90/10 and the ``0.1_0.9`` schedule (repeated per seed), and
optionally ten languages (uniform, and the paper's ``l1:0.5``). Every run uses the same model and the same joint
vocabulary of two languages (ten for the ten-language runs), so monolingual and bilingual runs differ only in the
languages of their blocks. Runs go in parallel processes with one thread each (two 1-thread runs beat one 2-thread
run on small CPUs), longest first; a run already finished in the output folder is skipped, an interrupted one
resumes from its last checkpoint. The analysis (`hf_clonelang.report`) then fits the monolingual curve, computes
TEff, measures alignment on the final models, and writes ``report.md``, ``results.json`` and figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True)
class Scale:
    """Model, data and budget of one reproduction scale (budget T = steps × batch × block tokens)."""

    model: dict[str, Any]
    block_size: int
    vocab_size: int
    batch: int
    steps: int
    learning_rate: float
    warmup: float
    eval_blocks: int
    align_blocks: int
    max_documents: int | None
    fractions: tuple[float, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def budget_tokens(self) -> int:
        return self.steps * self.batch * self.block_size


# The paper trains at 512 tokens x 128 blocks (256 for medium) for 18,265 steps (9,132 for medium), Adam (0.9,
# 0.95), cosine 6e-4 -> 6e-6 after 200 warm-up steps, V = 16,384 per language. The CPU scales follow
# notes/cpu-scale.md: 4 x 128 and ~2M tokens is the smallest size that shows both TEff and the alignment effect.
SCALES: dict[str, Scale] = {
    "test": Scale({"model_preset": "tiny", "n_layer": 2, "n_embd": 32, "n_head": 2}, 32, 300, 8, 30, 3e-3, 0.05,
                  16, 16, 600, (0.1, 0.2, 0.3, 0.5, 0.75, 1.0)),
    "cpu-tiny": Scale({"model_preset": "cpu"}, 128, 1024, 16, 1000, 2e-3, 0.05, 256, 256, 40_000,
                      (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 1.0)),
    "mini": Scale({"model_preset": "mini"}, 512, 16384, 128, 18265, 6e-4, 200, 500, 500, None,
                  (0.05, 0.1, 0.25, 0.5, 1.0), {"bf16": "true"}),
    "small": Scale({"model_preset": "small"}, 512, 16384, 128, 18265, 6e-4, 200, 500, 500, None,
                   (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0), {"bf16": "true"}),
    "medium": Scale({"model_preset": "medium"}, 512, 16384, 256, 9132, 6e-4, 200, 500, 500, None,
                    (0.1, 0.24, 0.5, 1.0), {"bf16": "true"}),
}  # fmt: skip


@dataclass(frozen=True)
class RunSpec:
    """One training run of the grid."""

    name: str
    kind: str  # "mono" or "multi"
    schedule: str
    num_languages: int
    steps: int
    seed: int
    fraction: float = 1.0

    def args(self, scale: Scale, corpus_flags: list[str], out: Path, cache: Path) -> list[str]:
        flags = {
            "output_dir": out / "runs" / self.name,
            "language_schedule": self.schedule,
            "num_languages": self.num_languages,
            "max_steps": self.steps,
            "seed": self.seed,
            "block_size": scale.block_size,
            "vocab_size": scale.vocab_size,
            "per_device_train_batch_size": scale.batch,
            "per_device_eval_batch_size": max(scale.batch, 32),
            "learning_rate": scale.learning_rate,
            "warmup_steps": scale.warmup,
            "eval_blocks": scale.eval_blocks,
            "eval_steps": max(1, self.steps // 4),
            "eval_on_start": "false",
            "save_steps": max(1, self.steps // 2),
            "save_total_limit": 1,
            "logging_steps": max(1, self.steps // 20),
            "corpus_cache_dir": cache,
            "disable_tqdm": "true",
            **scale.model,
            **scale.extra,
        }
        if scale.max_documents and "--dataset_name" not in corpus_flags and "--train_files" not in corpus_flags:
            flags["max_documents"] = scale.max_documents
        return [*(x for k, v in flags.items() for x in (f"--{k}", str(v))), *corpus_flags]


def grid(scale: Scale, seeds: tuple[int, ...] = (0,), ten_languages: bool = False) -> list[RunSpec]:
    """The runs of the paper's grid at ``scale``."""
    runs = [
        RunSpec(f"mono-{f:g}", "mono", "1,0", 2, max(1, round(f * scale.steps)), seeds[0], fraction=f)
        for f in scale.fractions
    ]
    for seed in seeds:
        runs += [
            RunSpec(f"bi-50-50-s{seed}", "multi", "0.5,0.5", 2, scale.steps, seed),
            RunSpec(f"bi-90-10-s{seed}", "multi", "0.9,0.1", 2, scale.steps, seed),
            RunSpec(f"sched-0.1_0.9-s{seed}", "multi", "0.1_0.9", 2, scale.steps, seed),
        ]
        if ten_languages:
            runs += [
                RunSpec(f"ten-uniform-s{seed}", "multi", "uniform", 10, scale.steps, seed),
                RunSpec(f"ten-l1-0.5-s{seed}", "multi", "l1:0.5", 10, scale.steps, seed),
            ]
    return runs


def corpus_flags(corpus: str) -> list[str]:
    """``embedded``, local text files, or a `load_dataset` name."""
    if corpus == "embedded":
        return []
    if os.path.isfile(corpus):
        return ["--train_files", os.path.abspath(corpus)]
    if os.path.isdir(corpus) and (Path(corpus) / "data").is_dir() and (Path(corpus) / "tokenizer").is_dir():
        raise ConfigError(f"--corpus {corpus!r} is a built cloned corpus: reproduce needs base text")
    return ["--dataset_name", corpus]


def _finished(run_dir: Path) -> bool:
    return (run_dir / "all_results.json").is_file()


def _launch(spec: RunSpec, argv: list[str], run_dir: Path, log: Path) -> tuple[str, int, float]:
    if not _finished(run_dir) and any(run_dir.glob("checkpoint-*")):
        argv = [*argv, "--resume_from_checkpoint", "true"]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    }
    start = time.perf_counter()
    with open(log, "w") as f:
        code = subprocess.run(
            [sys.executable, "-m", "hf_clonelang.run_clm", *argv], stdout=f, stderr=subprocess.STDOUT, env=env
        ).returncode
    return spec.name, code, time.perf_counter() - start


def run_grid(
    scale_name: str,
    corpus: str,
    output: str | os.PathLike,
    seeds: tuple[int, ...] = (0,),
    ten_languages: bool = False,
    jobs: int | None = None,
    align_blocks: int | None = None,
) -> dict[str, Any]:
    """Train every run of the grid that is not finished yet, then analyse the grid and write the report."""
    from tqdm.auto import tqdm

    from .report import analyse

    if scale_name not in SCALES:
        raise ConfigError(f"--scale {scale_name!r} is not allowed: use one of {', '.join(SCALES)}")
    if not seeds:
        raise ConfigError("--seeds needs at least one seed")
    scale = SCALES[scale_name]
    out = Path(output).absolute()
    flags = corpus_flags(corpus)
    settings = {"scale": scale_name, "corpus": corpus, "scale_settings": asdict(scale)}
    settings_path = out / "reproduce.json"
    if settings_path.is_file():
        previous = json.loads(settings_path.read_text())
        if {k: previous.get(k) for k in settings} != json.loads(json.dumps(settings)):
            raise ConfigError(
                f"{out} holds a grid of other settings ({previous.get('scale')}, "
                f"{previous.get('corpus')}): use another --output"
            )
    (out / "logs").mkdir(parents=True, exist_ok=True)
    settings_path.write_text(
        json.dumps({**settings, "seeds": list(seeds), "ten_languages": ten_languages}, indent=2) + "\n"
    )
    cache = out / "corpus_cache"
    runs = grid(scale, seeds, ten_languages)
    todo = [r for r in runs if not _finished(out / "runs" / r.name)]
    _prepare_corpora(scale, flags, cache, {r.num_languages for r in todo})
    jobs = jobs or max(1, min(len(todo), os.cpu_count() or 1))
    todo.sort(key=lambda r: -r.steps * r.num_languages)  # longest first
    failed = []
    with (
        ThreadPoolExecutor(jobs) as pool,
        tqdm(total=len(runs), initial=len(runs) - len(todo), desc="reproduce runs", unit="run") as bar,
    ):
        futures = [
            pool.submit(
                _launch, r, r.args(scale, flags, out, cache), out / "runs" / r.name, out / "logs" / f"{r.name}.log"
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
    return analyse(out, scale, runs, align_blocks or scale.align_blocks)


def _prepare_corpora(scale: Scale, flags: list[str], cache: Path, languages: set[int]) -> None:
    """Build the shared corpus once, before parallel runs would race to build it."""
    from transformers import HfArgumentParser

    from .run_clm import DataArguments, load_corpus

    argv = [
        *flags,
        "--block_size",
        str(scale.block_size),
        "--vocab_size",
        str(scale.vocab_size),
        "--eval_blocks",
        str(scale.eval_blocks),
        "--corpus_cache_dir",
        str(cache),
    ]
    if scale.max_documents and not flags:
        argv += ["--max_documents", str(scale.max_documents)]
    (data,) = HfArgumentParser(DataArguments).parse_args_into_dataclasses(argv)
    for n in sorted(languages):
        load_corpus(data, n, seed=0)
