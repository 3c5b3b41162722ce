#!/usr/bin/env python
"""Zero-shot cross-lingual transfer of a classifier — the paper's GLUE experiment in miniature, with plain
`transformers` (this script does not import hf_clonelang).

    hf-clonelang stories --num 3000 --seed 1 --output probe.jsonl     # labelled stories (or any labelled JSONL)
    python examples/probe_zero_shot.py --model runs/default --data probe.jsonl
    python examples/probe_zero_shot.py --model me/tinystories-90-10 --data probe.jsonl --linear-probe

It loads a checkpoint (a local run folder or a Hub repo) with `AutoModelForCausalLM` and two of its per-language
tokenizers with `AutoTokenizer.from_pretrained(model, subfolder="tokenizers/L{k}")`, trains a classifier on the
examples in the source language (L1), and evaluates it on held-out examples in L1 and, zero-shot, in the target
language (L2): the same texts, presented in the other language's token ids.

By default it follows the paper's GLUE recipe (Schäfer et al. 2024, arXiv:2404.07982; the authors' finetune_task.sh
and classification_model.py): the whole language model is fine-tuned with the head, in L1 only. The head is dropout
0.1 and a linear layer on the last transformer block's output (the residual stream before the final LayerNorm) at
the final position of the input; each text is followed by its language's eos token and right-padded to 128 tokens
(or the model's context, if shorter) with no attention mask, so that final position is usually a padding token that
attends to the whole text. AdamW with lr 5e-5, no weight decay, linear decay and gradient clipping at 1 (transformers'
Trainer defaults); batches of 64 (32 x 2 accumulation steps); at most 10 epochs; accuracy on a validation split of
the L1 training examples every 200 optimizer steps (and at the end), early stopping after 10 evaluations without an
improvement above 0.001, and the best weights restored; seed 12.

Options: ``--linear-probe`` freezes the language model and trains only the head, on the same features computed once
(default lr 1e-2, 20 epochs); ``--pooling last-token`` reads the last real token (the eos) of an input padded with an
attention mask instead of the final position; ``--lr``, ``--epochs``, ``--batch-size``, ``--grad-accum``,
``--eval-every``, ``--patience``, ``--max-length``, ``--validation-share`` and ``--seed`` change the recipe.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch
from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, get_linear_schedule_with_warmup

THRESHOLD = 0.001  # an evaluation counts as an improvement only above this much accuracy (the authors' value)


def encode(tokenizer, texts: list[str], max_length: int, pooling: str) -> dict[str, torch.Tensor]:
    """Each text's ids followed by the language's eos (truncated so that the eos still ends it), right-padded:
    to `max_length` without an attention mask (`final-position`, the paper's input) or to the longest text with
    one (`last-token`)."""
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    if eos is None:
        raise SystemExit(f"the tokenizer {tokenizer.name_or_path} has no eos_token")
    pad = eos if pad is None else pad
    ids = [[*x[: max_length - 1], eos] for x in tokenizer(texts, add_special_tokens=False)["input_ids"]]
    width = max_length if pooling == "final-position" else max(map(len, ids))
    input_ids = torch.full((len(ids), width), pad)
    mask = torch.zeros_like(input_ids)
    for i, x in enumerate(ids):
        input_ids[i, : len(x)] = torch.as_tensor(x)
        mask[i, : len(x)] = 1
    return (
        {"input_ids": input_ids} if pooling == "final-position" else {"input_ids": input_ids, "attention_mask": mask}
    )


class Classifier(torch.nn.Module):
    """The paper's head: the last transformer block's output at the pooled position, dropout 0.1, a linear layer.

    The block's output is read with a forward hook because `output_hidden_states[-1]` has the final LayerNorm
    applied in transformers' GPT-2, and the paper's model read the residual stream before it."""

    def __init__(self, lm, num_labels: int) -> None:
        super().__init__()
        self.lm = lm
        self.dropout = torch.nn.Dropout(0.1)
        self.head = torch.nn.Linear(lm.config.hidden_size, num_labels)
        n = lm.config.num_hidden_layers
        blocks = next(m for m in lm.modules() if isinstance(m, torch.nn.ModuleList) and len(m) == n)
        blocks[-1].register_forward_hook(self._keep)
        self._last: torch.Tensor | None = None

    def _keep(self, module, args, output) -> None:
        self._last = output[0] if isinstance(output, tuple) else output

    def features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """The last block's output at the final position, or at the last real token when there is a mask."""
        self.lm.base_model(input_ids=input_ids, attention_mask=attention_mask)  # the LM head is not needed
        hidden, self._last = self._last, None
        if attention_mask is None:
            return hidden[:, -1]
        last = attention_mask.sum(dim=1) - 1
        return hidden[torch.arange(len(last)), last]

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        features: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if features is None:
            features = self.features(input_ids, attention_mask)
        return self.head(self.dropout(features))


def batches(n: int, size: int, rng: np.random.Generator | None = None):
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for i in range(0, n, size):
        yield torch.as_tensor(order[i : i + size])


def take(inputs: dict[str, torch.Tensor], idx: torch.Tensor) -> dict[str, torch.Tensor]:
    return {key: value[idx] for key, value in inputs.items()}


@torch.no_grad()
def frozen_features(clf: Classifier, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """For the linear probe: the frozen model's features, computed once."""
    clf.eval()
    n = len(inputs["input_ids"])
    return {"features": torch.cat([clf.features(**take(inputs, i)) for i in batches(n, 64)])}


@torch.no_grad()
def accuracy(clf: Classifier, inputs: dict[str, torch.Tensor], labels: torch.Tensor) -> float:
    clf.eval()
    preds = torch.cat([clf(**take(inputs, i)).argmax(-1) for i in batches(len(labels), 64)])
    return float((preds == labels).float().mean())


def train(
    clf: Classifier,
    data: dict[str, dict[str, torch.Tensor]],
    labels: dict[str, torch.Tensor],
    args: argparse.Namespace,
    lr: float,
    epochs: int,
) -> None:
    """Trains whatever in `clf` requires grad, as transformers' Trainer would with the authors' settings: AdamW
    (weight decay 0), linear decay, clipping at 1, `grad_accum` batches a step; evaluates on the validation split
    every `eval_every` steps and at the end, stops after `patience` evaluations without an improvement above
    THRESHOLD, and restores the best weights."""
    rng = np.random.default_rng(args.seed)
    params = [p for p in clf.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    n = len(labels["train"])
    micro = math.ceil(n / args.batch_size)
    total = epochs * math.ceil(micro / args.grad_accum)
    scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=0, num_training_steps=total)
    best, best_state, waited, step, loss_sum, seen = -1.0, None, 0, 0, 0.0, 0
    for epoch in range(epochs):
        if waited >= args.patience:
            break
        clf.train()
        for i, idx in enumerate(batches(n, args.batch_size, rng)):
            loss = torch.nn.functional.cross_entropy(clf(**take(data["train"], idx)), labels["train"][idx])
            (loss / args.grad_accum).backward()
            loss_sum, seen = loss_sum + loss.item() * len(idx), seen + len(idx)
            if (i + 1) % args.grad_accum and i + 1 < micro:
                continue
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            if step % args.eval_every and step < total:
                continue
            acc = accuracy(clf, data["validation"], labels["validation"])
            clf.train()
            print(
                f"step {step}/{total} (epoch {epoch + 1}): training loss {loss_sum / seen:.4f}, "
                f"validation accuracy in L{args.source} {acc:.3f}"
            )
            loss_sum, seen = 0.0, 0
            waited = 0 if acc > best + THRESHOLD else waited + 1
            if acc > best:
                best, best_state = acc, {k: v.detach().clone() for k, v in clf.state_dict().items()}
            if waited >= args.patience:
                print(f"early stopping: no improvement above {THRESHOLD} in {args.patience} evaluations")
                break
    if best_state is not None:
        clf.load_state_dict(best_state)
        print(f"restored the best weights (validation accuracy {best:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="run folder or Hub model repo")
    parser.add_argument("--data", required=True, help="JSONL with a text and an integer label per line")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--label-column", default="label")
    parser.add_argument("--source", type=int, default=1, help="language to train in (default: 1)")
    parser.add_argument("--target", type=int, default=2, help="language to test zero-shot (default: 2)")
    parser.add_argument("--test-share", type=float, default=0.25, help="held-out test examples (default: 0.25)")
    parser.add_argument(
        "--validation-share", type=float, default=0.1, help="of the training examples, for early stopping (0.1)"
    )
    parser.add_argument(
        "--linear-probe", action="store_true", help="freeze the language model and train only the head"
    )
    parser.add_argument(
        "--pooling",
        choices=("final-position", "last-token"),
        default="final-position",
        help="final position of the input padded without a mask (the paper's, default) or its last real token",
    )
    parser.add_argument("--max-length", type=int, default=128, help="tokens per input, eos included (default: 128)")
    parser.add_argument("--epochs", type=int, default=None, help="at most (default: 10, 20 with --linear-probe)")
    parser.add_argument("--batch-size", type=int, default=32, help="examples per forward pass (default: 32)")
    parser.add_argument("--grad-accum", type=int, default=2, help="batches per optimizer step (default: 2)")
    parser.add_argument("--lr", type=float, default=None, help="default: 5e-5, 1e-2 with --linear-probe")
    parser.add_argument("--eval-every", type=int, default=200, help="optimizer steps between evaluations (200)")
    parser.add_argument("--patience", type=int, default=10, help="evaluations without improvement (default: 10)")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    data = load_dataset("json", data_files=args.data, split="train").train_test_split(
        test_size=args.test_share, seed=args.seed
    )
    fit = data["train"].train_test_split(test_size=args.validation_share, seed=args.seed)
    splits = {"train": fit["train"], "validation": fit["test"], "test": data["test"]}
    lm = AutoModelForCausalLM.from_pretrained(args.model)
    source = AutoTokenizer.from_pretrained(args.model, subfolder=f"tokenizers/L{args.source}")
    target = AutoTokenizer.from_pretrained(args.model, subfolder=f"tokenizers/L{args.target}")
    max_length = min(args.max_length, getattr(lm.config, "max_position_embeddings", None) or args.max_length)
    texts = {split: list(rows[args.text_column]) for split, rows in splits.items()}
    labels = {split: torch.as_tensor(list(rows[args.label_column])) for split, rows in splits.items()}
    num_labels = int(max(y.max() for y in labels.values())) + 1
    inputs = {split: encode(source, texts[split], max_length, args.pooling) for split in splits}
    test_target = encode(target, texts["test"], max_length, args.pooling)

    clf = Classifier(lm, num_labels)
    if args.linear_probe:
        lm.requires_grad_(False)
        inputs = {split: frozen_features(clf, enc) for split, enc in inputs.items()}
        test_target = frozen_features(clf, test_target)
    lr = args.lr or (1e-2 if args.linear_probe else 5e-5)
    epochs = args.epochs or (20 if args.linear_probe else 10)
    print(
        f"{'linear probe' if args.linear_probe else 'full fine-tuning'} in L{args.source}: "
        f"{len(labels['train'])} training, {len(labels['validation'])} validation examples, "
        f"{max_length} tokens, {args.pooling} pooling"
    )
    train(clf, inputs, labels, args, lr, epochs)
    chance = float(torch.bincount(labels["test"]).max()) / len(labels["test"])
    print(f"accuracy in L{args.source} (trained):    {accuracy(clf, inputs['test'], labels['test']):.3f}")
    print(f"accuracy in L{args.target} (zero-shot):  {accuracy(clf, test_target, labels['test']):.3f}")
    print(f"majority-class baseline:      {chance:.3f}  ({len(labels['test'])} test examples, {num_labels} labels)")


if __name__ == "__main__":
    main()
