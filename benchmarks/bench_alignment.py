"""Alignment evaluation cost, and Hungarian matching against networkx.

    pip install networkx   # only this benchmark needs it
    python benchmarks/bench_alignment.py [--preset cpu] [--blocks 256] [--matrices 3]

1. Time of a full `alignment_report` (hidden cosine raw and centred, retrieval@1, CKA, gradient cosine, clone
   embeddings) per 1k parallel blocks, for a freshly initialised model of the preset, blocks of 128 tokens.
2. The overhead the training-time summary adds to an evaluation at the default size: the time of
   `ImbalanceTrainer.evaluate()` with ``alignment_blocks=32`` next to the same evaluation with it off
   (2 languages x 256 held-out blocks).
3. Maximum-weight matching of the same 256 x 256 similarity matrices with scipy's Hungarian algorithm
   (`hf_clonelang.analysis.alignment.max_weight_matching`) and with `networkx.max_weight_matching` (the original code's
   choice), as a ratio; both matchings' total weights are checked to be equal.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import torch


def evaluation_overhead(preset: str) -> tuple[float, float]:
    from transformers import AutoModelForCausalLM

    from hf_clonelang import BaseCorpus, ClonedCorpusBuilder
    from hf_clonelang.training.modeling import gpt2_config
    from hf_clonelang.training.trainer import ImbalanceTrainer, ImbalanceTrainingArguments

    with tempfile.TemporaryDirectory() as tmp:
        builder = ClonedCorpusBuilder(cache_dir=f"{tmp}/c", base=BaseCorpus(max_documents=4000))
        builder.download_and_prepare()
        dsd, tok = builder.as_dataset(), builder.cloned_tokenizer
        model = AutoModelForCausalLM.from_config(gpt2_config(preset, tok.vocab_size, 128))
        evals = {f"L{k}": dsd[f"validation_L{k}"] for k in (1, 2)}
        times = {}
        for blocks in (0, 32, 0, 32):
            args = ImbalanceTrainingArguments(
                output_dir=f"{tmp}/o",
                use_cpu=not torch.cuda.is_available(),
                per_device_eval_batch_size=32,
                report_to="none",
                disable_tqdm=True,
                alignment_blocks=blocks,
                max_steps=1,
            )
            trainer = ImbalanceTrainer(model=model, args=args, eval_dataset=evals, processing_class=tok)
            start = time.perf_counter()
            trainer.evaluate()
            times.setdefault(blocks, []).append(time.perf_counter() - start)
        return min(times[0]), min(times[32])


def alignment_per_1k(preset: str, blocks: int) -> float:
    from transformers import AutoModelForCausalLM

    from hf_clonelang import BaseCorpus, ClonedTokenizer, train_byte_level_bpe
    from hf_clonelang.analysis.alignment import alignment_report
    from hf_clonelang.training.modeling import gpt2_config

    base = train_byte_level_bpe(BaseCorpus(max_documents=2000).texts(), 1024)
    tok = ClonedTokenizer(base, 2)
    model = AutoModelForCausalLM.from_config(gpt2_config(preset, tok.vocab_size, 128))
    ids = torch.as_tensor(np.random.default_rng(0).integers(2, 1024, size=(blocks, 128)))
    start = time.perf_counter()
    alignment_report(model, tok, ids, gradient_blocks=32, batch_size=32)
    return (time.perf_counter() - start) * 1000 / blocks


def matching(matrices: int, size: int) -> tuple[float, float]:
    import networkx as nx

    from hf_clonelang.analysis.alignment import max_weight_matching

    rng = np.random.default_rng(0)
    scipy_s, nx_s = [], []
    for _ in range(matrices):
        sim = rng.uniform(-1, 1, size=(size, size))
        start = time.perf_counter()
        rows, cols = max_weight_matching(sim)
        scipy_s.append(time.perf_counter() - start)
        graph = nx.Graph()
        shift = sim.min() - 1.0  # networkx maximises weight; make every edge positive so the matching is perfect
        graph.add_weighted_edges_from((i, size + j, sim[i, j] - shift) for i in range(size) for j in range(size))
        start = time.perf_counter()
        pairs = nx.max_weight_matching(graph, maxcardinality=True)
        nx_s.append(time.perf_counter() - start)
        nx_total = sum(sim[min(a, b), max(a, b) - size] for a, b in pairs)
        assert abs(nx_total - sim[rows, cols].sum()) < 1e-6, (nx_total, sim[rows, cols].sum())
    return float(np.mean(scipy_s)), float(np.mean(nx_s))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--blocks", type=int, default=256)
    parser.add_argument("--matrices", type=int, default=3)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    print(f"{torch.get_num_threads()} threads, preset {args.preset}, blocks of 128 tokens")
    per_1k = alignment_per_1k(args.preset, args.blocks)
    print(f"alignment_report: {per_1k:.1f} s per 1k parallel blocks (measured on {args.blocks})")
    off, on = evaluation_overhead(args.preset)
    print(
        f"evaluate(), 2 languages x 256 blocks: {off:.2f} s; with the alignment summary (32 blocks): {on:.2f} s "
        f"(+{(on - off) / off:.0%}, target < 25%)"
    )
    fast, slow = matching(args.matrices, args.size)
    print(
        f"max-weight matching of {args.size}x{args.size} similarities: scipy Hungarian {fast * 1000:.1f} ms, "
        f"networkx {slow:.2f} s per matrix: networkx / Hungarian = {slow / fast:,.0f}x"
    )


if __name__ == "__main__":
    main()
