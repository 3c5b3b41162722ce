"""Alignment measures on cases with known answers."""

import itertools
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import GPT2LMHeadModel

from hf_clonelang import ClonedTokenizer
from hf_clonelang.analysis.alignment import (
    alignment_report,
    block_outputs,
    embedding_alignment,
    gradient_alignment,
    hidden_alignment,
    linear_cka,
    matched_cosine,
    max_weight_matching,
    retrieval_at_1,
    summarize,
)
from hf_clonelang.training.modeling import gpt2_config


@pytest.fixture(scope="module")
def tok(base_tokenizer):
    return ClonedTokenizer(base_tokenizer, 3)


@pytest.fixture(scope="module")
def model(tok):
    torch.manual_seed(0)
    return GPT2LMHeadModel(gpt2_config("tiny", tok.vocab_size, 16, n_layer=2, n_embd=32, n_head=2)).eval()


@pytest.fixture(scope="module")
def blocks():
    return torch.as_tensor(np.random.default_rng(0).integers(2, 300, size=(12, 16)))


def test_identical_representations_give_cosine_one_and_perfect_retrieval(model, blocks):
    out = hidden_alignment(model, blocks, blocks, batch_size=5)
    for key in ("hidden_cosine", "hidden_cosine_centred", "retrieval_at_1", "cka"):
        assert len(out[key]) == 3  # embeddings + 2 blocks
        assert np.allclose(out[key], 1.0, atol=1e-6), key


def test_a_rotation_keeps_cka_but_not_cosine():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(64, 16, generator=gen, dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.randn(16, 16, generator=gen, dtype=torch.float64))
    y = x @ q
    assert linear_cka(x, y) == pytest.approx(1.0, abs=1e-9)
    assert float(F.cosine_similarity(x, y, dim=-1).mean()) < 0.5
    assert retrieval_at_1(x, x) == 1.0 and retrieval_at_1(x, y) < 0.5
    assert linear_cka(x, torch.randn(64, 16, generator=gen, dtype=torch.float64)) < 0.6


def test_hungarian_matching_agrees_with_brute_force():
    rng = np.random.default_rng(2)
    for _ in range(30):
        n, m = (int(v) for v in rng.integers(1, 6, size=2))
        sim = rng.normal(size=(n, m))
        rows, cols = max_weight_matching(sim)
        assert len(rows) == min(n, m) and len(set(cols)) == len(cols)
        if n <= m:
            best = max(sum(sim[i, p[i]] for i in range(n)) for p in itertools.permutations(range(m), n))
        else:
            best = max(sum(sim[p[j], j] for j in range(m)) for p in itertools.permutations(range(n), m))
        assert sim[rows, cols].sum() == pytest.approx(best)


def test_matching_recovers_a_shuffled_sequence():
    gen = torch.Generator().manual_seed(3)
    a = torch.randn(10, 8, generator=gen)
    assert matched_cosine(a, a[torch.randperm(10, generator=gen)]) == pytest.approx(1.0)
    assert matched_cosine(a, a[:7]) == pytest.approx(1.0)  # sequences of different lengths


def test_hungarian_hidden_alignment_handles_sequences_of_different_lengths(model, blocks):
    shuffled = blocks.clone()
    mask_b = torch.ones_like(blocks)
    mask_b[:, 12:] = 0  # the "translation" is shorter
    out = hidden_alignment(model, blocks, shuffled, mask_b=mask_b, matching="hungarian", batch_size=4)
    position = hidden_alignment(model, blocks, shuffled, mask_b=mask_b, batch_size=4)
    assert all(h >= p - 1e-9 for h, p in zip(out["hidden_cosine"], position["hidden_cosine"], strict=True))
    with pytest.raises(ValueError, match="equal shape"):
        hidden_alignment(model, blocks, blocks[:, :8])


def test_cached_and_recomputed_passes_agree(model, tok, blocks):
    a, b = tok.to_language(blocks, 1), tok.to_language(blocks, 2)
    cached = hidden_alignment(model, a, b, batch_size=5)
    streamed = hidden_alignment(model, a, b, batch_size=5, cache_bytes=0)
    for key in cached:
        assert np.allclose(cached[key], streamed[key]), key


