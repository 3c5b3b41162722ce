"""The analysis of a finished grid: ``results.json``, then its figures (`figures`) and ``report.md`` (`report`).

Monolingual runs give the curve PPL(x) by both estimators of `efficiency.monolingual_curves` (the paper's power
law, with the fit that gave it and its diagnostics, and the log-log interpolation): one curve for cloned languages,
one per language for real ones (the English fit for English, the French fit for French). The bounded power law is
not among them (`efficiency.ESTIMATORS` says why). Every multilingual run gets, per language, its PPL, the tokens it
saw (from its own ``train_tokens_L{k}``), and TEff and MLPE by each estimator, each TEff labelled with its estimator,
its fit and that fit's diagnostics; TEff that needs the curve beyond the monolingual points is extrapolated and
marked. Runs are aligned on their final weights: clones on the parallel held-out blocks of their corpus
(`runs.align_run`), real languages on translation pairs with the paper's method (`runs.align_pairs`), measured once
and cached in the run folder; the gradient cosine is the mean over the tensors whose gradient is defined, with the
all-tensor mean beside it. Settings repeated over seeds are reported as mean ± standard deviation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.alignment import GRADIENT_MEANS
from ..analysis.efficiency import ESTIMATORS, PowerLaw, mlpe, monolingual_curves, token_efficiency
from ..common import GRID_CORPUS_CACHE, RunFiles, block_mean
from ..errors import ConfigError
from ..hub.cards import write_model_card
from .embeddings import embedding_similarity, embedding_summary
from .figures import write_figures
from .probes import probe_grid
from .report import render_report

PAPER_PPL = "test_L{k}_ppl"
VALIDATION_PPL = "eval_L{k}_ppl"
PPL_PROTOCOLS = {
    PAPER_PPL: "the paper's protocol (each language's test text as one stream, windows of the block size advanced "
    "by a quarter of it, the last quarter of each window scored)",
    VALIDATION_PPL: "every position of the held-out validation blocks (runs trained before the paper's protocol)",
}
"""The perplexities a grid can read TEff from, and what each is."""
CLONE_ALIGNMENT_SPLIT = "test"
"""Cloned runs are aligned on their corpus's test documents: text they never trained on."""
ALIGNMENT_MEANS = ("hidden_cosine", "hidden_cosine_centred", "retrieval_at_1", "cka")
"""The per-layer alignment measures whose mean over the blocks each setting reports."""
ESTIMATOR_TEXT = {
    "power-law": (
        "the paper's: 1/PPL = c - a·x^-b fitted to the monolingual runs as the paper did (curve_fit, no bounds, "
        "start (1, 1, 1)), or where that does not converge the unconstrained least-squares optimum (its 'fit' says "
        "which), inverted"
    ),
    "loglog-interpolation": "log PPL linear in log x between the monolingual points",
}
REAL_ESTIMATOR_TEXT = {
    "power-law": (
        "the paper's: 1/PPL = c - a·x^-b fitted to each language's monolingual runs as the paper did (curve_fit, no "
        "bounds, start (1, 1, 1)), or where that does not converge the unconstrained least-squares optimum (its "
        "'fit' says which), inverted"
    ),
    "loglog-interpolation": "log PPL linear in log x between each language's monolingual points",
}


def analyse(
    out: Path,
    scale: Any,
    runs: list[Any],
    align_blocks: int,
    pairs: str | None = None,
    probe: list[str] | None = None,
    embeddings: bool = False,
) -> dict[str, Any]:
    """Everything the report shows, computed from the finished run folders of ``out``; writes ``results.json``,
    the figures and ``report.md``. A grid of real languages (runs with a ``vocab_mode``) is aligned on ``pairs``;
    with ``probe`` (tasks), every bilingual run is probed downstream (`probes.probe_grid`); with ``embeddings``,
    every cloned bilingual run's clone-embedding similarity and its word2vec control (`embeddings`)."""
    if any(getattr(r, "vocab_mode", None) for r in runs):
        results, laws = _analyse_real(out, scale, runs, align_blocks, pairs)
    else:
        results, laws = _analyse_clones(out, scale, runs, align_blocks, embeddings)
    if probe:
        results["probe"] = probe_grid(out, runs, probe)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    figures = write_figures(out, results, laws)
    (out / "report.md").write_text(render_report(results, scale, figures))
    return results


def ppl_protocol(out: Path, runs: list[Any]) -> dict[str, str]:
    """The perplexity every TEff of the grid reads, the same on both sides (monolingual curve, bilingual runs): the
    paper's sliding window over the test text (``test_L{k}_ppl``) when every run measured it, else every position
    of the validation blocks (``eval_L{k}_ppl``: runs trained before the paper's protocol); and what it is."""
    if all("test_L1_tokens" in _load(out / "runs" / r.name) for r in runs):
        info = json.loads((out / "runs" / runs[0].name / RunFiles.RUN_INFO).read_text())
        text = info.get("evaluation", {}).get("test_L{k}_ppl", PPL_PROTOCOLS[PAPER_PPL])
        return {"key": PAPER_PPL, "protocol": text}
    return {"key": VALIDATION_PPL, "protocol": PPL_PROTOCOLS[VALIDATION_PPL]}


