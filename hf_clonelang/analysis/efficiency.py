"""Token efficiency: how many monolingual tokens a multilingual model's perplexity is worth (Schäfer et al., 2024).

Monolingual models of the same size trained on fractions x of the token budget T give PPL(x). We fit
``1/PPL(x) = c − a·x^(−b)`` and invert it:

* MLTE (monolingual token equivalent) of a language at perplexity p: ``x(p)·T`` tokens;
* TEff (token efficiency) = MLTE / tokens actually seen in that language (from the run's ``train_tokens_L{k}``);
  TEff > 1 means the language gained from the others;
* MLPE (monolingual perplexity equivalent): ``PPL(share)``, the perplexity a monolingual model would reach with
  only that language's share of the tokens.

Two estimators of the monolingual curve, each labelled wherever a number comes from it:

* ``power-law`` — the paper's: least squares on 1/PPL (`scipy.optimize.curve_fit`; started from a data-based guess
  with a, b, c >= 0, which reaches the paper's unstarted fit where that converges), inverted analytically. It comes
  with per-point relative errors and a verdict (``acceptable``: b > 0.02 and no point missed by more than 5%).
* ``loglog-interpolation`` — linear interpolation of log PPL against log x between the monolingual points: no
  model, exact at every point. Small, step-starved runs can make the power law collapse (b -> 0;
  docs/reproduction.md), and then only this one is meaningful.

`monolingual_curves` gives both; `fit_power_law` (with ``fallback=True``) gives the power law, or the interpolation
when the fit is not acceptable. Inverting outside the monolingual points raises instead of extrapolating silently.
Only a TEff from the power law is computed the way the paper's numbers are.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError

MAX_RELATIVE_ERROR = 0.05
"""A power-law fit whose PPL misses a point by more than this (relative) is not acceptable."""
MIN_EXPONENT = 0.02
"""A power-law fit whose exponent b is not above this has collapsed (step-starved runs): not acceptable."""

ESTIMATORS = ("power-law", "loglog-interpolation")
"""The monolingual-curve estimators, the paper's first."""


@dataclass
class PowerLaw:
    """A fitted monolingual curve PPL(x) with diagnostics; ``kind`` is ``"power-law"`` or the fallback
    ``"loglog-interpolation"`` (then ``a``, ``b``, ``c`` hold the failed fit's values, or NaN)."""

    fractions: np.ndarray
    ppls: np.ndarray
    a: float
    b: float
    c: float
    kind: str = "power-law"
    relative_errors: np.ndarray = field(default_factory=lambda: np.zeros(0))
    note: str = ""
    acceptable: bool = True

    @property
    def max_relative_error(self) -> float:
        return float(np.max(np.abs(self.relative_errors))) if self.relative_errors.size else 0.0

    def ppl(self, fraction: float | np.ndarray) -> float | np.ndarray:
        """PPL of a monolingual model trained on ``fraction`` of the budget (the MLPE at that share)."""
        x = np.asarray(fraction, dtype=np.float64)
        if np.any(x <= 0):
            raise ConfigError(f"fraction {x.min():g} is not allowed: fractions of the budget are > 0")
        if self.kind == "power-law":
            inv = self.c - self.a * x ** (-self.b)
            out = np.where(inv > 0, 1.0 / np.where(inv > 0, inv, 1.0), np.inf)
        else:
            out = np.exp(np.interp(np.log(x), np.log(self.fractions), np.log(self.ppls)))
        return float(out) if out.ndim == 0 else out

    def fraction(self, ppl: float, extrapolate: bool = False) -> float:
        """Budget fraction at which a monolingual model reaches ``ppl`` (the inverse of `ppl`)."""
        lo, hi = float(self.ppls.min()), float(self.ppls.max())
        if not extrapolate and not lo <= ppl <= hi:
            raise ConfigError(
                f"perplexity {ppl:.4g} is outside the fitted range [{lo:.4g}, {hi:.4g}] of the monolingual runs: "
                "add runs that cover it, or pass extrapolate=True"
            )
        if self.kind == "power-law":
            gap = self.c - 1.0 / ppl
            if gap <= 0:
                raise ConfigError(
                    f"perplexity {ppl:.4g} is below the fitted law's floor 1/c = {1 / self.c:.4g}: no amount of "
                    "monolingual data reaches it"
                )
            return float((self.a / gap) ** (1.0 / self.b))
        xs, ys = np.log(self.fractions), np.log(self.ppls)
        order = np.argsort(ys)  # ppl decreases with x: interpolate x against log ppl
        return float(
            np.exp(np.interp(math.log(ppl), ys[order], xs[order], left=np.nan, right=np.nan))
            if lo <= ppl <= hi
            else self._extrapolate_loglog(ppl)
        )

    def _extrapolate_loglog(self, ppl: float) -> float:
        xs, ys = np.log(self.fractions), np.log(self.ppls)
        i = (0, 1) if ppl > self.ppls.max() else (-2, -1)
        slope = (ys[i[1]] - ys[i[0]]) / (xs[i[1]] - xs[i[0]])
        return float(math.exp(xs[i[0]] + (math.log(ppl) - ys[i[0]]) / slope))

    def describe(self) -> str:
        if self.kind == "power-law":
            verdict = "" if self.acceptable else f"; not acceptable: {self.note}"
            return (
                f"power law 1/PPL = {self.c:.4g} - {self.a:.4g}·x^-{self.b:.4g} (max relative error "
                f"{self.max_relative_error:.1%}{verdict})"
            )
        return f"log-log interpolation of the monolingual points{f' ({self.note})' if self.note else ''}"

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "a": self.a,
            "b": self.b,
            "c": self.c,
            "fractions": self.fractions.tolist(),
            "ppls": self.ppls.tolist(),
            "relative_errors": self.relative_errors.tolist(),
            "max_relative_error": self.max_relative_error,
            "acceptable": self.acceptable,
            "note": self.note,
            "description": self.describe(),
        }


