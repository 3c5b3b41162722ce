"""The analysis of a reproduction grid: paper-style tables (``report.md``), ``results.json`` and figures.

Monolingual runs give the curve PPL(x) by both estimators of `efficiency.monolingual_curves` (the paper's power
law, with its diagnostics, and the log-log interpolation); every multilingual run gets, per language, its PPL, the
tokens it saw (from its own ``train_tokens_L{k}``), and TEff and MLPE by each estimator, labelled. Runs of longer
training (``length`` > 1) are compared with 50/50 at the same length — the paper's "does 90/10 beat 50/50 on both
languages?". Runs are aligned on their final weights (`runs.align_run`). Settings repeated over seeds are reported
as mean ± standard deviation. TEff that needs the curve beyond the monolingual points is extrapolated and marked
``*``; the paper's TEff numbers come from the power law, so only that column compares like with like.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..common import block_mean
from ..errors import ConfigError
from ..hub.cards import write_model_card
from .efficiency import ESTIMATORS, PowerLaw, mlpe, monolingual_curves, token_efficiency

PAPER = {  # Schäfer et al. (2024), GPT small, 1.2B tokens (notes/paper.md, Table 1); TEff from the power law
    "monolingual": {0.1: 48.36, 0.5: 25.31, 1.0: 21.93},
    "0.5,0.5": {"ppl": (26.13, 26.14), "teff": (0.887, 0.885)},
    "0.9,0.1": {"ppl": (22.46, 32.81), "teff": (1.000, 2.076)},
    "0.1_0.9": {"ppl": (26.53, 24.44), "teff": (0.834, 1.182)},
    "uniform": {"ppl": (35.54, 35.74), "teff": (1.689, 1.666)},
    "l1:0.5": {"ppl": (24.57, 33.41), "teff": (1.153, 3.556)},
    "hidden_cosine_mean": {"0.5,0.5": 0.60, "0.9,0.1": 0.85},
    "gradient_cosine_mean": {"0.5,0.5": 0.072, "0.9,0.1": 0.534},
}
PAPER_LENGTHS = {  # GPT small at 2x / 3x / 4x the tokens: PPL L1, L2 (Table 1; 4x read off Figure 2, approximate)
    2.0: {"0.5,0.5": (23.35, 23.36), "0.9,0.1": (20.06, 23.88), "0.1_0.9": (22.78, 20.42)},
    3.0: {"0.5,0.5": (22.17, 22.18), "0.9,0.1": (19.03, 22.27), "0.1_0.9": (21.50, 19.26)},
    4.0: {"0.5,0.5": (21.5, 21.5), "0.9,0.1": (18.4, 21.4)},
}
SETTING_NAMES = {
    ("0.5,0.5", 2): "50/50", ("0.9,0.1", 2): "90/10", ("0.1_0.9", 2): "schedule 0.1_0.9",
    ("uniform", 10): "10 languages, uniform", ("l1:0.5", 10): "10 languages, L1 50%",
}  # fmt: skip
SHORT = {"power-law": "power law", "loglog-interpolation": "log-log interp."}
ALIGNMENT_MEANS = ("hidden_cosine", "hidden_cosine_centred", "retrieval_at_1", "cka")


def _load(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "all_results.json").read_text())


def _teff(ppl: float, tokens: float, law: PowerLaw, budget: float) -> dict[str, Any]:
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
    budget = scale.budget_tokens
    mono = sorted((r.fraction, _load(out / "runs" / r.name)) for r in runs if r.kind == "mono")
    fractions = [f for f, _ in mono]
    ppls = [res["eval_L1_ppl"] for _, res in mono]
    try:
        curves = monolingual_curves(fractions, ppls)
    except ConfigError as err:  # too few points, or a curve that does not fall: no TEff at all
        curves = {name: err for name in ESTIMATORS}
    laws = {name: c for name, c in curves.items() if isinstance(c, PowerLaw)}
    results: dict[str, Any] = {
        "budget_tokens": budget,
        "estimators": {
            "power-law": "the paper's: 1/PPL = c - a·x^-b fitted to the monolingual runs, inverted",
            "loglog-interpolation": "log PPL linear in log x between the monolingual points",
        },
        "monolingual": [
            {
                "fraction": f,
                "tokens": round(f * budget),
                "ppl": p,
                "power_law_ppl": float(laws["power-law"].ppl(f)) if "power-law" in laws else None,
            }
            for f, p in zip(fractions, ppls, strict=True)
        ],
        "fits": {name: c.to_dict() if isinstance(c, PowerLaw) else {"error": str(c)} for name, c in curves.items()},
        "runs": {},
    }
    for r in runs:
        if r.kind != "multi":
            continue
        run_dir = out / "runs" / r.name
        run = _analyse_run(run_dir, r, laws, budget, align_blocks, scale.gradient_pairs)
        results["runs"][r.name] = run
        if laws:  # the run's model card shows TEff once monolingual references exist
            teffs = {k: v["teff"] for k, v in run["languages"].items() if "teff" in v}
            fits = {name: law.describe() for name, law in laws.items()}
            (run_dir / "efficiency.json").write_text(json.dumps({**teffs, "fits": fits}, indent=2) + "\n")
    results["settings"] = _by_setting(results["runs"])
    for r in runs:
        if r.kind == "multi":
            write_model_card(out / "runs" / r.name)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    figures = _figures(out, results, laws)
    (out / "report.md").write_text(render_report(results, scale, figures))
    return results


def _analyse_run(
    run_dir: Path, spec: Any, laws: dict[str, PowerLaw], budget: float, align_blocks: int, gradient_pairs: int
) -> dict:
    from .runs import align_run

    res = _load(run_dir)
    info = json.loads((run_dir / "run_info.json").read_text())
    langs = {}
    for k in range(1, spec.num_languages + 1):
        ppl, tokens = res[f"eval_L{k}_ppl"], res[f"train_tokens_L{k}"]
        share = info["expected_shares"][k - 1]
        entry: dict[str, Any] = {"ppl": ppl, "tokens": tokens, "share": share}
        if laws and tokens > 0:
            entry["teff"] = {name: _teff(ppl, tokens, law, budget) for name, law in laws.items()}
            entry["mlpe"] = {name: mlpe(law, share * spec.length) if share > 0 else None for name, law in laws.items()}
        langs[f"L{k}"] = entry
    run = {
        "schedule": spec.schedule,
        "num_languages": spec.num_languages,
        "seed": spec.seed,
        "length": spec.length,
        "languages": langs,
    }
    if spec.num_languages == 2:
        cached = run_dir / "alignment_eval.json"
        pairs = min(gradient_pairs, align_blocks)
        if not cached.is_file() or json.loads(cached.read_text()).get("L1-L2", {}).get("gradient_pairs") != pairs:
            report = align_run(run_dir, blocks=align_blocks, gradient_blocks=pairs)
            cached.write_text(json.dumps(report, indent=2) + "\n")  # measured with this version's definitions
        run["alignment"] = json.loads(cached.read_text())["L1-L2"]
    return run


def _by_setting(runs: dict[str, Any]) -> dict[str, Any]:
    """Mean and standard deviation over seeds of each setting's numbers (a setting: schedule, languages, length)."""
    groups: dict[str, list[dict]] = {}
    for run in runs.values():
        groups.setdefault(f"{run['schedule']}|{run['num_languages']}|{run['length']:g}", []).append(run)
    out = {}
    for key, members in groups.items():
        first = members[0]
        entry: dict[str, Any] = {
            "schedule": first["schedule"],
            "num_languages": first["num_languages"],
            "length": first["length"],
            "seeds": [m["seed"] for m in members],
        }
        for lang in ("L1", "L2"):
            entry[f"ppl_{lang}"] = _stats([m["languages"][lang]["ppl"] for m in members])
            entry[f"teff_{lang}"], entry[f"mlpe_{lang}"] = {}, {}
            for name in first["languages"][lang].get("teff", {}):
                found = [m["languages"][lang]["teff"][name] for m in members]
                stats = _stats([t["teff"] for t in found if t.get("teff") is not None])
                stats["extrapolated"] = any(t.get("extrapolated") for t in found)
                entry[f"teff_{lang}"][name] = stats
                entry[f"mlpe_{lang}"][name] = first["languages"][lang]["mlpe"][name]
        if all("alignment" in m for m in members):
            for measure in (*ALIGNMENT_MEANS, "gradient_cosine_per_layer"):
                layers = np.array([m["alignment"][measure] for m in members], dtype=np.float64)
                entry[measure] = layers.mean(axis=0).tolist()
            for measure in ("gradient_cosine_mean", "gradient_cosine_summed_mean"):
                entry[measure] = _stats([m["alignment"].get(measure) for m in members])
            for measure in ALIGNMENT_MEANS:
                entry[f"{measure}_mean"] = _stats([block_mean(m["alignment"][measure]) for m in members])
        out[key] = entry
    return out


