"""The paper's perplexity: a sliding window over one language's whole test text.

The reference code (Languini, inside antonschafer/xling-imbalance) evaluates the test text of a language as one
stream, documents joined by that language's end-of-document token, with windows of ``seq_len`` input tokens
advanced by ``last_n`` (``languini/dataset_lib/languini_books.py``: ``__next__`` takes ``seq_len + 1`` tokens and
moves the buffer by ``shift_n``), and scores only the last ``last_n`` targets of EVERY window, the first included
(``languini/train_lib/lm_trainer.py``, ``evaluation``: ``batch_y[:, -last_n:]``, lines 112-120), at batch size 1
(``languini/projects/gpt/eval.py``: ``c.eval_batch_size = 1``); the paper uses 512 / 128. So every scored token is
predicted from ``seq_len - last_n + 1`` to ``seq_len`` tokens of context, each once, and the first
``seq_len - last_n`` targets of the stream are never scored. The last window, shorter than ``seq_len + 1`` tokens,
is padded and scores what is left.

Here the same windows are computed in batches (``logits_to_keep`` keeps only the scored positions' logits): the
result equals a window-by-window computation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F


def window_starts(length: int, window: int, stride: int) -> np.ndarray:
    """Where the windows of a stream of ``length`` tokens start: 0, ``stride``, ... while a window still has a
    target left to score (its last ``stride`` targets end after the previous window's)."""
    if not 0 < stride <= window:
        raise ValueError(f"stride={stride} is not allowed: it must lie in 1..window ({window})")
    first_scored = window - stride + 1  # the stream index of the first window's first scored target
    if length <= first_scored:
        return np.zeros(0, dtype=np.int64)
    count = -(-(length - first_scored) // stride)  # windows until every target from first_scored on is covered
    return np.arange(count, dtype=np.int64) * stride


def scored_targets(length: int, window: int, stride: int) -> int:
    """How many targets of a stream of ``length`` tokens the windows score (each once)."""
    return max(0, length - (window - stride + 1))


def _batches(starts: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for lo in range(0, starts.size, size):
        yield starts[lo : lo + size]


@torch.no_grad()
def sliding_window_nll(
    model: Any, stream: torch.Tensor, window: int, stride: int, batch_size: int = 32, pad_id: int = 0
) -> tuple[float, int]:
    """Summed negative log-likelihood (nats) of ``stream`` (a 1-D tensor of ids) under ``model``, scored as the
    reference does (see the module docstring), and the number of targets scored. Windows go in batches of
    ``batch_size``; the last, shorter window is padded with ``pad_id`` after its text (a causal model's earlier
    positions never see the padding)."""
    stream = stream.reshape(-1).long()
    length = stream.numel()
    starts = window_starts(length, window, stride)
    device = next(model.parameters()).device
    padded = torch.full((int(starts[-1]) + window + 1 if starts.size else 0,), pad_id, dtype=torch.long)
    padded[:length] = stream
    valid = torch.zeros(padded.numel(), dtype=torch.bool)
    valid[:length] = True
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        for batch in _batches(starts, batch_size):
            rows = torch.as_tensor(batch)[:, None] + torch.arange(window + 1)  # (B, window + 1)
            inputs = padded[rows[:, :-1]].to(device)
            targets = padded[rows[:, -stride:]].to(device)
            keep = valid[rows[:, -stride:]].to(device)
            logits = model(input_ids=inputs, logits_to_keep=stride).logits[:, -stride:]
            nll = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
            total += float(nll[keep.reshape(-1)].double().sum())
            count += int(keep.sum())
    finally:
        model.train(was_training)
    return total, count


def blocks_stream(blocks: Any) -> torch.Tensor:
    """The text of a split's blocks as one stream, in their order in the corpus (``block_id``): a held-out split of
    whole documents packed in order gives back its documents joined by their end-of-document token."""
    ids = np.asarray(blocks["input_ids"], dtype=np.int64)
    order = np.argsort(np.asarray(blocks["block_id"]), kind="stable") if "block_id" in blocks.column_names else None
    return torch.from_numpy((ids if order is None else ids[order]).reshape(-1))
