"""Token efficiency: how many monolingual tokens a multilingual model's perplexity is worth (Schäfer et al., 2024).

Monolingual models of the same size trained on fractions x of the token budget T give PPL(x). We fit
``1/PPL(x) = c − a·x^(−b)`` and invert it:

* MLTE (monolingual token equivalent) of a language at perplexity p: ``x(p)·T`` tokens;
* TEff (token efficiency) = MLTE / tokens actually seen in that language (from the run's ``train_tokens_L{k}``);
  TEff > 1 means the language gained from the others;
* MLPE (monolingual perplexity equivalent): ``PPL(share)``, the perplexity a monolingual model would reach with
  only that language's share of the tokens.

Estimators of the monolingual curve, each labelled wherever a number comes from it (`ESTIMATORS`: the grid's):

* ``power-law`` — the paper's. The reference code (``plot_utils.py``, class ``PowerLaw``, lines 15 and 26–27) calls
  ``scipy.optimize.curve_fit(_y, x, 1/y)`` with ``_y = -a·x^(-b) + c``: least squares on 1/PPL, no bounds, no start
  (scipy's (1, 1, 1)). We fit exactly that first (``fit="paper"``); where it does not converge (or gives
  non-finite parameters), the unconstrained least-squares optimum from a data-based start (``fit="unconstrained"``).
  Nothing constrains the signs: with b < 0 and a < 0 the curve still falls, and it is inverted as well. Diagnostics:
  per-point relative errors, whether the paper's fit converged, and a verdict, ``acceptable`` when the curve falls
  over the fitted range and misses no point by more than `MAX_RELATIVE_ERROR`.
* ``loglog-interpolation`` — linear interpolation of log PPL against log x between the monolingual points: no
  model, exact at every point. Not how the paper computed its numbers.
* ``power-law-bounded`` — a variant, from Python only (`fit_bounded_power_law`): the same formula with a, c >= 0 and
  0 <= b <= `FIT_B_MAX`, from a data-based start (this package's earlier default). On runs whose perplexity has not
  begun to level off the unconstrained optimum has b < 0, and the bounded one stops at b ≈ 0 (a "collapse" of the
  bounds, not of the formula).

`monolingual_curves` gives the grid's estimators; `fit_power_law` (with ``fallback=True``) gives the power law, or
the interpolation when the fit is not acceptable. Inverting outside the monolingual points raises instead of
extrapolating silently. Only a TEff from the ``power-law`` estimator is computed the way the paper's numbers are.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError

logger = logging.getLogger(__name__)

MAX_RELATIVE_ERROR = 0.05
"""A power-law fit whose PPL misses a point by more than this (relative) does not describe the points: not
acceptable."""

POWER_LAW, INTERPOLATION, BOUNDED = "power-law", "loglog-interpolation", "power-law-bounded"
"""The estimators' names, as `PowerLaw.kind` and the keys of `monolingual_curves` give them."""
ESTIMATORS = (POWER_LAW, INTERPOLATION)
"""The estimators the grid's ``results.json`` carries, the paper's first. The bounded power law is left out: it is
not the paper's fit, and where it differs from it (b stopped at 0) it does not describe the points."""
ALL_ESTIMATORS = (*ESTIMATORS, BOUNDED)
"""Every estimator `monolingual_curves` can give (``estimators=``)."""

FIT_PAPER, FIT_UNCONSTRAINED, FIT_BOUNDED = "paper", "unconstrained", "bounded"
"""Which fit gave a power law (`PowerLaw.fit`): the paper's call, the unconstrained optimum, the bounded variant."""
FIT_TEXT = {
    FIT_PAPER: "the paper's fit",
    FIT_UNCONSTRAINED: "unconstrained fit",
    FIT_BOUNDED: "bounded fit",
}
"""Short labels of the fits, for table headers."""
PAPER_FIT_TEXT = "fitted as the paper did (curve_fit on 1/PPL, no bounds, start (1, 1, 1))"
"""How the paper's fit is described wherever a number comes from it."""


