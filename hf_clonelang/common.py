"""Constants and validators every layer shares: one definition of each check, each file name and each pattern.

The validators raise :class:`ConfigError` with the bad value and what is allowed, so the builder, the tokenizer and
the training arguments refuse the same input with the same words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import ConfigError

EMBEDDED = "embedded"
"""The name of the built-in base text (generated children's stories) wherever a corpus source is named."""

INT32_MAX = 2**31 - 1
"""The largest token id a corpus stores (its ``input_ids`` are int32)."""

ANCHOR_MODES = ("random", "frequent")
"""How anchors (ids shared by every language when ``clone_fraction < 1``) are chosen, besides an explicit id list."""

EVAL_LANGUAGE_LOSS = re.compile(r"^eval_(L\d+)_loss$")
"""A per-language evaluation loss as the trainer logs it: ``eval_L2_loss`` names language ``L2``."""

METRIC_LOSS = re.compile(r"^(?P<prefix>(?:eval|test)_.+)_loss$")
"""Any evaluation or test loss metric; its perplexity is logged beside it as ``<prefix>_ppl``."""

EMBEDDING_SCALE_KEY = "clonelang_input_embedding_scale"
"""Config field recording a folded input-embedding factor; `ImbalanceTrainer` gives the input embedding this
learning-rate multiplier (and divides its weight decay and Adam's epsilon by it) so that training stays that of the
scaled model."""

CARD_TAGS = ("hf-clonelang", "cloned-languages", "language-imbalance")
"""Tags every model and dataset card carries (cards add their own kind: ``gpt2``, ``multilingual``)."""

CITATION = """@article{schafer2024imbalance,
  title   = {The Role of Language Imbalance in Cross-lingual Generalisation: Insights from Cloned Language
             Experiments},
  author  = {Sch{\\"a}fer, Anton and Ravfogel, Shauli and Hofmann, Thomas and Pimentel, Tiago and Schlag, Imanol},
  journal = {arXiv preprint arXiv:2404.07982},
  year    = {2024}
}"""


class RunFiles:
    """The file names of a training run's output folder, as the script writes them and the analysis reads them."""

    RUN_INFO = "run_info.json"
    ALL_RESULTS = "all_results.json"
    TRAINER_STATE = "trainer_state.json"
    TRAINING_ARGS = "training_args.bin"
    ALIGNMENT = "alignment.json"
    ALIGNMENT_EVAL = "alignment_eval.json"
    ALIGNMENT_HISTORY = "alignment_history.jsonl"
    EFFICIENCY = "efficiency.json"
    PROBE = "probe.json"
    PROBE_PLOT = "probe.png"
    EVAL_LOSS_PLOT = "eval_loss.png"
    SCHEDULE_PLOT = "schedule.png"
    CARD = "README.md"
    CHECKPOINTS = "checkpoint-*"


HELD_OUT = ("documents", "random_blocks")
"""How validation and test text is held out: whole documents training never reads (the paper's), or random blocks
of the packed stream, which share documents with the training blocks."""


def recorded_held_out(data: dict[str, Any]) -> str:
    """How a run held out its text, from its recorded corpus settings (``run_info.json`` ``data``): as recorded,
    else ``random_blocks`` (a run written before documents were held out whole), except for a built corpus
    (``cloned_corpus``), which keeps its own split, and no settings at all."""
    if "held_out" in data:
        return str(data["held_out"])
    return HELD_OUT[1] if data and not data.get("cloned_corpus") else HELD_OUT[0]


GRID_CORPUS_CACHE = "corpus_cache"
"""The folder of a reproduction grid (beside ``runs/``) where its runs build and find their corpora."""


class CorpusFiles:
    """The layout of a cloned-corpus folder (see :mod:`hf_clonelang.data.corpus_folder`)."""

    DATA_DIR = "data"
    TOKENIZER_DIR = "tokenizer"
    INFO = "info.json"
    CARD = "README.md"


MAX_LANGUAGES = 100
"""The most cloned languages a corpus or run may have (the paper uses up to 10; each language copies the vocabulary,
and a corpus writes its held-out blocks once per language)."""


def check_num_languages(value: Any) -> int:
    """``value`` as the number of languages N (an integer in 1..`MAX_LANGUAGES`), or a ConfigError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"num_languages={value!r} is not allowed: it must be an integer >= 1")
    if value > MAX_LANGUAGES:
        raise ConfigError(f"num_languages={value} is not allowed: at most {MAX_LANGUAGES} languages")
    return int(value)


def check_clone_fraction(value: Any) -> float:
    """``value`` as the fraction of the base vocabulary that is cloned, in (0, 1]."""
    try:
        fraction = float(value)
    except (TypeError, ValueError):
        fraction = float("nan")
    if not 0.0 < fraction <= 1.0:
        raise ConfigError(f"clone_fraction={value!r} is not allowed: it must lie in (0, 1]")
    return fraction


def check_anchors(value: Any) -> str | tuple[int, ...]:
    """``random``, ``frequent``, a comma-separated id list or a sequence of ids, normalised."""
    if isinstance(value, str):
        if value in ANCHOR_MODES:
            return value
        try:
            return tuple(int(x) for x in value.split(","))
        except ValueError:
            pass
    elif isinstance(value, Sequence) or isinstance(value, np.ndarray):
        try:
            return tuple(int(i) for i in value)
        except (TypeError, ValueError):
            pass
    raise ConfigError(f"anchors={value!r} is not allowed: use {' or '.join(ANCHOR_MODES)} or a comma list of ids")


def block_mean(values: Sequence[float]) -> float:
    """Mean of a per-layer list over the blocks' outputs (index 0, the embeddings, left out), as the paper does."""
    return float(np.mean(values[1:] if len(values) > 1 else values))
