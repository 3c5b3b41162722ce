"""`LanguageSchedule`: training progress in [0, 1] -> probabilities over N languages (numbered 1..N).

One string grammar for the CLI (``_`` separates stages or points, ``,`` languages, ``@`` a position):

================================  ===========================================================================
``0.9,0.1``                       constant: one probability per language
``uniform``                       constant, 1/N each
``0.1_0.9``                       equal stages, two languages: p(L2) = 0.1 in the first half, 0.9 in the second
``0.1_0.9_0.5_0.5``               four equal stages of p(L2)
``0.8,0.1,0.1_0.1,0.1,0.8``       equal stages with a full vector per stage (any N)
``linear:0.1@0_0.5@1``            p(L2) interpolated linearly between anchor points (progress 0 -> 0.1, 1 -> 0.5)
``cosine:0.9,0.1@0_0.5,0.5@1``    the same with vectors and a cosine ramp between points
``l1:0.5``                        the paper's N-language form: p(L1) = 0.5, the rest uniform over L2..LN
``l1:0.9_0.5``                    ... with equal stages of p(L1)
``temperature:0.3``               p_k ∝ n_k^0.3 from the pool's per-language sizes (XLM / fairseq style)
``temperature:0.3:1000,100``      ... with the sizes given
================================  ===========================================================================

A scalar stands for p(L2) and is allowed only with two languages. `expected_shares` integrates the schedule: the
share of tokens each language gets over a whole run.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError

_TOL = 1e-6
_SUM_TOL = 1e-3
"""A stage's probabilities may miss 1 by this much (0.333,0.333,0.334 style rounding); they are then rescaled."""


@dataclass(frozen=True)
class LanguageSchedule:
    """Language probabilities as a function of training progress.

    ``points`` holds one probability vector per stage (``stages``) or per anchor point (``linear`` / ``cosine``,
    at ``positions``); a constant schedule is one stage.
    """

    points: np.ndarray
    kind: str = "stages"
    positions: np.ndarray | None = None
    text: str = field(default="", compare=False)

    @property
    def num_languages(self) -> int:
        return int(self.points.shape[1])

    @property
    def is_constant(self) -> bool:
        """True when the probabilities never change: the run length does not matter."""
        return bool(np.allclose(self.points, self.points[0], atol=_TOL))

    def __str__(self) -> str:
        return self.text or ",".join(f"{p:g}" for p in self.points[0])

    # ------------------------------------------------------------------ values
    def __call__(self, progress: float | np.ndarray) -> np.ndarray:
        """Probabilities at ``progress`` (scalar -> shape (N,), array of M -> shape (M, N))."""
        x = np.clip(np.asarray(progress, dtype=np.float64), 0.0, 1.0)
        scalar = x.ndim == 0
        x = np.atleast_1d(x)
        if self.kind in ("stages", "temperature"):
            k = len(self.points)
            out = self.points[np.minimum((x * k).astype(np.int64), k - 1)]
        else:
            pos = self.positions
            seg = np.clip(np.searchsorted(pos, x, side="right") - 1, 0, len(pos) - 2)
            t = (x - pos[seg]) / (pos[seg + 1] - pos[seg])
            if self.kind == "cosine":
                t = (1.0 - np.cos(np.pi * t)) / 2.0
            out = self.points[seg] + t[:, None] * (self.points[seg + 1] - self.points[seg])
        return out[0] if scalar else out

    def expected_shares(self) -> np.ndarray:
        """Share of training samples (and tokens) of each language over a whole run: the integral over [0, 1]."""
        if self.kind in ("stages", "temperature"):
            return self.points.mean(axis=0)
        widths = np.diff(self.positions)[:, None]
        # linear and cosine ramps have the same mean (the cosine ramp is symmetric about the segment's middle)
        return ((self.points[:-1] + self.points[1:]) / 2.0 * widths).sum(axis=0)

    def uses_language(self, language: int) -> bool:
        """Whether ``language`` (1..N) ever has a positive probability."""
        return bool((self.points[:, language - 1] > _TOL).any())

    # ------------------------------------------------------------------ parsing
    @classmethod
    def from_string(cls, text: str, num_languages: int, sizes: Sequence[int] | None = None) -> LanguageSchedule:
        """Parse the CLI grammar (module docstring). ``sizes`` (rows per language) serve ``temperature:ALPHA``."""
        if isinstance(text, LanguageSchedule):
            return text
        raw = str(text).strip()
        if not raw:
            raise ConfigError("language schedule '' is empty: give e.g. 0.9,0.1 or 0.1_0.9")
        n = int(num_languages)
        kind, _, body = raw.partition(":") if ":" in raw else ("stages", "", raw)
        kind = kind.strip().lower()
        if raw.lower() == "uniform":
            return cls(np.full((1, n), 1.0 / n), text=raw)
        if kind == "stages":
            stages = [_vector(raw, part, i, n) for i, part in enumerate(_split(raw, body, "_"), 1)]
            return cls(np.array(stages), text=raw)
        if kind in ("linear", "cosine"):
            points, positions = [], []
            for i, part in enumerate(_split(raw, body, "_"), 1):
                value, at, where = part.partition("@")
                if not at:
                    raise ConfigError(f"language schedule {raw!r}: point {i} {part!r} has no '@position'")
                points.append(_vector(raw, value, i, n))
                positions.append(_number(raw, where, f"position of point {i}"))
            _check_positions(raw, positions)
            return cls(np.array(points), kind=kind, positions=np.array(positions), text=raw)
        if kind == "l1":
            if n < 2:
                raise ConfigError(f"language schedule {raw!r}: the l1 form needs at least 2 languages, not {n}")
            stages = []
            for i, part in enumerate(_split(raw, body, "_"), 1):
                p1 = _number(raw, part, f"stage {i}")
                _check_probability(raw, p1, f"stage {i}")
                stages.append([p1] + [(1.0 - p1) / (n - 1)] * (n - 1))
            return cls(np.array(stages), text=raw)
        if kind == "temperature":
            alpha_text, _, sizes_text = body.partition(":")
            alpha = _number(raw, alpha_text, "temperature exponent")
            if not alpha > 0:
                raise ConfigError(f"language schedule {raw!r}: the exponent {alpha:g} must be > 0")
            if sizes_text:
                sizes = [_number(raw, s, f"size {i}") for i, s in enumerate(sizes_text.split(","), 1)]
            if sizes is None:
                raise ConfigError(
                    f"language schedule {raw!r} needs the data size of each language: give them as "
                    "temperature:ALPHA:n1,n2,... or train on a pool whose rows have languages"
                )
            sizes = np.asarray(sizes, dtype=np.float64)
            if len(sizes) != n or (sizes < 0).any() or sizes.sum() <= 0:
                raise ConfigError(
                    f"language schedule {raw!r}: sizes {','.join(f'{s:g}' for s in sizes)} must be {n} "
                    "non-negative numbers, not all 0"
                )
            weights = np.where(sizes > 0, sizes, 0.0) ** alpha * (sizes > 0)
            return cls((weights / weights.sum())[None, :], kind="temperature", text=raw)
        raise ConfigError(
            f"language schedule {raw!r}: unknown kind {kind!r}: use stages (0.1_0.9), linear:, cosine:, l1: or "
            "temperature:"
        )


