"""The grid on a SLURM cluster: ``hf-clonelang reproduce ... --launcher slurm`` writes job scripts instead of
training here, into ``OUTPUT/slurm/``:

* ``prepare.sbatch``: builds every corpus the runs need, once (``reproduce ... --prepare-only``);
* ``runs.sbatch``: a job array, one task per run, each an ``accelerate launch`` of the main job on its own GPUs;
  a finished run is skipped, an interrupted one resumes from its newest complete checkpoint, so resubmitting the
  array (or a failed task) is safe;
* ``report.sbatch``: the analysis and report once every run is finished (``reproduce ... --report-only``);
* ``submit.sh``: submits the three with ``afterok`` dependencies.

The scripts call this Python environment's interpreter by its absolute path and use absolute output paths: the
nodes need the same file system (the usual cluster setup).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

from ..common import RunFiles
from .arguments import ReproduceArguments
from .plan import GridPlan, language_flags

SCRIPTS = ("prepare.sbatch", "runs.sbatch", "report.sbatch", "submit.sh")


def _header(name: str, out: Path, gpus: int, cpus: int, options: dict[str, Any], array: str | None = None) -> str:
    lines = ["#!/bin/bash", f"#SBATCH --job-name={name}", f"#SBATCH --cpus-per-task={cpus}"]
    if array:
        lines.append(f"#SBATCH --array={array}")
        lines.append(f"#SBATCH --output={out}/logs/%x-%A_%a.out")
    else:
        lines.append(f"#SBATCH --output={out}/logs/%x-%j.out")
    if gpus:
        lines.append(f"#SBATCH --gres=gpu:{gpus}")
    for key in ("partition", "time", "account"):
        if options.get(key):
            lines.append(f"#SBATCH --{key}={options[key]}")
    return "\n".join([*lines, "set -euo pipefail", ""])


def slurm_scripts(
    out: Path,
    runs: list[Any],
    argvs: list[list[str]],
    reproduce_argv: list[str],
    gpus_per_run: int = 1,
    options: dict[str, Any] | None = None,
) -> dict[str, str]:
    """The text of each script (`SCRIPTS`) for ``runs`` with the training command lines ``argvs``;
    ``reproduce_argv`` is this grid's ``hf-clonelang reproduce`` command line (prepare and report steps)."""
    options = options or {}
    python = shlex.quote(sys.executable)
    own, run_flags = (reproduce_argv, []) if "--" not in reproduce_argv else (
        reproduce_argv[: reproduce_argv.index("--")], reproduce_argv[reproduce_argv.index("--") :]
    )  # fmt: skip

    def reproduce(step: str) -> str:
        return shlex.join([sys.executable, "-m", "hf_clonelang.commands.cli", "reproduce", *own, step, *run_flags])

    names = "\n".join(f"  {shlex.quote(r.name)}" for r in runs)
    commands = "\n".join(f"  {shlex.quote(shlex.join(argv))}" for argv in argvs)
    launch = f"{python} -m accelerate.commands.launch --num_processes {gpus_per_run} --num_machines 1"
    if gpus_per_run > 1:
        launch += " --multi_gpu"
    cpus = int(options.get("cpus_per_gpu") or 8) * gpus_per_run
    run_script = (
        _header("clonelang-runs", out, gpus_per_run, cpus, options, f"0-{len(runs) - 1}")
        + f"""
RUNS=(
{names}
)
ARGS=(
{commands}
)
NAME="${{RUNS[$SLURM_ARRAY_TASK_ID]}}"
RUN_DIR={shlex.quote(str(out / "runs"))}/"$NAME"
if [ -f "$RUN_DIR/{RunFiles.ALL_RESULTS}" ]; then
  echo "$NAME is finished"
  exit 0
fi
RESUME=""
if compgen -G "$RUN_DIR/{RunFiles.CHECKPOINTS}" > /dev/null; then
  RESUME="--resume_from_checkpoint true"  # the newest complete checkpoint (damaged ones are skipped)
fi
PORT=$((29500 + SLURM_ARRAY_TASK_ID % 1000))
export OMP_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false HF_DATASETS_DISABLE_PROGRESS_BARS=1
eval "{launch} --main_process_port $PORT -m hf_clonelang.commands.train ${{ARGS[$SLURM_ARRAY_TASK_ID]}} $RESUME"
"""
    )
    prepare = _header("clonelang-prepare", out, 0, 4, options) + reproduce("--prepare-only") + "\n"
    report = _header("clonelang-report", out, 1, 8, options) + reproduce("--report-only") + "\n"
    folder = shlex.quote(str(out / "slurm"))
    submit = f"""#!/bin/bash
# Submit the grid: corpora first, then one array task per run, then the report.
set -euo pipefail
mkdir -p {shlex.quote(str(out / "logs"))}
PREPARE=$(sbatch --parsable {folder}/prepare.sbatch)
RUNS=$(sbatch --parsable --dependency=afterok:$PREPARE {folder}/runs.sbatch)
REPORT=$(sbatch --parsable --dependency=afterok:$RUNS {folder}/report.sbatch)
echo "submitted: prepare $PREPARE, runs $RUNS ({len(runs)} tasks), report $REPORT"
"""
    return {"prepare.sbatch": prepare, "runs.sbatch": run_script, "report.sbatch": report, "submit.sh": submit}


