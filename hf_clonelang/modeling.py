"""GPT-2 models sized for cloned-language runs: presets mirroring the paper, plus small ones for CPUs.

The paper's GPT (Languini) is pre-LN, GELU, no dropout, untied input and output embeddings; GPT-2 in
`transformers` matches it closely (it lacks the paper's √h input scaling). The embedding is always sized from
`ClonedTokenizer.vocab_size`, never from ``len(tokenizer)``.
"""

from __future__ import annotations

from typing import Any

from .errors import ConfigError

PRESETS: dict[str, dict[str, int]] = {
    "tiny": {"n_layer": 2, "n_embd": 128, "n_head": 4},  # CPU: TEff shows already (notes/cpu-scale.md)
    "cpu": {"n_layer": 4, "n_embd": 128, "n_head": 4},  # CPU: the smallest size where alignment shows
    "mini": {"n_layer": 4, "n_embd": 512, "n_head": 8},  # the paper's mini
    "small": {"n_layer": 12, "n_embd": 768, "n_head": 12},  # the paper's small (GPT-2 small)
    "medium": {"n_layer": 24, "n_embd": 1024, "n_head": 16},  # the paper's medium
}


def gpt2_config(preset: str, vocab_size: int, block_size: int, **overrides: Any) -> Any:
    """A `GPT2Config` for ``preset`` with the joint vocabulary and context ``block_size``; no dropout, untied
    embeddings (as in the paper). ``overrides`` replace any field (``n_layer``, ``n_embd``, ...)."""
    from transformers import GPT2Config

    if preset not in PRESETS:
        raise ConfigError(f"model_preset={preset!r} is not allowed: use one of {', '.join(PRESETS)}")
    fields = {
        **PRESETS[preset],
        "vocab_size": vocab_size,
        "n_positions": block_size,
        "resid_pdrop": 0.0,
        "embd_pdrop": 0.0,
        "attn_pdrop": 0.0,
        "tie_word_embeddings": False,
        "bos_token_id": None,
        "eos_token_id": None,
        "pad_token_id": None,
        **overrides,
    }
    return GPT2Config(**fields)


def check_model_fits(config: Any, vocab_size: int, block_size: int) -> None:
    """Refuse a model whose embedding cannot hold the joint vocabulary or whose context is shorter than a block."""
    model_vocab = getattr(config, "vocab_size", None)
    if model_vocab is not None and model_vocab < vocab_size:
        raise ConfigError(
            f"the model's embedding has {model_vocab} rows but the cloned vocabulary needs {vocab_size}: "
            "train from scratch or give a model with a large enough vocab_size"
        )
    context = next(
        (getattr(config, k) for k in ("n_positions", "max_position_embeddings", "n_ctx") if hasattr(config, k)), None
    )
    if context is not None and block_size > context:
        raise ConfigError(
            f"block_size={block_size} is larger than the model's context ({context} positions): "
            f"use block_size <= {context}"
        )
