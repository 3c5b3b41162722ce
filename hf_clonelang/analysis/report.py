"""The analysis of a reproduction grid: paper-style tables (``report.md``), ``results.json`` and figures.

Monolingual runs give the curve PPL(x) by both estimators of `efficiency.monolingual_curves` (the paper's power
law, with its diagnostics, and the log-log interpolation); every multilingual run gets, per language, its PPL, the
tokens it saw (from its own ``train_tokens_L{k}``), and TEff and MLPE by each estimator, labelled. Runs of longer
training (``length`` > 1) are compared with 50/50 at the same length — the paper's "does 90/10 beat 50/50 on both
languages?". Runs are aligned on their final weights (`runs.align_run`). Settings repeated over seeds are reported
as mean ± standard deviation. TEff that needs the curve beyond the monolingual points is extrapolated and marked
``*``; the paper's TEff numbers come from the power law, so only that column compares like with like.

The paper's numbers come from ``paper.json`` (each with its source in the paper); ``report.md`` is rendered from the
Jinja2 template ``model_cards/report.md``, which holds its prose and layout, with the cells computed here.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from ..common import GRID_CORPUS_CACHE, RunFiles, block_mean
from ..errors import ConfigError
from ..hub.cards import write_model_card
from .efficiency import ESTIMATORS, PowerLaw, mlpe, monolingual_curves, token_efficiency

PAPER_DATA: dict[str, Any] = json.loads(
    resources.files("hf_clonelang.analysis").joinpath("paper.json").read_text(encoding="utf-8")
)
"""The paper's reference numbers (GPT small) as ``paper.json`` holds them, each with its source in the paper."""


def _paper_tables(data: dict[str, Any]) -> tuple[dict[str, Any], dict[float, dict[str, tuple[float, ...]]]]:
    """`PAPER` and `PAPER_LENGTHS` from ``paper.json``: the numbers the report compares with, without the sources."""
    paper: dict[str, Any] = {
        "monolingual": {p["fraction"]: p["ppl"] for p in data["monolingual"] if not p.get("approximate")},
    }
    for schedule, row in data["settings"].items():
        paper[schedule] = {"ppl": tuple(row["ppl"]), "teff": tuple(row["teff"])}
    for measure, entry in data["alignment"].items():
        paper[measure] = dict(entry["by_setting"])
    lengths = {
        float(row["length"]): {schedule: tuple(ppl) for schedule, ppl in row["ppl"].items()} for row in data["lengths"]
    }
    return paper, lengths


PAPER, PAPER_LENGTHS = _paper_tables(PAPER_DATA)
"""``PAPER``: GPT small at 1× (1.2B tokens): monolingual PPL by fraction (Table 1), PPL and TEff (L1, L2) by setting
(Table 1; TEff from the paper's power law), mean hidden cosine (Table 2) and gradient cosine (Figure 11) by setting.
``PAPER_LENGTHS``: PPL (L1, L2) by setting at 2× / 3× the tokens (Table 1) and 4× (read off Figure 2, approximate)."""

SETTING_NAMES = {
    ("0.5,0.5", 2): "50/50", ("0.9,0.1", 2): "90/10", ("0.1_0.9", 2): "schedule 0.1_0.9",
    ("uniform", 10): "10 languages, uniform", ("l1:0.5", 10): "10 languages, L1 50%",
}  # fmt: skip
SHORT = {"power-law": "power law", "loglog-interpolation": "log-log interp."}
ALIGNMENT_MEANS = ("hidden_cosine", "hidden_cosine_centred", "retrieval_at_1", "cka")
FIGURES = ("power_law", "ppl_vs_p", "lengths", "alignment")  # the report's figures, by the names `_figures` gives


def _load(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / RunFiles.ALL_RESULTS).read_text())


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