@dataclass
class PowerLaw:
    """A monolingual curve PPL(x) with diagnostics. ``kind`` is the estimator (``"power-law"``,
    ``"power-law-bounded"``, or ``"loglog-interpolation"``, whose ``a``, ``b``, ``c`` are NaN or, as a fallback, the
    failed fit's values); ``fit`` says which fit gave a power law (`FIT_TEXT`; ``""`` for the interpolation)."""

    fractions: np.ndarray
    ppls: np.ndarray
    a: float
    b: float
    c: float
    kind: str = POWER_LAW
    relative_errors: np.ndarray = field(default_factory=lambda: np.zeros(0))
    note: str = ""
    acceptable: bool = True
    fit: str = ""
    paper_fit_converged: bool | None = None
    paper_fit_note: str = ""

    @property
    def is_power_law(self) -> bool:
        """Whether PPL(x) is the formula (either power-law estimator), not the interpolation."""
        return self.kind in (POWER_LAW, BOUNDED)

    @property
    def max_relative_error(self) -> float:
        return float(np.max(np.abs(self.relative_errors))) if self.relative_errors.size else 0.0

    @property
    def monotone(self) -> bool:
        """Whether PPL falls with x over the fitted range: 1/PPL rises (a·b > 0) and stays positive there (the
        interpolation always does: its points are checked)."""
        if not self.is_power_law:
            return True
        inverse = self.c - self.a * self.fractions ** (-self.b)
        return bool(self.a * self.b > 0 and np.all(inverse > 0))

    def ppl(self, fraction: float | np.ndarray) -> float | np.ndarray:
        """PPL of a monolingual model trained on ``fraction`` of the budget (the MLPE at that share); infinite
        where the fitted 1/PPL is not positive."""
        x = np.asarray(fraction, dtype=np.float64)
        if np.any(x <= 0):
            raise ConfigError(f"fraction {x.min():g} is not allowed: fractions of the budget are > 0")
        if self.is_power_law:
            inv = self.c - self.a * x ** (-self.b)
            out = np.where(inv > 0, 1.0 / np.where(inv > 0, inv, 1.0), np.inf)
        else:
            out = np.exp(np.interp(np.log(x), np.log(self.fractions), np.log(self.ppls)))
        return float(out) if out.ndim == 0 else out

    def fraction(self, ppl: float, extrapolate: bool = False) -> float:
        """Budget fraction at which a monolingual model reaches ``ppl`` (the inverse of `ppl`), for either sign of
        b; refused where the curve does not fall or never reaches ``ppl``."""
        lo, hi = float(self.ppls.min()), float(self.ppls.max())
        if not extrapolate and not lo <= ppl <= hi:
            raise ConfigError(
                f"perplexity {ppl:.4g} is outside the fitted range [{lo:.4g}, {hi:.4g}] of the monolingual runs: "
                "add runs that cover it, or pass extrapolate=True"
            )
        if self.is_power_law:
            return self._invert(ppl)
        xs, ys = np.log(self.fractions), np.log(self.ppls)
        order = np.argsort(ys)  # ppl decreases with x: interpolate x against log ppl
        return float(
            np.exp(np.interp(math.log(ppl), ys[order], xs[order], left=np.nan, right=np.nan))
            if lo <= ppl <= hi
            else self._extrapolate_loglog(ppl)
        )

    def _invert(self, ppl: float) -> float:
        """x with ``c − a·x^(−b) = 1/ppl``: ``x = ((c − 1/ppl)/a)^(−1/b)``."""
        if not self.a * self.b > 0:
            raise ConfigError(
                f"the fitted power law does not fall with x (a = {self.a:.4g}, b = {self.b:.4g}: a·b <= 0), so "
                "it cannot be inverted: use the log-log interpolation"
            )
        ratio = (self.c - 1.0 / ppl) / self.a
        if ratio <= 0:
            limit = "inf" if self.c <= 0 else f"{1 / self.c:.4g}"
            if self.b > 0:
                raise ConfigError(
                    f"perplexity {ppl:.4g} is below the fitted law's floor 1/c = {limit}: no amount of monolingual "
                    "data reaches it"
                )
            raise ConfigError(
                f"perplexity {ppl:.4g} is above the fitted law's ceiling 1/c = {limit} (its PPL as x -> 0): no "
                "fraction of the budget gives it"
            )
        return float(ratio ** (-1.0 / self.b))

    def _extrapolate_loglog(self, ppl: float) -> float:
        xs, ys = np.log(self.fractions), np.log(self.ppls)
        i = (0, 1) if ppl > self.ppls.max() else (-2, -1)
        slope = (ys[i[1]] - ys[i[0]]) / (xs[i[1]] - xs[i[0]])
        return float(math.exp(xs[i[0]] + (math.log(ppl) - ys[i[0]]) / slope))

    def describe(self) -> str:
        """One line: the estimator, the fit that gave it and its parameters, its error and verdict."""
        if not self.is_power_law:
            return f"log-log interpolation of the monolingual points{f' ({self.note})' if self.note else ''}"
        if self.fit == FIT_PAPER:
            how = PAPER_FIT_TEXT
        elif self.fit == FIT_UNCONSTRAINED:
            how = (
                f"the paper's fit (curve_fit on 1/PPL, no bounds, start (1, 1, 1)) did not converge "
                f"({self.paper_fit_note}), so the unconstrained least-squares optimum from a data-based start"
            )
        else:
            how = f"bounded variant (a, c >= 0, 0 <= b <= {FIT_B_MAX:g}, data-based start), not the paper's fit"
        verdict = "acceptable" if self.acceptable else f"not acceptable: {self.note}"
        return (
            f"power law 1/PPL = c - a·x^(-b) with a = {self.a:.4g}, b = {self.b:.4g}, c = {self.c:.4g}, {how}; "
            f"max relative error {self.max_relative_error:.1%}; {verdict}"
        )

    def diagnostics(self) -> dict[str, Any]:
        """What a TEff from this curve carries about it: the fit's errors and verdict."""
        return {
            "relative_errors": self.relative_errors.tolist(),
            "max_relative_error": self.max_relative_error,
            "monotone": self.monotone,
            "acceptable": self.acceptable,
            "paper_fit_converged": self.paper_fit_converged,
        }

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "fit": self.fit or None,
            "a": self.a,
            "b": self.b,
            "c": self.c,
            "fractions": self.fractions.tolist(),
            "ppls": self.ppls.tolist(),
            **self.diagnostics(),
            "paper_fit_note": self.paper_fit_note,
            "note": self.note,
            "description": self.describe(),
        }


