"""The real-language analysis: each language's TEff from its own monolingual curve, settings grouped by vocabulary
mode, and the report beside the paper's Table 3 (synthetic run folders, no training)."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from hf_clonelang.analysis.efficiency import interpolate_loglog
from hf_clonelang.reproduction.report import render_report, setting_name
from hf_clonelang.reproduction.results import analyse_run, by_setting
from hf_clonelang.reproduction.scales import SCALES

FRACTIONS = [0.05, 0.1, 0.2, 0.5, 1.0]
EN_CURVE = interpolate_loglog(FRACTIONS, [120.0, 80.0, 60.0, 45.0, 40.0])
FR_CURVE = interpolate_loglog(FRACTIONS, [100.0, 60.0, 45.0, 33.0, 30.0])  # another language, another curve
BUDGET = 1000


def _run(folder, name, schedule, shares, ppls, tokens):
    run = folder / name
    run.mkdir(parents=True)
    results = {f"eval_L{k}_ppl": ppls[k - 1] for k in (1, 2)} | {f"train_tokens_L{k}": tokens[k - 1] for k in (1, 2)}
    (run / "all_results.json").write_text(json.dumps(results))
    tokenizer = {"kind": "joint", "languages": ["en", "fr"], "vocab_mode": "anchored", "vocab_size": 9}
    info = {"num_languages": 2, "expected_shares": shares, "language_schedule": schedule, "tokenizer": tokenizer}
    (run / "run_info.json").write_text(json.dumps(info))
    return run


@pytest.fixture
def runs(tmp_path):
    laws = {1: {"loglog-interpolation": EN_CURVE}, 2: {"loglog-interpolation": FR_CURVE}}
    analysed = {}
    for mode in ("disjoint", "anchored"):
        for seed, jitter in ((0, 0.0), (1, 1.0)):
            spec = SimpleNamespace(schedule="0.9,0.1", num_languages=2, seed=seed, length=1.0, vocab_mode=mode)
            name = f"{mode}-p10-s{seed}"
            folder = _run(tmp_path, name, "0.9,0.1", [0.9, 0.1], [42.0 + jitter, 58.0 + jitter], [900, 100])
            analysed[name] = analyse_run(folder, spec, laws.get, BUDGET)
    return tmp_path, analysed


def test_each_language_gets_its_own_curve(runs):
    folder, analysed = runs
    run = analysed["anchored-p10-s0"]
    fr = run["languages"]["L2"]["teff"]["loglog-interpolation"]
    assert fr["teff"] == pytest.approx(FR_CURVE.fraction(58.0) * BUDGET / 100)  # the French curve, not the English
    en = run["languages"]["L1"]["teff"]["loglog-interpolation"]
    assert en["teff"] == pytest.approx(EN_CURVE.fraction(42.0) * BUDGET / 900)
    efficiency = json.loads((folder / "anchored-p10-s0" / "efficiency.json").read_text())
    assert set(efficiency["fits"]) == {"L1", "L2"}  # one fit per language, named in the model card
    assert "log-log" in (folder / "anchored-p10-s0" / "README.md").read_text()


def test_settings_are_grouped_by_vocabulary_mode_and_reported_beside_table_3(runs):
    _, analysed = runs
    settings = by_setting(analysed)
    assert set(settings) == {"disjoint|0.9,0.1|2|1", "anchored|0.9,0.1|2|1"}
    anchored = settings["anchored|0.9,0.1|2|1"]
    assert anchored["seeds"] == [0, 1] and anchored["ppl_L2"]["mean"] == pytest.approx(58.5)
    results = {
        "budget_tokens": BUDGET, "languages": ["en", "fr"], "pairs": None, "settings": settings,
        "monolingual": {n: [{"fraction": f, "tokens": int(f * BUDGET), "ppl": 50.0, "power_law_ppl": None}
                            for f in FRACTIONS] for n in ("en", "fr")},
        "fits": {n: {"power-law": {"error": "not fitted here"}} for n in ("en", "fr")},
    }  # fmt: skip
    report = render_report(results, SCALES["test"], {})  # the one renderer: real results get report_real.md
    row = next(line for line in report.splitlines() if line.startswith("| anchored | p(fr) = 0.1 |"))
    assert "| 2 | 42.50 ± 0.71 | 58.50 ± 0.71 |" in row and row.endswith("| 22.48 / 29.04 | 1.00 / 1.27 |")
    assert "Not measured: run `reproduce` with `--pairs FILE`" in report
    assert setting_name("0.1_0.9", ["en", "fr"]) == "schedule 0.1_0.9"


GUTENBERG = ([0.1, 0.5, 1.0, 2.0, 4.0], [124.68, 59.01, 47.40, 34.51, 26.89])
"""Monolingual runs whose perplexity has not begun to level off (docs/results.md): the paper's fit fails here."""


def _alignment(gradient, all_tensors):
    """An L1-L2 alignment entry as `gradient_alignment` and `hidden_alignment` give it (two blocks)."""
    layers = [0.1, 0.2, 0.3]
    return {
        **{key: layers for key in ("hidden_cosine", "hidden_cosine_centred", "retrieval_at_1", "cka")},
        "gradient_cosine_per_layer": [gradient, gradient],
        "gradient_cosine_mean": gradient,
        "gradient_cosine_mean_all_tensors": all_tensors,
        "gradient_cosine_summed_mean": gradient / 2,
        "gradient_undefined_tensors": [f"transformer.h.{i}.attn.c_attn.k.bias" for i in range(2)],
        "gradient_undefined_count": 2,
        "blocks": 8,
    }


