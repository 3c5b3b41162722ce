"""GPT-2 models sized for cloned-language runs: the paper's layer counts and widths, plus small ones for CPUs.

The paper's GPT (Languini) is a pre-LN GPT-2 with tanh-GELU, biases, no dropout, learned positions and untied
input and output embeddings, as `transformers`' GPT-2 here. Where they differ:

* Languini multiplies the input embedding by √h. GPT-2 has no such factor; `fold_input_embedding_scale` puts it
  into the weights instead (initialised √h times larger, trained with √h times the learning rate: under Adam the
  same training), so the model stays a plain GPT-2 that any `transformers` user loads. The training script does
  this by default for models trained from scratch.
* The paper's ``mini`` has 8 heads of 32 (attention width 256) on a 512-wide residual stream. GPT-2 ties the
  attention width to the hidden size, so our ``mini`` has 8 heads of 64 (attention width 512, 2.1M more
  parameters in the blocks).
* Languini scales the initialisation of the MLP output projection by 1/√(2L); GPT-2 also scales the attention
  output projection.

The embedding is always sized from `ClonedTokenizer.vocab_size`, never from ``len(tokenizer)``.
"""

from __future__ import annotations

import math
from typing import Any

from ..common import EMBEDDING_SCALE_KEY
from ..errors import ConfigError, one_line

PRESETS: dict[str, dict[str, int]] = {
    "tiny": {"n_layer": 2, "n_embd": 128, "n_head": 4},  # CPU: TEff shows already (docs/reproduction.md)
    "cpu": {"n_layer": 4, "n_embd": 128, "n_head": 4},  # CPU: the smallest size where alignment shows
    "mini": {"n_layer": 4, "n_embd": 512, "n_head": 8},  # the paper's mini's layers and width (attention: 8 x 64)
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


def fold_input_embedding_scale(model: Any, scale: float | None = None) -> float:
    """Make a freshly initialised model train like one whose input embedding is multiplied by ``scale`` (default
    √h, the paper's GPT), without changing its architecture.

    The paper computes ``x = E[id]·√h + P[pos]``. With ``E' = √h·E`` the forward pass is the same; initialising
    ``E'`` with √h times the standard deviation and training it with √h times the learning rate, and 1/√h times
    the weight decay and Adam's epsilon, gives exactly the paper's Adam steps (the gradient of ``E'`` is 1/√h of
    the gradient of ``E``). Gradient clipping, which the paper does not use, would see that smaller gradient in the
    global norm. The factor is recorded in the config (`EMBEDDING_SCALE_KEY`) for the trainer.
    """
    import torch

    output = model.get_output_embeddings()
    if output is not None and output.weight is model.get_input_embeddings().weight:
        raise ConfigError(
            "the input-embedding factor can be folded only into untied embeddings: the output layer shares them"
        )
    hidden = model.get_input_embeddings().weight.shape[1]
    if scale is None:
        scale = getattr(model.config, EMBEDDING_SCALE_KEY, None) or math.sqrt(hidden)
    scale = float(scale)
    if scale <= 0:
        raise ConfigError(f"input embedding scale={scale} is not allowed: it must be > 0")
    with torch.no_grad():
        model.get_input_embeddings().weight.mul_(scale)
    setattr(model.config, EMBEDDING_SCALE_KEY, scale)
    return scale


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


def model_config(model_args: Any, vocab_size: int, block_size: int) -> Any:
    """The config of the model to train from scratch (a preset, or ``--config_name``, with the overrides), checked
    against the cloned vocabulary; it records the paper's √h input-embedding factor unless
    ``--scale_input_embedding false`` or the embeddings are tied."""
    from transformers import AutoConfig

    keys = ("n_layer", "n_embd", "n_head", "tie_word_embeddings")
    overrides = {k: v for k in keys if (v := getattr(model_args, k)) is not None}
    if model_args.config_name:
        try:
            config = AutoConfig.from_pretrained(model_args.config_name, **overrides)
        except Exception as err:
            raise ConfigError(f"cannot read a model config from {model_args.config_name!r}: {one_line(err)}") from err
        if getattr(config, "vocab_size", 0) < vocab_size:
            config.vocab_size = vocab_size
    else:
        config = gpt2_config(model_args.model_preset, vocab_size, block_size, **overrides)
    check_model_fits(config, vocab_size, block_size)
    tied = bool(getattr(config, "tie_word_embeddings", False))
    if model_args.scale_input_embedding and tied:
        raise ConfigError(
            "--scale_input_embedding true needs untied embeddings: with --tie_word_embeddings true the folded factor "
            "would scale the output layer too; leave --scale_input_embedding unset (it is off for tied models)"
        )
    if model_args.scale_input_embedding is not False and not tied:  # the paper's GPT unless switched off or tied
        setattr(config, EMBEDDING_SCALE_KEY, math.sqrt(config.hidden_size))
    return config


def build_model(model_args: Any, vocab_size: int, block_size: int) -> Any:
    """A GPT-2 from a preset (or a given config / checkpoint), checked against the cloned vocabulary, with the
    attention kernel and weights' dtype of ``model_args``."""
    from transformers import AutoConfig, AutoModelForCausalLM

    options = {"attn_implementation": attention_kernel(getattr(model_args, "attn_implementation", "auto"))}
    dtype = getattr(model_args, "dtype", "float32")
    if model_args.model_name_or_path:  # ModelArguments refuses architecture options beside it
        source = model_args.model_name_or_path
        try:
            config = AutoConfig.from_pretrained(source)
        except Exception as err:
            raise ConfigError(f"cannot read a model config from {source!r}: {one_line(err)}") from err
        check_model_fits(config, vocab_size, block_size)
        try:
            return AutoModelForCausalLM.from_pretrained(source, dtype=_torch_dtype(dtype), **options)
        except Exception as err:  # a truncated or corrupt weights file: name it
            raise ConfigError(f"cannot load the model weights of {source!r}: {one_line(err)}") from err
    config = model_config(model_args, vocab_size, block_size)
    model = AutoModelForCausalLM.from_config(config, **options)
    if getattr(model.config, EMBEDDING_SCALE_KEY, None):
        fold_input_embedding_scale(model)
    return model if dtype in ("float32", "auto") else model.to(_torch_dtype(dtype))


def attention_kernel(name: str) -> str:
    """``auto``: flash_attention_2 where the flash-attn package and a GPU are there, else PyTorch's sdpa."""
    if name != "auto":
        return name
    import importlib.util

    import torch

    has_flash = importlib.util.find_spec("flash_attn") is not None and torch.cuda.is_available()
    return "flash_attention_2" if has_flash else "sdpa"


def _torch_dtype(name: str) -> Any:
    import torch

    return "auto" if name == "auto" else getattr(torch, name)
