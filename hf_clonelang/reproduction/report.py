"""``report.md`` of a grid, from its ``results.json``: one renderer for cloned and real-language grids.

The prose, headings and table layout live in the Jinja2 templates ``model_cards/report.md`` (clones: the paper's
Tables 1 and 2, longer training) and ``model_cards/report_real.md`` (real languages: Tables 3 and 4); this module
formats the cells. The paper's numbers (`paper`) sit beside ours only where they were computed the same way: its
TEff comes from its power law, so only that column compares like with like, and every power-law column names the fit
that gave it (the paper's call, or the unconstrained optimum where that does not converge); ``*`` marks TEff
extrapolated beyond the monolingual points. The gradient cosine is the mean over the tensors whose gradient is
defined, beside the paper's Figure 11 without its key-bias row; the all-tensor means sit in columns of their own.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
import numpy as np

from ..analysis.alignment import GRADIENT_MEANS, tensor_kind
from ..analysis.efficiency import FIT_TEXT, MAX_RELATIVE_ERROR
from ..model_cards import read_template
from .paper import PAPER, PAPER_DATA, PAPER_LENGTHS, PAPER_REAL
from .plan import SETTING_NAMES
from .probes import PAPER_PROBE, probe_rows

SHORT = {"power-law": "power law", "loglog-interpolation": "log-log interp."}
FIGURES = ("power_law", "ppl_vs_p", "lengths", "alignment", "probe", "teff_vs_p", "embeddings_vs_p",
           "embeddings_by_count", "anchors")  # fmt: skip
"""The clone report's figures, as `figures` names them."""
REAL_SETTING_ORDER = ("0.9,0.1", "0.5,0.5", "0.1,0.9", "0.1_0.9")


def render_report(results: dict[str, Any], scale: Any, figures: dict[str, str]) -> str:
    """The markdown report of ``results`` (as ``results.json`` holds them) at ``scale``; ``figures`` names the
    image files written next to it. A real-language grid (its results name the ``languages``) gets
    ``report_real.md``, a cloned one ``report.md``."""
    if "languages" in results:
        context = _real_context(results) | {"figures": figures}
        return report_template("report_real.md").render(
            **_scale_context(results, scale), **context, **_probe_context(results, figures)
        )
    return report_template("report.md").render(
        **_scale_context(results, scale),
        **_probe_context(results, figures),
        figures={name: figures.get(name) for name in FIGURES},
        **_monolingual_context(results),
        efficiency_rows=_efficiency_rows(results),
        **_sweep_context(results),
        lengths_rows=_lengths_rows(results),
        **_alignment_context(results),
    )


def _sweep_context(results: dict[str, Any]) -> dict[str, Any]:
    """The share sweep's paper points, Figures 6-7 (embedding similarity) and Figure 8 (anchors)."""
    sweep = PAPER_DATA["share_sweep"]["ppl_by_share"]
    paper_sweep = "; ".join(f"{p}: {v[0]:g} / {v[1]:g}" for p, v in sweep.items())
    emb = PAPER_DATA["embeddings"]
    paper_embeddings = ", ".join(f"{v:g} at {p}" for p, v in emb["input_by_share"].items())
    rows = []
    for s in sorted(results["settings"].values(), key=lambda s: (s["length"], s["share_L2"])):
        e = s.get("embeddings")
        if not e:
            continue
        cells = []
        for model in ("transformer", "word2vec"):
            for table in ("input", "output"):
                entry = e[model].get(table)
                cells += [_fmt(entry["seen"], 3), _fmt(entry["all_pairs_baseline"], 3)] if entry else ["–", "–"]
        rows.append([_name(s), *cells])
    anchor_rows = []
    paper_anchors = {float(k): v for k, v in PAPER_DATA["anchors"]["ppl_l1_by_anchored_fraction"].items()}
    for s in sorted(results.get("anchors", {}).values(), key=lambda s: (s["anchors"], -s["clone_fraction"])):
        share = round(1 - s["clone_fraction"], 6)
        known = paper_anchors.get(share)
        anchor_rows.append([s["anchors"], f"{share:g}", f"{s['clone_fraction']:g}", _fmt(s["ppl_L1"]),
                            _fmt(s["ppl_L2"]), f"{known:.2f}" if known else "–"])  # fmt: skip
    references = ", ".join(
        f"{p['fraction']:.0%} {p['ppl']:.2f}" for p in results.get("monolingual", []) if 0.5 <= p["fraction"] <= 1.0
    )
    return {
        "paper_sweep": paper_sweep,
        "embedding_rows": rows,
        "paper_embeddings": paper_embeddings,
        "anchor_rows": anchor_rows,
        "anchor_references": references or "–",
    }