def fit_power_law(
    fractions: Sequence[float],
    ppls: Sequence[float],
    max_relative_error: float = MAX_RELATIVE_ERROR,
    fallback: bool = True,
) -> PowerLaw:
    """Fit the paper's ``1/PPL(x) = c − a·x^(−b)`` to monolingual runs at budget fractions ``x``: the paper's call
    first, else the unconstrained optimum (see the module docstring; ``fit`` says which).

    A fit that does not fall over the fitted range or misses a point by more than ``max_relative_error`` is not
    acceptable: with ``fallback`` (the default) the log-log interpolation is returned instead, labelled with the
    reason; without it the power law is returned as fitted, with ``acceptable=False`` and the reason in ``note``."""
    x, y = _points(fractions, ppls)
    (a, b, c), converged = _paper_fit(x, y)
    fit, paper_note = FIT_PAPER, ""
    if converged is not True:
        paper_note = converged
        logger.info("the paper's power-law fit did not converge (%s): using the unconstrained optimum", converged)
        a, b, c = _unconstrained_fit(x, y)
        fit = FIT_UNCONSTRAINED
    law = PowerLaw(x, y, a, b, c, fit=fit, paper_fit_converged=not paper_note, paper_fit_note=paper_note)
    law = _judged(law, max_relative_error)
    if law.acceptable or not fallback:
        return law
    reason = f"the power law ({FIT_TEXT[fit]}) was not acceptable: {law.note}"
    fallen = PowerLaw(x, y, a, b, c, kind=INTERPOLATION, relative_errors=np.zeros(x.size), note=reason)
    fallen.paper_fit_converged, fallen.paper_fit_note = law.paper_fit_converged, paper_note
    return fallen


def fit_bounded_power_law(
    fractions: Sequence[float], ppls: Sequence[float], max_relative_error: float = MAX_RELATIVE_ERROR
) -> PowerLaw:
    """The bounded variant (``kind="power-law-bounded"``, ``fit="bounded"``): the same formula with a, c >= 0 and
    0 <= b <= `FIT_B_MAX` from a data-based start. Not the paper's fit; raises a `ConfigError` if it fails."""
    x, y = _points(fractions, ppls)
    a, b, c = _bounded_fit(x, y)
    return _judged(PowerLaw(x, y, a, b, c, kind=BOUNDED, fit=FIT_BOUNDED), max_relative_error)


def _judged(law: PowerLaw, max_relative_error: float) -> PowerLaw:
    """``law`` with its relative errors at the points and its verdict (``acceptable``, the reason in ``note``)."""
    with np.errstate(over="ignore", divide="ignore"):
        law.relative_errors = (np.asarray(law.ppl(law.fractions)) - law.ppls) / law.ppls
    if not law.monotone:
        law.acceptable, law.note = False, f"it does not fall over the fitted range (a = {law.a:.3g}, b = {law.b:.3g})"
    elif law.max_relative_error > max_relative_error:
        law.acceptable, law.note = False, f"it misses a point by {law.max_relative_error:.1%}"
    return law


