"""`ClonedTokenizer`: one base tokenizer, N perfectly equivalent languages in disjoint id ranges.

Language 1 keeps the base ids ``[0, V)``. Every *cloned* base id gets one more id per extra language: language
k >= 2 owns the contiguous range ``[V + (k-2)·m, V + (k-1)·m)`` where m is the number of cloned ids, and the r-th
cloned base id (in id order) lands at offset r of that range. As in the paper, every id is cloned except padding
(special tokens and end-of-document included); sharing the other special tokens (``share_special_tokens=True``) and
anchors (``clone_fraction < 1``) are named options. Shared ids keep their base id in every language; `language_of`
reports them as language 0.

The joint vocabulary therefore has ``V + (N-1)·m`` ids, the size a model's embedding must have. All id maps are
vectorised over lists, numpy arrays and torch tensors, and each language can be exported as a standalone
`transformers` tokenizer whose ids are already in that language's range.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .common import INT32_MAX, check_anchors, check_clone_fraction, check_num_languages
from .errors import ConfigError

SHARED = 0
"""`language_of` value for ids that belong to every language (special tokens and anchors)."""

CONFIG_NAME = "cloned_tokenizer.json"
STANDALONE_DIR = "tokenizers"


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
        frequencies: per-base-id counts, needed for ``anchors="frequent"`` (see `token_frequencies`).
    """

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
        num_languages = check_num_languages(num_languages)
        clone_fraction = check_clone_fraction(clone_fraction)
        anchors = check_anchors(anchors)
        self.base = base
        self.num_languages = int(num_languages)
        self.seed = int(seed)
        self.share_special_tokens = bool(share_special_tokens)

        valid_ids = np.unique(np.fromiter(base.get_vocab().values(), dtype=np.int64))
        if valid_ids.size == 0 or valid_ids[0] < 0:
            raise ConfigError("the base tokenizer has an empty vocabulary or negative ids")
        self.base_vocab_size = int(valid_ids[-1]) + 1
        pad = base.pad_token_id
        specials = {int(i) for i in base.all_special_ids}
        shared_specials = specials if share_special_tokens else ({pad} if pad is not None else set())
        self.shared_special_ids = np.array(sorted(shared_specials), dtype=np.int64)
        cloneable = np.setdiff1d(valid_ids, self.shared_special_ids)
        if cloneable.size == 0:
            raise ConfigError("the base tokenizer has nothing to clone: every id is a shared special token")

        anchor_ids = self._choose_anchors(cloneable, float(clone_fraction), anchors, frequencies)
        self.anchors_mode = anchors if isinstance(anchors, str) else "ids"
        self.anchor_ids = anchor_ids
        self._cloned = np.setdiff1d(cloneable, anchor_ids)
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

    # ------------------------------------------------------------------ anchors
    def _choose_anchors(
        self,
        cloneable: np.ndarray,
        clone_fraction: float,
        anchors: str | Sequence[int],
        frequencies: Sequence[int] | np.ndarray | None,
    ) -> np.ndarray:
        n_anchor = round((1.0 - clone_fraction) * cloneable.size)
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

    @property
    def shared_ids(self) -> np.ndarray:
        """Base ids that every language shares (padding, any shared special tokens, anchors), sorted."""
        return np.union1d(self.shared_special_ids, self.anchor_ids)

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

    # ------------------------------------------------------------------ ranges
    def language_range(self, language: int) -> tuple[int, int]:
        """Half-open id range ``[start, stop)`` that holds the cloned ids of ``language``."""
        self._check_language(language)
        if language == 1:
            return 0, self.base_vocab_size
        start = self.base_vocab_size + (language - 2) * self.num_cloned
        return start, start + self.num_cloned

    @property
    def cloned_ids(self) -> np.ndarray:
        """Base ids that get a copy in every language (sorted)."""
        return self._cloned.copy()

    def _check_language(self, language: int) -> None:
        if isinstance(language, bool) or not isinstance(language, (int, np.integer)):
            raise ConfigError(f"language={language!r} is not allowed: languages are integers 1..{self.num_languages}")
        if not 1 <= language <= self.num_languages:
            raise ConfigError(f"language={language} is not allowed: languages are numbered 1..{self.num_languages}")

    # ------------------------------------------------------------------ vectorised id maps
    def to_base(self, ids: Any) -> Any:
        """Map ids of any language back to base (language-1) ids."""
        return self._apply(ids, self._to_base)

    def language_of(self, ids: Any) -> Any:
        """Language (1..N) of each id, or `SHARED` (0) for specials and anchors."""
        return self._apply(ids, self._language_of)

    def to_language(self, ids: Any, language: int) -> Any:
        """Map ids of any language into ``language``; shared ids stay where they are."""
        self._check_language(language)
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
            self._check_range(ids)
            return fn(ids.astype(np.int64, copy=False), np, self._rank, self._cloned).astype(ids.dtype, copy=False)
        if isinstance(ids, (int, np.integer)) and not isinstance(ids, bool):
            return int(self._apply(np.asarray([ids]), fn)[0])
        if isinstance(ids, (list, tuple)):
            return self._apply_list(list(ids), fn)
        torch = _torch_or_none()
        if torch is not None and isinstance(ids, torch.Tensor):
            self._check_range(ids)
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

    def _check_range(self, a: Any) -> None:
        if a.numel() if hasattr(a, "numel") else a.size:
            lo, hi = int(a.min()), int(a.max())
            if lo < 0 or hi >= self.vocab_size:
                bad = lo if lo < 0 else hi
                raise ConfigError(f"token id {bad} is out of range: ids must lie in [0, {self.vocab_size})")

    def _torch(self, device: Any) -> tuple[Any, Any]:
        if device not in self._torch_tables:
            import torch

            self._torch_tables[device] = (
                torch.as_tensor(self._rank, device=device),
                torch.as_tensor(self._cloned, device=device),
            )
        return self._torch_tables[device]

    # ------------------------------------------------------------------ tokenizer interface
    def __call__(self, text: str | list[str], text_pair: Any = None, *, language: int = 1, **kwargs: Any) -> Any:
        """Tokenize like the base tokenizer (text pairs, padding, truncation, return_tensors...) with ids in
        ``language``, which is keyword-only: a second positional argument is a text pair, as in transformers."""
        self._check_language(language)
        _check_text_pair(text_pair)
        enc = self.base(text, text_pair=text_pair, **kwargs)
        enc["input_ids"] = self.to_language(enc["input_ids"], language)
        return enc

    def encode(self, text: str, text_pair: Any = None, *, language: int = 1, **kwargs: Any) -> list[int]:
        """Ids of ``text`` (and ``text_pair``) in ``language`` (a flat list, like `PreTrainedTokenizer.encode`)."""
        self._check_language(language)
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
        self._check_language(language)
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

        root = Path(path_or_repo)
        if not root.is_dir():
            from huggingface_hub import snapshot_download

            prefix = f"{subfolder.strip('/')}/" if subfolder else ""
            root = Path(
                snapshot_download(
                    str(path_or_repo),
                    repo_type=repo_type,
                    revision=revision,
                    token=token,
                    allow_patterns=[f"{prefix}*.json", f"{prefix}*.txt", f"{prefix}*.model"],
                    ignore_patterns=[f"{prefix}{STANDALONE_DIR}/*"],
                )
            )
        if subfolder:
            root = root / subfolder
        config_path = root / CONFIG_NAME
        if not config_path.is_file():
            raise ConfigError(f"{root} holds no {CONFIG_NAME}: it is not a folder written by ClonedTokenizer")
        cfg = json.loads(config_path.read_text())
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
            raise ConfigError(f"{config_path} does not match the base tokenizer saved beside it")
        return tok

    # ------------------------------------------------------------------ standalone export
    def standalone_tokenizer(self, language: int) -> Any:
        """A plain `transformers` fast tokenizer that encodes base text straight to ``language``'s ids."""
        from tokenizers import Tokenizer
        from transformers import PreTrainedTokenizerFast

        self._check_language(language)
        backend = getattr(self.base, "backend_tokenizer", None)
        if backend is None:
            raise ConfigError(
                f"{type(self.base).__name__} has no tokenizers backend: standalone per-language tokenizers need a "
                "fast tokenizer"
            )
        spec = json.loads(backend.to_str())
        table = self.to_language(np.arange(self.base_vocab_size), language)
        _remap_tokenizer_json(spec, lambda i: int(table[int(i)]))
        specials = {k: v for k, v in self.base.special_tokens_map.items() if isinstance(v, str)}
        extra = list(getattr(self.base, "extra_special_tokens", None) or [])
        tok = PreTrainedTokenizerFast(
            tokenizer_object=Tokenizer.from_str(json.dumps(spec)),
            model_max_length=self.base.model_max_length,
            padding_side=self.base.padding_side,
            truncation_side=self.base.truncation_side,
            **({"extra_special_tokens": extra} if extra else {}),
            **specials,
        )
        return tok


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


