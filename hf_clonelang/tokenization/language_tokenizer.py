"""The interface the training, evaluation and publishing code needs from a tokenizer of several languages, which
both `ClonedTokenizer` (clones of one base tokenizer) and `JointTokenizer` (real languages, each its own tokenizer)
implement; and `load_language_tokenizer`, which loads whichever of the two a folder or Hub repo holds.

The one difference that matters to callers is ``parallel``: clones move into one another (`to_language` maps a
block of any language into any other, so alignment can be measured on the same blocks in every language), real
languages do not (`to_language` only accepts rows already in that language; alignment needs translation pairs).
"""

from __future__ import annotations

import os
from typing import Any, Protocol, runtime_checkable

from .cloned_tokenizer import CONFIG_NAME as CLONED_CONFIG
from .cloned_tokenizer import ClonedTokenizer
from .folder import tokenizer_folder
from .joint_tokenizer import CONFIG_NAME as JOINT_CONFIG
from .joint_tokenizer import JointTokenizer

__all__ = ["LanguageTokenizer", "load_language_tokenizer"]


@runtime_checkable
class LanguageTokenizer(Protocol):
    """Languages 1..N in one vocabulary of ``vocab_size`` ids."""

    parallel: bool

    @property
    def num_languages(self) -> int: ...

    @property
    def vocab_size(self) -> int: ...

    def language_of(self, ids: Any) -> Any:
        """The language owning each id (`vocab.SHARED` for shared ids)."""

    def to_language(self, ids: Any, language: int) -> Any:
        """Rows in ``language``'s ids (the collator's step before every batch)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description for ``info.json``, ``run_info.json`` and cards."""

    def save_pretrained(self, save_directory: str | os.PathLike) -> Any: ...

    def __call__(self, text: Any, *, language: int = 1, **kwargs: Any) -> Any: ...

    def decode(self, ids: Any, **kwargs: Any) -> str: ...

    def standalone_tokenizer(self, language: int) -> Any:
        """Language ``language`` as a plain `transformers` tokenizer giving its joint ids (``tokenizers/L{k}/``)."""


def load_language_tokenizer(path_or_repo: str | os.PathLike, **kwargs: Any) -> Any:
    """The tokenizer saved in a folder or Hub repo (``subfolder``, ``repo_type``... as for ``from_pretrained``):
    a `JointTokenizer` where ``joint_tokenizer.json`` is, else a `ClonedTokenizer`."""
    hub = {k: kwargs.get(k) for k in ("repo_type", "revision", "token")}
    folder = tokenizer_folder(path_or_repo, kwargs.get("subfolder"), [JOINT_CONFIG, CLONED_CONFIG], **hub)
    joint = (folder / JOINT_CONFIG).is_file()  # (from a Hub repo: only the two config files, to see which)
    return (JointTokenizer if joint else ClonedTokenizer).from_pretrained(path_or_repo, **kwargs)
