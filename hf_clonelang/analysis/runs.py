"""Finished runs: load one (a local run folder or a Hub model repo) and measure its alignment: cloned languages on
the parallel held-out blocks of the run's own corpus (rebuilt from ``run_info.json``, cached like any built
corpus), real languages on translation pairs (`align_pairs`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..common import RunFiles
from ..errors import ConfigError, one_line
from ..tokenization.language_tokenizer import LanguageTokenizer, load_language_tokenizer

SENTENCE_TOKENS = 64
"""Tokens kept per sentence when real languages are aligned on single sentence pairs (the option)."""


def resolve_run(path_or_repo: str | os.PathLike, revision: str | None = None, token: str | None = None) -> Path:
    """A local folder for a run: the folder itself, or a snapshot of a Hub model repo."""
    path = Path(path_or_repo)
    if path.is_dir():
        return path
    from huggingface_hub import snapshot_download

    try:
        return Path(
            snapshot_download(
                str(path_or_repo),
                revision=revision,
                token=token,
                ignore_patterns=[f"{RunFiles.CHECKPOINTS}/*", "*.bin", RunFiles.TRAINING_ARGS],
            )
        )
    except Exception as err:  # not a folder and not a reachable repo: say which
        raise ConfigError(
            f"{path_or_repo!r} is neither a run folder nor a readable Hub model repo: {one_line(err)}"
        ) from err


def load_run(path_or_repo: str | os.PathLike) -> tuple[Any, LanguageTokenizer, dict[str, Any]]:
    """(model, tokenizer, run_info) of a finished run (a `ClonedTokenizer`, or a `JointTokenizer`)."""
    from transformers import AutoModelForCausalLM

    run = resolve_run(path_or_repo)
    info_path = run / RunFiles.RUN_INFO
    if not info_path.is_file():
        raise ConfigError(f"{path_or_repo} has no run_info.json: it is not a run written by run_clm_imbalance.py")
    info = json.loads(info_path.read_text())
    model = AutoModelForCausalLM.from_pretrained(run)
    return model, load_language_tokenizer(run), info


def parallel_blocks(
    info: dict[str, Any],
    split: str = "test",
    blocks: int = 256,
    corpus_cache_dir: str | None = None,
    run_dir: str | os.PathLike | None = None,
) -> torch.Tensor:
    """The first ``blocks`` held-out blocks of the run's corpus (base ids), the same text in every language; the
    corpus is rebuilt from the run's settings, or found in ``corpus_cache_dir`` when it was built there."""
    from ..data.arguments import CorpusArguments

    data = {**info.get("data", {}), "corpus_cache_dir": corpus_cache_dir}
    corpus = CorpusArguments.from_run_info(data, run_dir=run_dir)
    dsd, _ = corpus.load(info["num_languages"])
    name = f"{split}_L1"
    if name not in dsd:
        raise ConfigError(f"split={split!r} is not allowed: use validation or test")
    rows = dsd[name].with_format("numpy", columns=["input_ids"])[: min(blocks, len(dsd[name]))]["input_ids"]
    return torch.as_tensor(np.asarray(rows))


def align_run(
    path_or_repo: str | os.PathLike,
    languages: tuple[int, ...] | None = None,
    blocks: int = 256,
    split: str = "test",
    gradient_blocks: int = 32,
    batch_size: int = 32,
    corpus_cache_dir: str | None = None,
) -> dict[str, Any]:
    """The alignment report of a finished run: L1 (or the first of ``languages``) against each other language, on
    the first ``blocks`` blocks of the held-out ``split`` (``test`` by default: whole documents training never read),
    the same text in every language. Each entry names its split."""
    from .alignment import alignment_report

    model, tok, info = load_run(path_or_repo)
    if not tok.parallel:
        raise ConfigError(f"{path_or_repo} was trained on real languages, which are not parallel: give --pairs FILE")
    langs = _check_languages(languages or tuple(range(1, tok.num_languages + 1)), tok.num_languages)
    local = Path(path_or_repo) if Path(path_or_repo).is_dir() else None  # relative data paths start there
    base = parallel_blocks(info, split, blocks, corpus_cache_dir, run_dir=local)
    counts = np.bincount(tok.to_base(base.numpy()).ravel(), minlength=tok.base_vocab_size)
    report = alignment_report(
        model,
        tok,
        base,
        pairs=[(langs[0], k) for k in langs[1:]],
        batch_size=batch_size,
        gradient_blocks=gradient_blocks,
        frequencies=counts,
    )
    for entry in report.values():
        entry["split"] = split
    return report


def align_pairs(
    path_or_repo: str | os.PathLike,
    pairs_file: str | os.PathLike,
    languages: tuple[int, int] = (1, 2),
    pairs: int = 256,
    seed: int | None = 0,
    gradient_pairs: int = 32,
    batch_size: int = 32,
    max_length: int | None = None,
    packing: str = "sequences",
) -> dict[str, Any]:
    """The alignment report of a finished run on translation pairs (the paper's method for real languages,
    `translation.pair_alignment`), the first column of ``pairs_file`` in ``languages[0]``, its second in
    ``languages[1]``: ``pairs`` parallel sequences packed from consecutive pairs from the file's start (the
    paper's; ``max_length``: the run's block size), or with ``packing="sentences"`` ``pairs`` sentence pairs (a
    seeded sample, or the first ones with ``seed=None``; ``max_length`` 64 tokens)."""
    from ..data.pairs import read_pairs
    from .translation import PACKINGS, pair_alignment

    if len(languages) != 2:
        raise ConfigError(f"languages={','.join(map(str, languages))}: translation pairs have two languages")
    if packing not in PACKINGS:
        raise ConfigError(f"packing={packing!r} is not allowed: use {' or '.join(PACKINGS)}")
    sentences = packing == "sentences"
    texts = read_pairs(pairs_file, limit=pairs if sentences else None, seed=seed if sentences else None)
    model, tok, info = load_run(path_or_repo)
    a, b = _check_languages(tuple(languages), tok.num_languages)
    if max_length is None:
        max_length = SENTENCE_TOKENS if sentences else int(info.get("block_size") or model.config.n_positions)
    entry = pair_alignment(
        model,
        tok,
        texts,
        languages=(a, b),
        max_length=max_length,
        batch_size=batch_size,
        gradient_pairs=gradient_pairs,
        packing=packing,
        limit=pairs,
    )
    entry["pairs_file"] = os.path.basename(str(pairs_file))
    entry["pairs_seed"] = seed if sentences else None
    return {f"L{a}-L{b}": entry}


def _check_languages(langs: tuple[int, ...], n: int) -> tuple[int, ...]:
    if len(langs) < 2 or len(set(langs)) < len(langs) or any(not 1 <= k <= n for k in langs):
        raise ConfigError(f"languages={','.join(map(str, langs))} is not allowed: give two or more of 1..{n}")
    return langs
