"""The id layout of N cloned languages: pure id arithmetic over a base vocabulary, no tokenizer needed.

Language 1 keeps the base ids ``[0, V)``. Every *cloned* base id gets one more id per extra language: language
k >= 2 owns the contiguous range ``[V + (k-2)·m, V + (k-1)·m)`` where m is the number of cloned ids, and the r-th
cloned base id (in id order) lands at offset r of that range. Shared ids (shared special tokens such as padding,
and anchors when ``clone_fraction < 1``) keep their base id in every language; `CloneLayout.language_of` reports
them as language `SHARED` (0).

The joint vocabulary therefore has ``V + (N-1)·m`` ids (`joint_vocab_size`), the size a model's embedding must
have. All id maps are vectorised over ints, (nested) lists, numpy arrays and torch tensors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..common import INT32_MAX, check_anchors, check_clone_fraction, check_num_languages
from ..errors import ConfigError

SHARED = 0
"""`language_of` value for ids that belong to every language (shared special tokens and anchors)."""


def num_anchors(num_cloneable: int, clone_fraction: float) -> int:
    """How many of ``num_cloneable`` base ids become anchors (shared) at ``clone_fraction``."""
    return round((1.0 - clone_fraction) * num_cloneable)


def joint_vocab_size(
    base_vocab_size: int, num_languages: int, clone_fraction: float = 1.0, num_shared_specials: int = 1
) -> int:
    """Joint vocabulary size of N languages over a dense base vocabulary ``[0, V)`` whose ``num_shared_specials``
    special ids are shared (1: padding only, the default), with anchors chosen by ``clone_fraction``."""
    num_languages = check_num_languages(num_languages)
    clone_fraction = check_clone_fraction(clone_fraction)
    cloneable = int(base_vocab_size) - int(num_shared_specials)
    if cloneable < 1 or num_shared_specials < 0:
        raise ConfigError(
            f"base_vocab_size={base_vocab_size} with {num_shared_specials} shared special ids leaves nothing to clone"
        )
    num_cloned = cloneable - num_anchors(cloneable, clone_fraction)
    return int(base_vocab_size) + (num_languages - 1) * num_cloned


class CloneLayout:
    """Where each base id lives in each of N languages (numbered 1..N), and the vectorised maps between them.

    Args:
        base_ids: the valid base ids (a tokenizer's vocabulary values); the base vocabulary is ``[0, max + 1)``.
        num_languages: N >= 1.
        shared_special_ids: base ids every language shares and that are never anchors (padding, shared specials).
        clone_fraction: share of the cloneable base ids (all but ``shared_special_ids``) that get a copy per
            language, in (0, 1]. The rest are anchors, shared by all languages.
        anchors: ``"random"`` (seeded), ``"frequent"`` (the most frequent ids of ``frequencies``), or an explicit
            list of base ids (``clone_fraction`` may then stay 1).
        seed: seed of the random anchor choice.
        frequencies: per-base-id counts, needed for ``anchors="frequent"``.
    """

    def __init__(
        self,
        base_ids: Iterable[int],
        num_languages: int = 2,
        shared_special_ids: Iterable[int] = (),
        clone_fraction: float = 1.0,
        anchors: str | Sequence[int] = "random",
        seed: int = 0,
        frequencies: Sequence[int] | np.ndarray | None = None,
    ) -> None:
        self.num_languages = check_num_languages(num_languages)
        clone_fraction = check_clone_fraction(clone_fraction)
        anchors = check_anchors(anchors)
        self.seed = int(seed)
        valid_ids = np.unique(np.fromiter((int(i) for i in base_ids), dtype=np.int64))
        if valid_ids.size == 0 or valid_ids[0] < 0:
            raise ConfigError("the base tokenizer has an empty vocabulary or negative ids")
        self.base_vocab_size = int(valid_ids[-1]) + 1
        self.shared_special_ids = np.unique(np.fromiter((int(i) for i in shared_special_ids), dtype=np.int64))
        cloneable = np.setdiff1d(valid_ids, self.shared_special_ids)
        if cloneable.size == 0:
            raise ConfigError("the base tokenizer has nothing to clone: every id is a shared special token")

        self.anchor_ids = self._choose_anchors(cloneable, clone_fraction, anchors, frequencies)
        self.anchors_mode = anchors if isinstance(anchors, str) else "ids"
        self._cloned = np.setdiff1d(cloneable, self.anchor_ids)
        if self._cloned.size == 0:
            raise ConfigError("no base id is left to clone: the anchors cover the whole cloneable vocabulary")
        self.num_cloned = int(self._cloned.size)
        self.clone_fraction = self.num_cloned / cloneable.size
        self.vocab_size = self.base_vocab_size + (self.num_languages - 1) * self.num_cloned
        if self.vocab_size > INT32_MAX:
            raise ConfigError(
                f"num_languages={self.num_languages} is too large: {self.num_languages} languages of "
                f"{self.num_cloned} cloned ids need {self.vocab_size} ids, more than int32 holds ({INT32_MAX})"
            )
        self._rank = np.full(self.base_vocab_size, -1, dtype=np.int64)
        self._rank[self._cloned] = np.arange(self.num_cloned, dtype=np.int64)
        self._torch_tables: dict[Any, tuple[Any, Any]] = {}

    def _choose_anchors(
        self,
        cloneable: np.ndarray,
        clone_fraction: float,
        anchors: str | Sequence[int],
        frequencies: Sequence[int] | np.ndarray | None,
    ) -> np.ndarray:
        n_anchor = num_anchors(cloneable.size, clone_fraction)
        if not isinstance(anchors, str):
            ids = np.unique(np.asarray(list(anchors), dtype=np.int64))
            bad = np.setdiff1d(ids, cloneable)
            if bad.size:
                raise ConfigError(
                    f"anchor id {int(bad[0])} is not allowed: anchors must be base ids in [0, "
                    f"{self.base_vocab_size}) other than the shared special ids {self.shared_special_ids.tolist()}"
                )
            if clone_fraction != 1.0 and ids.size != n_anchor:
                raise ConfigError(
                    f"clone_fraction={clone_fraction} asks for {n_anchor} anchors but {ids.size} anchor ids were "
                    "given: pass either an explicit anchor list or a clone_fraction, not both"
                )
            return ids
        if n_anchor == 0:
            return np.zeros(0, dtype=np.int64)
        if anchors == "random":
            rng = np.random.default_rng(self.seed)
            return np.sort(rng.choice(cloneable, size=n_anchor, replace=False))
        if anchors == "frequent":
            if frequencies is None:
                raise ConfigError(
                    "anchors='frequent' needs token counts: pass frequencies=token_frequencies(base, texts)"
                )
            counts = np.zeros(self.base_vocab_size, dtype=np.float64)
            freq = np.asarray(frequencies, dtype=np.float64)[: self.base_vocab_size]
            counts[: freq.size] = freq
            order = np.argsort(-counts[cloneable], kind="stable")  # ties: lower id first
            return np.sort(cloneable[order[:n_anchor]])
        raise AssertionError(anchors)  # check_anchors admits nothing else

    # ------------------------------------------------------------------ ranges
    @property
    def shared_ids(self) -> np.ndarray:
        """Base ids that every language shares (shared special ids and anchors), sorted."""
        return np.union1d(self.shared_special_ids, self.anchor_ids)

    @property
    def cloned_ids(self) -> np.ndarray:
        """Base ids that get a copy in every language (sorted)."""
        return self._cloned.copy()

    def language_range(self, language: int) -> tuple[int, int]:
        """Half-open id range ``[start, stop)`` that holds the cloned ids of ``language``."""
        self.check_language(language)
        if language == 1:
            return 0, self.base_vocab_size
        start = self.base_vocab_size + (language - 2) * self.num_cloned
        return start, start + self.num_cloned

    def check_language(self, language: int) -> None:
        """Raise a ConfigError unless ``language`` is an integer in 1..N."""
        if isinstance(language, bool) or not isinstance(language, (int, np.integer)):
            raise ConfigError(f"language={language!r} is not allowed: languages are integers 1..{self.num_languages}")
        if not 1 <= language <= self.num_languages:
            raise ConfigError(f"language={language} is not allowed: languages are numbered 1..{self.num_languages}")

    def check_range(self, ids: Any) -> None:
        """Raise a ConfigError if a numpy array or tensor holds an id outside ``[0, vocab_size)``."""
        if ids.numel() if hasattr(ids, "numel") else ids.size:
            lo, hi = int(ids.min()), int(ids.max())
            if lo < 0 or hi >= self.vocab_size:
                bad = lo if lo < 0 else hi
                raise ConfigError(f"token id {bad} is out of range: ids must lie in [0, {self.vocab_size})")

    # ------------------------------------------------------------------ vectorised id maps
    def to_base(self, ids: Any) -> Any:
        """Map ids of any language back to base (language-1) ids."""
        return self._apply(ids, self._to_base)

    def language_of(self, ids: Any) -> Any:
        """Language (1..N) of each id, or `SHARED` (0) for shared specials and anchors."""
        return self._apply(ids, self._language_of)

    def to_language(self, ids: Any, language: int) -> Any:
        """Map ids of any language into ``language``; shared ids stay where they are."""
        self.check_language(language)
        return self._apply(ids, lambda a, xp, rank, cloned: self._to_language(a, xp, rank, cloned, language))

    def _to_base(self, a: Any, xp: Any, rank: Any, cloned: Any) -> Any:
        v = self.base_vocab_size
        return xp.where(a < v, a, cloned[(a - v).clip(0) % self.num_cloned])

    def _language_of(self, a: Any, xp: Any, rank: Any, cloned: Any) -> Any:
        v = self.base_vocab_size
        in_base = xp.where(rank[a.clip(0, v - 1)] >= 0, 1, SHARED)
        return xp.where(a < v, in_base, 2 + (a - v).clip(0) // self.num_cloned)

    def _to_language(self, a: Any, xp: Any, rank: Any, cloned: Any, language: int) -> Any:
        base = self._to_base(a, xp, rank, cloned)
        if language == 1:
            return base
        r = rank[base]
        return xp.where(r >= 0, self.language_range(language)[0] + r, base)

    def _apply(self, ids: Any, fn: Any) -> Any:
        """Run ``fn(array, xp, rank, cloned)`` on ids given as int, (nested) list, numpy array or torch tensor."""
        if isinstance(ids, np.ndarray):
            self.check_range(ids)
            return fn(ids.astype(np.int64, copy=False), np, self._rank, self._cloned).astype(ids.dtype, copy=False)
        if isinstance(ids, (int, np.integer)) and not isinstance(ids, bool):
            return int(self._apply(np.asarray([ids]), fn)[0])
        if isinstance(ids, (list, tuple)):
            return self._apply_list(list(ids), fn)
        torch = _torch_or_none()
        if torch is not None and isinstance(ids, torch.Tensor):
            self.check_range(ids)
            rank, cloned = self._torch(ids.device)
            return fn(ids.long(), torch, rank, cloned).to(ids.dtype)
        raise TypeError(f"ids of type {type(ids).__name__} are not supported: use int, list, numpy array or tensor")

    def _apply_list(self, ids: list, fn: Any) -> list:
        if all(isinstance(x, (int, np.integer)) for x in ids):
            return self._apply(np.asarray(ids, dtype=np.int64), fn).tolist() if ids else []
        if all(isinstance(x, (list, tuple)) and all(isinstance(y, (int, np.integer)) for y in x) for x in ids):
            lengths = [len(x) for x in ids]  # ragged batch: map once, split again
            flat = self._apply(np.fromiter((y for x in ids for y in x), dtype=np.int64), fn).tolist()
            out, pos = [], 0
            for n in lengths:
                out.append(flat[pos : pos + n])
                pos += n
            return out
        return [self._apply(x, fn) for x in ids]

    def _torch(self, device: Any) -> tuple[Any, Any]:
        if device not in self._torch_tables:
            import torch

            self._torch_tables[device] = (
                torch.as_tensor(self._rank, device=device),
                torch.as_tensor(self._cloned, device=device),
            )
        return self._torch_tables[device]

    def __repr__(self) -> str:
        return (
            f"CloneLayout(num_languages={self.num_languages}, base_vocab_size={self.base_vocab_size}, "
            f"num_cloned={self.num_cloned}, vocab_size={self.vocab_size}, clone_fraction={self.clone_fraction:.4g})"
        )


def _torch_or_none() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency, but the id maps do not need it
        return None
    return torch
