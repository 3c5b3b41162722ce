"""Plots saved as PNG next to the JSON they summarise (matplotlib, headless)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_EVAL_LANG_LOSS = re.compile(r"^eval_(L\d+)_loss$")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_eval_losses(log_history: list[dict[str, Any]], path: str | Path) -> Path | None:
    """Per-language evaluation loss over training steps (from ``trainer_state.log_history``)."""
    series: dict[str, list[tuple[int, float]]] = {}
    for entry in log_history:
        for key, value in entry.items():
            m = _EVAL_LANG_LOSS.match(key)
            if m:
                series.setdefault(m.group(1), []).append((entry.get("step", 0), value))
    if not series:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for lang in sorted(series, key=lambda name: int(name[1:])):
        steps, losses = zip(*sorted(series[lang]), strict=True)
        ax.plot(steps, losses, marker="o", markersize=3, label=lang)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("validation loss (nats / token)")
    ax.set_title("Per-language validation loss")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
