"""``hf-clonelang reproduce``: the paper's grid at a chosen scale, through the main training job, and its report.

The arguments are `ReproduceArguments` (flags and / or ``--config FILE``, the command line winning; flags after
``--`` go to every run); the work is `reproduction.grid.run_grid`. This module only parses and prints.
"""

from __future__ import annotations

from ..parser import parse_dataclasses
from ..reproduction.arguments import ReproduceArguments
from ..reproduction.grid import run_grid

PROG = "hf-clonelang reproduce"
DESCRIPTION = (
    "Train the paper's experimental grid at a chosen scale through run_clm_imbalance, skipping runs already finished "
    "in --output, then write report.md, results.json and figures. Flags after -- go to every run's training command, "
    "e.g. hf-clonelang reproduce --output g -- --tie_word_embeddings true"
)


def parse_reproduce_args(argv: list[str]) -> ReproduceArguments:
    """The grid's arguments (flags and / or ``--config FILE``; everything after ``--`` goes to every run)."""
    (args,) = parse_dataclasses((ReproduceArguments,), argv, prog=PROG, description=DESCRIPTION, remainder="run_args")
    return args


def run_reproduce(argv: list[str]) -> int:
    """Run (or plan) the grid and say where its report, plan or job scripts are."""
    args = parse_reproduce_args(argv)
    results = run_grid(args)
    if args.launcher == "slurm" and not args.dry_run:
        print(
            f"wrote {results['slurm']}/: {len(results['runs'])} runs; submit with: bash {results['slurm']}/submit.sh"
        )
        return 0
    if args.prepare_only:
        print(f"corpora of {len(results['runs'])} runs prepared in {args.output}")
        return 0
    if args.dry_run:
        for name, text in results.get("slurm", {}).items():
            print(f"# ---- {name}\n{text}")
        for run in results["runs"]:
            print(run["command"])
        print(f"plan: {args.output}/plan.json ({len(results['runs'])} runs, nothing trained)")
        return 0
    print(f"report: {args.output}/report.md ({len(results['runs'])} multilingual runs analysed)")
    return 0