def test_gradient_cosine_leaves_grad_and_optimizer_alone(model, tok, blocks):
    params = list(model.parameters())
    optimizer = torch.optim.Adam(params)
    for p in params:
        p.grad = torch.full_like(p, 0.5)
    optimizer.step()
    state = {k: {n: v.clone() for n, v in s.items() if torch.is_tensor(v)} for k, s in optimizer.state.items()}
    same = gradient_alignment(model, blocks[:4], blocks[:4])
    # the key bias gets no gradient (softmax ignores a shift shared by all keys): its cosine is noise, left out
    assert all(g == pytest.approx(1.0) for n, g in same["gradient_cosine_per_tensor"].items() if ".k.bias" not in n)
    assert same["gradient_cosine_mean"] == pytest.approx(1.0) and same["gradient_undefined_count"] == 2
    assert len(same["gradient_cosine_per_layer"]) == 2
    assert len(same["gradient_cosine_per_tensor"]) == 2 * 16  # the paper's 16 tensors per block: Q, K, V apart
    assert {"transformer.wte.weight", "lm_head.weight"} <= set(same["gradient_cosine_embeddings"])
    assert "transformer.wpe.weight" in same["gradient_cosine_other"]
    assert all(torch.equal(p.grad, torch.full_like(p, 0.5)) for p in params)
    for k, s in optimizer.state.items():
        assert all(torch.equal(state[k][n], v) for n, v in s.items() if torch.is_tensor(v))
    clones = gradient_alignment(model, tok.to_language(blocks[:4], 1), tok.to_language(blocks[:4], 3))
    assert clones["gradient_cosine_mean"] < 0.99  # different languages, different gradients


def test_clone_embeddings(tok):
    torch.manual_seed(4)
    m = GPT2LMHeadModel(gpt2_config("tiny", tok.vocab_size, 16, n_layer=1, n_embd=16, n_head=2))
    with torch.no_grad():
        ids = torch.as_tensor(tok.cloned_ids)
        w = m.get_input_embeddings().weight
        w[torch.as_tensor(tok.to_language(ids.numpy(), 2))] = w[ids]  # L2 rows are exact copies of L1 rows
    freq = np.arange(tok.base_vocab_size) * 10
    out = embedding_alignment(m, tok, 1, 2, frequencies=freq)
    assert out["input"]["overall"] == pytest.approx(1.0)
    assert abs(out["input"]["all_pairs_baseline"]) < 0.2
    assert sum(b["tokens"] for b in out["input"]["by_frequency"]) == tok.num_cloned
    assert out["output"]["overall"] < 0.5  # untied output embeddings were not copied
    assert embedding_alignment(m, tok, 1, 3)["input"]["overall"] < 0.5


def test_report_for_every_pair_is_json_and_summarizes(model, tok, blocks):
    report = alignment_report(model, tok, blocks, gradient_blocks=4, batch_size=6)
    assert set(report) == {"L1-L2", "L1-L3"}
    json.dumps(report)
    entry = report["L1-L3"]
    for key in ("hidden_cosine", "hidden_cosine_centred", "retrieval_at_1", "cka"):
        assert len(entry[key]) == 3
    flat = summarize(report)
    assert flat["L1_L2_hidden_cosine"] == pytest.approx(np.mean(report["L1-L2"]["hidden_cosine"][1:]))
    assert "L1_L3_gradient_cosine" in flat


@pytest.fixture(scope="module")
def biased_model(tok):
    """A tiny GPT-2 whose final LayerNorm has a large bias: after it, every state points the same way."""
    torch.manual_seed(5)
    m = GPT2LMHeadModel(gpt2_config("tiny", tok.vocab_size, 16, n_layer=2, n_embd=32, n_head=2)).eval()
    with torch.no_grad():
        m.transformer.ln_f.bias.fill_(50.0)
    return m


def test_hidden_states_are_the_blocks_outputs_before_the_final_norm(biased_model, tok, blocks):
    a, b = tok.to_language(blocks, 1), tok.to_language(blocks, 3)
    states = block_outputs(biased_model, a)
    with torch.no_grad():
        reference = biased_model(input_ids=a, output_hidden_states=True).hidden_states
    assert len(states) == len(reference) == 3
    for mine, theirs in zip(states[:-1], reference[:-1], strict=True):  # embeddings and block 1: no norm either way
        assert torch.allclose(mine, theirs.double(), atol=1e-5)
    with torch.no_grad():
        last = biased_model.transformer.ln_f(states[-1].float())
    assert torch.allclose(last, reference[-1], atol=1e-4)  # transformers' last entry is ours after ln_f
    assert not torch.allclose(states[-1], reference[-1].double(), atol=1.0)

    out = hidden_alignment(biased_model, a, b, batch_size=5)
    sb = block_outputs(biased_model, b)
    for layer in range(3):  # by hand: the mean over positions of each pair, then over pairs
        by_hand = F.cosine_similarity(states[layer], sb[layer], dim=-1).mean(dim=1).mean()
        assert out["hidden_cosine"][layer] == pytest.approx(float(by_hand), abs=1e-9)
    with torch.no_grad():
        normed_b = biased_model(input_ids=b, output_hidden_states=True).hidden_states[-1]
    assert float(F.cosine_similarity(reference[-1], normed_b, dim=-1).mean()) > 0.99  # what the old entry said
    assert out["hidden_cosine"][-1] < 0.9