def _probe_context(results: dict[str, Any], figures: dict[str, str]) -> dict[str, Any]:
    """The downstream probe's section (``--probe``): its table, recipe and figure; None without a probe."""
    probe = results.get("probe")
    if not probe:
        return {"probe": None}
    header, rows = probe_rows(probe)
    return {
        "probe": {
            "header": header,
            "rows": rows,
            "datasets": ", ".join(probe["datasets"]),
            "figure": figures.get("probe"),
            "paper_source": PAPER_PROBE["source"],
        }
    }


@cache
def report_template(name: str) -> jinja2.Template:
    """A report template of ``model_cards/`` compiled (undefined names are errors, blocks trimmed)."""
    env = jinja2.Environment(
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined
    )
    return env.from_string(read_template(name))


def _scale_context(results: dict[str, Any], scale: Any) -> dict[str, Any]:
    """What both templates say of the scale (budget, steps, batch, block size, model, vocabulary) and of the
    perplexity every TEff reads (a grid analysed before the protocol was recorded read the validation blocks)."""
    protocol = results.get("ppl", {}).get("protocol", "every position of the held-out validation blocks")
    return {
        "ppl_protocol": protocol,
        "budget_tokens": f"{results['budget_tokens']:,}",
        "steps": scale.steps,
        "batch": scale.batch,
        "block_size": scale.block_size,
        "model": scale.model,
        "vocab_size": scale.vocab_size,
    }


# ---------------------------------------------------------------------- cells
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
    known = SETTING_NAMES.get((s["schedule"], s["num_languages"]))
    if known:
        return known
    parts = s["schedule"].split(",")
    if s["num_languages"] == 2 and len(parts) == 2:  # a constant share of the sweep: 95/5
        return "/".join(f"{100 * float(x):g}" for x in parts)
    return f"{s['schedule']} ({s['num_languages']})"


def _length(length: float) -> str:
    return f"{length:g}×"


def fit_label(fit: dict[str, Any]) -> str:
    """The power law's fit as a table header names it ("the paper's fit", "unconstrained fit"), or "no fit"."""
    return FIT_TEXT.get(fit.get("fit") or "", "no fit")


def _monolingual_rows(points: list[dict[str, Any]], power: dict[str, Any]) -> list[list[str]]:
    """The monolingual table: fraction, tokens, PPL, the power law's PPL and its relative error."""
    errors = power.get("relative_errors") or [None] * len(points)
    return [
        [f"{p['fraction']:g}", f"{p['tokens']:,}", f"{p['ppl']:.2f}", _fmt(p["power_law_ppl"]),
         "–" if e is None else f"{100 * e:+.1f}%"]
        for p, e in zip(points, errors, strict=True)
    ]  # fmt: skip


# ---------------------------------------------------------------------- cloned languages
def _monolingual_context(results: dict[str, Any]) -> dict[str, Any]:
    """The monolingual table's rows and the power law's description and parameters."""
    power = results["fits"].get("power-law", {})
    parameters = None
    if power.get("b") is not None and power.get("description"):
        parameters = {k: f"{power[k]:.4g}" for k in "abc"} | {
            "acceptable": bool(power.get("acceptable")),
            "fit": fit_label(power),
            "paper_fit_converged": power.get("paper_fit_converged"),
            "max_error": f"{MAX_RELATIVE_ERROR:.0%}",
        }
    return {
        "monolingual_rows": _monolingual_rows(results["monolingual"], power),
        "power_law": f"{power.get('description') or power.get('error')}",
        "parameters": parameters,
        "power_fit": fit_label(power),
    }