def _split(raw: str, body: str, sep: str) -> list[str]:
    parts = body.split(sep)
    for i, part in enumerate(parts, 1):
        if not part.strip():
            raise ConfigError(f"language schedule {raw!r}: part {i} is empty")
    return [p.strip() for p in parts]


def _number(raw: str, text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"language schedule {raw!r}: {what} {text!r} is not a number") from None
    if math.isnan(value) or math.isinf(value):
        raise ConfigError(f"language schedule {raw!r}: {what} {text!r} is not a finite number")
    return value


def _check_probability(raw: str, p: float, where: str) -> None:
    if not 0.0 <= p <= 1.0:
        raise ConfigError(f"language schedule {raw!r}: {where} has probability {p:g}, outside [0, 1]")


def _vector(raw: str, part: str, index: int, n: int) -> list[float]:
    values = [_number(raw, v, f"stage {index} value") for v in part.split(",")]
    if len(values) == 1 and n != 1:
        if n != 2:
            raise ConfigError(
                f"language schedule {raw!r}: stage {index} {part!r} is one number, which means p(L2) and needs "
                f"2 languages; with {n} languages give {n} probabilities per stage"
            )
        values = [1.0 - values[0], values[0]]
        _check_probability(raw, values[1], f"stage {index} ({part})")
    if len(values) != n:
        raise ConfigError(
            f"language schedule {raw!r}: stage {index} {part!r} has {len(values)} probabilities for {n} languages"
        )
    for v in values:
        _check_probability(raw, v, f"stage {index} ({part})")
    total = sum(values)
    if abs(total - 1.0) > _SUM_TOL:
        raise ConfigError(f"language schedule {raw!r}: stage {index} {part!r} sums to {total:g}, not 1")
    return [v / total for v in values]


def _check_positions(raw: str, positions: list[float]) -> None:
    if len(positions) < 2:
        raise ConfigError(f"language schedule {raw!r}: interpolation needs at least 2 points")
    if positions[0] != 0.0 or positions[-1] != 1.0:
        raise ConfigError(f"language schedule {raw!r}: the first point must be @0 and the last @1")
    if any(b <= a for a, b in itertools.pairwise(positions)):
        raise ConfigError(f"language schedule {raw!r}: positions {positions} must increase")
