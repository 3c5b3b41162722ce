"""GPU throughput at the paper's shapes: tokens/s, model FLOPs utilisation (MFU) and peak memory of
ImbalanceTrainer, next to the plain transformers Trainer on the same model and batch, in one run.

    python benchmarks/bench_gpu.py                              # mini and small, 2 and 10 languages, bf16
    python benchmarks/bench_gpu.py --presets small --languages 2 --steps 60 --batch 32 --accumulation 4
    python benchmarks/bench_gpu.py --presets tiny --block-size 128 --vocab 1024 --steps 8 --batch 4   # CPU smoke

Shapes: 512-token blocks, V = 16,384 per language (joint 2 x 16,384 - 1 or 10 x ...), bf16 mixed precision, sdpa
attention (flash-attention 2 where installed), fused AdamW. Data are random base ids (throughput does not depend
on the text); ImbalanceTrainer clones each block into the language its schedule samples, the plain Trainer trains
on random ids of the joint vocabulary with the default collator.

MFU = model FLOPs per second / the device's dense bf16 peak. Model FLOPs per token: 6·N (N: parameters without
the position embedding, the input embedding counted as in the usual 6N rule) plus the attention's 12·L·h·T
(forward and backward of QKᵀ and AV at context T). The peak is looked up from the device name (H100 / H200:
989 TFLOP/s, A100: 312) or given with --peak-tflops. Goals: MFU >= 40% for small on one H100/H200, and
ImbalanceTrainer / Trainer >= 0.97.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import torch
from datasets import Dataset
from tokenizers import Tokenizer, models
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast, Trainer, TrainerCallback, TrainingArguments

from hf_clonelang import ClonedTokenizer
from hf_clonelang.training.modeling import attention_kernel, gpt2_config
from hf_clonelang.training.trainer import ImbalanceTrainer, ImbalanceTrainingArguments

PEAKS = {"H100": 989e12, "H200": 989e12, "GH200": 989e12, "A100": 312e12, "L40S": 362e12, "A10G": 125e12}
"""Dense bf16 peak FLOP/s by device name (NVIDIA data sheets, SXM parts)."""


class StepClock(TrainerCallback):
    """Wall time of the steps after ``warmup`` (compilation, allocator warm-up and the first batches excluded)."""

    def __init__(self, warmup: int) -> None:
        self.warmup, self.start, self.end, self.steps = warmup, None, None, 0

    def on_step_begin(self, args, state, control, **kwargs):
        if state.global_step == self.warmup:
            _sync()
            self.start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if self.start is not None:
            _sync()
            self.end = time.perf_counter()
            self.steps = state.global_step - self.warmup


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def base_tokenizer(vocab: int) -> PreTrainedTokenizerFast:
    """A word-level tokenizer of ``vocab`` entries (two of them special): the id layout is all the benchmark needs."""
    words = {f"w{i}": i for i in range(vocab - 2)} | {"<pad>": vocab - 2, "<eod>": vocab - 1}
    raw = Tokenizer(models.WordLevel(vocab=words, unk_token="<eod>"))
    return PreTrainedTokenizerFast(tokenizer_object=raw, pad_token="<pad>", eos_token="<eod>")


def peak_flops(given: float | None) -> tuple[float | None, str]:
    if given:
        return given * 1e12, "given"
    name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    for key, value in PEAKS.items():
        if key in name:
            return value, name
    return None, name


def model_flops_per_token(model: torch.nn.Module, block: int) -> float:
    cfg = model.config
    params = sum(p.numel() for p in model.parameters()) - model.transformer.wpe.weight.numel()
    return 6 * params + 12 * cfg.n_layer * cfg.n_embd * block


def measure(kind: str, model_fn, tok, data, args_kwargs: dict, warmup: int) -> dict:
    clock = StepClock(warmup)
    model = model_fn()
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    if kind == "imbalance":
        schedule = "0.9,0.1" if tok.num_languages == 2 else "l1:0.5"
        args = ImbalanceTrainingArguments(
            **args_kwargs, language_schedule=schedule, num_languages=tok.num_languages, alignment_blocks=0
        )
        trainer = ImbalanceTrainer(
            model=model, args=args, train_dataset=data["blocks"], processing_class=tok, callbacks=[clock]
        )
    else:
        args = TrainingArguments(**args_kwargs)
        trainer = Trainer(model=model, args=args, train_dataset=data["plain"], callbacks=[clock])
    trainer.train()
    seconds = clock.end - clock.start
    tokens = clock.steps * args.train_batch_size * args.gradient_accumulation_steps * args.world_size * data["block"]
    memory = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
    return {"tokens_per_s": tokens / seconds, "seconds": seconds, "steps": clock.steps, "peak_memory_bytes": memory,
            "model": model}  # fmt: skip


def run_case(preset: str, languages: int, cli: argparse.Namespace, out: str) -> dict:
    tok = ClonedTokenizer(base_tokenizer(cli.vocab), num_languages=languages)
    block = cli.block_size
    rng = torch.Generator().manual_seed(0)
    rows = cli.steps * cli.batch * cli.accumulation + cli.batch
    base = torch.randint(0, cli.vocab - 2, (rows, block), generator=rng)
    joint = torch.randint(0, tok.vocab_size, (rows, block), generator=rng)
    data = {
        "block": block,
        "blocks": Dataset.from_dict({"input_ids": base.tolist()}),
        "plain": Dataset.from_dict({"input_ids": joint.tolist(), "labels": joint.tolist()}),
    }
    on_gpu = torch.cuda.is_available()
    kernel = attention_kernel("auto") if on_gpu else "sdpa"

    def model_fn() -> torch.nn.Module:
        torch.manual_seed(0)
        config = gpt2_config(preset, tok.vocab_size, block)
        return AutoModelForCausalLM.from_config(config, attn_implementation=kernel)

    args_kwargs = dict(
        output_dir=out, max_steps=cli.steps, per_device_train_batch_size=cli.batch,
        gradient_accumulation_steps=cli.accumulation, learning_rate=6e-4, logging_steps=max(1, cli.steps // 4),
        save_strategy="no", eval_strategy="no", report_to="none", bf16=on_gpu, use_cpu=not on_gpu,
        disable_tqdm=True, seed=0, dataloader_num_workers=2 if on_gpu else 0, torch_compile=cli.compile,
    )  # fmt: skip
    results = {}
    for kind in ("plain", "imbalance") * cli.repeats:  # alternating, the best of each kept
        got = measure(kind, model_fn, tok, data, args_kwargs, cli.warmup)
        model = got.pop("model")
        if kind not in results or got["tokens_per_s"] > results[kind]["tokens_per_s"]:
            results[kind] = got
    peak, device = peak_flops(cli.peak_tflops)
    flops = model_flops_per_token(model, block)
    case = {"preset": preset, "languages": languages, "joint_vocab": tok.vocab_size, "block": block,
            "global_batch": cli.batch * cli.accumulation, "device": device, "attention": kernel,
            "flops_per_token": flops, "peak_flops": peak, **results}  # fmt: skip
    for kind in ("plain", "imbalance"):
        results[kind]["mfu"] = flops * results[kind]["tokens_per_s"] / peak if peak else None
    case["ratio"] = results["imbalance"]["tokens_per_s"] / results["plain"]["tokens_per_s"]
    return case


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default="mini,small")
    parser.add_argument("--languages", default="2,10")
    parser.add_argument("--block-size", type=int, default=512)
    parser.add_argument("--vocab", type=int, default=16384, help="per language")
    parser.add_argument("--batch", type=int, default=32, help="per device and step")
    parser.add_argument("--accumulation", type=int, default=4, help="gradient accumulation (32 x 4 = the paper's 128)")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs of each; the best kept")
    parser.add_argument("--compile", action="store_true", help="torch.compile both trainers' models")
    parser.add_argument("--peak-tflops", type=float, default=None, help="the device's dense bf16 peak")
    parser.add_argument("--output", default=None, help="JSON file of the results")
    cli = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    cases = []
    with tempfile.TemporaryDirectory() as out:
        for preset in cli.presets.split(","):
            for languages in map(int, cli.languages.split(",")):
                case = run_case(preset, languages, cli, out)
                cases.append(case)
                mfu = case["imbalance"]["mfu"]
                memory = case["imbalance"]["peak_memory_bytes"]
                print(
                    f"{preset:>6} L={languages:<2} V={case['joint_vocab']:>7} {case['device']}: "
                    f"ImbalanceTrainer {case['imbalance']['tokens_per_s']:,.0f} tok/s"
                    + (f", MFU {100 * mfu:.1f}%" if mfu else "")
                    + (f", peak {memory / 2**30:.1f} GiB" if memory else "")
                    + f"; Trainer {case['plain']['tokens_per_s']:,.0f} tok/s; ratio {case['ratio']:.3f}",
                    flush=True,
                )
    if cli.output:
        with open(cli.output, "w") as f:
            json.dump(cases, f, indent=2)


if __name__ == "__main__":
    main()