def _efficiency_rows(results: dict[str, Any]) -> list[list[str]]:
    """Per setting: PPL, TEff by both estimators, MLPE, and the paper's numbers at 1×."""
    rows = []

    def order(s: dict[str, Any]) -> tuple:
        parts = s["schedule"].split(",")  # constant shares by p(L2), the schedules after them
        return (s["length"], s["num_languages"], len(parts) != 2, -float(parts[0]) if len(parts) == 2 else 0)

    for s in sorted(results["settings"].values(), key=order):
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
        [_name(s), _length(s["length"])] + [_fmt(s.get(m), 3) for m in (*means, *GRADIENT_MEANS)]
        for s in sorted(aligned, key=lambda s: (s["length"], s["schedule"]))
    ]
    paper = {m: PAPER[m] for m in ("hidden_cosine_mean", "gradient_cosine_mean", "gradient_cosine_mean_all_tensors")}
    undefined = sorted({name for s in aligned for name in s.get("gradient_undefined_tensors", [])})
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
    return {
        "alignment_rows": rows,
        "paper_alignment": paper,
        "per_layer_rows": per_layer,
        "undefined_tensors": _tensor_kinds(undefined),
    }


def _tensor_kinds(names: list[str]) -> str:
    """Tensor names without their layer (``attn.c_attn.k.bias`` for every ``transformer.h.{i}.attn.c_attn.k.bias``),
    with how many there are: what the gradient means leave out."""
    kinds: dict[str, int] = {}
    for name in names:
        kinds[tensor_kind(name)] = kinds.get(tensor_kind(name), 0) + 1
    return ", ".join(f"`{kind}` ({count} layers)" for kind, count in kinds.items()) or "none"


# ---------------------------------------------------------------------- real languages
def setting_name(schedule: str, names: list[str]) -> str:
    """``p(fr) = 0.1`` for constant two-language mixes, the schedule string otherwise."""
    parts = schedule.split(",")
    if len(parts) == 2 and "_" not in schedule:
        return f"p({names[1]}) = {float(parts[1]):g}"
    return f"schedule {schedule}"


def _real_ordered(results: dict[str, Any]) -> list[dict[str, Any]]:
    def key(s: dict[str, Any]) -> tuple:
        order = (
            REAL_SETTING_ORDER.index(s["schedule"]) if s["schedule"] in REAL_SETTING_ORDER else len(REAL_SETTING_ORDER)
        )
        return (s["length"], s.get("vocab_mode", ""), order, s["schedule"])

    return sorted(results["settings"].values(), key=key)


def _real_context(results: dict[str, Any]) -> dict[str, Any]:
    """Per language its monolingual table and fit; per vocabulary mode and setting PPL and TEff beside the paper's
    Table 3, and the alignment on translation pairs beside its Table 4."""
    names = results["languages"]
    mono_rows = {
        name: _monolingual_rows(points, results["fits"][name].get("power-law", {}))
        for name, points in results["monolingual"].items()
    }
    paper = PAPER_REAL["settings"]
    rows, align_rows = [], []
    for s in _real_ordered(results):
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
                 _fmt(s["gradient_cosine_mean"], 3), _fmt(s.get("gradient_cosine_mean_all_tensors"), 3),
                 _fmt(hidden), _fmt(grad, 3)]
            )  # fmt: skip
    fits = {
        name: fit.get("power-law", {}).get("description") or fit.get("power-law", {}).get("error", "–")
        for name, fit in results["fits"].items()
    }
    power_fit = {name: fit_label(fit.get("power-law", {})) for name, fit in results["fits"].items()}
    return {
        "names": names,
        "mono_rows": mono_rows,
        "fits": fits,
        "power_fit": power_fit,
        "rows": rows,
        "align_rows": align_rows,
        "pairs": results.get("pairs"),
        "paper_about": PAPER_REAL["about"],
    }
