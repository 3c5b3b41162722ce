"""`ClonedTokenizer`: one base tokenizer, N perfectly equivalent languages in disjoint id ranges.

The id arithmetic (which ids each language owns, shared ids, anchors, the vectorised id maps) lives in
`clone_layout.CloneLayout`; this module wraps a base `transformers` tokenizer around it: encoding, decoding,
padding, token/id conversion and persistence. As in the paper, every id is cloned except padding (special tokens and
end-of-document included); sharing the other special tokens (``share_special_tokens=True``) and anchors
(``clone_fraction < 1``) are named options. Each language can be exported as a standalone `transformers` tokenizer
(`standalone`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from .clone_layout import CloneLayout
from .folder import read_settings, tokenizer_folder
from .standalone import STANDALONE_DIR, remapped_tokenizer

__all__ = ["CONFIG_NAME", "ClonedTokenizer"]

CONFIG_NAME = "cloned_tokenizer.json"


class ClonedTokenizer:
    """Wraps a base `transformers` tokenizer and maps its ids into N cloned languages (numbered 1..N).

    Args:
        base: a fast (tokenizers-backed) `transformers` tokenizer with vocabulary ids in ``[0, V)``.
        num_languages: N >= 1.
        clone_fraction: share of the cloneable base vocabulary (everything but shared specials) that gets a copy
            per language, in (0, 1]. The rest are anchors, shared by all languages.
        anchors: how anchors are chosen when ``clone_fraction < 1``: ``"random"`` (seeded), ``"frequent"`` (the most
            frequent ids of ``frequencies``), or an explicit list of base ids (``clone_fraction`` may then stay 1).
        seed: seed of the random anchor choice.
        share_special_tokens: share every special token (end-of-document, unknown, ...) by all languages instead
            of cloning it. Default False: only padding is shared, as in the paper (a shared end-of-document token
            is a frequent anchor that changes the alignment result).
        frequencies: per-base-id counts, needed for ``anchors="frequent"`` (see
            `hf_clonelang.data.tokenizers.token_frequencies`).

    The id layout is ``self.layout`` (a `CloneLayout`); its attributes and id maps are available here too.
    """

    parallel = True
    """Clones are parallel: any block moves into every language (`to_language`), so alignment needs no pairs."""

    def __init__(
        self,
        base: Any,
        num_languages: int = 2,
        clone_fraction: float = 1.0,
        anchors: str | Sequence[int] = "random",
        seed: int = 0,
        share_special_tokens: bool = False,
        frequencies: Sequence[int] | np.ndarray | None = None,
    ) -> None:
        self.base = base
        self.share_special_tokens = bool(share_special_tokens)
        pad = base.pad_token_id
        specials = {int(i) for i in base.all_special_ids}
        shared_specials = specials if share_special_tokens else ({pad} if pad is not None else set())
        self.layout = CloneLayout(
            base.get_vocab().values(),
            num_languages,
            shared_special_ids=shared_specials,
            clone_fraction=clone_fraction,
            anchors=anchors,
            seed=seed,
            frequencies=frequencies,
        )

    # ------------------------------------------------------------------ the layout, delegated
    @property
    def num_languages(self) -> int:
        return self.layout.num_languages

    @property
    def seed(self) -> int:
        return self.layout.seed

    @property
    def base_vocab_size(self) -> int:
        return self.layout.base_vocab_size

    @property
    def vocab_size(self) -> int:
        """Size of the joint vocabulary, ``V + (N-1)·num_cloned``: the model's embedding size."""
        return self.layout.vocab_size

    @property
    def num_cloned(self) -> int:
        return self.layout.num_cloned

    @property
    def clone_fraction(self) -> float:
        return self.layout.clone_fraction

    @property
    def shared_special_ids(self) -> np.ndarray:
        return self.layout.shared_special_ids

    @property
    def anchor_ids(self) -> np.ndarray:
        return self.layout.anchor_ids

    @property
    def anchors_mode(self) -> str:
        return self.layout.anchors_mode

    @anchors_mode.setter
    def anchors_mode(self, mode: str) -> None:
        self.layout.anchors_mode = mode

    @property
    def shared_ids(self) -> np.ndarray:
        """Base ids that every language shares (padding, any shared special tokens, anchors), sorted."""
        return self.layout.shared_ids

    @property
    def cloned_ids(self) -> np.ndarray:
        """Base ids that get a copy in every language (sorted)."""
        return self.layout.cloned_ids

    def language_range(self, language: int) -> tuple[int, int]:
        """Half-open id range ``[start, stop)`` that holds the cloned ids of ``language``."""
        return self.layout.language_range(language)

    def to_base(self, ids: Any) -> Any:
        """Map ids of any language back to base (language-1) ids."""
        return self.layout.to_base(ids)

    def language_of(self, ids: Any) -> Any:
        """Language (1..N) of each id, or `SHARED` (0) for specials and anchors."""
        return self.layout.language_of(ids)

    def to_language(self, ids: Any, language: int) -> Any:
        """Map ids of any language into ``language``; shared ids stay where they are."""
        return self.layout.to_language(ids, language)

    def describe_shared(self) -> str:
        """One line for cards and logs that names exactly which ids all languages share."""
        names = [f"`{self.base.convert_ids_to_tokens(int(i))}` (id {int(i)})" for i in self.shared_special_ids]
        if self.share_special_tokens:
            text = f"the special tokens {', '.join(names)}" if names else "no id"
        else:
            text = f"only padding, {names[0]}" if names else "no id (the tokenizer has no padding token)"
            same = self.base.eos_token_id is not None and self.base.eos_token_id == self.base.pad_token_id
            text += (
                " (also the tokenizer's eos token); every other special token is cloned"
                if same
                else "; every other special token, end-of-document included, is cloned"
            )
        if self.anchor_ids.size:
            text += f"; plus {self.anchor_ids.size} anchor ids (chosen {self.anchors_mode})"
        return text

    # ------------------------------------------------------------------ tokenizer interface
    def __call__(self, text: str | list[str], text_pair: Any = None, *, language: int = 1, **kwargs: Any) -> Any:
        """Tokenize like the base tokenizer (text pairs, padding, truncation, return_tensors...) with ids in
        ``language``, which is keyword-only: a second positional argument is a text pair, as in transformers."""
        self.layout.check_language(language)
        _check_text_pair(text_pair)
        enc = self.base(text, text_pair=text_pair, **kwargs)
        enc["input_ids"] = self.to_language(enc["input_ids"], language)
        return enc

    def encode(self, text: str, text_pair: Any = None, *, language: int = 1, **kwargs: Any) -> list[int]:
        """Ids of ``text`` (and ``text_pair``) in ``language`` (a flat list, like `PreTrainedTokenizer.encode`)."""
        self.layout.check_language(language)
        _check_text_pair(text_pair)
        return self.to_language(self.base.encode(text, text_pair=text_pair, **kwargs), language)

    def pad(self, encoded_inputs: Any, **kwargs: Any) -> Any:
        """Pad encodings as the base tokenizer does (`DataCollatorWithPadding` calls this); padding is shared by
        every language, so ids of any language pad alike."""
        return self.base.pad(encoded_inputs, **kwargs)

    def convert_ids_to_tokens(self, ids: int | list[int], skip_special_tokens: bool = False) -> str | list[str]:
        """Token strings of ids in any language: a clone reads as its base token (``language_of`` tells which)."""
        return self.base.convert_ids_to_tokens(self.to_base(_as_list(ids)), skip_special_tokens=skip_special_tokens)

    def convert_tokens_to_ids(self, tokens: str | list[str], language: int = 1) -> int | list[int]:
        """Ids of base token strings in ``language``."""
        self.layout.check_language(language)
        return self.to_language(self.base.convert_tokens_to_ids(tokens), language)

    @property
    def padding_side(self) -> str:
        return self.base.padding_side

    @padding_side.setter
    def padding_side(self, side: str) -> None:
        if side not in ("left", "right"):
            raise ConfigError(f"padding_side={side!r} is not allowed: use 'left' or 'right'")
        self.base.padding_side = side

    @property
    def model_input_names(self) -> list[str]:
        return list(self.base.model_input_names)

    def push_to_hub(
        self,
        repo_id: str,
        commit_message: str = "Upload cloned tokenizer",
        private: bool | None = None,
        token: str | None = None,
        revision: str | None = None,
    ) -> Any:
        """Upload what `save_pretrained` writes (base tokenizer, clone config, ``tokenizers/L{k}/``) to a model
        repo, created if missing; `from_pretrained(repo_id)` loads it back. Returns the commit info."""
        import tempfile

        from huggingface_hub import HfApi

        api = HfApi(token=token)
        with tempfile.TemporaryDirectory(prefix="clonelang-tokenizer-") as tmp:
            self.save_pretrained(tmp)  # written and checked locally before anything is sent
            api.create_repo(repo_id, private=private, exist_ok=True)
            return api.upload_folder(
                repo_id=repo_id, folder_path=tmp, commit_message=commit_message, revision=revision
            )

    def decode(self, ids: Any, **kwargs: Any) -> str:
        """Base text of ids in any language."""
        return self.base.decode(self.to_base(_as_list(ids)), **kwargs)

    def batch_decode(self, sequences: Any, **kwargs: Any) -> list[str]:
        """Base texts of a batch of id sequences in any languages."""
        return self.base.batch_decode(self.to_base(_as_list(sequences)), **kwargs)

    def __len__(self) -> int:
        return self.vocab_size

    @property
    def pad_token_id(self) -> int | None:
        return self.base.pad_token_id

    @property
    def eos_token_id(self) -> int | None:
        return self.base.eos_token_id

    @property
    def model_max_length(self) -> int:
        return self.base.model_max_length

    def __repr__(self) -> str:
        return (
            f"ClonedTokenizer(num_languages={self.num_languages}, base_vocab_size={self.base_vocab_size}, "
            f"num_cloned={self.num_cloned}, vocab_size={self.vocab_size}, clone_fraction={self.clone_fraction:.4g})"
        )

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """JSON-able description of the joint vocabulary (everything but the base tokenizer)."""
        return {
            "num_languages": self.num_languages,
            "base_vocab_size": self.base_vocab_size,
            "vocab_size": self.vocab_size,
            "num_cloned": self.num_cloned,
            "clone_fraction": self.clone_fraction,
            "share_special_tokens": self.share_special_tokens,
            "anchors": self.anchors_mode,
            "seed": self.seed,
            "shared_special_ids": self.shared_special_ids.tolist(),
            "shared_ids_description": self.describe_shared(),
            "anchor_ids": self.anchor_ids.tolist(),
            "language_ranges": {f"L{k}": list(self.language_range(k)) for k in range(1, self.num_languages + 1)},
        }

    def save_pretrained(self, save_directory: str | os.PathLike) -> list[str]:
        """Save the base tokenizer (at the root), the clone config, and each language as a standalone tokenizer
        under ``tokenizers/L{k}/`` that `AutoTokenizer` loads without hf_clonelang."""
        root = Path(save_directory)
        root.mkdir(parents=True, exist_ok=True)
        written = list(self.base.save_pretrained(str(root)))
        (root / CONFIG_NAME).write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        written.append(str(root / CONFIG_NAME))
        for k in range(1, self.num_languages + 1):
            written += list(self.standalone_tokenizer(k).save_pretrained(str(root / STANDALONE_DIR / f"L{k}")))
        return written

    @classmethod
    def from_pretrained(
        cls,
        path_or_repo: str | os.PathLike,
        subfolder: str | None = None,
        repo_type: str | None = None,
        revision: str | None = None,
        token: str | None = None,
    ) -> ClonedTokenizer:
        """Load a tokenizer written by `save_pretrained` from a folder or a Hub repo (model or dataset)."""
        from transformers import AutoTokenizer

        root = tokenizer_folder(
            path_or_repo,
            subfolder,
            ["*.json", "*.txt", "*.model"],
            [f"{STANDALONE_DIR}/*"],
            repo_type,
            revision,
            token,
        )
        cfg = read_settings(root, CONFIG_NAME, cls.__name__)
        base = AutoTokenizer.from_pretrained(str(root))
        tok = cls(
            base,
            num_languages=cfg["num_languages"],
            anchors=cfg["anchor_ids"],
            seed=cfg["seed"],
            share_special_tokens=_shares_specials(cfg),
        )
        tok.anchors_mode = cfg["anchors"]
        if tok.num_cloned != cfg["num_cloned"] or tok.shared_special_ids.tolist() != cfg["shared_special_ids"]:
            raise ConfigError(f"{root / CONFIG_NAME} does not match the base tokenizer saved beside it")
        return tok

    # ------------------------------------------------------------------ standalone export
    def standalone_tokenizer(self, language: int) -> Any:
        """A plain `transformers` fast tokenizer that encodes base text straight to ``language``'s ids."""
        self.layout.check_language(language)
        return remapped_tokenizer(self.base, self.to_language(np.arange(self.base_vocab_size), language))


def _check_text_pair(text_pair: Any) -> None:
    """A second positional argument is a text pair (as in transformers), never a language."""
    if text_pair is not None and not isinstance(text_pair, (str, list, tuple)):
        raise ConfigError(
            f"second positional argument {text_pair!r} is not a text pair (a string or a list of them): give the "
            "language as a keyword, language=k"
        )


def _shares_specials(cfg: dict[str, Any]) -> bool:
    """Read ``share_special_tokens`` from a saved config (files of hf_clonelang 0.1 wrote ``clone_specials``)."""
    if "share_special_tokens" in cfg:
        return bool(cfg["share_special_tokens"])
    return not cfg.get("clone_specials", False)


def _as_list(ids: Any) -> Any:
    if hasattr(ids, "tolist"):
        return ids.tolist()
    return ids
