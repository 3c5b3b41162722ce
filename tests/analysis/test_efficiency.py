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


GUTENBERG = ([0.1, 0.5, 1.0, 2.0, 4.0], [124.68, 59.01, 47.40, 34.51, 26.89])
"""The monolingual runs of the Gutenberg cpu-tiny grid (docs/results.md): perplexity has not begun to level off."""


def test_where_the_papers_fit_fails_the_unconstrained_optimum_describes_the_points():
    law = fit_power_law(*GUTENBERG, fallback=False)
    assert law.max_relative_error < 0.04 and law.b < 0 and law.a < 0  # 1/PPL = c + |a|·x^|b|: PPL still falls
    assert law.kind == "power-law" and law.fit == "unconstrained" and law.paper_fit_converged is False
    assert law.acceptable and law.monotone
    assert "unconstrained" in law.describe() and "did not converge" in law.describe()
    saved = law.to_dict()
    assert saved["fit"] == "unconstrained" and saved["paper_fit_converged"] is False
    teff = token_efficiency(59.01, 0.5 * 1000, law, 1000).to_dict()
    assert teff["estimator"] == "power-law" and teff["fit"] == "unconstrained"
    assert teff["fit_diagnostics"]["max_relative_error"] == pytest.approx(law.max_relative_error)
    from hf_clonelang.analysis.efficiency import fit_bounded_power_law

    bounded = fit_bounded_power_law(*GUTENBERG)  # the earlier fit, a variant of its own name
    assert bounded.kind == "power-law-bounded" and bounded.fit == "bounded" and "bounded" in bounded.describe()
    assert bounded.b == pytest.approx(0, abs=0.01) and bounded.max_relative_error > 0.09 and not bounded.acceptable
    assert "power-law-bounded" not in monolingual_curves(*GUTENBERG)  # the grid's estimators: see ESTIMATORS


def test_a_curve_with_a_negative_exponent_is_recovered_and_labelled():
    a, b, c = -0.02, -0.15, 0.01  # 1/PPL = 0.01 + 0.02·x^0.15
    law = fit_power_law(FRACTIONS, _ppl(FRACTIONS, a, b, c), fallback=False)
    assert (law.a, law.b, law.c) == pytest.approx((a, b, c), rel=1e-4)
    assert law.max_relative_error < 1e-6 and law.acceptable
    assert law.fit == "unconstrained" and not law.paper_fit_converged  # curve_fit from (1, 1, 1) gives up here


@pytest.mark.parametrize(("a", "b", "c"), [(0.02, 0.4, 0.12), (-0.02, -0.15, 0.01), (-0.03, -0.3, 0.0)])
def test_inversion_round_trips_for_either_sign_of_the_exponent(a, b, c):
    from hf_clonelang.analysis.efficiency import PowerLaw

    x = np.asarray(FRACTIONS)
    law = PowerLaw(x, _ppl(x, a, b, c), a, b, c)
    for fraction in (0.05, 0.08, 0.25, 0.6, 1.0):
        assert law.fraction(law.ppl(fraction)) == pytest.approx(fraction, rel=1e-9)
    assert law.fraction(float(law.ppl(1.5)), extrapolate=True) == pytest.approx(1.5, rel=1e-9)


def test_a_curve_that_does_not_fall_cannot_be_inverted():
    from hf_clonelang.analysis.efficiency import PowerLaw

    x = np.asarray(FRACTIONS)
    rising = PowerLaw(x, np.linspace(40, 30, x.size), a=-0.02, b=0.3, c=0.05)  # a·b < 0: PPL rises with x
    with pytest.raises(ConfigError, match="does not fall"):
        rising.fraction(35.0)
    law = PowerLaw(x, _ppl(x, -0.02, -0.15, 0.01), -0.02, -0.15, 0.01)
    with pytest.raises(ConfigError, match="above the fitted law's ceiling"):
        law.fraction(1 / 0.01 * 1.1, extrapolate=True)  # 1/c = 100 is the curve's PPL as x -> 0


def test_the_papers_three_exact_points_give_its_token_efficiencies():
    # Table 1's monolingual GPT small: 10% / 50% / 100% of the tokens -> 48.36 / 25.31 / 21.93; the paper fitted 16
    # runs, of which these three are published: its 2.076 and 0.887 / 0.885 come out as 2.135 and 0.880 / 0.879
    budget = PAPER_DATA["setup"]["steps"] * PAPER_DATA["setup"]["batch"] * PAPER_DATA["setup"]["block_size"]
    law = fit_power_law(list(PAPER["monolingual"]), list(PAPER["monolingual"].values()), fallback=False)
    assert law.max_relative_error < 1e-9  # three points, three parameters: through every point
    assert token_efficiency(PAPER["0.9,0.1"]["ppl"][1], 0.1 * budget, law, budget).teff == pytest.approx(
        2.076, abs=0.07
    )
    for ppl, paper in zip(PAPER["0.5,0.5"]["ppl"], PAPER["0.5,0.5"]["teff"], strict=True):
        assert token_efficiency(ppl, 0.5 * budget, law, budget).teff == pytest.approx(paper, abs=0.01)
    assert law.fit == "paper" and law.paper_fit_converged  # curve_fit from (1, 1, 1) converges here