def test_padding_is_left_out_per_pair(model, tok, blocks):
    a, b = tok.to_language(blocks, 1), tok.to_language(blocks, 2)
    mask = torch.ones_like(a)
    mask[0, 4:] = 0  # the first pair has 4 positions, the others 16: each pair weighs the same
    out = hidden_alignment(model, a, b, mask_a=mask, mask_b=mask, batch_size=12)
    sa, sb = block_outputs(model, a, mask), block_outputs(model, b, mask)
    for layer in range(3):
        cos = F.cosine_similarity(sa[layer], sb[layer], dim=-1)
        per_pair = torch.cat([cos[:1, :4].mean(dim=1), cos[1:].mean(dim=1)])
        assert out["hidden_cosine"][layer] == pytest.approx(float(per_pair.mean()), abs=1e-9)


def test_real_pairs_use_one_matching_on_the_layer_averaged_similarity(model, tok, blocks):
    a = tok.to_language(blocks[:3], 1)
    b = tok.to_language(blocks[:3].flip(dims=[1]), 2)  # the "translation": other order, other language
    mask_b = torch.ones_like(b)
    mask_b[:, 11:] = 0
    out = hidden_alignment(model, a, b, mask_b=mask_b, matching="hungarian", batch_size=2)
    sa, sb = block_outputs(model, a), block_outputs(model, b, mask_b)
    expected = np.zeros(3)
    for i in range(3):
        sims = [F.normalize(x[i], dim=-1) @ F.normalize(y[i, :11], dim=-1).T for x, y in zip(sa, sb, strict=True)]
        rows, cols = max_weight_matching(torch.stack(sims[1:]).mean(dim=0).numpy())
        expected += [float(s[rows, cols].mean()) for s in sims]
    assert np.allclose(out["hidden_cosine"], expected / 3, atol=1e-9)