def interpolate_loglog(fractions: Sequence[float], ppls: Sequence[float]) -> PowerLaw:
    """The model-free estimator: log PPL linear in log x between the monolingual points (exact at each point)."""
    x, y = _points(fractions, ppls)
    nan = math.nan
    return PowerLaw(x, y, nan, nan, nan, kind=INTERPOLATION, relative_errors=np.zeros(x.size))


def monolingual_curves(
    fractions: Sequence[float], ppls: Sequence[float], estimators: Sequence[str] = ESTIMATORS
) -> dict[str, PowerLaw | ConfigError]:
    """The monolingual curve by each of ``estimators`` (default `ESTIMATORS`, the grid's), keyed by name; a power
    law as fitted (acceptable or not, see its ``describe()``), or the `ConfigError` that says why it cannot be."""
    makers = {
        POWER_LAW: lambda: fit_power_law(fractions, ppls, fallback=False),
        INTERPOLATION: lambda: interpolate_loglog(fractions, ppls),
        BOUNDED: lambda: fit_bounded_power_law(fractions, ppls),
    }
    unknown = [name for name in estimators if name not in makers]
    if unknown:
        raise ConfigError(f"estimators {unknown} are not allowed: use some of {', '.join(ALL_ESTIMATORS)}")
    _points(fractions, ppls)  # points that no estimator can use raise for all
    curves: dict[str, PowerLaw | ConfigError] = {}
    for name in estimators:
        try:
            curves[name] = makers[name]()
        except ConfigError as err:
            curves[name] = err
    return curves


