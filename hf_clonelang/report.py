"""The analysis of a reproduction grid: paper-style tables (``report.md``), ``results.json`` and figures.

Monolingual runs give the curve PPL(x) (`efficiency.fit_power_law`, with its diagnostics and fallback); every
multilingual run gets, per language, its PPL, the tokens it saw (from its own ``train_tokens_L{k}``), TEff and
MLPE; the bilingual runs are aligned on their final weights (`runs.align_run`). Settings repeated over seeds are
reported as mean ± standard deviation. TEff that needs the curve beyond the monolingual points is computed by
extrapolation and marked with ``*``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .alignment import block_mean
from .efficiency import fit_power_law, mlpe, token_efficiency
from .errors import ConfigError
from .hub import write_model_card

PAPER = {  # Schäfer et al. (2024), GPT small, 1.2B tokens (notes/paper.md, Table 1)
    "monolingual": {0.1: 48.36, 0.5: 25.31, 1.0: 21.93},
    "0.5,0.5": {"ppl": (26.13, 26.14), "teff": (0.887, 0.885)},
    "0.9,0.1": {"ppl": (22.46, 32.81), "teff": (1.000, 2.076)},
    "0.1_0.9": {"ppl": (26.53, 24.44), "teff": (0.834, 1.182)},
    "uniform": {"ppl": (35.54, 35.74), "teff": (1.689, 1.666)},
    "l1:0.5": {"ppl": (24.57, 33.41), "teff": (1.153, 3.556)},
    "hidden_cosine_mean": {"0.5,0.5": 0.60, "0.9,0.1": 0.85},
    "gradient_cosine_mean": {"0.5,0.5": 0.072, "0.9,0.1": 0.534},
}
SETTING_NAMES = {
    ("0.5,0.5", 2): "50/50", ("0.9,0.1", 2): "90/10", ("0.1_0.9", 2): "schedule 0.1_0.9",
    ("uniform", 10): "10 languages, uniform", ("l1:0.5", 10): "10 languages, L1 50%",
}  # fmt: skip


def _load(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "all_results.json").read_text())


def _teff(ppl: float, tokens: float, law: Any, budget: float) -> dict[str, Any]:
    try:
        return token_efficiency(ppl, tokens, law, budget).to_dict() | {"extrapolated": False}
    except ConfigError as err:
        try:
            return token_efficiency(ppl, tokens, law, budget, extrapolate=True).to_dict() | {
                "extrapolated": True,
                "note": str(err),
            }
        except ConfigError as err2:
            return {"teff": None, "note": str(err2)}


def analyse(out: Path, scale: Any, runs: list[Any], align_blocks: int) -> dict[str, Any]:
    """Everything the report shows, computed from the finished run folders of ``out``; writes the report."""
    from .runs import align_run

    budget = scale.budget_tokens
    mono = sorted((r.fraction, _load(out / "runs" / r.name)) for r in runs if r.kind == "mono")
    fractions = [f for f, _ in mono]
    ppls = [res["eval_L1_ppl"] for _, res in mono]
    try:
        law = fit_power_law(fractions, ppls)
        fit = law.to_dict()
    except ConfigError as err:
        law, fit = None, {"error": str(err), "fractions": fractions, "ppls": ppls}
    results: dict[str, Any] = {
        "budget_tokens": budget,
        "monolingual": [
            {
                "fraction": f,
                "tokens": round(f * budget),
                "ppl": p,
                "fit_ppl": None if law is None else float(law.ppl(f)),
            }
            for f, p in zip(fractions, ppls, strict=False)
        ],
        "fit": fit,
        "runs": {},
    }
    for r in runs:
        if r.kind != "multi":
            continue
        run_dir = out / "runs" / r.name
        res = _load(run_dir)
        info = json.loads((run_dir / "run_info.json").read_text())
        langs = {}
        for k in range(1, r.num_languages + 1):
            ppl, tokens = res[f"eval_L{k}_ppl"], res[f"train_tokens_L{k}"]
            share = info["expected_shares"][k - 1]
            entry = {"ppl": ppl, "tokens": tokens, "share": share}
            if law is not None and tokens > 0:
                entry["teff"] = _teff(ppl, tokens, law, budget)
                entry["mlpe"] = mlpe(law, share) if share > 0 else None
            langs[f"L{k}"] = entry
        run = {"schedule": r.schedule, "num_languages": r.num_languages, "seed": r.seed, "languages": langs}
        if law is not None:  # the run's model card shows TEff once monolingual references exist
            teffs = {k: v["teff"] for k, v in langs.items() if v.get("teff", {}).get("teff") is not None}
            (run_dir / "efficiency.json").write_text(json.dumps({**teffs, "fit": law.describe()}, indent=2) + "\n")
        if r.num_languages == 2:
            cached = run_dir / "alignment_eval.json"
            if not cached.is_file():
                report = align_run(run_dir, blocks=align_blocks, gradient_blocks=min(32, align_blocks))
                cached.write_text(json.dumps(report, indent=2) + "\n")
            run["alignment"] = json.loads(cached.read_text())["L1-L2"]
        results["runs"][r.name] = run
    results["settings"] = _by_setting(results["runs"])
    for r in runs:
        if r.kind == "multi":
            write_model_card(out / "runs" / r.name)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    figures = _figures(out, results, law)
    (out / "report.md").write_text(render_report(results, scale, figures))
    return results


def _by_setting(runs: dict[str, Any]) -> dict[str, Any]:
    """Mean and standard deviation over seeds of each setting's numbers."""
    groups: dict[str, list[dict]] = {}
    for run in runs.values():
        groups.setdefault(f"{run['schedule']}|{run['num_languages']}", []).append(run)
    out = {}
    for key, members in groups.items():
        schedule, n = key.split("|")
        entry: dict[str, Any] = {"schedule": schedule, "num_languages": int(n), "seeds": [m["seed"] for m in members]}
        for lang in ("L1", "L2"):
            for measure in ("ppl", "teff"):
                values = [_value(m["languages"][lang], measure) for m in members]
                values = [v for v in values if v is not None]
                entry[f"{measure}_{lang}"] = _stats(values)
            extrapolated = any(m["languages"][lang].get("teff", {}).get("extrapolated") for m in members)
            entry[f"teff_{lang}"]["extrapolated"] = extrapolated
            entry[f"mlpe_{lang}"] = members[0]["languages"][lang].get("mlpe")
        if all("alignment" in m for m in members):
            for measure in (
                "hidden_cosine",
                "hidden_cosine_centred",
                "retrieval_at_1",
                "cka",
                "gradient_cosine_per_layer",
            ):
                layers = np.array([m["alignment"][measure] for m in members], dtype=np.float64)
                entry[measure] = layers.mean(axis=0).tolist()
            entry["gradient_cosine_mean"] = _stats([m["alignment"]["gradient_cosine_mean"] for m in members])
            for measure in ("hidden_cosine", "hidden_cosine_centred", "retrieval_at_1"):
                entry[f"{measure}_mean"] = _stats([block_mean(m["alignment"][measure]) for m in members])
        out[key] = entry
    return out


