"""Base tokenizers for cloned corpora: train a byte-level BPE, count how often each base id occurs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import ConfigError

TOKENIZER_TRAINING_CHARS = 100_000_000
"""A base tokenizer trained on a corpus sees at most this much of its text."""


def base_tokenizer(given: Any, texts: Iterable[str], vocab_size: int) -> Any:
    """The base tokenizer of a corpus: ``given`` (a name or path for `AutoTokenizer`, or a tokenizer object), or,
    when None, a byte-level BPE of ``vocab_size`` trained on the first `TOKENIZER_TRAINING_CHARS` of ``texts``."""
    if given is None:
        return train_byte_level_bpe(_first_chars(texts, TOKENIZER_TRAINING_CHARS), vocab_size)
    if isinstance(given, str):
        from transformers import AutoTokenizer

        try:
            return AutoTokenizer.from_pretrained(given)
        except (OSError, ValueError) as err:
            raise ConfigError(f"cannot load tokenizer {given!r}: {str(err).splitlines()[0]}") from err
    return given


def _first_chars(texts: Iterable[str], budget: int) -> Iterable[str]:
    for text in texts:
        if budget <= 0:
            return
        budget -= len(text)
        yield text


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
