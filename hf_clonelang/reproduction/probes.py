"""The downstream probe of a finished grid (``hf-clonelang reproduce ... --probe``): every bilingual run probed with
the paper's recipe (`analysis.probing`), no retraining, and the paper's Figure 1 (right) — accuracy in L1 and
zero-shot in L2 against p(L2) — for ``results.json`` and ``report.md``.

Each run's ``probe.json`` is written into its folder (its card shows it) and reused while it holds the same tasks
probed with the paper's recipe, so a report can be rendered again without probing again.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.probing.outputs import write_probe
from ..analysis.probing.probe import load_probed_model, probe_model, unseen_story_seed
from ..analysis.probing.recipe import ProbeRecipe
from ..analysis.probing.tasks import TaskOptions, load_task, public_source
from ..common import RunFiles
from ..hub.cards import write_model_card
from .paper import PAPER_DATA

logger = logging.getLogger(__name__)

MEASURES = ("accuracy", "ceiling", "random_init", "majority")
"""What the probe reports per language: the probe trained in L1, the ceiling (trained in the language itself), the
random-init control and the majority-class baseline."""
PAPER_PROBE: dict[str, Any] = PAPER_DATA["probe"]
"""The paper's Figure 1 (right): mean GLUE accuracy in L1 and zero-shot in L2 by p(L2), with its source."""


def probe_grid(out: Path, runs: list[Any], datasets: list[str]) -> dict[str, Any]:
    """Probe every finished bilingual run of the grid in ``out`` on ``datasets`` (reusing a run's ``probe.json`` of
    the same tasks and the paper's recipe); per run and per setting (mean ± sd over seeds), each language's
    accuracy with its controls."""
    recipe = ProbeRecipe()
    per_run: dict[str, Any] = {}
    bilingual = [r for r in runs if r.kind == "multi" and r.num_languages == 2]
    for i, r in enumerate(bilingual, 1):
        run_dir = out / "runs" / r.name
        probed = load_probed_model(run_dir)
        result = _cached(probed, datasets, recipe)
        if result is None:
            logger.info("probe %d/%d: %s", i, len(bilingual), r.name)
            result = probe_model(probed, datasets, recipe, disable_tqdm=True)
            write_probe(result, run_dir)
            if (run_dir / RunFiles.CARD).is_file():
                write_model_card(run_dir)
        per_run[r.name] = run_entry(result, r.schedule, r.seed, r.length, getattr(r, "vocab_mode", None))
    return {
        "datasets": [public_source(d) for d in datasets],
        "recipe": recipe.to_dict(),
        "runs": per_run,
        "settings": probe_settings(per_run),
    }


def run_entry(
    result: dict[str, Any], schedule: str, seed: int, length: float = 1.0, vocab_mode: str | None = None
) -> dict[str, Any]:
    """What the grid keeps of one run's probe: its setting and each language's mean over tasks."""
    return {
        "schedule": schedule,
        "p_l2": share_of_l2(schedule),
        "seed": seed,
        "length": length,
        **({"vocab_mode": vocab_mode} if vocab_mode else {}),
        "languages": {lang: {m: s[m] for m in MEASURES} for lang, s in result["mean"].items()},
        "seconds": result["seconds"],
    }


def share_of_l2(schedule: str) -> float | None:
    """p(L2) of a constant two-language schedule (``0.9,0.1`` -> 0.1); None for a schedule over training."""
    parts = schedule.split(",")
    try:
        return float(parts[1]) if len(parts) == 2 else None
    except ValueError:
        return None


