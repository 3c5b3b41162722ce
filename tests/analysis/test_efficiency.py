"""Power-law fit, inversion, TEff / MLTE / MLPE, and the check against the paper's own numbers."""

import numpy as np
import pytest

from hf_clonelang import ConfigError
from hf_clonelang.analysis.efficiency import fit_power_law, mlpe, monolingual_curves, token_efficiency
from hf_clonelang.reproduction.paper import PAPER, PAPER_DATA

FRACTIONS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0]


def _ppl(x, a=0.02, b=0.4, c=0.12):
    return 1.0 / (c - a * np.asarray(x) ** (-b))


def test_the_fit_recovers_known_parameters_and_inverts_exactly():
    law = fit_power_law(FRACTIONS, _ppl(FRACTIONS))
    assert law.kind == "power-law"
    assert (law.a, law.b, law.c) == pytest.approx((0.02, 0.4, 0.12), rel=1e-4)
    assert law.max_relative_error < 1e-6
    for x in (0.07, 0.25, 0.9):
        assert law.fraction(law.ppl(x)) == pytest.approx(x, rel=1e-9)


def test_the_papers_90_10_row_has_token_efficiency_about_two():
    # GPT small monolingual runs as paper.json lists them: 0.1 / 0.5 / 1.0 from Table 1; 0.05 from Figure 1 (MLPE
    # curve) and 0.6-0.9 from the monolingual reference lines of Figure 8, both read off the figures.
    points = PAPER_DATA["monolingual"]
    law = fit_power_law([p["fraction"] for p in points], [p["ppl"] for p in points])
    setup = PAPER_DATA["setup"]
    budget = setup["steps"] * setup["batch"] * setup["block_size"]  # 1x: 1,197,015,040 tokens
    (ppl_l1, ppl_l2), (teff_l1, teff_l2) = PAPER["0.9,0.1"]["ppl"], PAPER["0.9,0.1"]["teff"]  # Table 1
    l2 = token_efficiency(ppl_l2, 0.1 * budget, law, budget)
    l1 = token_efficiency(ppl_l1, 0.9 * budget, law, budget)
    balanced = token_efficiency(PAPER["0.5,0.5"]["ppl"][0], 0.5 * budget, law, budget)
    assert l2.teff == pytest.approx(teff_l2, abs=0.2)
    assert l1.teff == pytest.approx(teff_l1, abs=0.06)
    assert balanced.teff == pytest.approx(PAPER["0.5,0.5"]["teff"][0], abs=0.1)
    assert l2.mlte == pytest.approx(l2.fraction * budget)
    assert mlpe(law, 0.1) == pytest.approx(PAPER["monolingual"][0.1], rel=0.03)  # the MLPE of L2 at p = 0.1


def test_a_collapsing_fit_falls_back_to_labelled_interpolation():
    # step-starved small runs (as on the CPU scales): 1/PPL convex in log x, the power law collapses (b -> 0)
    ppls = [990, 900, 600, 300, 120, 60, 40]
    law = fit_power_law(FRACTIONS, ppls)
    assert law.kind == "loglog-interpolation" and law.note
    assert "interpolation" in law.describe()
    assert law.ppl(0.3) == pytest.approx(300) and law.fraction(300) == pytest.approx(0.3)
    between = law.fraction(200)
    assert 0.3 < between < 0.5 and law.ppl(between) == pytest.approx(200)


def test_inverting_outside_the_fitted_range_raises_unless_asked():
    law = fit_power_law(FRACTIONS, _ppl(FRACTIONS))
    top = float(_ppl(0.05))
    with pytest.raises(ConfigError, match="outside the fitted range"):
        law.fraction(top * 1.5)
    assert law.fraction(top * 1.5, extrapolate=True) < 0.05
    with pytest.raises(ConfigError, match="below the fitted law's floor"):
        law.fraction(1.0 / 0.12 * 0.9, extrapolate=True)
    with pytest.raises(ConfigError, match="outside the fitted range"):
        token_efficiency(top * 1.5, 1000, law, 10_000)


@pytest.mark.parametrize(
    ("fractions", "ppls", "message"),
    [
        ([0.1, 1.0], [50, 20], "at least 3 monolingual points, got 2"),
        ([0.1, 0.5, 1.0], [50, 60, 20], "does not fall with more data: 50 at x=0.1 but 60 at x=0.5"),
        ([0.1, 0.1, 1.0], [50, 40, 20], "repeat a value"),
        ([0.1, 0.5], [50, 40, 20], "2 fractions but 3 perplexities"),
        ([0.0, 0.5, 1.0], [50, 40, 20], "fractions must be > 0"),
    ],
)
def test_fits_that_cannot_work_are_refused(fractions, ppls, message):
    with pytest.raises(ConfigError, match=message):
        fit_power_law(fractions, ppls)


def test_tokens_seen_must_be_positive():
    law = fit_power_law(FRACTIONS, _ppl(FRACTIONS))
    with pytest.raises(ConfigError, match="tokens_seen=0"):
        token_efficiency(float(_ppl(0.5)), 0, law, 1000)


def test_the_fit_is_the_papers_unstarted_least_squares_on_inverse_perplexity():
    from scipy.optimize import curve_fit

    fractions = [0.05, 0.1, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    ppls = [82, 48.36, 25.31, 24.3, 23.5, 22.9, 22.3, 21.93]
    (a, b, c), _ = curve_fit(lambda x, a, b, c: c - a * x ** (-b), np.array(fractions), 1 / np.array(ppls))
    law = fit_power_law(fractions, ppls)
    assert (law.a, law.b, law.c) == pytest.approx((a, b, c), rel=1e-4)


def test_both_estimators_are_given_and_labelled():
    ppls = [990, 900, 600, 300, 120, 60, 40]  # a curve the power law cannot follow
    curves = monolingual_curves(FRACTIONS, ppls)
    assert list(curves) == ["power-law", "loglog-interpolation"]
    power, interp = curves["power-law"], curves["loglog-interpolation"]
    assert power.kind == "power-law" and not power.acceptable and "not acceptable" in power.describe()
    assert power.max_relative_error > 0.05 or power.b <= 0.02
    assert interp.kind == "loglog-interpolation" and interp.acceptable
    # by hand: PPL 200 lies between x = 0.3 (300) and x = 0.5 (120) on the log-log line
    t = (np.log(200) - np.log(300)) / (np.log(120) - np.log(300))
    assert interp.fraction(200) == pytest.approx(np.exp(np.log(0.3) + t * (np.log(0.5) - np.log(0.3))))
    teff = {k: token_efficiency(200, 0.2 * 1000, law, 1000).teff for k, law in curves.items()}
    assert teff["loglog-interpolation"] == pytest.approx(interp.fraction(200) / 0.2)
    assert teff["power-law"] != pytest.approx(teff["loglog-interpolation"], rel=0.01)
    good = monolingual_curves(FRACTIONS, _ppl(FRACTIONS))["power-law"]
    assert good.acceptable and good.b == pytest.approx(0.4, rel=1e-4)
    assert fit_power_law(FRACTIONS, ppls).kind == "loglog-interpolation"  # the fallback, when asked for
