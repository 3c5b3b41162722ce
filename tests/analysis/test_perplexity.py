"""The paper's perplexity (`analysis.perplexity`): windows of W tokens advanced by N over one stream, the last N
targets of every window scored, each target once; batched, it equals the window-by-window computation and a
brute-force one in which every target is predicted from exactly its own context."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import GPT2Config, GPT2LMHeadModel

from hf_clonelang.analysis.perplexity import scored_targets, sliding_window_nll, window_starts


@pytest.mark.parametrize(("length", "window", "stride"), [(200, 32, 8), (33, 32, 8), (41, 32, 8), (500, 64, 64)])
def test_every_target_after_the_first_windows_context_is_scored_once(length, window, stride):
    covered = np.zeros(length, dtype=int)
    for start in window_starts(length, window, stride):
        first = start + window - stride + 1  # the window's first scored target (stream index)
        covered[first : min(start + window + 1, length)] += 1
    assert (covered[: window - stride + 1] == 0).all() and (covered[window - stride + 1 :] == 1).all()
    assert covered.sum() == scored_targets(length, window, stride)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=50, n_positions=32, n_embd=32, n_layer=2, n_head=2)
    return GPT2LMHeadModel(config).eval()


def test_batched_windows_equal_one_window_at_a_time_and_each_targets_own_context(model):
    torch.manual_seed(1)
    stream = torch.randint(1, 50, (151,))  # 151 tokens: a last, shorter window
    window, stride = 32, 8
    batched = sliding_window_nll(model, stream, window, stride, batch_size=7)
    one_by_one = sliding_window_nll(model, stream, window, stride, batch_size=1)
    # brute force: every scored target t predicted from its window's tokens before it, no padding at all
    total, count = 0.0, 0
    with torch.no_grad():
        for start in window_starts(stream.numel(), window, stride):
            for t in range(start + window - stride + 1, min(start + window + 1, stream.numel())):
                logits = model(input_ids=stream[None, start:t]).logits[0, -1]
                total += float(F.cross_entropy(logits[None], stream[t : t + 1]))
                count += 1
    assert batched[1] == one_by_one[1] == count == 151 - (window - stride + 1)
    assert batched[0] == pytest.approx(one_by_one[0], rel=1e-5) and batched[0] == pytest.approx(total, rel=1e-5)
