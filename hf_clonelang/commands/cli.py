"""``hf-clonelang``: the command line. ``build`` turns a base corpus into a cloned-language corpus folder (and/or
Hub dataset repo); ``reproduce`` runs the paper's grid and writes its report; ``align`` measures a finished run.
Bad input stops before any work with one line naming the value and what is allowed (exit 2)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError, HubError


def _floats(text: str, what: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(","))
    except ValueError:
        raise ConfigError(f"{what}={text!r} is not allowed: give a comma-separated list of numbers") from None


def _anchors(text: str) -> str | tuple[int, ...]:
    if text in ("random", "frequent"):
        return text
    try:
        return tuple(int(x) for x in text.split(","))
    except ValueError:
        raise ConfigError(f"--anchors={text!r} is not allowed: use random, frequent or a comma list of ids") from None


def add_build_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``hf-clonelang build``."""
    src = p.add_argument_group("base text")
    src.add_argument(
        "--base",
        nargs="+",
        default=["embedded"],
        metavar="SOURCE",
        help="'embedded' (generated stories, the default), a dataset name or folder for load_dataset, "
        "or local .txt/.jsonl/.json/.parquet files (.gz too)",
    )
    src.add_argument("--base-config", default=None, help="dataset config name (load_dataset sources)")
    src.add_argument("--base-split", default="train", help="dataset split to read (default: train)")
    src.add_argument("--text-column", default="text", help="column holding the text (default: text)")
    src.add_argument(
        "--sample-by",
        default="paragraph",
        choices=("line", "paragraph", "document"),
        help="documents in .txt files: one per line, per blank-line paragraph (default), or per file",
    )
    src.add_argument(
        "--max-documents",
        type=int,
        default=None,
        help="read at most this many documents (embedded default: 20000 stories)",
    )
    src.add_argument("--base-seed", type=int, default=0, help="seed of the embedded story generator (default: 0)")
    tok = p.add_argument_group("tokenizer")
    tok.add_argument(
        "--tokenizer",
        default=None,
        help="base tokenizer (name or path for AutoTokenizer); default: train a byte-level BPE",
    )
    tok.add_argument("--vocab-size", type=int, default=1024, help="size of the trained BPE (default: 1024)")
    tok.add_argument("--eod-token", default=None, help="end-of-document token (default: the tokenizer's eos)")
    lang = p.add_argument_group("languages")
    lang.add_argument("--num-languages", type=int, default=2, help="number of cloned languages N (default: 2)")
    lang.add_argument(
        "--ratios",
        default=None,
        help="training share of each language, comma-separated, summing to 1 (default: uniform)",
    )
    lang.add_argument(
        "--clone-fraction",
        type=float,
        default=1.0,
        help="share of the base vocabulary that is cloned, in (0, 1]; the rest is shared (default: 1)",
    )
    lang.add_argument(
        "--anchors",
        default="random",
        help="shared ids when --clone-fraction < 1: random, frequent, or a comma list of base ids",
    )
    lang.add_argument(
        "--share-special-tokens",
        action="store_true",
        help="share every special token (end-of-document included) by all languages; default: as in the paper, "
        "every id except padding is cloned",
    )
    out = p.add_argument_group("blocks and output")
    out.add_argument("--block-size", type=int, default=128, help="tokens per block (default: 128)")
    out.add_argument(
        "--eval-blocks",
        type=int,
        default=256,
        help="held-out blocks for validation, and as many again for test (default: 256)",
    )
    out.add_argument("--seed", type=int, default=0, help="seed of the held-out choice and language assignment")
    out.add_argument("--config-name", default=None, help="config name (default like L2-r90-10)")
    out.add_argument("--output", default=None, help="corpus folder; other configs in it are kept")
    out.add_argument("--overwrite", action="store_true", help="rebuild a config that already exists in --output")
    out.add_argument("--num-proc", type=int, default=None, help="processes for writing the splits")
    out.add_argument("--push-to-hub", default=None, metavar="REPO", help="also push the config to this dataset repo")
    out.add_argument("--private", action="store_true", help="create the Hub repo as private")


def config_from_args(args: argparse.Namespace) -> Any:
    """The `ClonedCorpusConfig` the ``build`` arguments describe (validated)."""
    from ..data.builder import ClonedCorpusConfig
    from ..data.corpora import BaseCorpus

    base = BaseCorpus.from_spec(
        args.base,
        config=args.base_config,
        split=args.base_split,
        text_column=args.text_column,
        sample_by=args.sample_by,
        max_documents=args.max_documents,
        seed=args.base_seed,
    )
    kwargs = {} if args.config_name is None else {"name": args.config_name}
    return ClonedCorpusConfig(
        base=base,
        tokenizer=args.tokenizer,
        vocab_size=args.vocab_size,
        eod_token=args.eod_token,
        num_languages=args.num_languages,
        ratios=None if args.ratios is None else _floats(args.ratios, "--ratios"),
        clone_fraction=args.clone_fraction,
        anchors=_anchors(args.anchors),
        share_special_tokens=args.share_special_tokens,
        block_size=args.block_size,
        eval_blocks=args.eval_blocks,
        seed=args.seed,
        **kwargs,
    )


