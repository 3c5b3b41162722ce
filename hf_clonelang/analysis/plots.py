"""Plots saved as PNG next to the JSON they summarise (matplotlib, headless)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from ..common import EVAL_LANGUAGE_LOSS


def _subplots(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """A figure and its axes without pyplot: nothing global changes (a notebook keeps its backend), and the
    figure is freed with its last reference."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=kwargs.pop("figsize", None))
    return fig, fig.subplots(*args, **kwargs)


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
    fig, ax = _subplots(figsize=(6, 4))
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
    return path


def plot_power_law(laws: dict[str, Any], path: str | Path) -> Path:
    """The monolingual points with each estimator's curve (the power law, the log-log interpolation)."""
    import numpy as np

    fig, ax = _subplots(figsize=(6, 4))
    first = next(iter(laws.values()))
    xs = np.geomspace(first.fractions.min(), first.fractions.max(), 200)
    ax.plot(first.fractions, first.ppls, "o", color="k", label="monolingual runs")
    for (name, law), style in zip(laws.items(), ("-", ":"), strict=False):
        label = name if law.acceptable else f"{name} (not acceptable)"
        ax.plot(xs, law.ppl(xs), style, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("fraction of the token budget")
    ax.set_ylabel("validation perplexity")
    power = laws.get("power-law")
    ax.set_title("\n".join(textwrap.wrap(power.describe(), 90)) if power is not None else "", fontsize=7)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return Path(path)


def plot_ppl_vs_share(results: dict[str, Any], laws: dict[str, Any], path: str | Path) -> Path | None:
    """PPL of L1 and L2 against p(L2) for the two-language runs of the 1× budget, with the MLPE curves of each
    estimator (what a monolingual model reaches with that share of the tokens)."""
    import numpy as np

    points = [
        (s["schedule"], s)
        for s in results["settings"].values()
        if s["num_languages"] == 2 and s["ppl_L1"]["mean"] is not None and s.get("length", 1) == 1
    ]
    if not points:
        return None
    fig, ax = _subplots(figsize=(6, 4))
    for schedule, s in points:
        p2 = s["share_L2"]
        marker = "o" if "_" not in schedule else "s"
        label = "" if "_" not in schedule else f" ({schedule})"
        for lang, color in (("L1", "C0"), ("L2", "C1")):
            first = label or schedule == points[0][0]
            ax.errorbar(
                p2,
                s[f"ppl_{lang}"]["mean"],
                yerr=s[f"ppl_{lang}"]["std"],
                fmt=marker,
                color=color,
                label=f"{lang}{label}" if first else None,
            )
    for (name, law), style in zip(laws.items(), ("--", ":"), strict=False):
        ps = np.linspace(0.05, 0.95, 100)
        lo = law.fractions.min()
        keep = (ps >= lo) & (1 - ps >= lo)
        ax.plot(ps[keep], law.ppl(ps[keep]), style, color="C1", label=f"MLPE L2 ({name})")
        ax.plot(ps[keep], law.ppl(1 - ps[keep]), style, color="C0", label=f"MLPE L1 ({name})")
    ax.set_yscale("log")
    ax.set_xlabel("p(L2): share of L2 in training")
    ax.set_ylabel("validation perplexity")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return Path(path)


def plot_real_ppl_vs_p(results: dict[str, Any], laws: dict[str, dict[str, Any]], path: str | Path) -> Path | None:
    """The paper's Figure 3 for real languages: PPL of L1 and of L2 against p(L2), disjoint against anchored (mean
    and standard deviation over seeds, constant mixes of the 1× budget), with each language's MLPE curve from its
    own power law (dashed: what a monolingual model reaches with that share of the tokens)."""
    import numpy as np

    names = results["languages"]
    points = [
        s
        for s in results["settings"].values()
        if s.get("length", 1) == 1 and "_" not in s["schedule"] and s["ppl_L1"]["mean"] is not None
    ]
    if not points:
        return None
    fig, axes = _subplots(1, 2, figsize=(10, 4))
    for ax, lang, name in zip(axes, ("L1", "L2"), names, strict=False):
        for mode, marker in (("disjoint", "o-"), ("anchored", "s-")):
            mine = sorted((s["share_L2"], s[f"ppl_{lang}"]) for s in points if s.get("vocab_mode") == mode)
            if mine:
                ps = [p for p, _ in mine]
                ax.errorbar(ps, [v["mean"] for _, v in mine], yerr=[v["std"] or 0 for _, v in mine], fmt=marker,
                            capsize=3, label=mode)  # fmt: skip
        law = laws.get(name, {}).get("power-law")
        if law is not None:
            ps = np.linspace(0.05, 0.95, 100)
            share = ps if lang == "L2" else 1 - ps
            keep = share >= law.fractions.min()
            ax.plot(ps[keep], law.ppl(share[keep]), "--", color="grey", label=f"MLPE {name} (power law)")
        ax.set_yscale("log")
        ax.set_xlabel(f"p({names[1]}): share of {names[1]} in training")
        ax.set_ylabel(f"validation perplexity of {name}")
        ax.set_title(name)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return Path(path)


def plot_lengths(results: dict[str, Any], path: str | Path) -> Path | None:
    """PPL of L1 and L2 against the training length for 50/50, 90/10 and the schedule (runs of several lengths)."""
    from .report import SETTING_NAMES

    settings = [s for s in results["settings"].values() if s["num_languages"] == 2]
    lengths = sorted({s.get("length", 1) for s in settings})
    if len(lengths) < 2:
        return None
    fig, axes = _subplots(1, 2, figsize=(9, 3.8), sharey=True)
    for ax, lang in zip(axes, ("L1", "L2"), strict=True):
        for i, schedule in enumerate(("0.5,0.5", "0.9,0.1", "0.1_0.9")):
            rows = sorted((s["length"], s[f"ppl_{lang}"]) for s in settings if s["schedule"] == schedule)
            if rows:
                xs = [r[0] for r in rows]
                ax.errorbar(
                    xs, [r[1]["mean"] for r in rows], yerr=[r[1]["std"] or 0 for r in rows], marker="o",
                    color=f"C{i}", label=SETTING_NAMES[(schedule, 2)], capsize=3,
                )  # fmt: skip
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(lengths, [f"{x:g}×" for x in lengths])
        ax.set_xlabel("training length (× the budget T)")
        ax.set_title(f"{lang}: validation perplexity")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("perplexity")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return Path(path)


def plot_alignment_comparison(settings: dict[str, dict[str, Any]], path: str | Path) -> Path:
    """Per-layer hidden cosine (raw, centred), retrieval@1 and gradient cosine, one line per run or language pair
    (``settings`` may be an `alignment_report`)."""
    measures = [
        ("hidden_cosine", "hidden cosine"),
        ("hidden_cosine_centred", "centred hidden cosine"),
        ("retrieval_at_1", "retrieval@1"),
        ("gradient_cosine_per_layer", "gradient cosine"),
    ]
    fig, axes = _subplots(1, len(measures), figsize=(4 * len(measures), 3.5))
    for ax, (key, title) in zip(axes, measures, strict=True):
        for name, s in settings.items():
            values = s[key]
            start = 1 if key == "gradient_cosine_per_layer" else 0
            ax.plot(range(start, start + len(values)), values, marker="o", label=name)
        ax.set_title(title)
        ax.set_xlabel("layer (0 = embeddings)")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return Path(path)


def plot_schedule(schedule: Any, path: str | Path) -> Path:
    """The probability of every language over training progress (a small figure for the model card)."""
    import numpy as np

    x = np.linspace(0, 1, 401)
    probs = schedule(x)
    fig, ax = _subplots(figsize=(4.5, 2.6))
    for k in range(probs.shape[1]):
        if probs.shape[1] <= 4 or k < 3:
            ax.plot(x, probs[:, k], label=f"L{k + 1}")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("training progress")
    ax.set_ylabel("p(language)")
    ax.set_title(f"schedule {schedule}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return Path(path)