def _value(lang: dict, measure: str) -> float | None:
    v = lang.get(measure)
    return v.get("teff") if isinstance(v, dict) else v


def _stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"mean": None, "std": None, "n": 0}
    arr = np.asarray(values, dtype=np.float64)
    return {"mean": float(arr.mean()), "std": float(arr.std(ddof=1)) if arr.size > 1 else None, "n": int(arr.size)}


# ---------------------------------------------------------------------- rendering
def _fmt(stat: dict | float | None, digits: int = 2, star: bool = False) -> str:
    if stat is None:
        return "–"
    if isinstance(stat, dict):
        if stat.get("mean") is None:
            return "–"
        text = f"{stat['mean']:.{digits}f}"
        if stat.get("std") is not None:
            text += f" ± {stat['std']:.{digits}f}"
        return text + ("*" if star or stat.get("extrapolated") else "")
    return f"{stat:.{digits}f}"


def render_report(results: dict[str, Any], scale: Any, figures: dict[str, str]) -> str:
    """The markdown report."""
    lines = [
        "# Reproducing Schäfer et al. (2024) at small scale",
        "",
        (
            f"Budget T = {results['budget_tokens']:,} tokens ({scale.steps} steps × {scale.batch} blocks × "
            f"{scale.block_size} tokens); model {scale.model}; V = {scale.vocab_size} per language. PPL on the "
            "held-out validation blocks (the same text in every language). TEff = MLTE / tokens seen; `*` marks TEff "
            "extrapolated beyond the monolingual points."
        ),
        "",
        "## Monolingual runs and the fitted curve",
        "",
        "| fraction of T | tokens | PPL | fitted PPL |",
        "|---|---|---|---|",
    ]
    for row in results["monolingual"]:
        lines.append(f"| {row['fraction']:g} | {row['tokens']:,} | {row['ppl']:.2f} | {_fmt(row['fit_ppl'])} |")
    fit = results["fit"]
    lines += ["", f"Fit: {fit.get('description') or fit.get('error')}", ""]
    if figures.get("power_law"):
        lines += [f"![monolingual curve]({figures['power_law']})", ""]
    lines += [
        "## Perplexity and token efficiency",
        "",
        (
            "| setting | PPL L1 | PPL L2 | TEff L1 | TEff L2 | MLPE L1 | MLPE L2 | paper PPL L1 / L2 "
            "| paper TEff L1 / L2 |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for _key, s in results["settings"].items():
        name = SETTING_NAMES.get((s["schedule"], s["num_languages"]), f"{s['schedule']} ({s['num_languages']})")
        paper = PAPER.get(s["schedule"], {})
        pp = " / ".join(f"{v:.2f}" for v in paper["ppl"]) if "ppl" in paper else "–"
        pt = " / ".join(f"{v:.2f}" for v in paper["teff"]) if "teff" in paper else "–"
        lines.append(
            f"| {name} (seeds {','.join(map(str, s['seeds']))}) | {_fmt(s['ppl_L1'])} | {_fmt(s['ppl_L2'])} | "
            f"{_fmt(s['teff_L1'])} | {_fmt(s['teff_L2'])} | {_fmt(s['mlpe_L1'])} | {_fmt(s['mlpe_L2'])} | "
            f"{pp} | {pt} |"
        )
    if figures.get("ppl_vs_p"):
        lines += ["", f"![PPL against p(L2) with the MLPE curves]({figures['ppl_vs_p']})"]
    aligned = {s["schedule"]: s for s in results["settings"].values() if "hidden_cosine" in s}
    if "0.5,0.5" in aligned and "0.9,0.1" in aligned:
        a, b = aligned["0.5,0.5"], aligned["0.9,0.1"]
        lines += [
            "",
            "## Alignment per layer, 50/50 against 90/10",
            "",
            (
                "Layer 0 is the embedding output (left out of the means, as in the paper). Hidden cosine: the same "
                "position in L1 and L2 (raw, and centred by each language's mean state); retrieval@1: is a block's "
                "nearest neighbour in the other language its parallel block; gradient cosine: the loss gradients of "
                "the same text in L1 and L2, per layer (mean: over the blocks' tensors)."
            ),
            "",
            (
                "| layer | hidden cos 50/50 | 90/10 | centred 50/50 | 90/10 | retrieval@1 50/50 | 90/10 | "
                "gradient cos 50/50 | 90/10 |"
            ),
            "|---|---|---|---|---|---|---|---|---|",
        ]
        grads_a = [None] + a["gradient_cosine_per_layer"]
        grads_b = [None] + b["gradient_cosine_per_layer"]
        for layer in range(len(a["hidden_cosine"])):
            lines.append(
                f"| {layer} | {a['hidden_cosine'][layer]:.3f} | {b['hidden_cosine'][layer]:.3f} | "
                f"{a['hidden_cosine_centred'][layer]:.3f} | {b['hidden_cosine_centred'][layer]:.3f} | "
                f"{a['retrieval_at_1'][layer]:.3f} | {b['retrieval_at_1'][layer]:.3f} | "
                f"{_fmt(grads_a[layer], 3) if layer < len(grads_a) else '–'} | "
                f"{_fmt(grads_b[layer], 3) if layer < len(grads_b) else '–'} |"
            )
        lines.append(
            f"| **mean** | {_fmt(a['hidden_cosine_mean'], 3)} | {_fmt(b['hidden_cosine_mean'], 3)} | "
            f"{_fmt(a['hidden_cosine_centred_mean'], 3)} | {_fmt(b['hidden_cosine_centred_mean'], 3)} | "
            f"{_fmt(a['retrieval_at_1_mean'], 3)} | {_fmt(b['retrieval_at_1_mean'], 3)} | "
            f"{_fmt(a['gradient_cosine_mean'], 3)} | {_fmt(b['gradient_cosine_mean'], 3)} |"
        )
        lines += [
            "",
            (
                f"Paper (GPT small, 12 layers): mean hidden cosine {PAPER['hidden_cosine_mean']['0.5,0.5']} (50/50) "
                f"vs {PAPER['hidden_cosine_mean']['0.9,0.1']} (90/10); mean gradient cosine "
                f"{PAPER['gradient_cosine_mean']['0.5,0.5']} vs {PAPER['gradient_cosine_mean']['0.9,0.1']}."
            ),
        ]
        if figures.get("alignment"):
            lines += ["", f"![alignment per layer]({figures['alignment']})"]
    return "\n".join(lines) + "\n"


def _figures(out: Path, results: dict[str, Any], law: Any) -> dict[str, str]:
    from .plots import plot_alignment_comparison, plot_power_law, plot_ppl_vs_share

    figures = {}
    if law is not None and plot_power_law(law, out / "power_law.png"):
        figures["power_law"] = "power_law.png"
    if plot_ppl_vs_share(results, law, out / "ppl_vs_p.png"):
        figures["ppl_vs_p"] = "ppl_vs_p.png"
    settings = {s["schedule"]: s for s in results["settings"].values() if "hidden_cosine" in s}
    if "0.5,0.5" in settings and "0.9,0.1" in settings:
        plot_alignment_comparison(
            {"50/50": settings["0.5,0.5"], "90/10": settings["0.9,0.1"]}, out / "alignment_layers.png"
        )
        figures["alignment"] = "alignment_layers.png"
    return figures
