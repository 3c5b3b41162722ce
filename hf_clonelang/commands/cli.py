"""``hf-clonelang``: the command line. ``build`` turns a base corpus into a cloned-language corpus folder (and/or
Hub dataset repo); ``reproduce`` runs the paper's grid and writes its report; ``align`` measures a finished run.
Bad input stops before any work with one line naming the value and what is allowed (exit 2)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError
from .build import run_build
from .entry import run_command


def _floats(text: str, what: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(","))
    except ValueError:
        raise ConfigError(f"{what}={text!r} is not allowed: give a comma-separated list of numbers") from None


def _ints(text: str, what: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(","))
    except ValueError:
        raise ConfigError(f"{what}={text!r} is not allowed: give a comma-separated list of integers") from None


def _reproduce_argv(args: argparse.Namespace) -> list[str]:
    """This grid's ``reproduce`` command line with absolute paths, for the SLURM scripts' prepare and report steps
    (the batch split pinned, so that every step resolves the same runs)."""
    from pathlib import Path

    from .reproduce import language_flags

    argv = ["--scale", args.scale, "--output", str(Path(args.output).absolute()), "--seeds", args.seeds]
    argv += [
        "--lengths",
        args.lengths,
        "--gpus-per-run",
        str(args.gpus_per_run),
        "--gpu-memory-gb",
        str(args.gpu_memory_gb),
    ]
    if args.languages:
        _, flags = language_flags(args.languages)
        argv += ["--languages", ",".join(flags[1::2])]
    elif args.corpus != "embedded":
        argv += ["--corpus", str(Path(args.corpus).absolute()) if Path(args.corpus).exists() else args.corpus]
    for flag, value in (("--pairs", args.pairs), ("--align-blocks", args.align_blocks),
                        ("--per-device-batch", args.per_device_batch)):  # fmt: skip
        if value is not None:
            argv += [flag, str(Path(value).absolute()) if flag == "--pairs" else str(value)]
    if args.ten_languages:
        argv.append("--ten-languages")
    return [*argv, "--", *args.run_args] if args.run_args else argv


def run_reproduce(args: argparse.Namespace) -> int:
    from .reproduce import run_grid

    if args.jobs is not None and args.jobs < 1:
        raise ConfigError(f"--jobs={args.jobs} is not allowed: it must be >= 1")
    results = run_grid(
        args.scale,
        args.corpus,
        args.output,
        seeds=_ints(args.seeds, "--seeds"),
        ten_languages=args.ten_languages,
        jobs=args.jobs,
        align_blocks=args.align_blocks,
        lengths=_floats(args.lengths, "--lengths"),
        extra_args=args.run_args,
        dry_run=args.dry_run,
        languages=args.languages,
        pairs=args.pairs,
        gpus_per_run=args.gpus_per_run,
        per_device_batch=args.per_device_batch,
        launcher=args.launcher,
        step="prepare" if args.prepare_only else "report" if args.report_only else "all",
        slurm={
            "partition": args.partition,
            "time": args.time,
            "account": args.account,
            "gpu_memory_gb": args.gpu_memory_gb,
        },
        reproduce_argv=_reproduce_argv(args),
    )
    if args.launcher == "slurm" and not args.dry_run:
        print(
            f"wrote {results['slurm']}/: {len(results['runs'])} runs; submit with: bash {results['slurm']}/submit.sh"
        )
        return 0
    if args.prepare_only:
        print(f"corpora of {len(results['runs'])} runs prepared in {args.output}")
        return 0
    if args.dry_run:
        for name, text in results.get("slurm", {}).items():
            print(f"# ---- {name}\n{text}")
        for run in results["runs"]:
            print(run["command"])
        print(f"plan: {args.output}/plan.json ({len(results['runs'])} runs, nothing trained)")
        return 0
    print(f"report: {args.output}/report.md ({len(results['runs'])} multilingual runs analysed)")
    return 0


def run_align(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from ..analysis.plots import plot_alignment_comparison
    from ..analysis.runs import align_pairs, align_run
    from ..common import RunFiles, block_mean

    languages = _ints(args.languages, "--languages") if args.languages else None
    if args.blocks < 1:
        raise ConfigError(f"--blocks={args.blocks} is not allowed: it must be >= 1")
    if args.pairs:
        report = align_pairs(args.run, args.pairs, languages=languages or (1, 2), pairs=args.blocks)
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

    rep = sub.add_parser(
        "reproduce",
        help="run the paper's grid (monolingual curve, 50/50, 90/10, 0.1_0.9) and write report.md",
        description="Train the paper's experimental grid at a chosen scale through run_clm_imbalance, skipping runs "
        "already finished in --output, then write report.md, results.json and figures.",
    )
    rep.add_argument("--scale", default="cpu-tiny", help="test, cpu-tiny (default), mini, small or medium")
    rep.add_argument("--corpus", default="embedded", help="embedded, local text files, or a load_dataset name")
    rep.add_argument("--output", required=True, help="grid folder (resumable)")
    rep.add_argument(
        "--languages",
        default=None,
        help="real languages instead of clones, NAME=TEXT,NAME=TEXT (e.g. en=en.txt.gz,fr=fr.txt.gz): monolingual "
        "curves per language, bilingual at p(L2) 0.1/0.5/0.9 and 0.1_0.9, disjoint and anchored",
    )
    rep.add_argument("--pairs", default=None, help="with --languages: TSV of translation pairs for the alignment")
    rep.add_argument("--seeds", default="0", help="seeds of the multilingual runs, e.g. 0,1 (default: 0)")
    rep.add_argument("--ten-languages", "--ten_languages", action="store_true", help="add the two 10-language runs")
    rep.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="runs in parallel (default: one per GPU, each on its own; without GPUs one per CPU core)",
    )
    rep.add_argument(
        "--gpus-per-run",
        "--gpus_per_run",
        type=int,
        default=1,
        help="GPUs of each run (accelerate launch inside when more than one); runs never share a GPU (default: 1)",
    )
    rep.add_argument(
        "--per-device-batch",
        "--per_device_batch",
        type=int,
        default=None,
        help="GPU hosts: blocks per device and step; gradient accumulation makes up the scale's batch (default: "
        "the largest power of two that fits the GPU's memory by an estimate)",
    )
    rep.add_argument(
        "--align-blocks", "--align_blocks", type=int, default=None, help="parallel blocks for the final alignment"
    )
    rep.add_argument(
        "--launcher",
        default="local",
        help="local (default: train here) or slurm (write OUTPUT/slurm/: a job array of the runs, the corpus and "
        "report steps, and submit.sh)",
    )
    rep.add_argument("--partition", default=None, help="slurm: the partition of the jobs")
    rep.add_argument("--time", default=None, help="slurm: each job's time limit, e.g. 24:00:00")
    rep.add_argument("--account", default=None, help="slurm: the account to charge")
    rep.add_argument(
        "--gpu-memory-gb",
        "--gpu_memory_gb",
        type=float,
        default=80,
        help="slurm: the cluster GPUs' memory, for the per-device batch (default: 80)",
    )
    steps = rep.add_mutually_exclusive_group()
    steps.add_argument("--prepare-only", "--prepare_only", action="store_true", help="only build the corpora")
    steps.add_argument("--report-only", "--report_only", action="store_true", help="only analyse finished runs")
    rep.add_argument(
        "--lengths",
        default="1",
        help="budget multipliers of the bilingual runs, e.g. 1,2,4 (the paper's longer training; monolingual points "
        "up to the longest are added); default: 1",
    )
    rep.add_argument(
        "--dry-run",
        "--dry_run",
        action="store_true",
        help="write OUTPUT/plan.json (every run's resolved arguments) and print each run's command; train nothing",
    )
    rep.epilog = (
        "Flags after -- go to every run's training command, e.g. "
        "hf-clonelang reproduce --output g -- --tie_word_embeddings true"
    )
    rep.set_defaults(func=run_reproduce, run_args=[])

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
        help="TSV of translation pairs (sentence in the first language, tab, its translation; .gz too): a seeded "
        "sample (seed 0) of --blocks of them is measured",
    )
    align.add_argument("--split", default="validation", help="validation (default) or test")
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
        "in L1 and test it in L2 (examples/probe_zero_shot.py). Use another --seed than training did.",
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
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if run_args:
        if args.command != "reproduce":
            parser.error(f"flags after -- are for reproduce only, not {args.command}: {' '.join(run_args)}")
        args.run_args = run_args
    return _run(args.command, args.func, args)


def _run(command: str, func: Any, args: Any) -> int:
    """Run a subcommand (`entry.run_command`): its exit status, every error in one line."""
    result, status = run_command(f"hf-clonelang {command}", func, args)
    return result if status == 0 else status


if __name__ == "__main__":
    sys.exit(main())
