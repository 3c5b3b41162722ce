"""The downstream probe against p(L2): finished bilingual runs probed (`hf_clonelang.probe_model`), the paper's
Figure 1 (right) as a table, a plot and ``results.json``, with the time of each probe.

    python benchmarks/probe_shares.py RUN [RUN ...] --output docs/results/probe-cpu-tiny [--variant_lr 1e-3]

Every run is probed with the paper's recipe (`ProbeRecipe()`) on the embedded labelled stories (or ``--dataset``);
``--variant_lr`` probes them again with only the learning rate changed (a named variant, reported apart). The
runs' shares come from their ``run_info.json``; ``results.json`` records each run's folder name, the recipe, the
tasks and every accuracy with its controls.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from hf_clonelang import ProbeRecipe, probe_model
from hf_clonelang.reproduction.figures import plot_probe_vs_share
from hf_clonelang.reproduction.probes import probe_rows, probe_settings, run_entry


def probe_runs(runs: list[Path], datasets: list[str], recipe: ProbeRecipe) -> dict:
    per_run = {}
    for run in runs:
        info = json.loads((run / "run_info.json").read_text())
        result = probe_model(run, datasets, recipe, disable_tqdm=True)
        per_run[run.name] = run_entry(result, info["language_schedule"], info["training"]["seed"])
        logging.info("%s: %s (%.0f s)", run.name, per_run[run.name]["languages"], result["seconds"])
    return {"datasets": datasets, "recipe": recipe.to_dict(), "runs": per_run, "settings": probe_settings(per_run)}


def table(probe: dict) -> str:
    header, rows = probe_rows(probe)
    seconds = [r["seconds"] for r in probe["runs"].values()]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines.append(
        f"\nSeconds per probe (probe, ceiling and random-init control): {min(seconds):.0f}–{max(seconds):.0f}"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--dataset", nargs="+", default=["embedded"])
    parser.add_argument("--variant_lr", type=float, default=None, help="also probe with this learning rate")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.output.mkdir(parents=True, exist_ok=True)
    recipes = {"paper": ProbeRecipe()}
    if args.variant_lr is not None:
        recipes[f"lr={args.variant_lr:g}"] = ProbeRecipe(learning_rate=args.variant_lr)
    results, report = {}, []
    for name, recipe in recipes.items():
        results[name] = probe_runs(args.runs, args.dataset, recipe)
        figure = f"probe_vs_p{'' if name == 'paper' else '_variant'}.png"
        plot_probe_vs_share(results[name], args.output / figure)
        title = "the paper's recipe" if name == "paper" else f"variant: the paper's recipe with {name}"
        report += [f"## {title}\n", table(results[name]), f"\n![probe accuracy against p(L2)]({figure})\n"]
    (args.output / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.output / "report.md").write_text("\n".join(report))
    print("\n".join(report))


if __name__ == "__main__":
    main()
