"""Training throughput of ImbalanceTrainer (with a language schedule) next to the plain transformers Trainer.

    python benchmarks/bench_trainer.py [--preset tiny] [--steps 150] [--repeats 3]

Same model (same initial weights), same data, same batch, same optimizer and schedule of the learning rate, in
one process, alternating the two trainers; the best tokens/s of each is kept. The plain Trainer trains on the
same blocks in one language with a RandomSampler and the default collator; ImbalanceTrainer adds the scheduled
sampler, the cloning collator, per-token loss bookkeeping per language and per-language logging.
Target: ratio >= 0.97 (the language machinery is free).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments, default_data_collator

from hf_clonelang import BaseCorpus, ClonedCorpusBuilder
from hf_clonelang.training.modeling import gpt2_config
from hf_clonelang.training.trainer import ImbalanceTrainer, ImbalanceTrainingArguments


def common(out: str, steps: int, batch: int) -> dict:
    return dict(
        output_dir=out,
        max_steps=steps,
        per_device_train_batch_size=batch,
        learning_rate=2e-3,
        logging_steps=20,
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        use_cpu=not torch.cuda.is_available(),
        disable_tqdm=True,
        seed=0,
        dataloader_pin_memory=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--schedule", default="0.1_0.9")
    args = parser.parse_args()
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")

    with tempfile.TemporaryDirectory() as tmp:
        builder = ClonedCorpusBuilder(cache_dir=f"{tmp}/cache", base=BaseCorpus(max_documents=8000))
        builder.download_and_prepare()
        dsd, tok = builder.as_dataset(), builder.cloned_tokenizer
        blocks = dsd["train"].remove_columns(["language"])
        plain_data = blocks.map(lambda b: {"labels": b["input_ids"]}, batched=True).with_format("torch")
        block = len(blocks[0]["input_ids"])
        config = gpt2_config(args.preset, tok.vocab_size, block)
        torch.manual_seed(0)
        init = AutoModelForCausalLM.from_config(config)
        init.save_pretrained(f"{tmp}/init")
        tokens_per_run = args.steps * args.batch * block
        print(
            f"{args.preset} GPT-2 ({sum(p.numel() for p in init.parameters()):,} parameters), {args.steps} steps "
            f"x {args.batch} blocks x {block} tokens, {torch.get_num_threads()} threads, best of {args.repeats}"
        )

        best = {"plain": 0.0, "imbalance": 0.0}
        for r in range(args.repeats):
            model = AutoModelForCausalLM.from_pretrained(f"{tmp}/init")
            plain = Trainer(
                model=model,
                args=TrainingArguments(**common(f"{tmp}/plain", args.steps, args.batch)),
                train_dataset=plain_data,
                data_collator=default_data_collator,
            )
            start = time.perf_counter()
            plain.train()
            plain_speed = tokens_per_run / (time.perf_counter() - start)

            model = AutoModelForCausalLM.from_pretrained(f"{tmp}/init")
            ours = ImbalanceTrainer(
                model=model,
                args=ImbalanceTrainingArguments(
                    **common(f"{tmp}/ours", args.steps, args.batch), language_schedule=args.schedule
                ),
                train_dataset=blocks,
                processing_class=tok,
            )
            start = time.perf_counter()
            ours.train()
            ours_speed = tokens_per_run / (time.perf_counter() - start)
            best["plain"] = max(best["plain"], plain_speed)
            best["imbalance"] = max(best["imbalance"], ours_speed)
            print(f"  run {r}: plain Trainer {plain_speed:,.0f} tokens/s, ImbalanceTrainer {ours_speed:,.0f} tokens/s")
        print(f"plain transformers.Trainer:            {best['plain']:,.0f} tokens/s")
        print(f"ImbalanceTrainer ({args.schedule}):    {best['imbalance']:,.0f} tokens/s")
        print(f"ratio ImbalanceTrainer / Trainer:       {best['imbalance'] / best['plain']:.3f}   (target >= 0.97)")


if __name__ == "__main__":
    main()