def analyse(out: Path, scale: Any, runs: list[Any], align_blocks: int, pairs: str | None = None) -> dict[str, Any]:
    """Everything the report shows, computed from the finished run folders of ``out``; writes the report. A grid of
    real languages (runs with a ``vocab_mode``) goes to `real_report.analyse_real` (aligned on ``pairs``)."""
    if any(getattr(r, "vocab_mode", None) for r in runs):
        from .real_report import analyse_real

        return analyse_real(out, scale, runs, align_blocks, pairs)
    budget = scale.budget_tokens
    mono = sorted((r.fraction, _load(out / "runs" / r.name)["eval_L1_ppl"]) for r in runs if r.kind == "mono")
    laws, rows, fits = monolingual_fit(mono, budget)
    results: dict[str, Any] = {
        "budget_tokens": budget,
        "estimators": {
            "power-law": "the paper's: 1/PPL = c - a·x^-b fitted to the monolingual runs, inverted",
            "loglog-interpolation": "log PPL linear in log x between the monolingual points",
        },
        "monolingual": rows,
        "fits": fits,
        "runs": {},
    }
    for r in runs:
        if r.kind != "multi":
            continue
        run_dir = out / "runs" / r.name
        aligner = _clone_aligner(align_blocks, scale.gradient_pairs) if r.num_languages == 2 else None
        results["runs"][r.name] = analyse_run(run_dir, r, lambda k: laws, budget, aligner)
    results["settings"] = by_setting(results["runs"])
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    figures = _figures(out, results, laws)
    (out / "report.md").write_text(render_report(results, scale, figures))
    return results


def monolingual_fit(
    points: list[tuple[float, float]], budget: float
) -> tuple[dict[str, PowerLaw], list[dict[str, Any]], dict[str, Any]]:
    """The monolingual curve of (fraction of the budget, PPL) ``points`` by both estimators: the curves that fit
    (none when there are too few points or the PPL does not fall), the table rows (with the power law's PPL at each
    point) and every estimator's fit or error, as ``results.json`` keeps them."""
    try:
        curves = monolingual_curves([f for f, _ in points], [p for _, p in points])
    except ConfigError as err:  # too few points, or a curve that does not fall: no TEff at all
        curves = {name: err for name in ESTIMATORS}
    laws = {name: c for name, c in curves.items() if isinstance(c, PowerLaw)}
    power = laws.get("power-law")
    rows = [
        {
            "fraction": f,
            "tokens": round(f * budget),
            "ppl": p,
            "power_law_ppl": None if power is None else float(power.ppl(f)),
        }
        for f, p in points
    ]
    fits = {name: c.to_dict() if isinstance(c, PowerLaw) else {"error": str(c)} for name, c in curves.items()}
    return laws, rows, fits


def analyse_run(run_dir: Path, spec: Any, laws_of: Any, budget: float, aligner: Any = None) -> dict[str, Any]:
    """One multilingual run: per language its PPL, tokens, share, TEff and MLPE by the curves ``laws_of(k)`` gives
    for language k, and its alignment (``aligner(run_dir)``: a report entry, measured once and cached in the run
    folder). Writes the run's ``efficiency.json`` and model card."""
    res = _load(run_dir)
    info = json.loads((run_dir / RunFiles.RUN_INFO).read_text())
    langs = {}
    for k in range(1, spec.num_languages + 1):
        ppl, tokens = res[f"eval_L{k}_ppl"], res[f"train_tokens_L{k}"]
        share = info["expected_shares"][k - 1]
        entry: dict[str, Any] = {"ppl": ppl, "tokens": tokens, "share": share}
        laws = laws_of(k)
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
    if getattr(spec, "vocab_mode", None):
        run["vocab_mode"] = spec.vocab_mode
    if aligner is not None:
        run["alignment"] = aligner(run_dir)
    teffs = {k: v["teff"] for k, v in langs.items() if "teff" in v}
    if teffs:  # the run's model card shows TEff once monolingual references exist
        fits = {
            f"L{k}": {n: law.describe() for n, law in (laws_of(k) or {}).items()}
            for k in range(1, spec.num_languages + 1)
        }
        if all(laws_of(k) is laws_of(1) for k in range(1, spec.num_languages + 1)):  # clones: the one curve
            fits = fits["L1"]
        (run_dir / RunFiles.EFFICIENCY).write_text(json.dumps({**teffs, "fits": fits}, indent=2) + "\n")
    write_model_card(run_dir)
    return run