def _remap_tokenizer_json(spec: dict, remap: Any) -> None:
    """Rewrite every id in a serialized `tokenizers.Tokenizer` through ``remap`` (in place).

    BPE, WordPiece and WordLevel store ``token -> id``: the ids are rewritten. Unigram ids are list positions: the
    pieces are moved to their new positions and the gaps are filled with unreachable placeholder pieces. Added tokens
    are also put into the model vocabulary at their new ids (an added token outside the model vocabulary would be
    renumbered on load and collide with a real id).
    """
    model = spec["model"]
    kind = model.get("type")
    added = spec.get("added_tokens") or []
    for tok in added:
        tok["id"] = remap(tok["id"])
    if kind in ("BPE", "WordPiece", "WordLevel"):
        vocab = {t: remap(i) for t, i in model["vocab"].items()}
        for tok in added:
            vocab.setdefault(tok["content"], tok["id"])
        model["vocab"] = vocab
    elif kind == "Unigram":
        pieces = {remap(i): piece for i, piece in enumerate(model["vocab"])}
        known = {p[0] for p in pieces.values()}
        floor = min((p[1] for p in pieces.values()), default=0.0)
        for tok in added:
            if tok["content"] not in known:
                pieces[tok["id"]] = [tok["content"], floor]
        size = max(pieces) + 1
        # Placeholders from Supplementary Private Use Area-B: never in real text. Their score is the existing
        # minimum, so the Unigram model's unknown-token penalty (min score - 10) stays what it was.
        model["vocab"] = [pieces.get(i, [f"\U00100000{i}\U00100001", floor]) for i in range(size)]
        if model.get("unk_id") is not None:
            model["unk_id"] = remap(model["unk_id"])
    else:
        raise ConfigError(
            f"tokenizer model type {kind!r} cannot be exported per language: use BPE, WordPiece, WordLevel or Unigram"
        )
    _remap_post_processor(spec.get("post_processor"), remap)


