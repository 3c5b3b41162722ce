#!/usr/bin/env python
"""Zero-shot cross-lingual transfer of a classifier — the paper's GLUE experiment in miniature, with plain
`transformers` (this script does not import hf_clonelang).

    hf-clonelang stories --num 3000 --seed 1 --output probe.jsonl     # labelled stories (or any labelled JSONL)
    python examples/probe_zero_shot.py --model runs/default --data probe.jsonl
    python examples/probe_zero_shot.py --model me/tinystories-90-10 --data probe.jsonl --finetune

It loads a checkpoint (a local run folder or a Hub repo) with `AutoModelForCausalLM` and two of its per-language
tokenizers with `AutoTokenizer.from_pretrained(model, subfolder="tokenizers/L{k}")`, trains a classifier on the
examples in the source language (L1), and evaluates it on held-out examples in L1 and, zero-shot, in the target
language (L2): the same texts, presented in the other language's token ids. By default the language model is
frozen and a linear probe is trained on its last hidden state at the final position (the paper's head);
``--finetune`` trains the whole model with the head, as the paper did on GLUE.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoTokenizer


def encode(tokenizer, texts: list[str], max_length: int) -> dict[str, torch.Tensor]:
    tokenizer.padding_side = "right"
    return tokenizer(texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt")


class Classifier(torch.nn.Module):
    """The language model's last hidden state at each example's final token, dropout, a linear layer."""

    def __init__(self, lm, num_labels: int) -> None:
        super().__init__()
        self.lm = lm
        self.dropout = torch.nn.Dropout(0.1)
        self.head = torch.nn.Linear(lm.config.hidden_size, num_labels)

    def features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.lm(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        last = attention_mask.sum(dim=1) - 1
        return hidden.hidden_states[-1][torch.arange(len(last)), last]

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(input_ids, attention_mask)))


def batches(n: int, size: int, rng: np.random.Generator | None = None):
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for i in range(0, n, size):
        yield torch.as_tensor(order[i : i + size])


def train(
    clf: Classifier, enc: dict, labels: torch.Tensor, epochs: int, lr: float, batch: int, seed: int, finetune: bool
) -> None:
    rng = np.random.default_rng(seed)
    params = list(clf.parameters()) if finetune else list(clf.head.parameters())
    optimizer = torch.optim.AdamW(params, lr=lr)
    clf.train()
    clf.lm.train(finetune)
    frozen = None
    if not finetune:  # the body is frozen: compute its features once
        with torch.no_grad():
            frozen = torch.cat(
                [clf.features(enc["input_ids"][i], enc["attention_mask"][i]) for i in batches(len(labels), 64)]
            )
    for epoch in range(epochs):
        total = 0.0
        for idx in batches(len(labels), batch, rng):
            if frozen is None:
                logits = clf(enc["input_ids"][idx], enc["attention_mask"][idx])
            else:
                logits = clf.head(clf.dropout(frozen[idx]))
            loss = torch.nn.functional.cross_entropy(logits, labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss) * len(idx)
        print(f"epoch {epoch + 1}: training loss {total / len(labels):.4f}")


@torch.no_grad()
def accuracy(clf: Classifier, enc: dict, labels: torch.Tensor) -> float:
    clf.eval()
    preds = torch.cat(
        [clf(enc["input_ids"][i], enc["attention_mask"][i]).argmax(-1) for i in batches(len(labels), 64)]
    )
    return float((preds == labels).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="run folder or Hub model repo")
    parser.add_argument("--data", required=True, help="JSONL with a text and an integer label per line")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--label-column", default="label")
    parser.add_argument("--source", type=int, default=1, help="language to train in (default: 1)")
    parser.add_argument("--target", type=int, default=2, help="language to test zero-shot (default: 2)")
    parser.add_argument("--test-share", type=float, default=0.25)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=None, help="default: 1e-2 for the probe, 5e-5 with --finetune")
    parser.add_argument("--finetune", action="store_true", help="train the whole model, not only the probe")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    data = load_dataset("json", data_files=args.data, split="train").train_test_split(
        test_size=args.test_share, seed=args.seed
    )
    lm = AutoModelForCausalLM.from_pretrained(args.model)
    source = AutoTokenizer.from_pretrained(args.model, subfolder=f"tokenizers/L{args.source}")
    target = AutoTokenizer.from_pretrained(args.model, subfolder=f"tokenizers/L{args.target}")
    max_length = lm.config.n_positions if hasattr(lm.config, "n_positions") else 512
    texts = {split: list(data[split][args.text_column]) for split in ("train", "test")}
    labels = {split: torch.as_tensor(list(data[split][args.label_column])) for split in ("train", "test")}
    num_labels = int(max(labels["train"].max(), labels["test"].max())) + 1
    train_enc = encode(source, texts["train"], max_length)
    test_source = encode(source, texts["test"], max_length)
    test_target = encode(target, texts["test"], max_length)

    clf = Classifier(lm, num_labels)
    lr = args.lr or (5e-5 if args.finetune else 1e-2)
    train(clf, train_enc, labels["train"], args.epochs, lr, args.batch_size, args.seed, args.finetune)
    chance = float(torch.bincount(labels["test"]).max()) / len(labels["test"])
    print(f"accuracy in L{args.source} (trained):    {accuracy(clf, test_source, labels['test']):.3f}")
    print(f"accuracy in L{args.target} (zero-shot):  {accuracy(clf, test_target, labels['test']):.3f}")
    print(f"majority-class baseline:      {chance:.3f}  ({len(labels['test'])} test examples, {num_labels} labels)")


if __name__ == "__main__":
    main()
