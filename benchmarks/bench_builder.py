"""Builder throughput next to plain tokenization, and peak memory at 1x and 10x the corpus.

    python benchmarks/bench_builder.py --base books.txt.gz     # any local text file (we used Gutenberg, 24.7 MB)

Measured in one run, side by side:
  * plain: batched encoding of the same documents with the same fast tokenizer (reading included);
  * builder: `hf-clonelang build` end to end (read, tokenize, pack, assign languages, clone, write Parquet);
  * ratio = builder tokens/s / plain tokens/s (target >= 0.8: cloning is nearly free next to tokenization);
  * peak RSS of a build in a fresh process for the corpus and for the corpus repeated 10 times (target: flat).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from hf_clonelang import BaseCorpus, ClonedCorpusConfig, train_byte_level_bpe
from hf_clonelang.data.corpus_folder import save_cloned_corpus
from hf_clonelang.data.packing import _batched


def plain_encoding(corpus: BaseCorpus, tokenizer, batch_size: int = 1000) -> tuple[int, float]:
    start = time.perf_counter()
    tokens = 0
    for batch in _batched(corpus.texts(), batch_size):
        tokens += sum(len(ids) + 1 for ids in tokenizer(batch, add_special_tokens=False)["input_ids"])
    return tokens, time.perf_counter() - start


def build(corpus: BaseCorpus, tokenizer_dir: str, out: str, num_proc: int | None) -> tuple[int, float]:
    config = ClonedCorpusConfig(base=corpus, tokenizer=tokenizer_dir, ratios=(0.9, 0.1), block_size=128)
    start = time.perf_counter()
    info = save_cloned_corpus(config, out, num_proc=num_proc)
    seconds = time.perf_counter() - start
    # unique base tokens (train + one copy of each held-out split), the same text the plain side encodes
    summary = info["summary"]
    tokens = sum(v["tokens"] for name in ("train", "validation_L1", "test_L1") for v in summary[name].values())
    return tokens, seconds


def child(args: argparse.Namespace) -> None:
    """Run one build and print its token count, seconds and peak RSS as JSON (used for the memory runs)."""
    corpus = BaseCorpus.from_spec([args.base] * args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        tokens, seconds = build(corpus, args.tokenizer, f"{tmp}/out", None)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tokens": tokens, "seconds": seconds, "peak_rss_mb": rss}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="embedded", help="base text: local files or 'embedded' (the default)")
    parser.add_argument("--vocab-size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of each side (the best is kept)")
    parser.add_argument("--memory-factor", type=int, default=10)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tokenizer", help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    if args.child:
        child(args)
        return

    corpus = BaseCorpus.from_spec([args.base])
    with tempfile.TemporaryDirectory() as tmp:
        tok = train_byte_level_bpe(corpus.texts(), args.vocab_size)
        tok.save_pretrained(f"{tmp}/tok")
        print(f"corpus {args.base}: tokenizer V={args.vocab_size}, best of {args.repeats}")
        plain_best, build_best = None, None
        for i in range(args.repeats):  # interleaved, so both sides see the same machine state
            p_tokens, p_sec = plain_encoding(corpus, tok)
            b_tokens, b_sec = build(corpus, f"{tmp}/tok", f"{tmp}/out{i}", None)
            plain_best = max(plain_best or 0, p_tokens / p_sec)
            build_best = max(build_best or 0, b_tokens / b_sec)
            print(f"  run {i}: plain {p_tokens:,} tokens in {p_sec:.2f}s; build {b_tokens:,} tokens in {b_sec:.2f}s")
        print(f"plain batched encoding: {plain_best:,.0f} tokens/s")
        print(f"hf-clonelang build:     {build_best:,.0f} tokens/s")
        print(f"ratio build / plain:    {build_best / plain_best:.3f}   (target >= 0.8)")

        results = {}
        for factor in (1, args.memory_factor):
            cmd = [
                sys.executable,
                __file__,
                "--child",
                "--base",
                args.base,
                "--tokenizer",
                f"{tmp}/tok",
                "--repeat",
                str(factor),
            ]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
            results[factor] = json.loads(out)
            r = results[factor]
            rss = r["peak_rss_mb"]
            print(f"{factor:>3}x corpus: {r['tokens']:,} tokens in {r['seconds']:.1f}s, peak RSS {rss:.0f} MB")
        growth = results[args.memory_factor]["peak_rss_mb"] / results[1]["peak_rss_mb"]
        print(f"peak RSS {args.memory_factor}x / 1x: {growth:.2f}   (target: flat, ~1)")


if __name__ == "__main__":
    main()
