"""The joint vocabulary of real languages (the paper's Section 5): each language has its own tokenizer, and their
ids are laid out side by side, **disjoint** (language k's ids shifted past languages 1..k-1) or **anchored** (a
piece whose string is already in an earlier language's vocabulary reuses that id; the paper's two 16,384-piece
English and French tokenizers share 3,728 pieces, joint size 29,040).

Special tokens stay per language (each language keeps its own end-of-document token, as the cloned default), except
padding: every language's padding maps to language 1's. This module is the id arithmetic only (no transformers):
`JointLayout` maps each language's base ids to joint ids and back, and says which language owns a joint id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..common import check_num_languages
from ..errors import ConfigError
from .clone_layout import SHARED

VOCAB_MODES = ("disjoint", "anchored")


class JointLayout:
    """Where each language's base ids live in the joint vocabulary.

    Args:
        vocabs: one ``piece -> base id`` mapping per language (language k is ``vocabs[k - 1]``), dense ids.
        mode: ``"disjoint"`` or ``"anchored"``.
        specials: per language, the pieces that are special tokens (never anchored: each language keeps its own).
        pads: per language, the padding piece (or None); all of them map to language 1's padding id.
    """

    def __init__(
        self,
        vocabs: Sequence[Mapping[str, int]],
        mode: str = "disjoint",
        specials: Sequence[Sequence[str]] | None = None,
        pads: Sequence[str | None] | None = None,
    ) -> None:
        n = check_num_languages(len(vocabs))
        if n < 2:
            raise ConfigError(f"{n} language given: real-language corpora need at least two")
        if mode not in VOCAB_MODES:
            raise ConfigError(f"vocab mode {mode!r} is not allowed: use {' or '.join(VOCAB_MODES)}")
        specials = [set(s) for s in (specials or [()] * n)]
        pads = list(pads or [None] * n)
        if len(specials) != n or len(pads) != n:
            raise ConfigError(f"give specials and pads for each of the {n} languages")
        self.mode = mode
        self.num_languages = n
        self.base_vocab_sizes = [_dense_size(v, k) for k, v in enumerate(vocabs, 1)]
        pad_id = vocabs[0][pads[0]] if pads[0] is not None else None
        self.to_joint: list[np.ndarray] = []
        owners: list[int] = []  # joint id -> the one language using it, or SHARED
        first_use: dict[str, int] = {}  # piece -> joint id, for anchoring
        for k, vocab in enumerate(vocabs, 1):
            table = np.full(self.base_vocab_sizes[k - 1], -1, dtype=np.int64)
            for piece, base_id in sorted(vocab.items(), key=lambda item: item[1]):
                if piece == pads[k - 1] and pad_id is not None:
                    joint = pad_id if k > 1 else len(owners)
                    if k == 1:
                        owners.append(SHARED)
                elif mode == "anchored" and piece not in specials[k - 1] and piece in first_use:
                    joint = first_use[piece]
                    owners[joint] = SHARED
                else:
                    joint = len(owners)
                    owners.append(k)
                    if piece not in specials[k - 1]:
                        first_use.setdefault(piece, joint)
                table[base_id] = joint
            self.to_joint.append(table)
        self.owner = np.asarray(owners, dtype=np.int64)
        self.vocab_size = len(owners)
        self.pad_id = pad_id
        self.num_shared = [int(np.sum(self.owner[t] == SHARED)) for t in self.to_joint]
        self.members = []  # per language, which joint ids it can produce (a lookup table, built once)
        for table in self.to_joint:
            member = np.zeros(self.vocab_size, dtype=bool)
            member[table] = True
            self.members.append(member)

    # ------------------------------------------------------------------ maps
    def check_language(self, language: int) -> None:
        if isinstance(language, bool) or not 1 <= int(language) <= self.num_languages:
            raise ConfigError(f"language={language!r} is not allowed: use 1..{self.num_languages}")

    def to_joint_ids(self, ids: Any, language: int) -> np.ndarray:
        """Language ``language``'s base ids as joint ids."""
        self.check_language(language)
        ids = np.asarray(ids, dtype=np.int64)
        table = self.to_joint[language - 1]
        if ids.size and (ids.min() < 0 or ids.max() >= table.size):
            raise ConfigError(f"base ids of L{language} must lie in [0, {table.size}); got {ids.min()}..{ids.max()}")
        return table[ids]

    def to_base_ids(self, ids: Any, language: int) -> np.ndarray:
        """Joint ids as ``language``'s base ids (-1 where the joint id is not in that language's vocabulary)."""
        self.check_language(language)
        ids = np.asarray(ids, dtype=np.int64)
        inverse = np.full(self.vocab_size, -1, dtype=np.int64)
        table = self.to_joint[language - 1]
        inverse[table] = np.arange(table.size)
        return inverse[ids]

    def language_of(self, ids: Any) -> np.ndarray:
        """The language owning each joint id (`SHARED` for padding and anchored pieces)."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ConfigError(f"joint ids must lie in [0, {self.vocab_size}); got {ids.min()}..{ids.max()}")
        return self.owner[ids]

    def ids_of(self, language: int) -> np.ndarray:
        """Every joint id language ``language`` can produce, sorted (its own and the ones it shares)."""
        self.check_language(language)
        return np.flatnonzero(self.members[language - 1])

    def describe(self) -> str:
        """One line for cards and logs: mode, sizes, shared pieces."""
        sizes = " + ".join(map(str, self.base_vocab_sizes))
        shared = ", ".join(f"L{k}: {s}" for k, s in enumerate(self.num_shared, 1))
        return f"{self.mode} joint vocabulary of {self.vocab_size} ids from {sizes} (shared per language: {shared})"


def _dense_size(vocab: Mapping[str, int], language: int) -> int:
    ids = sorted(vocab.values())
    if not ids or ids[0] != 0 or ids[-1] != len(ids) - 1 or len(set(ids)) != len(ids):
        raise ConfigError(f"the vocabulary of L{language} must use the ids 0..{len(ids) - 1} once each")
    return len(ids)
