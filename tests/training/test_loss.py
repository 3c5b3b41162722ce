"""The chunked per-token loss equals the plain float32 cross-entropy, values and gradients, with ignored labels,
in float32 and bfloat16 logits, for any chunk size."""

import pytest
import torch
import torch.nn.functional as F

from hf_clonelang.training.loss import IGNORE_INDEX, token_nll


def _plain(logits, labels):
    flat = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1), reduction="none",
                           ignore_index=IGNORE_INDEX)  # fmt: skip
    return flat.view(labels.shape)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("chunk", [1, 7, 64, 10_000])
def test_chunked_loss_equals_the_plain_one(dtype, chunk):
    torch.manual_seed(0)
    logits = (3 * torch.randn(3, 11, 50)).to(dtype).requires_grad_()
    labels = torch.randint(0, 50, (3, 11))
    labels[0, -4:] = IGNORE_INDEX  # padding and the shifted last position predict nothing
    labels[2, 0] = IGNORE_INDEX
    weights = torch.rand(3, 11)  # a loss that weighs tokens differently checks every token's gradient

    expected = _plain(logits, labels)
    (grad_expected,) = torch.autograd.grad((expected * weights).sum(), logits)
    got = token_nll(logits, labels, chunk_tokens=chunk)
    (grad_got,) = torch.autograd.grad((got * weights).sum(), logits)

    assert got.dtype == torch.float32 and got.shape == labels.shape
    assert torch.allclose(got, expected, atol=1e-5, rtol=1e-5)
    assert (got[labels == IGNORE_INDEX] == 0).all()
    tolerance = 1e-6 if dtype == torch.float32 else 1e-2  # bf16 gradients are rounded once, as autograd's are
    assert grad_got.dtype == dtype and torch.allclose(grad_got.float(), grad_expected.float(), atol=tolerance)


def test_the_trainer_loss_is_the_models_own():
    from transformers import GPT2Config, GPT2LMHeadModel

    from hf_clonelang.training.trainer import ImbalanceTrainer

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=40, n_positions=16, n_layer=1, n_embd=16, n_head=2)).eval()
    ids = torch.randint(0, 40, (2, 16))
    outputs = model(ids)
    stub = type(
        "Stub", (), {"_batch_languages": None, "model": model, "args": type("A", (), {"loss_chunk_tokens": 5})}
    )
    ours = ImbalanceTrainer._token_loss(stub(), outputs, ids)
    assert torch.allclose(ours, model(ids, labels=ids).loss, atol=1e-6)  # transformers' causal-LM loss