def test_gradient_cosine_is_the_papers_per_pair_estimator(model, tok, blocks):
    """For each pair: gradients of the mean token loss in each language, cosine per tensor (Q, K, V apart); then
    the mean over pairs, then over the blocks' tensors whose gradient is defined (the key bias has none). Checked
    against plain autograd, pair by pair."""
    a, b = tok.to_language(blocks[:3], 1), tok.to_language(blocks[:3], 2)
    out = gradient_alignment(model, a, b)
    params = dict(model.named_parameters())
    per_pair: dict[str, list[float]] = {}
    summed: dict[str, list[torch.Tensor]] = {}
    relative_norms: dict[str, list[float]] = {}  # a tensor's gradient norm over the largest of its pass
    for i in range(3):
        grads = []
        for ids in (a[i : i + 1], b[i : i + 1]):
            loss = model(input_ids=ids, labels=ids).loss  # transformers' mean token loss
            grads.append(dict(zip(params, torch.autograd.grad(loss, list(params.values())), strict=True)))
        largest = [max(float(g.norm()) for g in pass_.values()) for pass_ in grads]  # wte / lm_head, not c_attn
        for name in params:
            if ".h." not in name:
                continue
            parts = {name: (grads[0][name], grads[1][name])}
            if "c_attn" in name:
                stem, kind = name.rsplit(".", 1)
                thirds = zip(grads[0][name].chunk(3, dim=-1), grads[1][name].chunk(3, dim=-1), strict=True)
                parts = {f"{stem}.{p}.{kind}": ab for p, ab in zip("qkv", thirds, strict=True)}
            for key, (ga, gb) in parts.items():
                relative_norms.setdefault(key, []).extend(
                    [float(ga.norm()) / largest[0], float(gb.norm()) / largest[1]]
                )
                per_pair.setdefault(key, []).append(float(F.cosine_similarity(ga.flatten(), gb.flatten(), dim=0)))
                acc = summed.setdefault(key, [torch.zeros_like(ga), torch.zeros_like(gb)])
                acc[0] += ga
                acc[1] += gb
    assert set(out["gradient_cosine_per_tensor"]) == set(per_pair)
    for key, values in per_pair.items():
        assert out["gradient_cosine_per_tensor"][key] == pytest.approx(np.mean(values), abs=1e-5)
    keys = [f"transformer.h.{layer}.attn.c_attn.k.bias" for layer in range(2)]
    assert max(max(relative_norms[k]) for k in keys) < 1e-9  # rounding: no gradient at all
    assert min(min(v) for k, v in relative_norms.items() if k not in keys) > 1e-5  # every other tensor has one
    assert out["gradient_undefined_tensors"] == keys
    defined = [k for k in per_pair if k not in keys]
    assert out["gradient_cosine_mean"] == pytest.approx(np.mean([np.mean(per_pair[k]) for k in defined]), abs=1e-5)
    every = np.mean([np.mean(v) for v in per_pair.values()])
    assert out["gradient_cosine_mean_all_tensors"] == pytest.approx(every, abs=1e-5)
    for layer, value in enumerate(out["gradient_cosine_per_layer"]):
        mine = [np.mean(per_pair[k]) for k in defined if k.startswith(f"transformer.h.{layer}.")]
        assert value == pytest.approx(np.mean(mine), abs=1e-5)
    coarse = np.mean(
        [float(F.cosine_similarity(summed[k][0].flatten(), summed[k][1].flatten(), dim=0)) for k in defined]
    )
    assert out["gradient_cosine_summed_mean"] == pytest.approx(coarse, abs=1e-5)
    assert abs(out["gradient_cosine_mean"] - coarse) > 1e-3  # the two estimators are not the same number
    fused = gradient_alignment(model, a, b, split_qkv=False)
    assert len(fused["gradient_cosine_per_tensor"]) == 2 * 12 and not fused["gradient_qkv_split"]
    assert fused["gradient_undefined_tensors"] == []  # the fused bias holds Q's and V's parts too: defined


def test_hidden_and_gradient_alignment_are_public(model, tok, blocks):
    import hf_clonelang

    a, b = tok.to_language(blocks[:2], 1), tok.to_language(blocks[:2], 2)
    assert set(hf_clonelang.hidden_alignment(model, a, b)) == {
        "hidden_cosine",
        "hidden_cosine_centred",
        "retrieval_at_1",
        "cka",
    }
    assert "gradient_cosine_mean" in hf_clonelang.gradient_alignment(model, a, b)


def test_an_exact_copy_scores_one_over_the_tensors_whose_gradient_is_defined(tok, blocks):
    """L2's embedding and output rows are exact copies of L1's: the same text gives the same gradient in both
    languages. The key bias has no gradient (softmax ignores a shift shared by all keys): its float32 norm is
    rounding (~1e-11), its cosine ~0, so it is excluded and named; over all 16 tensors per block the mean is 15/16."""
    torch.manual_seed(6)
    m = GPT2LMHeadModel(gpt2_config("tiny", tok.vocab_size, 16, n_layer=2, n_embd=32, n_head=2)).eval()
    ids = torch.as_tensor(tok.cloned_ids)
    l1, l2 = ids, torch.as_tensor(tok.to_language(ids.numpy(), 2))
    with torch.no_grad():
        for table in (m.get_input_embeddings().weight, m.get_output_embeddings().weight):
            table[l2] = table[l1]
    out = gradient_alignment(m, tok.to_language(blocks[:4], 1), tok.to_language(blocks[:4], 2))
    assert out["gradient_cosine_mean"] == pytest.approx(1.0, abs=1e-6)
    keys = [f"transformer.h.{layer}.attn.c_attn.k.bias" for layer in range(2)]
    assert out["gradient_undefined_tensors"] == keys and out["gradient_undefined_count"] == 2
    assert out["gradient_tensors_in_mean"] == 2 * 15
    assert np.allclose(out["gradient_cosine_per_layer"], 1.0, atol=1e-6)  # per layer: the defined tensors too
    assert out["gradient_cosine_mean_all_tensors"] == pytest.approx(15 / 16, abs=1e-3)  # the old all-cells mean
    assert all(abs(out["gradient_cosine_per_tensor"][k]) < 1e-3 for k in keys)  # still reported, as noise