def test_the_clone_report_and_card_say_which_fit_and_which_gradient_mean(tmp_path):
    from hf_clonelang.reproduction.results import monolingual_fit

    budget = SCALES["test"].budget_tokens
    laws, rows, fits = monolingual_fit(list(zip(*GUTENBERG, strict=True)), budget)
    assert fits["power-law"]["fit"] == "unconstrained" and fits["power-law"]["paper_fit_converged"] is False
    analysed = {}
    for schedule, shares, ppls, (grad, every) in (
        ("0.5,0.5", [0.5, 0.5], [55.0, 55.2], (0.1, 0.09)),
        ("0.9,0.1", [0.9, 0.1], [48.0, 76.0], (0.4, 0.38)),
    ):
        folder = _run(tmp_path, f"bi-{schedule}", schedule, shares, ppls, [shares[0] * budget, shares[1] * budget])
        saved = json.loads((folder / "all_results.json").read_text())
        losses = {f"eval_L{k}_loss": float(np.log(ppl)) for k, ppl in enumerate(ppls, 1)}  # the card's rows
        (folder / "all_results.json").write_text(json.dumps(saved | losses))
        spec = SimpleNamespace(schedule=schedule, num_languages=2, seed=0, length=1.0)
        analysed[folder.name] = analyse_run(folder, spec, lambda k: laws, budget, lambda d, g=grad, e=every: {
            **_alignment(g, e)})  # fmt: skip
    teff = analysed["bi-0.9,0.1"]["languages"]["L2"]["teff"]["power-law"]
    assert teff["estimator"] == "power-law" and teff["fit"] == "unconstrained"  # every TEff says which fit
    assert teff["fit_diagnostics"]["max_relative_error"] < 0.04 and teff["fit_diagnostics"]["acceptable"]
    settings = by_setting(analysed)
    assert settings["0.9,0.1|2|1"]["teff_L2"]["power-law"]["fit"] == "unconstrained"
    assert settings["0.9,0.1|2|1"]["gradient_cosine_mean_all_tensors"]["mean"] == pytest.approx(0.38)
    results = {"budget_tokens": budget, "monolingual": rows, "fits": fits, "runs": analysed, "settings": settings}
    report = render_report(results, SCALES["test"], {})
    assert "| TEff L1 (power law, unconstrained fit) | TEff L2 (power law, unconstrained fit) |" in report
    assert "(unconstrained fit; the paper's fit did not converge): acceptable" in report
    assert "| gradient cosine (defined tensors) | gradient cosine (all tensors) |" in report
    assert "| 90/10 | 1× | 0.250 | 0.250 | 0.250 | 0.250 | 0.400 | 0.380 | 0.200 |" in report
    assert "left out, as they have no gradient: `attn.c_attn.k.bias` (2 layers)" in report
    assert "0.073 vs 0.552, to compare with our first gradient column; over all its cells 0.072 vs 0.534" in report
    card = (tmp_path / "bi-0.9,0.1" / "README.md").read_text()
    assert "| TEff (power law) | power-law fit |" in card and "| unconstrained |" in card
    assert "did not converge" in card  # the efficiency line: the fit and its diagnostics


def test_the_card_tells_the_gradient_means_apart(tmp_path):
    from hf_clonelang.hub.cards import render_model_card

    run = _run(tmp_path, "clones", "0.9,0.1", [0.9, 0.1], [40.0, 50.0], [900, 100])
    (run / "alignment.json").write_text(json.dumps({"L1-L2": _alignment(0.5, 0.47)}))
    card = render_model_card(run)
    assert "| gradient cosine (defined tensors) | gradient cosine (all tensors) |" in card
    assert "| 0.500 | 0.470 |" in card and "(`attn.c_attn.k.bias` has none and is left out)" in card
    old = {k: v for k, v in _alignment(0.47, None).items() if not k.startswith("gradient_undefined")}
    (run / "alignment.json").write_text(json.dumps({"L1-L2": old}))  # written before the two means were told apart
    assert "| – | 0.470 |" in render_model_card(run)


def test_teff_reads_the_papers_test_perplexity_on_both_sides(tmp_path):
    """A grid whose runs measured the paper's sliding-window test perplexity reads TEff from it, on the monolingual
    curve and on every bilingual run alike, and says so; a grid of older runs reads the validation blocks."""
    import json

    from hf_clonelang.reproduction.results import PAPER_PPL, VALIDATION_PPL, ppl_protocol

    specs = [SimpleNamespace(name=f"mono-{f:g}", kind="mono", fraction=f) for f in FRACTIONS]
    specs.append(SimpleNamespace(name="bi", kind="multi", fraction=1.0))
    for i, spec in enumerate(specs):
        _run(tmp_path / "runs", spec.name, "0.9,0.1", [0.9, 0.1], [100.0 - i, 100.0 - i], [900, 100])
    assert ppl_protocol(tmp_path, specs)["key"] == VALIDATION_PPL  # runs from before: the validation blocks
    for spec in specs:  # now every run measured the paper's perplexity too
        path = tmp_path / "runs" / spec.name / "all_results.json"
        results = json.loads(path.read_text())
        results |= {"test_L1_ppl": 2 * results["eval_L1_ppl"], "test_L2_ppl": 3 * results["eval_L2_ppl"]}
        path.write_text(json.dumps(results | {"test_L1_tokens": 100, "test_L2_tokens": 100}))
    chosen = ppl_protocol(tmp_path, specs)
    assert chosen["key"] == PAPER_PPL and "windows" in chosen["protocol"]
    run = analyse_run(tmp_path / "runs" / "bi", SimpleNamespace(schedule="0.9,0.1", num_languages=2, seed=0,
                                                                length=1.0), lambda k: {}, BUDGET)  # fmt: skip
    assert run["languages"]["L2"]["ppl"] == 3 * (100.0 - len(FRACTIONS))  # the test text's, not the validation's