def fit_power_law(
    fractions: Sequence[float],
    ppls: Sequence[float],
    max_relative_error: float = MAX_RELATIVE_ERROR,
    fallback: bool = True,
) -> PowerLaw:
    """Fit the paper's ``1/PPL(x) = c − a·x^(−b)`` to monolingual runs at budget fractions ``x``.

    A fit that fails, collapses (b <= 0.02) or misses a point by more than ``max_relative_error`` is not acceptable:
    with ``fallback`` (the default) the log-log interpolation is returned instead, labelled with the reason; without
    it the power law is returned as fitted, with ``acceptable=False`` and the reason in ``note`` (a fit that did not
    converge at all raises)."""
    x, y = _points(fractions, ppls)
    a, b, c, failure = _fit(x, y)
    if failure is None:
        law = PowerLaw(x, y, a, b, c)
        law.relative_errors = (np.asarray(law.ppl(x)) - y) / y
        if law.max_relative_error <= max_relative_error and b > MIN_EXPONENT:
            return law
        law.acceptable = False
        collapsed = b <= MIN_EXPONENT
        law.note = f"it collapsed (b = {b:.3g})" if collapsed else f"it misses a point by {law.max_relative_error:.1%}"
        if not fallback:
            return law
        failure = f"the power law was not acceptable: {law.note}"
    if not fallback:
        raise ConfigError(f"the power law cannot be fitted to these monolingual points: {failure}")
    return PowerLaw(x, y, a, b, c, kind="loglog-interpolation", relative_errors=np.zeros(x.size), note=failure)


def interpolate_loglog(fractions: Sequence[float], ppls: Sequence[float]) -> PowerLaw:
    """The model-free estimator: log PPL linear in log x between the monolingual points (exact at each point)."""
    x, y = _points(fractions, ppls)
    nan = math.nan
    return PowerLaw(x, y, nan, nan, nan, kind="loglog-interpolation", relative_errors=np.zeros(x.size))


def monolingual_curves(fractions: Sequence[float], ppls: Sequence[float]) -> dict[str, PowerLaw | ConfigError]:
    """Both estimators of the monolingual curve, keyed as `ESTIMATORS`; the power law as fitted (acceptable or not,
    see its ``describe()``), or the `ConfigError` that says why it cannot be fitted at all."""
    curves: dict[str, PowerLaw | ConfigError] = {}
    try:
        curves["power-law"] = fit_power_law(fractions, ppls, fallback=False)
    except ConfigError as err:
        curves["power-law"] = err
    curves["loglog-interpolation"] = interpolate_loglog(fractions, ppls)
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


FIT_C0_MARGIN = 1.05
"""The initial guess of c, the limit of 1/PPL: this much above the best measured 1/PPL."""
FIT_B0 = 0.5
"""The initial guess of the exponent b."""
FIT_A0_FLOOR = 1e-6
"""The initial guess of a is at least this (a > 0: the curve rises)."""
FIT_B_MAX = 10.0
"""The upper bound of the exponent b in the fit (a, c >= 0, 0 <= b <= this)."""
FIT_MAX_EVALUATIONS = 20_000
"""`curve_fit`'s budget of function evaluations."""


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, str | None]:
    from scipy.optimize import curve_fit

    def model(x: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
        return c - a * x ** (-b)

    inv = 1.0 / y
    c0 = inv.max() * FIT_C0_MARGIN
    b0 = FIT_B0
    a0 = max((c0 - inv[0]) * x[0] ** b0, FIT_A0_FLOOR)
    bounds = ((0, 0, 0), (np.inf, FIT_B_MAX, np.inf))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (a, b, c), _ = curve_fit(model, x, inv, p0=(a0, b0, c0), bounds=bounds, maxfev=FIT_MAX_EVALUATIONS)
    except (RuntimeError, ValueError) as err:
        return math.nan, math.nan, math.nan, f"the power-law fit failed ({err})"
    return float(a), float(b), float(c), None


@dataclass
class TokenEfficiency:
    """MLTE (tokens), TEff, and the budget fraction that a monolingual model needs for the same perplexity."""

    ppl: float
    tokens_seen: int
    fraction: float
    mlte: float
    teff: float
    fit_kind: str

    def to_dict(self) -> dict:
        return {
            "ppl": self.ppl,
            "tokens_seen": self.tokens_seen,
            "mlte_fraction": self.fraction,
            "mlte": self.mlte,
            "teff": self.teff,
            "fit": self.fit_kind,
        }


def token_efficiency(
    ppl: float, tokens_seen: float, law: PowerLaw, budget_tokens: float, extrapolate: bool = False
) -> TokenEfficiency:
    """TEff of a language that reached ``ppl`` after seeing ``tokens_seen`` tokens, against monolingual runs
    described by ``law`` (fractions of ``budget_tokens``)."""
    if tokens_seen <= 0:
        raise ConfigError(f"tokens_seen={tokens_seen} is not allowed: the language must have been trained on")
    x = law.fraction(ppl, extrapolate=extrapolate)
    mlte = x * budget_tokens
    return TokenEfficiency(float(ppl), int(tokens_seen), x, mlte, mlte / tokens_seen, law.kind)


def mlpe(law: PowerLaw, share: float) -> float:
    """Monolingual perplexity equivalent: the PPL a monolingual model reaches with ``share`` of the budget."""
    return float(law.ppl(share))