def grid_scripts(plan: GridPlan, args: ReproduceArguments) -> dict[str, str]:
    """The scripts of the grid ``plan`` that ``args`` describe (`slurm_scripts`)."""
    argvs = [plan.argv(r) for r in plan.runs]
    return slurm_scripts(plan.out, plan.runs, argvs, reproduce_argv(args), plan.gpus_per_run, args.slurm_options)


def reproduce_argv(args: ReproduceArguments) -> list[str]:
    """This grid's ``reproduce`` command line with absolute paths, for the scripts' prepare and report steps (the
    batch split pinned, so that every step resolves the same runs)."""
    argv = ["--scale", args.scale, "--output", str(Path(args.output).absolute()), "--seeds", args.seeds]
    argv += [
        "--lengths",
        args.lengths,
        "--gpus-per-run",
        str(args.gpus_per_run),
        "--gpu-memory-gb",
        str(args.gpu_memory_gb),
    ]
    if args.languages:
        _, flags = language_flags(args.languages)
        argv += ["--languages", ",".join(flags[1::2])]
    elif args.corpus != "embedded":
        argv += ["--corpus", str(Path(args.corpus).absolute()) if Path(args.corpus).exists() else args.corpus]
    for flag, value in (("--pairs", args.pairs), ("--align-blocks", args.align_blocks),
                        ("--per-device-batch", args.per_device_batch)):  # fmt: skip
        if value is not None:
            argv += [flag, str(Path(value).absolute()) if flag == "--pairs" else str(value)]
    if args.ten_languages:
        argv.append("--ten-languages")
    for flag, value in (("--shares", args.shares), ("--long_seeds", args.long_seeds)):
        if value is not None:
            argv += [flag, str(value)]
    if args.anchor_sweep:
        argv += ["--anchor_sweep", "--clone_fractions", ",".join(f"{x:g}" for x in args.clone_fraction_values)]
    if args.probe:  # the report step probes the runs
        datasets = [str(Path(d).absolute()) if Path(d.split(":")[0]).exists() else d for d in args.probe_dataset]
        argv += ["--probe", "--probe_dataset", *datasets]
    return [*argv, "--", *args.run_args] if args.run_args else argv


def write_slurm_scripts(out: Path, scripts: dict[str, str]) -> Path:
    """Write the scripts into ``out/slurm`` (each aside, then renamed); returns the folder."""
    folder = out / "slurm"
    folder.mkdir(parents=True, exist_ok=True)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    for name, text in scripts.items():
        tmp = folder / f".{name}.tmp"
        tmp.write_text(text)
        tmp.chmod(0o755)
        tmp.replace(folder / name)
    return folder