def _stats(values: list[float | None]) -> dict[str, Any]:
    values = [v for v in values if v is not None]
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


def _name(s: dict[str, Any]) -> str:
    return SETTING_NAMES.get((s["schedule"], s["num_languages"]), f"{s['schedule']} ({s['num_languages']})")


def _length(length: float) -> str:
    return f"{length:g}×"


def render_report(results: dict[str, Any], scale: Any, figures: dict[str, str]) -> str:
    """The markdown report."""
    fits = results["fits"]
    power = fits.get("power-law", {})
    lines = [
        "# Reproducing Schäfer et al. (2024) at small scale",
        "",
        (
            f"Budget T = {results['budget_tokens']:,} tokens ({scale.steps} steps × {scale.batch} blocks × "
            f"{scale.block_size} tokens); model {scale.model}; V = {scale.vocab_size} per language. PPL on the "
            "held-out validation blocks (the same text in every language). TEff = MLTE / tokens seen, by two "
            "estimators of the monolingual curve: the paper's **power law** (only this one is computed as the "
            "paper's TEff) and the model-free **log-log interpolation**; `*` marks TEff extrapolated beyond the "
            "monolingual points."
        ),
        "",
        "## Monolingual runs and the fitted curve",
        "",
        "| fraction of T | tokens | PPL | power-law PPL | relative error |",
        "|---|---|---|---|---|",
    ]
    errors = power.get("relative_errors") or [None] * len(results["monolingual"])
    for row, err in zip(results["monolingual"], errors, strict=True):
        lines.append(
            f"| {row['fraction']:g} | {row['tokens']:,} | {row['ppl']:.2f} | {_fmt(row['power_law_ppl'])} | "
            f"{'–' if err is None else f'{100 * err:+.1f}%'} |"
        )
    lines += ["", f"Power law: {power.get('description') or power.get('error')}."]
    if power.get("b") is not None and power.get("description"):
        lines.append(
            f"Parameters a = {power['a']:.4g}, b = {power['b']:.4g}, c = {power['c']:.4g}: "
            + ("acceptable." if power.get("acceptable") else "NOT acceptable: its TEff is shown, but read it as such.")
        )
    lines.append("")
    if figures.get("power_law"):
        lines += [f"![monolingual curve]({figures['power_law']})", ""]
    lines += _efficiency_table(results)
    if figures.get("ppl_vs_p"):
        lines += ["", f"![PPL against p(L2) with the MLPE curves]({figures['ppl_vs_p']})"]
    lines += _lengths_table(results, figures)
    lines += _alignment_tables(results, figures)
    return "\n".join(lines) + "\n"