def run_build(args: argparse.Namespace) -> int:
    from ..data.corpus_folder import built_config_info, push_cloned_corpus, save_cloned_corpus

    if args.output is None and args.push_to_hub is None:
        raise ConfigError("no destination: give --output DIR, --push-to-hub REPO, or both")
    config = config_from_args(args)
    with tempfile.TemporaryDirectory(prefix="clonelang-push-") as scratch:
        folder = args.output or f"{scratch}/corpus"
        info = built_config_info(folder, config) if args.push_to_hub and not args.overwrite else None
        if info is not None:  # a push that failed is retried by running the same command again
            print(f"config {config.name} is already built in {folder} with these settings: pushing it")
        else:
            info = save_cloned_corpus(config, folder, overwrite=args.overwrite, num_proc=args.num_proc)
            print(format_summary(info, folder if args.output else None))
        if args.push_to_hub:
            url = push_cloned_corpus(folder, config.name, args.push_to_hub, private=args.private or None)
            print(f"pushed {config.name} to {url}")
    return 0


def format_summary(info: dict[str, Any], folder: str | None) -> str:
    """Blocks per language and tokens per split, as a small table."""
    cfg = info["config"]
    langs = [f"L{k}" for k in range(1, cfg["num_languages"] + 1)]
    where = f" in {folder}" if folder else ""
    lines = [f"config {cfg['name']}{where}: {info['tokenizer']['vocab_size']} ids, blocks of {cfg['block_size']}"]
    header = ["split"] + [f"{k} blocks" for k in langs] + ["tokens"]
    rows = [header]
    for split, per_lang in info["summary"].items():
        tokens = sum(v["tokens"] for v in per_lang.values())
        rows.append([split] + [str(per_lang.get(k, {}).get("blocks", 0)) for k in langs] + [str(tokens)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        lines.append("  ".join(cells))
    return "\n".join(lines)


def _ints(text: str, what: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(","))
    except ValueError:
        raise ConfigError(f"{what}={text!r} is not allowed: give a comma-separated list of integers") from None


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
    )
    if args.dry_run:
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
    from ..analysis.runs import align_run
    from ..common import block_mean

    languages = _ints(args.languages, "--languages") if args.languages else None
    if args.blocks < 1:
        raise ConfigError(f"--blocks={args.blocks} is not allowed: it must be >= 1")
    report = align_run(args.run, languages=languages, blocks=args.blocks, split=args.split)
    local = Path(args.run)
    output = Path(args.output) if args.output else (local if local.is_dir() else Path(".")) / "alignment.json"
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
    from ..hub.cards import push_run

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
    tmp = out.with_name(f".{out.name}.tmp")
    with open(tmp, "w") as f:
        for row in stories(args.num, seed=args.seed, start=args.start):
            f.write(json.dumps({"text": row["text"], "label": row["label"], "topic": row["topic"]}) + "\n")
    tmp.replace(out)
    print(f"wrote {args.num} labelled stories to {out} (labels: {', '.join(TOPICS)})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hf-clonelang", description="Cloned-language corpora and experiments on the Hugging Face stack."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser(
        "build",
        help="build a cloned-language corpus (Parquet + tokenizer + dataset card)",
        description="Turn a base corpus into N cloned languages with given training ratios; held-out blocks are "
        "parallel in every language. Writes a folder that load_dataset(folder, config) reads.",
    )
    add_build_arguments(build)
    build.set_defaults(func=run_build)

    rep = sub.add_parser(
        "reproduce",
        help="run the paper's grid (monolingual curve, 50/50, 90/10, 0.1_0.9) and write report.md",
        description="Train the paper's experimental grid at a chosen scale through run_clm_imbalance, skipping runs "
        "already finished in --output, then write report.md, results.json and figures.",
    )
    rep.add_argument("--scale", default="cpu-tiny", help="test, cpu-tiny (default), mini, small or medium")
    rep.add_argument("--corpus", default="embedded", help="embedded, local text files, or a load_dataset name")
    rep.add_argument("--output", required=True, help="grid folder (resumable)")
    rep.add_argument("--seeds", default="0", help="seeds of the multilingual runs, e.g. 0,1 (default: 0)")
    rep.add_argument("--ten-languages", action="store_true", help="add the two 10-language runs")
    rep.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="runs in parallel (default: one per GPU, each on its own; without GPUs one per CPU core)",
    )
    rep.add_argument("--align-blocks", type=int, default=None, help="parallel blocks for the final alignment")
    rep.add_argument(
        "--lengths",
        default="1",
        help="budget multipliers of the bilingual runs, e.g. 1,2,4 (the paper's longer training; monolingual points "
        "up to the longest are added); default: 1",
    )
    rep.add_argument(
        "--dry-run",
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
        help="alignment of a finished run (local folder or Hub repo) on its parallel held-out blocks",
        description="Hidden-state cosine (raw, centred), retrieval@1, CKA, gradient cosine and clone-embedding "
        "cosine between languages of a saved run; writes JSON and a per-layer plot.",
    )
    align.add_argument("run", help="run folder or Hub model repo")
    align.add_argument("--languages", default=None, help="languages to compare, first against each other (1,2)")
    align.add_argument("--blocks", type=int, default=256, help="parallel blocks (default: 256)")
    align.add_argument("--split", default="validation", help="validation (default) or test")
    align.add_argument("--output", default=None, help="JSON file (default: RUN/alignment.json)")
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
    args = parser.parse_args(argv)
    if run_args:
        if args.command != "reproduce":
            parser.error(f"flags after -- are for reproduce only, not {args.command}: {' '.join(run_args)}")
        args.run_args = run_args
    try:
        return args.func(args)
    except (ConfigError, HubError) as err:
        print(f"hf-clonelang {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
