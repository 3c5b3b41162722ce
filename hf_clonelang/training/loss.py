"""Per-token causal-LM loss with bounded memory: `token_nll` computes the cross-entropy of every token in chunks,
upcasting one chunk of logits to float32 at a time, forward and backward.

Why: the plain ``F.cross_entropy(logits.float(), ...)`` keeps a float32 copy of the whole logits tensor (and its
softmax for the backward pass). With ten cloned languages at V = 16,384 each (163,840 ids) and 128 × 512 tokens per
step that is about 43 GB for the loss alone. Here the forward pass keeps only the log-sum-exp per token, and the
backward pass recomputes each chunk's softmax, so the extra memory is one chunk (``chunk_tokens`` × V floats). The
values are the same as the plain computation's (test: tests/training/test_loss.py).
"""

from __future__ import annotations

import torch

IGNORE_INDEX = -100
DEFAULT_CHUNK_TOKENS = 4096


class _ChunkedNLL(torch.autograd.Function):
    """NLL per token of ``logits`` (n, V) for ``labels`` (n,), float32, 0 where the label is ignored."""

    @staticmethod
    def forward(ctx, logits: torch.Tensor, labels: torch.Tensor, chunk: int) -> torch.Tensor:
        n = logits.shape[0]
        nll = torch.zeros(n, dtype=torch.float32, device=logits.device)
        lse = torch.zeros(n, dtype=torch.float32, device=logits.device)
        keep = labels != IGNORE_INDEX
        safe = torch.where(keep, labels, 0)
        for lo in range(0, n, chunk):
            part = logits[lo : lo + chunk].float()
            lse[lo : lo + chunk] = torch.logsumexp(part, dim=-1)
            picked = part.gather(1, safe[lo : lo + chunk, None]).squeeze(1)
            nll[lo : lo + chunk] = (lse[lo : lo + chunk] - picked) * keep[lo : lo + chunk]
        ctx.save_for_backward(logits, safe, keep, lse)
        ctx.chunk = chunk
        return nll

    @staticmethod
    def backward(ctx, grad_nll: torch.Tensor) -> tuple:
        logits, safe, keep, lse = ctx.saved_tensors
        grad = torch.empty_like(logits)
        scale = grad_nll.float() * keep
        for lo in range(0, logits.shape[0], ctx.chunk):
            hi = lo + ctx.chunk
            part = torch.exp(logits[lo:hi].float() - lse[lo:hi, None])  # softmax, recomputed chunk by chunk
            part[torch.arange(part.shape[0], device=part.device), safe[lo:hi]] -= 1.0
            grad[lo:hi] = (part * scale[lo:hi, None]).to(grad.dtype)
        return grad, None, None


def token_nll(
    logits: torch.Tensor, labels: torch.Tensor, chunk_tokens: int | None = DEFAULT_CHUNK_TOKENS
) -> torch.Tensor:
    """Cross-entropy of every token: ``logits`` (..., V) against ``labels`` (...), as float32 of the labels' shape,
    0 where the label is ``-100``. ``chunk_tokens`` tokens are upcast at a time (None: all at once, the plain
    ``F.cross_entropy``)."""
    flat_logits, flat_labels = logits.reshape(-1, logits.shape[-1]), labels.reshape(-1).to(logits.device)
    if chunk_tokens is None:
        nll = torch.nn.functional.cross_entropy(
            flat_logits.float(), flat_labels, ignore_index=IGNORE_INDEX, reduction="none"
        )
    else:
        nll = _ChunkedNLL.apply(flat_logits, flat_labels, max(1, int(chunk_tokens)))
    return nll.view(labels.shape)
