"""The figures of a grid's report, PNGs beside its ``results.json``: the monolingual curve by both estimators, PPL
against p(L2) with the monolingual-equivalent (MLPE) curves (the paper's Figure 1 left; Figure 3 for real languages,
disjoint against anchored), PPL against the training length (Figure 2), and alignment per layer at 50/50 and 90/10.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from ..analysis.efficiency import FIT_TEXT
from ..analysis.plots import figure, plot_alignment_comparison, save_figure
from .plan import SETTING_NAMES


def write_figures(out: Path, results: dict[str, Any], laws: dict[Any, Any]) -> dict[str, str]:
    """Every figure ``results`` can show, written into ``out``: their names by the report's keys. ``laws`` are the
    monolingual curves by estimator: one set for clones, one per language (1..N) for real languages."""
    if "languages" in results:
        return _real_figures(out, results, laws)
    return _clone_figures(out, results, laws)


def _clone_figures(out: Path, results: dict[str, Any], laws: dict[str, Any]) -> dict[str, str]:
    figures = {}
    if laws and plot_power_law(laws, out / "power_law.png"):
        figures["power_law"] = "power_law.png"
    if plot_ppl_vs_share(results, laws, out / "ppl_vs_p.png"):
        figures["ppl_vs_p"] = "ppl_vs_p.png"
    if plot_lengths(results, out / "lengths.png"):
        figures["lengths"] = "lengths.png"
    if "probe" in results and plot_probe_vs_share(results["probe"], out / "probe_vs_p.png"):
        figures["probe"] = "probe_vs_p.png"
    if plot_teff_vs_share(results, out / "teff_vs_p.png"):
        figures["teff_vs_p"] = "teff_vs_p.png"
    if plot_embeddings_vs_share(results, out / "embeddings_vs_p.png"):
        figures["embeddings_vs_p"] = "embeddings_vs_p.png"
    if plot_embeddings_by_count(results, out / "embeddings_by_count.png"):
        figures["embeddings_by_count"] = "embeddings_by_count.png"
    if "anchors" in results and plot_anchors(results, out / "anchors.png"):
        figures["anchors"] = "anchors.png"
    settings = {s["schedule"]: s for s in results["settings"].values() if "hidden_cosine" in s and s["length"] == 1}
    if "0.5,0.5" in settings and "0.9,0.1" in settings:
        plot_alignment_comparison(
            {"50/50": settings["0.5,0.5"], "90/10": settings["0.9,0.1"]}, out / "alignment_layers.png"
        )
        figures["alignment"] = "alignment_layers.png"
    return figures


def _real_figures(out: Path, results: dict[str, Any], laws: dict[int, dict[str, Any]]) -> dict[str, str]:
    figures = {}
    for k, name in enumerate(results["languages"], 1):
        if laws.get(k) and plot_power_law(laws[k], out / f"power_law_{name}.png"):
            figures[f"power_law_{name}"] = f"power_law_{name}.png"
    if plot_real_ppl_vs_p(
        results, {results["languages"][k - 1]: law for k, law in laws.items()}, out / "ppl_vs_p.png"
    ):
        figures["ppl_vs_p"] = "ppl_vs_p.png"
    if "probe" in results and plot_probe_vs_share(results["probe"], out / "probe_vs_p.png"):
        figures["probe"] = "probe_vs_p.png"
    return figures


def plot_power_law(laws: dict[str, Any], path: str | Path) -> Path:
    """The monolingual points with each estimator's curve (the power law, labelled with the fit that gave it, and
    the log-log interpolation)."""
    import numpy as np

    fig, ax = figure(figsize=(6, 4))
    first = next(iter(laws.values()))
    xs = np.geomspace(first.fractions.min(), first.fractions.max(), 200)
    ax.plot(first.fractions, first.ppls, "o", color="k", label="monolingual runs")
    for (name, law), style in zip(laws.items(), ("-", ":", "--"), strict=False):
        label = f"{name}, {FIT_TEXT[law.fit]}" if law.fit else name
        ax.plot(xs, law.ppl(xs), style, label=label if law.acceptable else f"{label} (not acceptable)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("fraction of the token budget")
    ax.set_ylabel("validation perplexity")
    power = laws.get("power-law")
    ax.set_title("\n".join(textwrap.wrap(power.describe(), 90)) if power is not None else "", fontsize=7)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return save_figure(fig, path)


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
    fig, ax = figure(figsize=(6, 4))
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
        label = f"{name}, {FIT_TEXT[law.fit]}" if law.fit else name
        ax.plot(ps[keep], law.ppl(ps[keep]), style, color="C1", label=f"MLPE L2 ({label})")
        ax.plot(ps[keep], law.ppl(1 - ps[keep]), style, color="C0", label=f"MLPE L1 ({label})")
    ax.set_yscale("log")
    ax.set_xlabel("p(L2): share of L2 in training")
    ax.set_ylabel("validation perplexity")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def constant_shares(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The two-language settings of constant p(L2) at 1×, by p(L2): the share sweep."""
    found = [
        s
        for s in results["settings"].values()
        if s["num_languages"] == 2 and s.get("length", 1) == 1 and len(s["schedule"].split(",")) == 2
    ]
    return sorted(found, key=lambda s: s["share_L2"])


