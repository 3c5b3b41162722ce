"""Plots saved as PNG next to the JSON they summarise (matplotlib, headless, without pyplot): a run's evaluation
losses and schedule (its folder and model card), and alignment per layer (``hf-clonelang align``, grid reports).
`figure` and `save_figure` are the one way the package draws and saves a figure (the grid's figures too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..common import EVAL_LANGUAGE_LOSS

FIGURE_DPI = 120
"""Resolution of the figures beside results (run folders, alignment reports, grid reports)."""
CARD_FIGURE_DPI = 110
"""Resolution of the small schedule figure a model card shows."""


def figure(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """A figure and its axes (`Figure.subplots` arguments, plus ``figsize``) without pyplot: nothing global changes
    (a notebook keeps its backend), and the figure is freed with its last reference."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=kwargs.pop("figsize", None))
    return fig, fig.subplots(*args, **kwargs)


def save_figure(fig: Any, path: str | Path, dpi: int = FIGURE_DPI) -> Path:
    """Lay ``fig`` out tightly and save it as ``path`` (a PNG); returns the path."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return Path(path)


def plot_eval_losses(log_history: list[dict[str, Any]], path: str | Path) -> Path | None:
    """Per-language evaluation loss over training steps (from ``trainer_state.log_history``)."""
    series: dict[str, list[tuple[int, float]]] = {}
    for entry in log_history:
        for key, value in entry.items():
            m = EVAL_LANGUAGE_LOSS.match(key)
            if m:
                series.setdefault(m.group(1), []).append((entry.get("step", 0), value))
    if not series:
        return None
    fig, ax = figure(figsize=(6, 4))
    for lang in sorted(series, key=lambda name: int(name[1:])):
        steps, losses = zip(*sorted(series[lang]), strict=True)
        ax.plot(steps, losses, marker="o", markersize=3, label=lang)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("validation loss (nats / token)")
    ax.set_title("Per-language validation loss")
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def plot_alignment_comparison(settings: dict[str, dict[str, Any]], path: str | Path) -> Path:
    """Per-layer hidden cosine (raw, centred), retrieval@1 and gradient cosine, one line per run or language pair
    (``settings`` may be an `alignment_report`)."""
    measures = [
        ("hidden_cosine", "hidden cosine"),
        ("hidden_cosine_centred", "centred hidden cosine"),
        ("retrieval_at_1", "retrieval@1"),
        ("gradient_cosine_per_layer", "gradient cosine"),
    ]
    fig, axes = figure(1, len(measures), figsize=(4 * len(measures), 3.5))
    for ax, (key, title) in zip(axes, measures, strict=True):
        for name, s in settings.items():
            values = s[key]
            start = 1 if key == "gradient_cosine_per_layer" else 0
            ax.plot(range(start, start + len(values)), values, marker="o", label=name)
        ax.set_title(title)
        ax.set_xlabel("layer (0 = embeddings)")
        ax.grid(alpha=0.3)
    axes[0].legend()
    return save_figure(fig, path)


def plot_schedule(schedule: Any, path: str | Path) -> Path:
    """The probability of every language over training progress (a small figure for the model card)."""
    import numpy as np

    x = np.linspace(0, 1, 401)
    probs = schedule(x)
    fig, ax = figure(figsize=(4.5, 2.6))
    for k in range(probs.shape[1]):
        if probs.shape[1] <= 4 or k < 3:
            ax.plot(x, probs[:, k], label=f"L{k + 1}")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("training progress")
    ax.set_ylabel("p(language)")
    ax.set_title(f"schedule {schedule}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path, dpi=CARD_FIGURE_DPI)
