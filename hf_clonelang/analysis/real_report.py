"""The analysis of a real-language grid (the paper's Section 5: Table 3, Table 4, Figure 3): ``report.md``,
``results.json`` and figures.

As in the paper, every language has its own monolingual curve (the English fit for English, the French fit for
French), each by both estimators of `efficiency.monolingual_curves`; a bilingual run's TEff in language k uses
language k's curve. Runs are grouped by vocabulary mode (disjoint, anchored) and setting (p(L2), the schedule), over
seeds (mean ± standard deviation). Alignment is measured on translation pairs with the paper's method
(`runs.align_pairs`: one maximum-weight token matching per pair on the layer-averaged cosine), cached per run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .efficiency import PowerLaw
from .report import (
    PAPER_DATA,
    SHORT,
    _fmt,
    _load,
    analyse_run,
    by_setting,
    cached_alignment,
    monolingual_fit,
    report_template,
    scale_context,
)

PAPER_REAL: dict[str, Any] = PAPER_DATA["real_languages"]
SETTING_ORDER = ("0.9,0.1", "0.5,0.5", "0.1,0.9", "0.1_0.9")


def analyse_real(
    out: Path, scale: Any, runs: list[Any], align_blocks: int, pairs: str | None = None
) -> dict[str, Any]:
    """Everything the real-language report shows, from the finished run folders of ``out``; writes the report."""
    budget = scale.budget_tokens
    multi = [r for r in runs if r.kind == "multi"]
    info = json.loads((out / "runs" / (multi or runs)[0].name / "run_info.json").read_text())
    names = info["tokenizer"].get("languages") or [f"L{k}" for k in range(1, info["num_languages"] + 1)]
    laws: dict[int, dict[str, PowerLaw]] = {}
    results: dict[str, Any] = {
        "budget_tokens": budget,
        "languages": names,
        "estimators": {
            "power-law": "the paper's: 1/PPL = c - a·x^-b fitted to each language's monolingual runs, inverted",
            "loglog-interpolation": "log PPL linear in log x between each language's monolingual points",
        },
        "monolingual": {},
        "fits": {},
        "pairs": Path(pairs).name if pairs else None,
        "runs": {},
    }
    for k, name in enumerate(names, 1):
        mono = sorted((r.fraction, _load(out / "runs" / r.name)[f"eval_L{k}_ppl"]) for r in runs if _mono_of(r, k))
        laws[k], results["monolingual"][name], results["fits"][name] = monolingual_fit(mono, budget)
    aligner = _pair_aligner(pairs, align_blocks, scale.gradient_pairs) if pairs else None
    for r in multi:
        results["runs"][r.name] = analyse_run(out / "runs" / r.name, r, laws.get, budget, aligner)
    results["settings"] = by_setting(results["runs"])
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    figures = _figures(out, results, laws)
    (out / "report.md").write_text(render_real_report(results, scale, figures))
    return results


def _mono_of(spec: Any, language: int) -> bool:
    return spec.kind == "mono" and getattr(spec, "language", 1) == language


def _pair_aligner(pairs: str, align_blocks: int, gradient_pairs: int) -> Any:
    """Alignment of a run on ``align_blocks`` translation pairs (a seeded sample, seed 0), cached per run."""
    from .runs import align_pairs

    grads = min(gradient_pairs, align_blocks)

    def align(run_dir: Path) -> dict[str, Any]:
        settings = {"pairs": align_blocks, "gradient_pairs": grads, "pairs_file": Path(pairs).name, "pairs_seed": 0}
        return cached_alignment(
            run_dir, settings, lambda: align_pairs(run_dir, pairs, pairs=align_blocks, gradient_pairs=grads)
        )

    return align


# ---------------------------------------------------------------------- rendering
def setting_name(schedule: str, names: list[str]) -> str:
    """``p(fr) = 0.1`` for constant two-language mixes, the schedule string otherwise."""
    parts = schedule.split(",")
    if len(parts) == 2 and "_" not in schedule:
        return f"p({names[1]}) = {float(parts[1]):g}"
    return f"schedule {schedule}"


def _ordered(results: dict[str, Any]) -> list[dict[str, Any]]:
    def key(s: dict[str, Any]) -> tuple:
        order = SETTING_ORDER.index(s["schedule"]) if s["schedule"] in SETTING_ORDER else len(SETTING_ORDER)
        return (s["length"], s.get("vocab_mode", ""), order, s["schedule"])

    return sorted(results["settings"].values(), key=key)


def render_real_report(results: dict[str, Any], scale: Any, figures: dict[str, str]) -> str:
    """The markdown report of a real-language grid's ``results`` from the ``report_real.md`` template."""
    names = results["languages"]
    mono_rows = {}
    for name, points in results["monolingual"].items():
        errors = results["fits"][name].get("power-law", {}).get("relative_errors") or [None] * len(points)
        mono_rows[name] = [
            [f"{p['fraction']:g}", f"{p['tokens']:,}", f"{p['ppl']:.2f}", _fmt(p["power_law_ppl"]),
             "–" if e is None else f"{100 * e:+.1f}%"]
            for p, e in zip(points, errors, strict=True)
        ]  # fmt: skip
    paper = PAPER_REAL["settings"]
    rows, align_rows = [], []
    for s in _ordered(results):
        key = f"{s.get('vocab_mode')}|{s['schedule']}"
        ref = paper.get(key, {}) if s["length"] == 1 else {}
        name = setting_name(s["schedule"], names) + ("" if s["length"] == 1 else f", {s['length']:g}×")
        teff = [_fmt(s[f"teff_{lang}"].get(est)) for est in SHORT for lang in ("L1", "L2")]
        rows.append(
            [s.get("vocab_mode", "–"), name, f"{len(s['seeds'])}", _fmt(s["ppl_L1"]), _fmt(s["ppl_L2"]), *teff,
             " / ".join(f"{v:.2f}" for v in ref["ppl"]) if ref else "–",
             " / ".join(f"{v:.2f}" for v in ref["teff"]) if ref else "–"]
        )  # fmt: skip
        if "hidden_cosine_mean" in s:
            hidden = PAPER_REAL["alignment"]["hidden_cosine_mean"]["by_setting"].get(key)
            grad = PAPER_REAL["alignment"]["gradient_cosine_mean"]["by_setting"].get(key)
            align_rows.append(
                [s.get("vocab_mode", "–"), name, _fmt(s["hidden_cosine_mean"], 3),
                 _fmt(s["hidden_cosine_centred_mean"], 3), _fmt(s["retrieval_at_1_mean"], 3),
                 _fmt(s["gradient_cosine_mean"], 3), _fmt(hidden), _fmt(grad, 3)]
            )  # fmt: skip
    fits = {
        name: fit.get("power-law", {}).get("description") or fit.get("power-law", {}).get("error", "–")
        for name, fit in results["fits"].items()
    }
    return report_template("report_real.md").render(
        names=names,
        **scale_context(results, scale),
        mono_rows=mono_rows,
        fits=fits,
        rows=rows,
        align_rows=align_rows,
        pairs=results.get("pairs"),
        figures=figures,
        paper_about=PAPER_REAL["about"],
    )


def _figures(out: Path, results: dict[str, Any], laws: dict[int, dict[str, PowerLaw]]) -> dict[str, str]:
    from .plots import plot_power_law, plot_real_ppl_vs_p

    figures = {}
    for k, name in enumerate(results["languages"], 1):
        if laws.get(k) and plot_power_law(laws[k], out / f"power_law_{name}.png"):
            figures[f"power_law_{name}"] = f"power_law_{name}.png"
    if plot_real_ppl_vs_p(
        results, {results["languages"][k - 1]: law for k, law in laws.items()}, out / "ppl_vs_p.png"
    ):
        figures["ppl_vs_p"] = "ppl_vs_p.png"
    return figures
