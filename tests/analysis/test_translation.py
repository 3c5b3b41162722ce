"""Alignment on translation pairs: a language whose tokenizer equals the other's (anchored: every piece shared)
gives identical states, so matched cosine and retrieval are 1 at every layer; real pairs give finite values; the
paper's parallel sequences are consecutive pairs packed in order within the length bounds."""

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from hf_clonelang import ConfigError, train_byte_level_bpe
from hf_clonelang.analysis.translation import pair_alignment, parallel_sequences
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
    pairs = [(s, s) for s in SENTENCES]
    report = pair_alignment(_model(tok.vocab_size), tok, pairs, gradient_pairs=2, packing="sentences")
    assert report["hidden_cosine"] == pytest.approx([1.0] * 3, abs=1e-5)  # embeddings + 2 blocks
    assert report["retrieval_at_1"] == pytest.approx([1.0] * 3)
    per_tensor = report["gradient_cosine_per_tensor"]
    # the key bias's gradient is zero in exact arithmetic (softmax ignores a constant added to a row): noise only
    defined = {name: v for name, v in per_tensor.items() if not name.endswith("c_attn.k.bias")}
    assert len(defined) == len(per_tensor) - 2 and all(v == pytest.approx(1.0, abs=1e-5) for v in defined.values())


def test_disjoint_languages_give_measurable_alignment(bpe):
    tok = JointTokenizer([bpe, bpe], mode="disjoint")  # the same text, in two id ranges: like clones
    pairs = [(s, s) for s in SENTENCES]
    report = pair_alignment(_model(tok.vocab_size), tok, pairs, gradient_pairs=0, packing="sentences")
    assert report["pairs"] == 4 and len(report["hidden_cosine"]) == 3 and report["packing"] == "sentences"
    assert all(-1.0 <= v <= 1.0 for v in report["hidden_cosine"]) and "gradient_cosine_mean" not in report
    with pytest.raises(ConfigError, match="1 pair given"):
        pair_alignment(_model(tok.vocab_size), tok, pairs[:1], packing="sentences")


def test_parallel_sequences_pack_consecutive_pairs_in_order_within_the_bounds(bpe):
    """The reference's packing (parallel_dataset.py): tokens of consecutive pairs concatenated while both sides stay
    within max_length; a pair longer than that is skipped; a sequence shorter than min_length on a side dropped."""
    tok = JointTokenizer([bpe, bpe], mode="disjoint")
    long = " ".join(SENTENCES * 3)  # one pair longer than a whole sequence
    pairs = [(s, s.upper()) for s in SENTENCES * 6] + [(long, long)] + [(s, s) for s in SENTENCES * 2]
    ids_a, mask_a, _, mask_b = parallel_sequences(tok, pairs, max_length=24, min_length=10)
    side_a = tok([a for a, _ in pairs], language=1)["input_ids"]
    lengths_a, lengths_b = mask_a.sum(1), mask_b.sum(1)
    assert (lengths_a <= 24).all() and (lengths_b <= 24).all() and (torch.minimum(lengths_a, lengths_b) >= 10).all()
    packed = [ids_a[i, : int(n)].tolist() for i, n in enumerate(lengths_a)]
    stream = [t for ids in side_a if len(ids) <= 24 for t in ids]  # every pair that fits, in order
    at = 0
    for seq in packed:  # each sequence is a run of whole consecutive sentences of the stream, in order
        at = next(i for i in range(at, len(stream)) if stream[i : i + len(seq)] == seq) + len(seq)
    assert len(packed) >= 4 and max(len(ids) for ids in side_a) > 24  # the long pair was there, and skipped


def test_the_same_text_packed_into_sequences_aligns_perfectly(bpe):
    tok = JointTokenizer([bpe, bpe], mode="anchored")
    pairs = [(s, s) for s in SENTENCES * 8]
    report = pair_alignment(_model(tok.vocab_size), tok, pairs, gradient_pairs=0, limit=3)
    assert report["packing"] == "sequences" and report["pairs"] == 3 and report["sequence_tokens"]["min"] >= 16
    assert report["hidden_cosine"] == pytest.approx([1.0] * 3, abs=1e-5)
    with pytest.raises(ConfigError, match="make 1 parallel sequence"):
        pair_alignment(_model(tok.vocab_size), tok, pairs[:5])