def _analyse_clones(
    out: Path, scale: Any, runs: list[Any], align_blocks: int, embeddings: bool = False
) -> tuple[dict[str, Any], Any]:
    budget = scale.budget_tokens
    ppl = ppl_protocol(out, runs)
    mono = sorted((r.fraction, _load(out / "runs" / r.name)[_ppl_key(ppl, 1)]) for r in runs if r.kind == "mono")
    laws, rows, fits = monolingual_fit(mono, budget)
    results: dict[str, Any] = {
        "budget_tokens": budget,
        "ppl": ppl,
        "estimators": dict(ESTIMATOR_TEXT),
        "monolingual": rows,
        "fits": fits,
        "runs": {},
    }
    anchored: dict[str, Any] = {}
    for r in runs:
        if r.kind != "multi":
            continue
        run_dir = out / "runs" / r.name
        if getattr(r, "clone_fraction", 1) != 1:  # the anchor sweep: PPL only (Figure 8)
            anchored[r.name] = analyse_run(run_dir, r, lambda k: laws, budget, None, ppl_key=ppl["key"])
            continue
        aligner = _clone_aligner(align_blocks, scale.gradient_pairs) if r.num_languages == 2 else None
        results["runs"][r.name] = analyse_run(run_dir, r, lambda k: laws, budget, aligner, ppl_key=ppl["key"])
        if embeddings and r.num_languages == 2 and r.length == 1:
            results["runs"][r.name]["embeddings"] = embedding_similarity(run_dir, str(out / GRID_CORPUS_CACHE))
    results["settings"] = by_setting(results["runs"])
    if anchored:
        results["anchor_runs"], results["anchors"] = anchored, by_setting(anchored)
    return results, laws


def _analyse_real(
    out: Path, scale: Any, runs: list[Any], align_blocks: int, pairs: str | None
) -> tuple[dict[str, Any], dict[int, dict[str, PowerLaw]]]:
    budget = scale.budget_tokens
    multi = [r for r in runs if r.kind == "multi"]
    info = json.loads((out / "runs" / (multi or runs)[0].name / RunFiles.RUN_INFO).read_text())
    names = info["tokenizer"].get("languages") or [f"L{k}" for k in range(1, info["num_languages"] + 1)]
    laws: dict[int, dict[str, PowerLaw]] = {}
    ppl = ppl_protocol(out, runs)
    results: dict[str, Any] = {
        "budget_tokens": budget,
        "ppl": ppl,
        "languages": names,
        "estimators": dict(REAL_ESTIMATOR_TEXT),
        "monolingual": {},
        "fits": {},
        "pairs": Path(pairs).name if pairs else None,
        "runs": {},
    }
    for k, name in enumerate(names, 1):
        mono = sorted((r.fraction, _load(out / "runs" / r.name)[_ppl_key(ppl, k)]) for r in runs if _mono_of(r, k))
        laws[k], results["monolingual"][name], results["fits"][name] = monolingual_fit(mono, budget)
    aligner = _pair_aligner(pairs, align_blocks, scale.gradient_pairs) if pairs else None
    for r in multi:
        results["runs"][r.name] = analyse_run(out / "runs" / r.name, r, laws.get, budget, aligner, ppl["key"])
    results["settings"] = by_setting(results["runs"])
    return results, laws


def _ppl_key(ppl: dict[str, str], language: int) -> str:
    return ppl["key"].replace("{k}", str(language))


def _mono_of(spec: Any, language: int) -> bool:
    return spec.kind == "mono" and getattr(spec, "language", 1) == language


def _load(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / RunFiles.ALL_RESULTS).read_text())


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


