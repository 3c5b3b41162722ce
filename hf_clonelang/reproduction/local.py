"""Running a grid's runs on this machine: the corpora built once first, then the runs in parallel processes.

On a CPU host every run gets one thread (two 1-thread runs beat one 2-thread run on small CPUs); on a GPU host each
run gets the GPUs of its slot alone (`placement`). Runs go longest first; a run already finished in the grid folder
is skipped, an interrupted one resumes from its last checkpoint.
"""

from __future__ import annotations

import os
import queue
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from ..common import RunFiles
from .placement import launch_command
from .plan import GridPlan, RunSpec

BASE_PORT = 29500
"""The rendezvous port of slot 0 (slot i uses ``BASE_PORT + i``), for runs that span several GPUs."""


def is_finished(run_dir: Path) -> bool:
    """A run that wrote its final metrics: the grid skips it."""
    return (run_dir / RunFiles.ALL_RESULTS).is_file()


def unfinished_runs(plan: GridPlan) -> list[RunSpec]:
    """The runs of ``plan`` that still have to train, in the grid's order."""
    return [r for r in plan.runs if not is_finished(plan.out / "runs" / r.name)]


def prepare_corpora(plan: GridPlan, runs: list[RunSpec]) -> None:
    """Build each corpus ``runs`` need once (per number of languages, vocabulary mode and anchors), from a run's own
    command line, before parallel runs would race to build it."""
    from transformers import HfArgumentParser

    from ..data.arguments import CorpusArguments
    from ..parser import collect_repeated

    argvs = {(r.num_languages, r.vocab_mode, r.clone_fraction, r.anchors): plan.argv(r, placed=False) for r in runs}
    for (n, *_), argv in sorted(argvs.items(), key=lambda item: (item[0][0], item[0][1] or "", -item[0][2])):
        parser = HfArgumentParser(CorpusArguments, allow_abbrev=False)  # exactly the script's corpus options
        corpus, _ = parser.parse_args_into_dataclasses(collect_repeated(argv, parser), return_remaining_strings=True)
        corpus.load(n)


def train_runs(plan: GridPlan, runs: list[RunSpec]) -> None:
    """Train ``runs`` in parallel, one per slot of ``plan``, longest first, with a progress bar over the whole
    grid; each run's output goes to ``logs/<run>.log``. Raises RuntimeError naming the runs that failed."""
    import datasets
    from tqdm.auto import tqdm

    free: queue.Queue = queue.Queue()
    for index, devices in enumerate(plan.slots):
        free.put((index, devices))
    todo = sorted(runs, key=lambda r: -r.steps * r.num_languages)  # longest first
    failed = []
    with (
        ThreadPoolExecutor(len(plan.slots)) as pool,
        tqdm(
            total=len(plan.runs),
            initial=len(plan.runs) - len(todo),
            desc="reproduce runs",
            unit="run",
            disable=datasets.utils.are_progress_bars_disabled(),  # HF_DATASETS_DISABLE_PROGRESS_BARS=1: no bar
        ) as bar,
    ):
        futures = [
            pool.submit(
                _launch,
                r,
                plan.argv(r),
                plan.out / "runs" / r.name,
                plan.out / "logs" / f"{r.name}.log",
                free,
                plan.gpus_per_run,
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
        raise RuntimeError(f"runs failed: {', '.join(failed)} (see {plan.out / 'logs'})")


def _launch(
    spec: RunSpec, argv: list[str], run_dir: Path, log: Path, slots: queue.Queue, gpus_per_run: int = 1
) -> tuple[str, int, float]:
    """Run one training process (one CPU thread; with GPUs, alone on the GPUs of a slot taken from ``slots`` and
    given back, through ``accelerate launch`` when a run has several)."""
    if not is_finished(run_dir) and any(run_dir.glob(RunFiles.CHECKPOINTS)):
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
            command = launch_command(argv, gpus_per_run, port=BASE_PORT + index)
            code = subprocess.run(command, stdout=f, stderr=subprocess.STDOUT, env=env).returncode
    finally:
        slots.put((index, devices))
    return spec.name, code, time.perf_counter() - start
