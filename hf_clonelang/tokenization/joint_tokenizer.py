"""`JointTokenizer`: real languages, each with its own tokenizer, in one joint vocabulary (`JointLayout`:
disjoint or anchored), with the contract of `ClonedTokenizer` where it makes sense: ``tok(text, language=k)``,
``decode``, ``language_of``, ``ids_of``, ``save_pretrained`` / ``from_pretrained``, and a standalone
``tokenizers/L{k}/`` per language that plain `AutoTokenizer` loads and that produces the joint ids.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from .folder import read_settings, tokenizer_folder
from .joint_layout import JointLayout
from .standalone import STANDALONE_DIR, remapped_tokenizer

CONFIG_NAME = "joint_tokenizer.json"
BASE_DIR = "base"


class JointTokenizer:
    """One tokenizer per language (language k is ``tokenizers[k - 1]``, fast `transformers` tokenizers) laid out in
    one joint vocabulary; ``mode`` is ``"disjoint"`` or ``"anchored"``; ``names`` are the languages' names (``en``,
    ``fr``; default ``L1``, ``L2``, ...) for cards and reports."""

    parallel = False
    """Real languages are not parallel: a block of one language has no counterpart in another (unlike clones)."""

    def __init__(self, tokenizers: Sequence[Any], mode: str = "disjoint", names: Sequence[str] | None = None) -> None:
        self.bases = list(tokenizers)
        self.names = [f"L{k}" for k in range(1, len(self.bases) + 1)] if names is None else [str(n) for n in names]
        if len(self.names) != len(self.bases):
            raise ConfigError(f"{len(self.names)} names for {len(self.bases)} tokenizers: give one name per language")
        for k, tok in enumerate(self.bases, 1):
            if getattr(tok, "backend_tokenizer", None) is None:
                raise ConfigError(f"the tokenizer of L{k} ({type(tok).__name__}) is not a fast tokenizer")
        self.layout = JointLayout(
            [tok.get_vocab() for tok in self.bases],
            mode=mode,
            specials=[list(tok.all_special_tokens) for tok in self.bases],
            pads=[tok.pad_token for tok in self.bases],
        )

    # ------------------------------------------------------------------ contract shared with ClonedTokenizer
    @property
    def num_languages(self) -> int:
        return self.layout.num_languages

    @property
    def vocab_size(self) -> int:
        """Size of the joint vocabulary (the model's embedding needs at least this many rows)."""
        return self.layout.vocab_size

    @property
    def mode(self) -> str:
        return self.layout.mode

    @property
    def pad_token_id(self) -> int | None:
        return self.layout.pad_id

    def eod_token_id(self, language: int) -> int | None:
        """Language ``language``'s end-of-document (eos) token as a joint id."""
        base = self.bases[self._check(language) - 1]
        return None if base.eos_token_id is None else int(self.layout.to_joint_ids([base.eos_token_id], language)[0])

    def language_of(self, ids: Any) -> np.ndarray:
        return self.layout.language_of(ids)

    def ids_of(self, language: int) -> np.ndarray:
        return self.layout.ids_of(language)

    def to_language(self, ids: Any, language: int) -> Any:
        """Rows already in ``language`` stay as they are (the collator's contract): real languages cannot be moved
        into one another, so ids that ``language`` cannot produce are an error."""
        values = np.asarray(ids)
        member = self.layout.members[self._check(language) - 1]
        inside = (values >= 0) & (values < member.size)
        outside = ~inside | ~member[np.where(inside, values, 0)]
        if outside.any():  # one table lookup per id: this runs on every batch
            raise ConfigError(
                f"id {int(values[outside][0])} is not in L{language}'s vocabulary: rows of real languages keep their "
                "own language"
            )
        return ids

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description of the joint vocabulary (for ``info.json``, ``run_info.json`` and cards)."""
        return {
            "kind": "joint",
            "languages": list(self.names),
            "num_languages": self.num_languages,
            "vocab_mode": self.mode,
            "vocab_size": self.vocab_size,
            "base_vocab_sizes": list(self.layout.base_vocab_sizes),
            "num_shared": list(self.layout.num_shared),
            "shared_ids_description": self.describe_shared(),
        }

    def describe_shared(self) -> str:
        """One line naming which ids the languages share."""
        if self.mode == "disjoint":
            return "only padding (each language keeps its own ids)"
        shared = ", ".join(f"{n} {s}" for n, s in zip(self.names, self.layout.num_shared, strict=True))
        return f"padding and the pieces spelled alike (ids shared per language: {shared})"

    def __call__(self, text: Any, *, language: int = 1, **kwargs: Any) -> Any:
        """Tokenize ``text`` (a string or a list of strings) with language ``language``'s tokenizer; ``input_ids``
        are joint ids (lists, or tensors with ``return_tensors``)."""
        encoded = self.bases[self._check(language) - 1](text, **kwargs)
        ids = encoded["input_ids"]
        if isinstance(text, str) or hasattr(ids, "shape"):
            mapped = self.layout.to_joint_ids(np.asarray(ids), language)
        else:  # a list of rows, of different lengths unless padded
            mapped = [self.layout.to_joint_ids(np.asarray(row, dtype=np.int64), language) for row in ids]
        if hasattr(ids, "new_tensor"):
            import torch

            encoded["input_ids"] = torch.as_tensor(mapped, dtype=ids.dtype)
        elif isinstance(ids, np.ndarray):
            encoded["input_ids"] = mapped
        else:
            encoded["input_ids"] = mapped.tolist() if isinstance(text, str) else [r.tolist() for r in mapped]
        return encoded

    def encode(self, text: str, *, language: int = 1, **kwargs: Any) -> list[int]:
        return self(text, language=language, **kwargs)["input_ids"]

    def decode(self, ids: Any, language: int | None = None, **kwargs: Any) -> str:
        """Text of joint ids in one language (default: the language of the first id no other language shares)."""
        ids = np.asarray(ids, dtype=np.int64).ravel()
        if language is None:
            owners = self.layout.language_of(ids)
            own = owners[owners > 0]
            language = int(own[0]) if own.size else 1
        base_ids = self.layout.to_base_ids(ids, self._check(language))
        return self.bases[language - 1].decode(base_ids[base_ids >= 0].tolist(), **kwargs)

    # ------------------------------------------------------------------ persistence
    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """The base tokenizers (``base/L{k}/``), the layout's settings, and a standalone tokenizer per language."""
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        for k, base in enumerate(self.bases, 1):
            base.save_pretrained(root / BASE_DIR / f"L{k}")
            self.standalone_tokenizer(k).save_pretrained(root / STANDALONE_DIR / f"L{k}")
        (root / CONFIG_NAME).write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return root

    @classmethod
    def from_pretrained(
        cls,
        path_or_repo: str | os.PathLike,
        subfolder: str | None = None,
        repo_type: str | None = None,
        revision: str | None = None,
        token: str | None = None,
    ) -> JointTokenizer:
        """Load a tokenizer written by `save_pretrained` from a folder or a Hub repo (model or dataset)."""
        from transformers import AutoTokenizer

        root = tokenizer_folder(
            path_or_repo, subfolder, [CONFIG_NAME, f"{BASE_DIR}/*"], (), repo_type, revision, token
        )
        settings = read_settings(root, CONFIG_NAME, cls.__name__)
        languages = range(1, settings["num_languages"] + 1)
        bases = [AutoTokenizer.from_pretrained(root / BASE_DIR / f"L{k}") for k in languages]
        mode = settings.get("vocab_mode", settings.get("mode"))
        tok = cls(bases, mode=mode, names=settings.get("languages"))
        if tok.vocab_size != settings["vocab_size"]:
            expected = settings["vocab_size"]
            raise ConfigError(f"{root}: the base tokenizers give {tok.vocab_size} joint ids, not {expected}")
        return tok

    def standalone_tokenizer(self, language: int) -> Any:
        """A plain fast tokenizer that encodes language ``language``'s text straight to joint ids."""
        return remapped_tokenizer(self.bases[self._check(language) - 1], self.layout.to_joint[language - 1])

    def _check(self, language: int) -> int:
        self.layout.check_language(language)
        return int(language)

    def __repr__(self) -> str:
        return f"JointTokenizer({', '.join(self.names)}: {self.layout.describe()})"
