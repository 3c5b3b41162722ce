"""The real-language analysis: each language's TEff from its own monolingual curve, settings grouped by vocabulary
mode, and the report beside the paper's Table 3 (synthetic run folders, no training)."""

import json
from types import SimpleNamespace

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