def _efficiency_table(results: dict[str, Any]) -> list[str]:
    lines = [
        "## Perplexity and token efficiency",
        "",
        (
            "| setting | length | PPL L1 | PPL L2 | TEff L1 (power law) | TEff L2 (power law) | TEff L1 (log-log "
            "interp.) | TEff L2 (log-log interp.) | MLPE L1 / L2 (power law) | paper PPL L1 / L2 | paper TEff L1 / L2 "
            "(power law) |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in sorted(results["settings"].values(), key=lambda s: (s["length"], s["num_languages"])):
        paper = PAPER.get(s["schedule"], {}) if s["length"] == 1 else {}
        pp = " / ".join(f"{v:.2f}" for v in paper["ppl"]) if "ppl" in paper else "–"
        pt = " / ".join(f"{v:.2f}" for v in paper["teff"]) if "teff" in paper else "–"
        teff = {
            (lang, name): _fmt(s[f"teff_{lang}"].get(name)) for lang in ("L1", "L2") for name in SHORT
        }  # fmt: skip
        mlpe_pl = " / ".join(_fmt(s[f"mlpe_{lang}"].get("power-law")) for lang in ("L1", "L2"))
        lines.append(
            f"| {_name(s)} (seeds {','.join(map(str, s['seeds']))}) | {_length(s['length'])} | {_fmt(s['ppl_L1'])} | "
            f"{_fmt(s['ppl_L2'])} | {teff['L1', 'power-law']} | {teff['L2', 'power-law']} | "
            f"{teff['L1', 'loglog-interpolation']} | {teff['L2', 'loglog-interpolation']} | {mlpe_pl} | {pp} | {pt} |"
        )
    return lines


def _lengths_table(results: dict[str, Any], figures: dict[str, str]) -> list[str]:
    """Longer training: does 90/10 (or the schedule) end better than 50/50 on both languages?"""
    settings = {(s["schedule"], s["length"]): s for s in results["settings"].values() if s["num_languages"] == 2}
    lengths = sorted({length for _, length in settings})
    if len(lengths) < 2:
        return []
    lines = [
        "",
        "## Longer training: better than 50/50 on both languages?",
        "",
        (
            'The bilingual runs at several budgets (the monolingual curve extends to the longest). "Both better": '
            "mean PPL below 50/50's mean on L1 and on L2 at the same length. Each language's margin is 50/50's PPL "
            "minus the setting's (> 0: better), and in standard deviations of the two settings when there are "
            "several seeds."
        ),
        "",
        (
            "| length | tokens | 50/50 L1 / L2 | 90/10 L1 / L2 | 90/10 both better? | 0.1_0.9 L1 / L2 | 0.1_0.9 "
            "both better? | paper (small) 50/50 · 90/10 · 0.1_0.9 |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for length in lengths:
        base = settings.get(("0.5,0.5", length))
        cells = []
        for schedule in ("0.9,0.1", "0.1_0.9"):
            s = settings.get((schedule, length))
            cells += [_pair(s), _both_better(s, base)]
        paper = {k: PAPER[k]["ppl"] for k in ("0.5,0.5", "0.9,0.1", "0.1_0.9")} if length == 1 else {}
        paper = PAPER_LENGTHS.get(length, paper)
        paper_text = " · ".join(
            " / ".join(f"{v:.2f}" for v in paper[k]) if k in paper else "–" for k in ("0.5,0.5", "0.9,0.1", "0.1_0.9")
        )
        tokens = f"{round(length * results['budget_tokens']):,}"
        lines.append(f"| {_length(length)} | {tokens} | {_pair(base)} | {' | '.join(cells)} | {paper_text} |")
    if figures.get("lengths"):
        lines += ["", f"![PPL against training length]({figures['lengths']})"]
    return lines


def _pair(s: dict[str, Any] | None) -> str:
    return "–" if s is None else f"{_fmt(s['ppl_L1'])} / {_fmt(s['ppl_L2'])}"


def _both_better(s: dict[str, Any] | None, base: dict[str, Any] | None) -> str:
    if s is None or base is None:
        return "–"
    gaps, details = [], []
    for lang in ("L1", "L2"):
        a, b = s[f"ppl_{lang}"], base[f"ppl_{lang}"]
        spread = np.hypot(a.get("std") or 0.0, b.get("std") or 0.0)
        gap = b["mean"] - a["mean"]  # > 0: better than 50/50
        gaps.append(gap)
        details.append(f"{lang} {gap:+.2f}" + (f" ({gap / spread:+.1f} sd)" if spread > 0 else ""))
    return f"{'yes' if all(g > 0 for g in gaps) else 'no'} ({', '.join(details)})"


def _alignment_tables(results: dict[str, Any], figures: dict[str, str]) -> list[str]:
    aligned = [s for s in results["settings"].values() if "hidden_cosine" in s]
    if not aligned:
        return []
    lines = [
        "",
        "## Alignment",
        "",
        (
            "On parallel held-out blocks. Hidden states are each block's output (the residual stream before the "
            "final norm); layer 0 is the embedding output, left out of the means as in the paper. Hidden cosine: the "
            "same position in L1 and L2 (raw, and centred by each language's mean state); retrieval@1: is a block's "
            "nearest neighbour in the other language its parallel block; gradient cosine: the paper's estimator, "
            "per parallel pair and parameter tensor (Q, K, V apart), mean over pairs, then over the blocks' tensors; "
            "summed-gradient cosine: the earlier, coarser estimator (one gradient per language summed over the "
            "pairs), for comparison only."
        ),
        "",
        (
            "| setting | length | hidden cosine | centred hidden cosine | retrieval@1 | CKA | gradient cosine | "
            "summed-gradient cosine |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in sorted(aligned, key=lambda s: (s["length"], s["schedule"])):
        lines.append(
            f"| {_name(s)} | {_length(s['length'])} | {_fmt(s['hidden_cosine_mean'], 3)} | "
            f"{_fmt(s['hidden_cosine_centred_mean'], 3)} | {_fmt(s['retrieval_at_1_mean'], 3)} | "
            f"{_fmt(s['cka_mean'], 3)} | {_fmt(s['gradient_cosine_mean'], 3)} | "
            f"{_fmt(s['gradient_cosine_summed_mean'], 3)} |"
        )
    lines += [
        "",
        (
            f"Paper (GPT small, 12 layers, 1×): mean hidden cosine {PAPER['hidden_cosine_mean']['0.5,0.5']} (50/50) "
            f"vs {PAPER['hidden_cosine_mean']['0.9,0.1']} (90/10); mean gradient cosine "
            f"{PAPER['gradient_cosine_mean']['0.5,0.5']} vs {PAPER['gradient_cosine_mean']['0.9,0.1']}."
        ),
    ]
    by_key = {(s["schedule"], s["length"]): s for s in aligned}
    a, b = by_key.get(("0.5,0.5", 1.0)), by_key.get(("0.9,0.1", 1.0))
    if a is None or b is None:
        return lines
    lines += [
        "",
        "### Per layer, 50/50 against 90/10 (1×)",
        "",
        (
            "| layer | hidden cos 50/50 | 90/10 | centred 50/50 | 90/10 | retrieval@1 50/50 | 90/10 | "
            "gradient cos 50/50 | 90/10 |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    grads_a = [None, *a["gradient_cosine_per_layer"]]
    grads_b = [None, *b["gradient_cosine_per_layer"]]
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
    if figures.get("alignment"):
        lines += ["", f"![alignment per layer]({figures['alignment']})"]
    return lines


def _figures(out: Path, results: dict[str, Any], laws: dict[str, PowerLaw]) -> dict[str, str]:
    from .plots import plot_alignment_comparison, plot_lengths, plot_power_law, plot_ppl_vs_share

    figures = {}
    if laws and plot_power_law(laws, out / "power_law.png"):
        figures["power_law"] = "power_law.png"
    if plot_ppl_vs_share(results, laws, out / "ppl_vs_p.png"):
        figures["ppl_vs_p"] = "ppl_vs_p.png"
    if plot_lengths(results, out / "lengths.png"):
        figures["lengths"] = "lengths.png"
    settings = {s["schedule"]: s for s in results["settings"].values() if "hidden_cosine" in s and s["length"] == 1}
    if "0.5,0.5" in settings and "0.9,0.1" in settings:
        plot_alignment_comparison(
            {"50/50": settings["0.5,0.5"], "90/10": settings["0.9,0.1"]}, out / "alignment_layers.png"
        )
        figures["alignment"] = "alignment_layers.png"
    return figures
