"""``hf-clonelang``: the command line. ``build`` turns a base corpus into a cloned-language corpus folder (and/or
Hub dataset repo); ``reproduce`` runs the paper's grid and writes its report; ``align`` measures a finished run;
``probe`` trains a classifier in one of its languages and evaluates it in all.
Bad input stops before any work with one line naming the value and what is allowed (exit 2)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError
from ..parser import comma_numbers
from .build import run_build
from .entry import run_command


def run_align(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from ..analysis.plots import plot_alignment_comparison
    from ..analysis.runs import align_pairs, align_run
    from ..common import RunFiles, block_mean

    languages = comma_numbers(args.languages, "--languages", integers=True) if args.languages else None
    if args.blocks < 1:
        raise ConfigError(f"--blocks={args.blocks} is not allowed: it must be >= 1")
    if args.pairs:
        report = align_pairs(
            args.run, args.pairs, languages=languages or (1, 2), pairs=args.blocks, packing=args.pair_packing
        )
    else:
        report = align_run(
            args.run, languages=languages, blocks=args.blocks, split=args.split, corpus_cache_dir=args.corpus_cache_dir
        )
    local = Path(args.run)
    output = Path(args.output) if args.output else (local if local.is_dir() else Path(".")) / RunFiles.ALIGNMENT
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    plot_alignment_comparison(report, output.with_suffix(".png"))
    for pair, entry in report.items():
        mean = {  # over the blocks' outputs, as everywhere else (the embeddings are left out)
            k: round(block_mean(entry[k]), 4)
            for k in ("hidden_cosine", "hidden_cosine_centred", "retrieval_at_1", "cka")
        }
        print(f"{pair}: {mean} gradient_cosine_mean={entry.get('gradient_cosine_mean', float('nan')):.4f}")
    print(f"wrote {output} and {output.with_suffix('.png')}")
    return 0


def run_push(args: argparse.Namespace) -> int:
    from ..hub.push import push_run
    from .checks import check_repo_id

    check_repo_id(args.repo, "--repo")
    url = push_run(args.run, args.repo, private=args.private or None, revision=args.revision)
    print(f"pushed {args.run} to {url}")
    return 0


def run_stories(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from ..data.stories import TOPICS, stories

    if args.num < 1:
        raise ConfigError(f"--num={args.num} is not allowed: it must be >= 1")
    out = Path(args.output)
    if out.is_dir():
        raise ConfigError(f"--output {args.output!r} is a folder: give a file name, e.g. {args.output}/stories.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        with open(tmp, "w") as f:
            for row in stories(args.num, seed=args.seed, start=args.start):
                f.write(json.dumps({"text": row["text"], "label": row["label"], "topic": row["topic"]}) + "\n")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)  # a full disk or a kill: no half-written file under either name
    print(f"wrote {args.num} labelled stories to {out} (labels: {', '.join(TOPICS)})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hf-clonelang", description="Cloned-language corpora and experiments on the Hugging Face stack."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser(
        "build",
        help="build a cloned-language corpus (Parquet + tokenizer + dataset card); build --help lists its flags",
        add_help=False,  # its arguments are dataclasses, parsed by HfArgumentParser (see commands/build.py)
    )
    build.set_defaults(func=None)

    reproduce = sub.add_parser(
        "reproduce",
        help="run the paper's grid (monolingual curve, 50/50, 90/10, 0.1_0.9) and write report.md; reproduce --help "
        "lists its flags",
        add_help=False,  # its arguments are a dataclass, parsed by HfArgumentParser (see commands/reproduce.py)
    )
    reproduce.set_defaults(func=None)

    probe = sub.add_parser(
        "probe",
        help="train a classifier in one language of a model (run folder, checkpoint or Hub repo) and evaluate it "
        "in every language, with the paper's recipe and controls; probe --help lists its flags",
        add_help=False,  # its arguments are a dataclass, parsed by HfArgumentParser (see commands/probe.py)
    )
    probe.set_defaults(func=None)

    align = sub.add_parser(
        "align",
        help="alignment of a finished run (local folder or Hub repo) on its parallel held-out blocks, or on "
        "translation pairs (real languages)",
        description="Hidden-state cosine (raw, centred), retrieval@1, CKA, gradient cosine and clone-embedding "
        "cosine between languages of a saved run; writes JSON and a per-layer plot. Real languages: --pairs FILE "
        "(the paper's method: per pair one maximum-weight token matching on the layer-averaged cosine).",
    )
    align.add_argument("run", help="run folder or Hub model repo")
    align.add_argument("--languages", default=None, help="languages to compare, first against each other (1,2)")
    align.add_argument("--blocks", type=int, default=256, help="parallel blocks, or pairs (default: 256)")
    align.add_argument(
        "--pairs",
        default=None,
        help="TSV of translation pairs (sentence in the first language, tab, its translation; .gz too): --blocks "
        "parallel sequences packed from them are measured (see --pair-packing)",
    )
    align.add_argument(
        "--split", default="test", help="test (default: held-out documents, as the final grid measures) or validation"
    )
    align.add_argument(
        "--pair-packing",
        "--pair_packing",
        default="sequences",
        choices=["sequences", "sentences"],
        help="with --pairs: sequences (default: consecutive pairs packed into parallel sequences of a quarter to a "
        "whole block, the paper's) or sentences (single sentence pairs, a seeded sample)",
    )
    align.add_argument("--output", default=None, help="JSON file (default: RUN/alignment.json)")
    align.add_argument(
        "--corpus_cache_dir",
        "--corpus-cache-dir",
        default=None,
        help="where the run's corpus is (re)built and cached (default: the datasets cache)",
    )
    align.set_defaults(func=run_align)

    push = sub.add_parser(
        "push",
        help="push a finished run folder (model, tokenizers, metrics, plots, card) to a Hub model repo",
        description="Push a run folder written by run_clm_imbalance.py to the Hub in one commit, with a model card "
        "made for that repo. The local folder is only read; a failed push can be retried with the same command.",
    )
    push.add_argument("run", help="run folder")
    push.add_argument("--repo", required=True, help="Hub model repo, e.g. me/clonelang-90-10")
    push.add_argument("--private", action="store_true", help="create the repo as private")
    push.add_argument("--revision", default=None, help="branch to push to")
    push.set_defaults(func=run_push)

    st = sub.add_parser(
        "stories",
        help="write embedded stories with their class labels as JSONL (for probing)",
        description="Write stories of the embedded corpus with their plot label, e.g. to fine-tune a classifier "
        "in L1 and test it in L2 (hf-clonelang probe MODEL --dataset FILE). Use another --seed than training did.",
    )
    st.add_argument("--num", type=int, default=2000, help="number of stories (default: 2000)")
    st.add_argument("--seed", type=int, default=1, help="story seed (default: 1; training uses 0)")
    st.add_argument("--start", type=int, default=0, help="index of the first story")
    st.add_argument("--output", required=True, help="JSONL file")
    st.set_defaults(func=run_stories)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``hf-clonelang``."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    run_args: list[str] = []
    if "--" in argv:  # `reproduce ... -- --flag value`: flags for every run of the grid
        cut = argv.index("--")
        argv, run_args = argv[:cut], argv[cut + 1 :]
    args, rest = parser.parse_known_args(argv)
    if args.command == "build":
        return _run(args.command, run_build, rest)
    if args.command == "probe":
        from .probe import run_probe

        return _run(args.command, run_probe, rest)
    if args.command == "reproduce":  # its own parser: the dataclass's flags, --config, and the run flags after --
        from .reproduce import run_reproduce  # (imported here: the grid's analysis loads torch)

        return _run(args.command, run_reproduce, [*rest, "--", *run_args] if run_args else rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if run_args:
        parser.error(f"flags after -- are for reproduce only, not {args.command}: {' '.join(run_args)}")
    return _run(args.command, args.func, args)


def _run(command: str, func: Any, args: Any) -> int:
    """Run a subcommand (`entry.run_command`): its exit status, every error in one line."""
    result, status = run_command(f"hf-clonelang {command}", func, args)
    return result if status == 0 else status


if __name__ == "__main__":
    sys.exit(main())
