"""Per-language export: one plain `transformers` fast tokenizer per language whose ids are already in that
language's range, so `AutoTokenizer` loads it without hf_clonelang.

The base tokenizer's ``tokenizer.json`` is rewritten id by id through the language's id map (`_remap_tokenizer_json`).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..errors import ConfigError

STANDALONE_DIR = "tokenizers"
"""Where a saved tokenizer (and a run folder, a corpus config) keeps the standalone tokenizer of language k:
``tokenizers/L{k}/``."""


def remapped_tokenizer(base: Any, table: np.ndarray) -> Any:
    """A copy of the fast tokenizer ``base`` whose id ``i`` is ``table[i]`` (its settings and special tokens kept):
    the per-language export of cloned and of real languages alike."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    backend = getattr(base, "backend_tokenizer", None)
    if backend is None:
        raise ConfigError(
            f"{type(base).__name__} has no tokenizers backend: standalone per-language tokenizers need a "
            "fast tokenizer"
        )
    spec = json.loads(backend.to_str())
    _remap_tokenizer_json(spec, lambda i: int(table[int(i)]))
    specials = {k: v for k, v in base.special_tokens_map.items() if isinstance(v, str)}
    extra = list(getattr(base, "extra_special_tokens", None) or [])
    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(json.dumps(spec)),
        model_max_length=base.model_max_length,
        padding_side=base.padding_side,
        truncation_side=base.truncation_side,
        **({"extra_special_tokens": extra} if extra else {}),
        **specials,
    )


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
