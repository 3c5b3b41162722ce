"""Running a grid from plan to report: the one function behind ``hf-clonelang reproduce``.

    ReproduceArguments -> plan (runs, command lines, devices) -> plan.json | SLURM scripts | corpora, runs, analysis

A grid folder holds one grid: its settings are recorded in ``reproduce.json``, and a later call with other settings
is refused (an ablation, which changes the run flags, needs its own folder). Runs already finished are skipped,
interrupted ones resume; ``report_only`` analyses a finished grid again, ``prepare_only`` only builds its corpora.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from ..errors import ConfigError
from .arguments import ReproduceArguments
from .local import prepare_corpora, train_runs, unfinished_runs
from .plan import GRID_RECORD, GridPlan, language_flags, plan_grid, write_plan
from .probes import check_probe_datasets
from .results import analyse
from .slurm import grid_scripts, write_slurm_scripts


def run_grid(args: ReproduceArguments) -> dict[str, Any]:
    """Train every run of the grid ``args`` describe that is not finished yet, then analyse the grid and write its
    report (``results.json``, ``report.md``, figures); returns the results. With ``dry_run``: ``plan.json`` only (the
    plan, with the SLURM scripts' text under ``"slurm"`` for ``launcher="slurm"``); with ``launcher="slurm"``: the
    job scripts in ``OUTPUT/slurm/`` instead of training here; ``prepare_only``: only the corpora;
    ``report_only``: only the analysis of finished runs."""
    plan = plan_grid(args)
    if args.dry_run:
        document = write_plan(plan)
        if args.launcher == "slurm":
            document["slurm"] = grid_scripts(plan, args)
        return document
    if args.probe:  # the tasks load now, not after the last run has trained
        names = language_flags(args.languages)[0] if args.languages else None
        check_probe_datasets(args.probe_dataset, names)
    record_grid(plan, args)
    if args.launcher == "slurm":
        folder = write_slurm_scripts(plan.out, grid_scripts(plan, args))
        return {"runs": [r.name for r in plan.runs], "slurm": str(folder)}
    todo = unfinished_runs(plan)
    if args.step == "report" and todo:
        raise ConfigError(
            f"{len(todo)} run(s) are not finished ({', '.join(r.name for r in todo[:5])}): no report yet"
        )
    prepare_corpora(plan, todo)
    if args.step == "prepare":
        return {"runs": [r.name for r in plan.runs], "prepared": True}
    train_runs(plan, todo)
    return analyse(
        plan.out,
        plan.scale,
        plan.runs,
        args.align_blocks or plan.scale.align_blocks,
        pairs=args.pairs,
        probe=args.probe_dataset if args.probe else None,
        embeddings=args.embedding_similarity,
    )


def record_grid(plan: GridPlan, args: ReproduceArguments) -> None:
    """Record the grid's settings in ``reproduce.json``, or refuse a folder that holds a grid of other settings."""
    scale = plan.scale
    settings = {"scale": plan.scale_name, "corpus": plan.corpus, "scale_settings": asdict(scale),
                "extra_args": list(plan.extra), "batch_split": list(plan.split or (scale.batch, 1)),
                "gpus_per_run": plan.gpus_per_run}  # fmt: skip
    path = plan.out / GRID_RECORD
    if path.is_file():
        previous = {"batch_split": [scale.batch, 1], "gpus_per_run": 1, **json.loads(path.read_text())}
        if {k: previous.get(k) for k in settings} != json.loads(json.dumps(settings, default=str)):
            raise ConfigError(
                f"{plan.out} holds a grid of other settings ({previous.get('scale')}, {previous.get('corpus')}, "
                f"extra flags {previous.get('extra_args') or 'none'}): use another --output"
            )
    (plan.out / "logs").mkdir(parents=True, exist_ok=True)
    record = {**settings, "seeds": list(args.seed_values), "ten_languages": args.ten_languages,
              "lengths": list(args.length_values), "shares": list(args.share_values),
              "clone_fractions": list(args.clone_fraction_values), "long_seeds": args.long_seeds}  # fmt: skip
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