def _remap_post_processor(proc: dict | None, remap: Any) -> None:
    if not proc:
        return
    kind = proc.get("type")
    if kind == "TemplateProcessing":
        for entry in proc.get("special_tokens", {}).values():
            entry["ids"] = [remap(i) for i in entry["ids"]]
    elif kind in ("BertProcessing", "RobertaProcessing"):
        for key in ("sep", "cls"):
            proc[key] = [proc[key][0], remap(proc[key][1])]
    elif kind == "Sequence":
        for sub in proc.get("processors", []):
            _remap_post_processor(sub, remap)


def token_frequencies(base: Any, texts: Iterable[str], batch_size: int = 1000) -> np.ndarray:
    """Count how often each base id occurs in ``texts`` (for ``anchors="frequent"``)."""
    vocab = max(base.get_vocab().values()) + 1
    counts = np.zeros(vocab, dtype=np.int64)
    batch: list[str] = []
    for text in texts:
        batch.append(text)
        if len(batch) == batch_size:
            counts += _count(base, batch, vocab)
            batch = []
    if batch:
        counts += _count(base, batch, vocab)
    return counts


def _count(base: Any, batch: list[str], vocab: int) -> np.ndarray:
    ids = base(batch, add_special_tokens=False)["input_ids"]
    flat = np.fromiter((i for seq in ids for i in seq), dtype=np.int64)
    return np.bincount(flat, minlength=vocab)


def train_byte_level_bpe(
    texts: Iterable[str], vocab_size: int, eod_token: str = "<|endoftext|>", pad_token: str = "<pad>"
) -> Any:
    """Train a byte-level BPE base tokenizer (ids 0 = end of document, 1 = padding) with `tokenizers`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    if vocab_size < len(alphabet) + 2:
        raise ConfigError(
            f"vocab_size={vocab_size} is too small: a byte-level BPE needs at least {len(alphabet) + 2} entries"
        )
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=[eod_token, pad_token], initial_alphabet=alphabet, show_progress=False
    )
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=eod_token, bos_token=eod_token, pad_token=pad_token)


def _as_list(ids: Any) -> Any:
    if hasattr(ids, "tolist"):
        return ids.tolist()
    return ids


def _torch_or_none() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency, but the id maps do not need it
        return None
    return torch