def cached_alignment(run_dir: Path, settings: dict[str, Any], measure: Any) -> dict[str, Any]:
    """The run's L1-L2 alignment from ``alignment_eval.json`` when it was measured with ``settings`` (entries of
    the report), else measured now with ``measure()`` and cached (this version's definitions)."""
    cached = run_dir / RunFiles.ALIGNMENT_EVAL
    if cached.is_file():
        entry = json.loads(cached.read_text()).get("L1-L2", {})
        if all(entry.get(k) == v for k, v in settings.items()):
            return entry
    report = measure()
    cached.write_text(json.dumps(report, indent=2) + "\n")
    return report["L1-L2"]


def _clone_aligner(align_blocks: int, gradient_pairs: int) -> Any:
    """Alignment of a cloned run on the parallel held-out blocks of its corpus (`runs.align_run`)."""
    from .runs import align_run

    pairs = min(gradient_pairs, align_blocks)

    def align(run_dir: Path) -> dict[str, Any]:
        grid_cache = run_dir.parents[1] / GRID_CORPUS_CACHE  # <grid>/runs/<run>: the corpora the runs trained on
        cache = str(grid_cache) if grid_cache.is_dir() else None
        return cached_alignment(
            run_dir,
            {"gradient_pairs": pairs},
            lambda: align_run(run_dir, blocks=align_blocks, gradient_blocks=pairs, corpus_cache_dir=cache),
        )

    return align


def by_setting(runs: dict[str, Any]) -> dict[str, Any]:
    """Mean and standard deviation over seeds of each setting's numbers (a setting: schedule, languages, length)."""
    groups: dict[str, list[dict]] = {}
    for run in runs.values():
        key = f"{run['schedule']}|{run['num_languages']}|{run['length']:g}"
        groups.setdefault(f"{run['vocab_mode']}|{key}" if "vocab_mode" in run else key, []).append(run)
    out = {}
    for key, members in groups.items():
        first = members[0]
        entry: dict[str, Any] = {
            **({"vocab_mode": first["vocab_mode"]} if "vocab_mode" in first else {}),
            "schedule": first["schedule"],
            "num_languages": first["num_languages"],
            "length": first["length"],
            "seeds": [m["seed"] for m in members],
        }
        for lang in ("L1", "L2"):
            entry[f"ppl_{lang}"] = _stats([m["languages"][lang]["ppl"] for m in members])
            entry[f"share_{lang}"] = first["languages"][lang]["share"]  # the schedule's expected share
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


@cache
def report_template(name: str = "report.md") -> jinja2.Template:
    """A report template of ``model_cards/`` (``report.md``, ``report_real.md``): prose, headings, table layout."""
    text = resources.files("hf_clonelang.model_cards").joinpath(name).read_text(encoding="utf-8")
    env = jinja2.Environment(
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined
    )
    return env.from_string(text)


def scale_context(results: dict[str, Any], scale: Any) -> dict[str, Any]:
    """What both report templates say of the scale: budget, steps, batch, block size, model, vocabulary."""
    return {
        "budget_tokens": f"{results['budget_tokens']:,}",
        "steps": scale.steps,
        "batch": scale.batch,
        "block_size": scale.block_size,
        "model": scale.model,
        "vocab_size": scale.vocab_size,
    }


def render_report(results: dict[str, Any], scale: Any, figures: dict[str, str]) -> str:
    """The markdown report of ``results`` (as `analyse` saves them in ``results.json``) from the ``report.md``
    template; ``figures`` names the image files written next to it."""
    return report_template().render(
        **scale_context(results, scale),
        figures={name: figures.get(name) for name in FIGURES},
        **_monolingual_context(results),
        efficiency_rows=_efficiency_rows(results),
        lengths_rows=_lengths_rows(results),
        **_alignment_context(results),
    )


