"""Run folders to probe (`hf-clonelang probe`), made in a second: a small GPT-2 with random weights (drawn ten times
wider than GPT-2's initialisation, so that its last block's state carries the text as a trained model's does; the
paper's √h input factor folded in), saved with its tokenizer's per-language exports as a training run writes them;
and labelled data files."""

import csv
import json
import math

WORDS = {
    "animals": ["cat", "dog", "bird", "fox", "cow", "duck", "frog", "mouse"],
    "weather": ["rain", "snow", "wind", "storm", "sun", "cloud", "fog", "hail"],
}


def save_run(folder, tokenizer, n_positions=32, seed=0):
    """A run folder of ``tokenizer`` (cloned or joint) with a random GPT-2; returns the folder."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from hf_clonelang.common import EMBEDDING_SCALE_KEY

    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=tokenizer.vocab_size, n_positions=n_positions, n_embd=32, n_layer=2, n_head=2,
                        tie_word_embeddings=False, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                        initializer_range=0.2)  # fmt: skip
    model = GPT2LMHeadModel(config)
    scale = math.sqrt(32)
    with torch.no_grad():
        model.get_input_embeddings().weight.mul_(scale)
    setattr(model.config, EMBEDDING_SCALE_KEY, scale)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    info = {"num_languages": tokenizer.num_languages, "tokenizer": tokenizer.to_dict(), "data": {"story_seed": 0}}
    (folder / "run_info.json").write_text(json.dumps(info))
    return folder


def write_task(path, n=96, seed=0, pairs=False, labels=("animals", "weather")):
    """A CSV of ``n`` short texts whose label is the topic of their words (string labels): separable from the
    words alone. ``pairs``: two sentence columns, labelled by whether both share the topic."""
    import random

    rng = random.Random(seed)
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["sentence1", "sentence2", "label"] if pairs else ["text", "label"])
        for i in range(n):
            topic = labels[i % len(labels)]
            words = " ".join(rng.choice(WORDS[topic]) for _ in range(6))
            if pairs:
                other = labels[rng.randrange(len(labels))]
                out.writerow([words, " ".join(rng.choice(WORDS[other]) for _ in range(4)), str(other == topic)])
            else:
                out.writerow([words, topic])
    return path
