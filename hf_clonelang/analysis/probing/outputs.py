"""What a probe leaves: ``probe.json`` (written aside, then renamed) and ``probe.png`` beside it — per language, the
probe's accuracy (mean over tasks) with its ceiling, random-init control and majority-class baseline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...common import RunFiles
from ..plots import figure, save_figure

SERIES = (
    ("accuracy", "probe (trained in {train})", "tab:blue"),
    ("ceiling", "ceiling (trained in the language itself)", "tab:green"),
    ("random_init", "random-init model", "tab:gray"),
)


def write_probe(result: dict[str, Any], folder: str | Path) -> tuple[Path, Path]:
    """Write ``probe.json`` and ``probe.png`` into ``folder`` (created); returns both paths."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    path = out / RunFiles.PROBE
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(result, indent=2) + "\n")
        plot = plot_probe(result, out / RunFiles.PROBE_PLOT)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path, plot


def plot_probe(result: dict[str, Any], path: str | Path) -> Path:
    """Bars per language: the probe, its ceiling and the random-init control; the majority baseline as a tick."""
    means = result["mean"]
    labels = list(means)
    fig, ax = figure(figsize=(1.6 + 1.3 * len(labels), 3.4))
    width = 0.8 / len(SERIES)
    for i, (key, name, color) in enumerate(SERIES):
        xs = [j + (i - (len(SERIES) - 1) / 2) * width for j in range(len(labels))]
        ax.bar(
            xs,
            [means[lang][key] for lang in labels],
            width,
            color=color,
            label=name.format(train=result["train_language"]),
        )
    for j, lang in enumerate(labels):
        ax.hlines(
            means[lang]["majority"],
            j - 0.45,
            j + 0.45,
            colors="black",
            linestyles="dashed",
            label="majority class" if j == 0 else None,
        )
    ax.set_xticks(
        range(len(labels)), [f"{lang}{' (zero-shot)' if lang != result['train_language'] else ''}" for lang in labels]
    )
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy" + (f" (mean of {len(result['tasks'])} tasks)" if len(result["tasks"]) > 1 else ""))
    ax.set_title(f"{result['model']}: {', '.join(result['tasks'])}", fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    return save_figure(fig, path)