def _monolingual_context(results: dict[str, Any]) -> dict[str, Any]:
    """The monolingual table's rows and the power law's description and parameters."""
    power = results["fits"].get("power-law", {})
    errors = power.get("relative_errors") or [None] * len(results["monolingual"])
    rows = [
        [
            f"{row['fraction']:g}",
            f"{row['tokens']:,}",
            f"{row['ppl']:.2f}",
            _fmt(row["power_law_ppl"]),
            "–" if err is None else f"{100 * err:+.1f}%",
        ]
        for row, err in zip(results["monolingual"], errors, strict=True)
    ]
    parameters = None
    if power.get("b") is not None and power.get("description"):
        parameters = {k: f"{power[k]:.4g}" for k in "abc"} | {"acceptable": bool(power.get("acceptable"))}
    return {
        "monolingual_rows": rows,
        "power_law": f"{power.get('description') or power.get('error')}",
        "parameters": parameters,
    }


def _efficiency_rows(results: dict[str, Any]) -> list[list[str]]:
    """Per setting: PPL, TEff by both estimators, MLPE, and the paper's numbers at 1×."""
    rows = []
    for s in sorted(results["settings"].values(), key=lambda s: (s["length"], s["num_languages"])):
        paper = PAPER.get(s["schedule"], {}) if s["length"] == 1 else {}
        pp = " / ".join(f"{v:.2f}" for v in paper["ppl"]) if "ppl" in paper else "–"
        pt = " / ".join(f"{v:.2f}" for v in paper["teff"]) if "teff" in paper else "–"
        teff = [_fmt(s[f"teff_{lang}"].get(name)) for name in SHORT for lang in ("L1", "L2")]
        mlpe_pl = " / ".join(_fmt(s[f"mlpe_{lang}"].get("power-law")) for lang in ("L1", "L2"))
        name = f"{_name(s)} (seeds {','.join(map(str, s['seeds']))})"
        rows.append([name, _length(s["length"]), _fmt(s["ppl_L1"]), _fmt(s["ppl_L2"]), *teff, mlpe_pl, pp, pt])
    return rows


def _lengths_rows(results: dict[str, Any]) -> list[list[str]]:
    """Longer training: does 90/10 (or the schedule) end better than 50/50 on both languages? No rows (and no
    section) unless the bilingual runs cover several lengths."""
    settings = {(s["schedule"], s["length"]): s for s in results["settings"].values() if s["num_languages"] == 2}
    lengths = sorted({length for _, length in settings})
    if len(lengths) < 2:
        return []
    rows = []
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
        rows.append([_length(length), tokens, _pair(base), *cells, paper_text])
    return rows


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


def _alignment_context(results: dict[str, Any]) -> dict[str, Any]:
    """The alignment means per setting, the paper's, and 50/50 against 90/10 per layer at 1× (when both ran)."""
    aligned = [s for s in results["settings"].values() if "hidden_cosine" in s]
    means = ("hidden_cosine_mean", "hidden_cosine_centred_mean", "retrieval_at_1_mean", "cka_mean")
    rows = [
        [_name(s), _length(s["length"])]
        + [_fmt(s[m], 3) for m in (*means, "gradient_cosine_mean", "gradient_cosine_summed_mean")]
        for s in sorted(aligned, key=lambda s: (s["length"], s["schedule"]))
    ]
    paper = {m: PAPER[m] for m in ("hidden_cosine_mean", "gradient_cosine_mean")}
    by_key = {(s["schedule"], s["length"]): s for s in aligned}
    a, b = by_key.get(("0.5,0.5", 1.0)), by_key.get(("0.9,0.1", 1.0))
    per_layer = []
    if a is not None and b is not None:
        grads_a = [None, *a["gradient_cosine_per_layer"]]
        grads_b = [None, *b["gradient_cosine_per_layer"]]
        for layer in range(len(a["hidden_cosine"])):
            per_layer.append(
                [str(layer)]
                + [
                    f"{s[m][layer]:.3f}"
                    for m in ("hidden_cosine", "hidden_cosine_centred", "retrieval_at_1")
                    for s in (a, b)
                ]
                + [_fmt(g[layer], 3) if layer < len(g) else "–" for g in (grads_a, grads_b)]
            )
        per_layer.append(["**mean**"] + [_fmt(s[m], 3) for m in (*means[:3], "gradient_cosine_mean") for s in (a, b)])
    return {"alignment_rows": rows, "paper_alignment": paper, "per_layer_rows": per_layer}


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