def analyse_run(
    run_dir: Path, spec: Any, laws_of: Any, budget: float, aligner: Any = None, ppl_key: str | None = None
) -> dict[str, Any]:
    """One multilingual run: per language its PPL, tokens, share, TEff and MLPE by the curves ``laws_of(k)`` gives
    for language k, and its alignment (``aligner(run_dir)``: a report entry, measured once and cached in the run
    folder). ``ppl_key`` (``test_L{k}_ppl`` or ``eval_L{k}_ppl``) is the perplexity read, the grid's for every run
    (default: the paper's where the run measured it). Writes the run's ``efficiency.json`` and model card."""
    res = _load(run_dir)
    ppl_key = ppl_key or (PAPER_PPL if "test_L1_tokens" in res else VALIDATION_PPL)
    info = json.loads((run_dir / RunFiles.RUN_INFO).read_text())
    langs = {}
    for k in range(1, spec.num_languages + 1):
        ppl, tokens = res[ppl_key.replace("{k}", str(k))], res[f"train_tokens_L{k}"]
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
    if getattr(spec, "clone_fraction", 1) != 1:  # the anchor sweep
        run["clone_fraction"], run["anchors"] = spec.clone_fraction, spec.anchors
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
    the report) by this version's definitions, else measured now with ``measure()`` and cached. A cache whose
    gradient cosine is the earlier all-tensor mean (no ``gradient_undefined_tensors``) is measured again."""
    cached = run_dir / RunFiles.ALIGNMENT_EVAL
    if cached.is_file():
        entry = json.loads(cached.read_text()).get("L1-L2", {})
        stale = settings.get("gradient_pairs") and "gradient_undefined_tensors" not in entry  # all-tensor headline
        if all(entry.get(k) == v for k, v in settings.items()) and not stale:
            return entry
    report = measure()
    cached.write_text(json.dumps(report, indent=2) + "\n")
    return report["L1-L2"]


def _clone_aligner(align_blocks: int, gradient_pairs: int) -> Any:
    """Alignment of a cloned run on the parallel blocks of its corpus's held-out test documents (`runs.align_run`),
    text the run never trained on."""
    from ..analysis.runs import align_run

    pairs = min(gradient_pairs, align_blocks)

    def align(run_dir: Path) -> dict[str, Any]:
        grid_cache = run_dir.parents[1] / GRID_CORPUS_CACHE  # <grid>/runs/<run>: the corpora the runs trained on
        cache = str(grid_cache) if grid_cache.is_dir() else None
        settings = {"gradient_pairs": pairs, "split": CLONE_ALIGNMENT_SPLIT}

        def measure() -> dict[str, Any]:
            return align_run(run_dir, blocks=align_blocks, split=settings["split"], gradient_blocks=pairs,
                             corpus_cache_dir=cache)  # fmt: skip

        return cached_alignment(run_dir, settings, measure)

    return align


def _pair_aligner(pairs: str, align_blocks: int, gradient_pairs: int) -> Any:
    """Alignment of a run on ``align_blocks`` parallel sequences packed from consecutive translation pairs (the
    paper's shape of text: `translation.parallel_sequences`), cached per run."""
    from ..analysis.runs import align_pairs

    grads = min(gradient_pairs, align_blocks)

    def align(run_dir: Path) -> dict[str, Any]:
        settings = {"gradient_pairs": grads, "pairs_file": Path(pairs).name, "packing": "sequences"}
        return cached_alignment(
            run_dir, settings, lambda: align_pairs(run_dir, pairs, pairs=align_blocks, gradient_pairs=grads)
        )

    return align


def by_setting(runs: dict[str, Any]) -> dict[str, Any]:
    """Mean and standard deviation over seeds of each setting's numbers (a setting: schedule, languages, length;
    for real languages also the vocabulary mode)."""
    groups: dict[str, list[dict]] = {}
    for run in runs.values():
        key = f"{run['schedule']}|{run['num_languages']}|{run['length']:g}"
        if "clone_fraction" in run:
            key += f"|{run['anchors']}|{run['clone_fraction']:g}"
        groups.setdefault(f"{run['vocab_mode']}|{key}" if "vocab_mode" in run else key, []).append(run)
    out = {}
    for key, members in groups.items():
        first = members[0]
        entry: dict[str, Any] = {
            **({"vocab_mode": first["vocab_mode"]} if "vocab_mode" in first else {}),
            **({k: first[k] for k in ("clone_fraction", "anchors")} if "clone_fraction" in first else {}),
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
                stats["fit"] = next((t["fit"] for t in found if t.get("fit")), None)  # one curve per grid
                entry[f"teff_{lang}"][name] = stats
                entry[f"mlpe_{lang}"][name] = first["languages"][lang]["mlpe"][name]
        if all("alignment" in m for m in members):
            for measure in (*ALIGNMENT_MEANS, "gradient_cosine_per_layer"):
                layers = np.array([m["alignment"][measure] for m in members], dtype=np.float64)
                entry[measure] = layers.mean(axis=0).tolist()
            for measure in GRADIENT_MEANS:
                entry[measure] = _stats([m["alignment"].get(measure) for m in members])
            entry["gradient_undefined_tensors"] = sorted(
                {name for m in members for name in m["alignment"].get("gradient_undefined_tensors", [])}
            )
            for measure in ALIGNMENT_MEANS:
                entry[f"{measure}_mean"] = _stats([block_mean(m["alignment"][measure]) for m in members])
        if all("embeddings" in m for m in members):
            entry["embeddings"] = embedding_summary([m["embeddings"] for m in members])
        out[key] = entry
    return out


def _stats(values: list[float | None]) -> dict[str, Any]:
    values = [v for v in values if v is not None]
    if not values:
        return {"mean": None, "std": None, "n": 0}
    arr = np.asarray(values, dtype=np.float64)
    return {"mean": float(arr.mean()), "std": float(arr.std(ddof=1)) if arr.size > 1 else None, "n": int(arr.size)}
