"""Alignment on translation pairs: a language whose tokenizer equals the other's (anchored: every piece shared)
gives identical states, so matched cosine and retrieval are 1 at every layer; real pairs give finite values."""

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from hf_clonelang import ConfigError, train_byte_level_bpe
from hf_clonelang.analysis.translation import pair_alignment
from hf_clonelang.tokenization.joint_tokenizer import JointTokenizer

SENTENCES = [
    "The little fox ran to the river.",
    "A red kite flew over the hill.",
    "The bird sang in the tall tree.",
    "Grandma baked bread for the children.",
]


@pytest.fixture(scope="module")
def bpe():
    return train_byte_level_bpe(SENTENCES * 30, vocab_size=300)


def _model(vocab_size):
    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(vocab_size=vocab_size, n_positions=64, n_layer=2, n_embd=32, n_head=2))


def test_the_same_sentences_through_a_fully_shared_vocabulary_align_perfectly(bpe):
    tok = JointTokenizer([bpe, bpe], mode="anchored")  # every piece but the end-of-document is shared
    report = pair_alignment(_model(tok.vocab_size), tok, [(s, s) for s in SENTENCES], gradient_pairs=2)
    assert report["hidden_cosine"] == pytest.approx([1.0] * 3, abs=1e-5)  # embeddings + 2 blocks
    assert report["retrieval_at_1"] == pytest.approx([1.0] * 3)
    per_tensor = report["gradient_cosine_per_tensor"]
    # the key bias's gradient is zero in exact arithmetic (softmax ignores a constant added to a row): noise only
    defined = {name: v for name, v in per_tensor.items() if not name.endswith("c_attn.k.bias")}
    assert len(defined) == len(per_tensor) - 2 and all(v == pytest.approx(1.0, abs=1e-5) for v in defined.values())


def test_disjoint_languages_give_measurable_alignment(bpe):
    tok = JointTokenizer([bpe, bpe], mode="disjoint")  # the same text, in two id ranges: like clones
    pairs = [(s, s) for s in SENTENCES]
    report = pair_alignment(_model(tok.vocab_size), tok, pairs, gradient_pairs=0)
    assert report["pairs"] == 4 and len(report["hidden_cosine"]) == 3
    assert all(-1.0 <= v <= 1.0 for v in report["hidden_cosine"]) and "gradient_cosine_mean" not in report
    with pytest.raises(ConfigError, match="1 pair given"):
        pair_alignment(_model(tok.vocab_size), tok, pairs[:1])