def _points(fractions: Sequence[float], ppls: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Checked monolingual points, sorted by fraction."""
    x = np.asarray(fractions, dtype=np.float64)
    y = np.asarray(ppls, dtype=np.float64)
    if x.size != y.size:
        raise ConfigError(f"{x.size} fractions but {y.size} perplexities: give one perplexity per fraction")
    if x.size < 3:
        raise ConfigError(f"a fit needs at least 3 monolingual points, got {x.size}")
    if np.any(x <= 0) or np.any(y <= 1.0) or not np.all(np.isfinite(y)):
        raise ConfigError("fractions must be > 0 and perplexities finite and > 1")
    order = np.argsort(x)
    x, y = x[order], y[order]
    if np.any(np.diff(x) <= 0):
        raise ConfigError(f"fractions {x.tolist()} repeat a value: give each fraction once")
    bad = np.flatnonzero(np.diff(y) >= 0)
    if bad.size:
        i = int(bad[0])
        raise ConfigError(
            f"perplexity does not fall with more data: {y[i]:.4g} at x={x[i]:g} but {y[i + 1]:.4g} at "
            f"x={x[i + 1]:g}; the monolingual runs must improve with their budget"
        )
    return x, y


def _inverse_law(x: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    """The fitted quantity, 1/PPL = c − a·x^(−b) (the reference's ``PowerLaw._y``)."""
    return c - a * x ** (-b)


def _paper_fit(x: np.ndarray, y: np.ndarray) -> tuple[tuple[float, float, float], bool | str]:
    """The reference's call, ``curve_fit(_y, x, 1/y)``: no bounds, no start (scipy's (1, 1, 1)), scipy's default
    evaluation budget. The parameters and True, or NaNs and why it did not converge."""
    from scipy.optimize import curve_fit

    nan = (math.nan, math.nan, math.nan)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # "covariance could not be estimated" (3 points): not a failure
            params, _ = curve_fit(_inverse_law, x, 1.0 / y)
    except (RuntimeError, ValueError) as err:
        return nan, str(err).strip().rstrip(".")
    if not np.all(np.isfinite(params)):
        return nan, f"non-finite parameters {params.tolist()}"
    return (float(params[0]), float(params[1]), float(params[2])), True


FIT_EXPONENT_GRID = np.geomspace(1e-3, 5.0, 200)
"""The magnitudes of b that start the unconstrained fit (each with either sign): for a fixed b the best a and c are
a linear least-squares problem, so the best b of this grid gives a start near the global optimum."""
FIT_MAX_EVALUATIONS = 20_000
"""`curve_fit`'s budget of function evaluations for the unconstrained and the bounded fit."""


def _unconstrained_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """The unconstrained least-squares optimum of 1/PPL = c − a·x^(−b): the best exponent of `FIT_EXPONENT_GRID`
    (either sign; a and c solved exactly for each), then refined by `curve_fit` without bounds."""
    from scipy.optimize import curve_fit

    target = 1.0 / y
    best: tuple[float, tuple[float, float, float]] | None = None
    for b in np.concatenate((-FIT_EXPONENT_GRID[::-1], FIT_EXPONENT_GRID)):
        design = np.column_stack((-(x ** (-b)), np.ones_like(x)))
        (a, c), *_ = np.linalg.lstsq(design, target, rcond=None)
        sse = float(np.sum((design @ (a, c) - target) ** 2))
        if best is None or sse < best[0]:
            best = (sse, (float(a), float(b), float(c)))
    assert best is not None
    start = best[1]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            params, _ = curve_fit(_inverse_law, x, target, p0=start, maxfev=FIT_MAX_EVALUATIONS)
    except (RuntimeError, ValueError) as err:
        logger.info("refining the unconstrained power law failed (%s): keeping the best start %s", err, start)
        return start
    sse = float(np.sum((_inverse_law(x, *params) - target) ** 2))
    if not np.all(np.isfinite(params)) or sse > best[0]:
        return start
    return float(params[0]), float(params[1]), float(params[2])


FIT_C0_MARGIN = 1.05
"""Bounded fit: the initial guess of c, the limit of 1/PPL, this much above the best measured 1/PPL."""
FIT_B0 = 0.5
"""Bounded fit: the initial guess of the exponent b."""
FIT_A0_FLOOR = 1e-6
"""Bounded fit: the initial guess of a is at least this (a > 0: the curve rises)."""
FIT_B_MAX = 10.0
"""Bounded fit: the upper bound of the exponent b (a, c >= 0, 0 <= b <= this)."""


def _bounded_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """The bounded variant's least squares on 1/PPL (a, c >= 0, 0 <= b <= `FIT_B_MAX`, data-based start)."""
    from scipy.optimize import curve_fit

    inv = 1.0 / y
    c0 = inv.max() * FIT_C0_MARGIN
    b0 = FIT_B0
    a0 = max((c0 - inv[0]) * x[0] ** b0, FIT_A0_FLOOR)
    bounds = ((0, 0, 0), (np.inf, FIT_B_MAX, np.inf))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (a, b, c), _ = curve_fit(_inverse_law, x, inv, p0=(a0, b0, c0), bounds=bounds, maxfev=FIT_MAX_EVALUATIONS)
    except (RuntimeError, ValueError) as err:
        raise ConfigError(f"the bounded power law cannot be fitted to these monolingual points ({err})") from err
    return float(a), float(b), float(c)


@dataclass
class TokenEfficiency:
    """MLTE (tokens), TEff, and the budget fraction that a monolingual model needs for the same perplexity, with the
    curve they come from: its estimator (``fit_kind``), the fit that gave it (``fit``: `FIT_TEXT`, None for the
    interpolation) and that fit's diagnostics."""

    ppl: float
    tokens_seen: int
    fraction: float
    mlte: float
    teff: float
    fit_kind: str
    fit: str | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "ppl": self.ppl,
            "tokens_seen": self.tokens_seen,
            "mlte_fraction": self.fraction,
            "mlte": self.mlte,
            "teff": self.teff,
            "estimator": self.fit_kind,
            "fit": self.fit,
            "fit_diagnostics": self.diagnostics,
        }


def token_efficiency(
    ppl: float, tokens_seen: float, law: PowerLaw, budget_tokens: float, extrapolate: bool = False
) -> TokenEfficiency:
    """TEff of a language that reached ``ppl`` after seeing ``tokens_seen`` tokens, against monolingual runs
    described by ``law`` (fractions of ``budget_tokens``); labelled with the estimator and fit of ``law``."""
    if tokens_seen <= 0:
        raise ConfigError(f"tokens_seen={tokens_seen} is not allowed: the language must have been trained on")
    x = law.fraction(ppl, extrapolate=extrapolate)
    mlte = x * budget_tokens
    return TokenEfficiency(
        float(ppl), int(tokens_seen), x, mlte, mlte / tokens_seen, law.kind, law.fit or None, law.diagnostics()
    )


def mlpe(law: PowerLaw, share: float) -> float:
    """Monolingual perplexity equivalent: the PPL a monolingual model reaches with ``share`` of the budget."""
    return float(law.ppl(share))