def _cached(probed: Any, datasets: list[str], recipe: ProbeRecipe) -> dict[str, Any] | None:
    """The run's ``probe.json`` when it is the probe the grid would run: the same tasks read the default way, the
    paper's recipe, trained in L1 and evaluated in every language (``hf-clonelang probe RUN`` with other options
    writes the same file: it is probed again)."""
    path = probed.folder / RunFiles.PROBE
    if not path.is_file():
        return None
    expected = {
        "tasks": [public_source(d) for d in datasets],
        "recipe": {k: v for k, v in recipe.to_dict().items() if k != "max_length"},
        "task_options": TaskOptions(seed=recipe.seed, story_seed=unseen_story_seed(probed)).to_dict(),
        "train_language": probed.label(1),
        "languages": [probed.label(k) for k in probed.languages],
    }
    try:
        result = json.loads(path.read_text())
        found = {
            "tasks": [entry["dataset"] for entry in result["tasks"].values()],
            "recipe": {k: v for k, v in result["recipe"].items() if k != "max_length"},
            "task_options": result.get("task_options"),
            "train_language": result["train_language"],
            "languages": result["languages"],
        }
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return result if found == expected else None


def check_probe_datasets(datasets: list[str], languages: list[str] | None) -> None:
    """Load every task of ``--probe_dataset`` once before the grid trains (a missing file or column would otherwise
    surface only after the last run): ``languages`` are the real languages' names, None for clones."""
    names: dict[int, str | None] = dict(enumerate(languages, 1)) if languages else {1: None, 2: None}
    for spec in datasets:
        load_task(spec, names, TaskOptions())


def probe_settings(per_run: dict[str, Any]) -> list[dict[str, Any]]:
    """Runs of one setting (vocabulary mode, schedule, length) over seeds: mean and sd of every measure."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for run in per_run.values():
        groups.setdefault((run.get("vocab_mode"), run["schedule"], run["length"]), []).append(run)
    settings = []
    for (mode, schedule, length), members in groups.items():
        entry: dict[str, Any] = {
            **({"vocab_mode": mode} if mode else {}),
            "schedule": schedule,
            "p_l2": members[0]["p_l2"],
            "length": length,
            "seeds": [m["seed"] for m in members],
            "languages": {},
        }
        for lang in members[0]["languages"]:
            entry["languages"][lang] = {}
            for measure in MEASURES:
                values = np.asarray([m["languages"][lang][measure] for m in members], dtype=np.float64)
                entry["languages"][lang][measure] = {
                    "mean": float(values.mean()),
                    "std": float(values.std(ddof=1)) if len(values) > 1 else None,
                    "n": len(values),
                }
        settings.append(entry)
    return sorted(settings, key=lambda s: (s.get("vocab_mode") or "", s["p_l2"] is None, s["p_l2"] or 0, s["length"]))


def probe_rows(probe: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The report's table: per setting, each language's accuracy (zero-shot beyond L1) with its ceiling, the
    random-init control and the majority baseline, and the paper's numbers where it gives that p(L2)."""
    settings = probe["settings"]
    langs = list(settings[0]["languages"]) if settings else []
    header = ["setting", "p(L2)"]
    for i, lang in enumerate(langs):  # (in the training language the probe is its own ceiling)
        header += [f"{lang}{' zero-shot' if i else ''}", *([f"{lang} ceiling"] if i else []), f"{lang} random init"]
    header += ["majority", "paper L1 / L2 zero-shot (GLUE mean)"]
    paper = {float(p): v for p, v in PAPER_PROBE["by_share"].items()}
    rows = []
    for s in settings:
        name = s["schedule"] + (f" ({s['vocab_mode']})" if s.get("vocab_mode") else "")
        name += f", {s['length']:g}×" if s["length"] != 1 else ""
        row = [name, "–" if s["p_l2"] is None else f"{s['p_l2']:g}"]
        for i, lang in enumerate(langs):
            measures = ("accuracy", "ceiling", "random_init") if i else ("accuracy", "random_init")
            row += [_stat(s["languages"][lang][m]) for m in measures]
        row.append(_stat(s["languages"][langs[0]]["majority"]))
        known = paper.get(s["p_l2"]) if s["p_l2"] is not None and not s.get("vocab_mode") else None
        row.append(f"{known[0]:.2f} / {known[1]:.2f}" if known else "–")
        rows.append(row)
    return header, rows


def _stat(stat: dict[str, Any]) -> str:
    text = f"{stat['mean']:.3f}"
    return text + (f" ± {stat['std']:.3f}" if stat.get("std") is not None else "")