def plot_teff_vs_share(results: dict[str, Any], path: str | Path) -> Path | None:
    """TEff of L1 and L2 (the paper's power law) against p(L2) for the constant shares at 1×, with 1 (no gain) and
    the paper's Table 1 values as open markers."""
    from .paper import PAPER

    points = [s for s in constant_shares(results) if s["teff_L2"].get("power-law", {}).get("mean") is not None]
    if len(points) < 2:
        return None
    fig, ax = figure(figsize=(6, 4))
    xs = [s["share_L2"] for s in points]
    for lang, color in (("L1", "C0"), ("L2", "C1")):
        stats = [s[f"teff_{lang}"]["power-law"] for s in points]
        ax.errorbar(xs, [v["mean"] for v in stats], yerr=[v.get("std") or 0 for v in stats], fmt="o-", color=color,
                    capsize=3, label=f"{lang} (power law)")  # fmt: skip
        paper = [(1 - float(k.split(",")[0]), v["teff"][int(lang[1]) - 1]) for k, v in PAPER.items()
                 if isinstance(v, dict) and "teff" in v and k.count(",") == 1 and "_" not in k]  # fmt: skip
        ax.plot([p for p, _ in paper], [t for _, t in paper], "o", mfc="none", color=color, label=f"paper {lang}")
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("p(L2): share of L2 in training")
    ax.set_ylabel("token efficiency (TEff)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_embeddings_vs_share(results: dict[str, Any], path: str | Path) -> Path | None:
    """The paper's Figure 6: the mean cosine of a token's embedding in L1 and its clone's in L2 (tokens seen in
    training), input and output embeddings, against p(L2); the word2vec control and the all-pairs baselines."""
    from .paper import PAPER_DATA

    points = [s for s in constant_shares(results) if "embeddings" in s]
    if not points:
        return None
    xs = [s["share_L2"] for s in points]
    fig, axes = figure(1, 2, figsize=(10, 4), sharey=True)
    paper = PAPER_DATA["embeddings"]
    for ax, table in zip(axes, ("input", "output"), strict=True):
        for model, style in (("transformer", "o-"), ("word2vec", "s--")):
            if all(table in s["embeddings"][model] for s in points):
                seen = [s["embeddings"][model][table]["seen"] for s in points]
                base = [s["embeddings"][model][table]["all_pairs_baseline"] for s in points]
                ax.errorbar(xs, [v["mean"] for v in seen], yerr=[v["std"] or 0 for v in seen], fmt=style, capsize=3,
                            label=f"{model}: clones")  # fmt: skip
                ax.plot(xs, [v["mean"] for v in base], style[0] + ":", color="grey", label=f"{model}: all pairs")
        known = sorted((float(p), v) for p, v in paper.get(f"{table}_by_share", {}).items())
        if known:
            ax.plot([p for p, _ in known], [v for _, v in known], "o", mfc="none", color="C3",
                    label="paper (GPT small, read off the figure)")  # fmt: skip
        ax.set_title(f"{table} embeddings")
        ax.set_xlabel("p(L2): share of L2 in training")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("cosine, token vs its clone")
    return save_figure(fig, path)


def plot_embeddings_by_count(results: dict[str, Any], path: str | Path) -> Path | None:
    """The paper's Figure 7: the input-embedding clone cosine by the token's count in the training stream (bins of a
    quarter decade), one line per p(L2); word2vec's at the rarest share dashed."""
    points = [s for s in constant_shares(results) if "embeddings" in s]
    if not points:
        return None
    fig, ax = figure(figsize=(6.5, 4))
    for i, s in enumerate(points):
        bins = s["embeddings"]["transformer"]["input"]["by_count"]
        ax.plot([b["min_count"] for b in bins], [b["cosine"] for b in bins], "o-", color=f"C{i}",
                label=f"p(L2) = {s['share_L2']:g}")  # fmt: skip
    w2v = points[0]["embeddings"]["word2vec"].get("input", {}).get("by_count", [])
    if w2v:
        ax.plot([b["min_count"] for b in w2v], [b["cosine"] for b in w2v], "s--", color="grey",
                label=f"word2vec, p(L2) = {points[0]['share_L2']:g}")  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("occurrences of the token in the training stream (both clones)")
    ax.set_ylabel("input-embedding cosine, token vs its clone")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def plot_anchors(results: dict[str, Any], path: str | Path) -> Path | None:
    """The paper's Figure 8: PPL of L1 at 50/50 against the share of the vocabulary left uncloned (the anchors),
    random and frequent anchors, with 50/50 itself at 0 and monolingual runs on 50%..100% of the tokens as lines."""
    from .paper import PAPER_DATA

    base = next((s for s in results["settings"].values() if s["schedule"] == "0.5,0.5" and s["length"] == 1), None)
    fig, ax = figure(figsize=(6.5, 4))
    for mode, color in (("random", "C0"), ("frequent", "C1")):
        rows = sorted((1 - s["clone_fraction"], s["ppl_L1"]) for s in results["anchors"].values()
                      if s["anchors"] == mode)  # fmt: skip
        if base is not None:
            rows = [(0.0, base["ppl_L1"]), *rows]
        if rows:
            ax.errorbar([x for x, _ in rows], [v["mean"] for _, v in rows], yerr=[v["std"] or 0 for _, v in rows],
                        fmt="o-", color=color, capsize=3, label=f"{mode} anchors")  # fmt: skip
    for point in results.get("monolingual", []):
        if 0.5 <= point["fraction"] <= 1.0 and round(point["fraction"] * 10) == point["fraction"] * 10:
            ax.axhline(point["ppl"], color="grey", lw=0.7, ls=":")
            ax.annotate(f"mono {point['fraction']:.0%}", (1.0, point["ppl"]), fontsize=6, ha="right", va="bottom")
    paper = sorted((float(x), v) for x, v in PAPER_DATA["anchors"]["ppl_l1_by_anchored_fraction"].items())
    twin = ax.twinx()
    twin.plot([x for x, _ in paper], [v for _, v in paper], "o--", mfc="none", color="C3", alpha=0.6,
              label="paper (GPT small, right axis)")  # fmt: skip
    twin.set_ylabel("paper's PPL of L1", color="C3")
    ax.set_xlabel("share of the vocabulary left uncloned (anchors)")
    ax.set_ylabel("test perplexity of L1")
    ax.grid(alpha=0.3)
    lines = ax.get_legend_handles_labels()
    extra = twin.get_legend_handles_labels()
    ax.legend(lines[0] + extra[0], lines[1] + extra[1], fontsize=7)
    return save_figure(fig, path)


def plot_probe_vs_share(probe: dict[str, Any], path: str | Path) -> Path | None:
    """The paper's Figure 1 (right): the probe's accuracy in L1 and zero-shot in L2 against p(L2) for the constant
    shares at 1×, with L2's ceiling, the random-init control and the majority baseline; the paper's GLUE means
    (other tasks, GPT small) as open markers. One line style per vocabulary mode for real languages."""
    from .probes import PAPER_PROBE

    settings = [s for s in probe["settings"] if s["p_l2"] is not None and s["length"] == 1]
    if not settings:
        return None
    fig, ax = figure(figsize=(6, 4))
    modes = sorted({s.get("vocab_mode") for s in settings}, key=str)
    langs = list(settings[0]["languages"])
    for mode, style in zip(modes, ("-", "--", ":"), strict=False):
        group = sorted((s for s in settings if s.get("vocab_mode") == mode), key=lambda s: s["p_l2"])
        xs = [s["p_l2"] for s in group]
        suffix = f", {mode}" if mode else ""
        for i, (lang, color) in enumerate(zip(langs, ("C0", "C1"), strict=False)):
            stat = [s["languages"][lang]["accuracy"] for s in group]
            ax.errorbar(
                xs,
                [v["mean"] for v in stat],
                yerr=[v["std"] or 0 for v in stat],
                fmt="o" + style,
                color=color,
                label=f"{lang}{' zero-shot' if i else ''}{suffix}",
            )
        last = langs[-1]
        controls = (
            (last, "ceiling", "C2", 0.7, f"{last} ceiling"),
            (langs[0], "random_init", "gray", 0.7, f"random init ({langs[0]})"),
            (langs[0], "majority", "black", 0.5, "majority class"),
        )
        for lang, measure, color, alpha, name in controls:
            ys = [s["languages"][lang][measure]["mean"] for s in group]
            ax.plot(xs, ys, style, color=color, alpha=alpha, label=f"{name}{suffix}")
    if not any(modes):
        paper = sorted((float(p), v) for p, v in PAPER_PROBE["by_share"].items())
        for i, color in enumerate(("C0", "C1")):
            ax.plot(
                [p for p, _ in paper],
                [v[i] for _, v in paper],
                "o--",
                mfc="none",
                color=color,
                alpha=0.6,
                label=f"paper L{i + 1}{' zero-shot' if i else ''} (GLUE mean)",
            )
    ax.set_ylim(0, 1)
    ax.set_xlabel("p(L2): share of L2 in training")
    ax.set_ylabel(
        "probe accuracy" + (f" (mean of {len(probe['datasets'])} tasks)" if len(probe["datasets"]) > 1 else "")
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return save_figure(fig, path)


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
    fig, axes = figure(1, 2, figsize=(10, 4))
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
            label = f"MLPE {name} (power law, {FIT_TEXT.get(law.fit, 'no fit')})"
            ax.plot(ps[keep], law.ppl(share[keep]), "--", color="grey", label=label)
        ax.set_yscale("log")
        ax.set_xlabel(f"p({names[1]}): share of {names[1]} in training")
        ax.set_ylabel(f"validation perplexity of {name}")
        ax.set_title(name)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_lengths(results: dict[str, Any], path: str | Path) -> Path | None:
    """PPL of L1 and L2 against the training length for 50/50, 90/10 and the schedule (runs of several lengths)."""
    settings = [s for s in results["settings"].values() if s["num_languages"] == 2]
    lengths = sorted({s.get("length", 1) for s in settings})
    if len(lengths) < 2:
        return None
    fig, axes = figure(1, 2, figsize=(9, 3.8), sharey=True)
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
    return save_figure(fig, path)
