"""`CorpusArguments`: the one definition of the corpus options, shared by ``hf-clonelang build``, the training
script, ``reproduce`` and ``align`` (parsed by `HfArgumentParser`, so ``--vocab-size`` and ``--vocab_size`` are the
same flag everywhere).

Three ways to get a corpus: clone base text (``--dataset_name`` / ``--train_files``, tokenized and packed by the
`datasets` builder, cached); real languages, a text each (``--language en=TEXT --language fr=TEXT --vocab_mode
anchored``: each its own BPE, one joint vocabulary; pool mode); or load one already built (``--cloned_corpus``: pool
mode, the rows carry languages).
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from typing import Any

from ..common import EMBEDDED, HELD_OUT, check_anchors, check_clone_fraction, recorded_held_out
from ..errors import ConfigError
from ..tokenization.joint_layout import VOCAB_MODES
from .base_text import SAMPLE_BY

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")
CLONE_ONLY = ("eod_token", "clone_fraction", "anchors", "share_special_tokens")
"""Options of cloned corpora that mean nothing for real languages (each keeps its own tokenizer's specials)."""

_LEGACY_KEYS = {"cloned_corpus_config": "corpus_config_name"}
"""Names of older run folders' ``run_info.json`` ``data`` entries, and what they are called now."""


@dataclass
class CorpusArguments:
    """Where the base text comes from, how it is tokenized and cloned, and how it is cut into blocks."""

    dataset_name: str = field(
        default=EMBEDDED,
        metadata={"help": "Base text: 'embedded' (generated stories), or a load_dataset name or folder."},
    )
    dataset_config_name: str | None = field(default=None, metadata={"help": "Config of --dataset_name."})
    dataset_split: str = field(default="train", metadata={"help": "Split of --dataset_name to read."})
    text_column: str = field(default="text", metadata={"help": "Column holding the text."})
    train_files: list[str] | None = field(
        default=None, metadata={"help": "Base text from local .txt/.jsonl/.json/.parquet files (.gz too)."}
    )
    sample_by: str = field(
        default="paragraph",
        metadata={"help": "Documents in .txt files: one per line, paragraph or file.", "choices": list(SAMPLE_BY)},
    )
    max_documents: int | None = field(
        default=None, metadata={"help": "Read at most this many documents (embedded: 20000 stories)."}
    )
    story_seed: int = field(default=0, metadata={"help": "Seed of the embedded story generator."})
    tokenizer_name: str | None = field(
        default=None,
        metadata={"help": "Base tokenizer (name or path); default: a byte-level BPE trained on the text."},
    )
    vocab_size: int = field(default=1024, metadata={"help": "Size of the trained BPE per language."})
    eod_token: str | None = field(default=None, metadata={"help": "End-of-document token (default: the eos)."})
    clone_fraction: float = field(default=1.0, metadata={"help": "Cloned share of the vocabulary, in (0, 1]."})
    anchors: str = field(
        default="random",
        metadata={"help": "Shared ids when clone_fraction < 1: random, frequent, or a comma list of base ids."},
    )
    share_special_tokens: bool = field(
        default=False,
        metadata={
            "help": "Share every special token (end-of-document included) by all languages. Default: as in the "
            "paper, every id except padding is cloned."
        },
    )
    language: list[str] | None = field(
        default=None,
        metadata={
            "help": "Real languages instead of clones: NAME=TEXT, once per language (two or more), TEXT a file, "
            "folder or load_dataset name (e.g. --language en=en.txt --language fr=fr.txt)."
        },
    )
    language_tokenizer: list[str] | None = field(
        default=None,
        metadata={"help": "NAME=TOKENIZER for a real language (default: a byte-level BPE trained on its text)."},
    )
    vocab_mode: str = field(
        default="disjoint",
        metadata={
            "help": "Joint vocabulary of real languages: disjoint (own ids each) or anchored (a piece an earlier "
            "language has reuses its id).",
            "choices": list(VOCAB_MODES),
            "aliases": ["--vocab"],
        },
    )
    block_size: int = field(default=128, metadata={"help": "Tokens per block."})
    eval_blocks: int = field(
        default=256, metadata={"help": "Held-out blocks per language for validation, and as many for test."}
    )
    held_out: str = field(
        default="documents",
        metadata={
            "help": "How validation and test text is held out: documents (whole documents that training never reads, "
            "as the paper's other books) or random_blocks (random blocks of the packed text: they share documents "
            "with the training blocks).",
            "choices": list(HELD_OUT),
        },
    )
    corpus_seed: int = field(default=0, metadata={"help": "Seed of the held-out choice (kept across training seeds)."})
    cloned_corpus: str | None = field(
        default=None, metadata={"help": "An already built cloned corpus (folder or Hub dataset repo): pool mode."}
    )
    corpus_config_name: str | None = field(
        default=None,
        metadata={"help": "The corpus config: its name when building (default like L2-r90-10), which to load."},
    )
    corpus_cache_dir: str | None = field(default=None, metadata={"help": "Where built corpora are cached."})

    def __post_init__(self) -> None:
        check_clone_fraction(self.clone_fraction)
        check_anchors(self.anchors)
        if self.sample_by not in SAMPLE_BY:
            raise ConfigError(f"sample_by={self.sample_by!r} is not allowed: use one of {', '.join(SAMPLE_BY)}")
        if self.train_files and self.dataset_name not in (EMBEDDED, None):
            raise ConfigError(
                f"dataset_name={self.dataset_name!r} and train_files are both given: the base text comes from one"
            )
        if self.language is not None:
            self._check_languages()
        if self.cloned_corpus:  # a built corpus brings its own text, tokenizer and blocks
            defaults = CorpusArguments.__dataclass_fields__
            ignored = [
                f"--{name} {getattr(self, name)}"
                for name in self.building_options()
                if getattr(self, name) != defaults[name].default
            ]
            if ignored:
                raise ConfigError(
                    f"{', '.join(ignored)} cannot apply to --cloned_corpus {self.cloned_corpus}: a built corpus "
                    "keeps the settings it was built with (build another one with hf-clonelang build)"
                )

    def _check_languages(self) -> None:
        """``--language NAME=TEXT`` pairs: two or more, each name once, and no option that only clones have."""
        names = [split_language(spec, "--language")[0] for spec in self.language]
        if len(names) < 2:
            raise ConfigError(
                f"--language {' '.join(self.language)}: give two or more real languages, one --language NAME=TEXT each"
            )
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ConfigError(f"--language {twice[0]} is given twice: give each language once")
        if self.train_files or self.dataset_name not in (EMBEDDED, None):
            source = (
                f"--train_files {' '.join(self.train_files)}"
                if self.train_files
                else f"--dataset_name {self.dataset_name}"
            )
            raise ConfigError(f"{source} cannot go with --language: each language's text comes with its --language")
        defaults = CorpusArguments.__dataclass_fields__
        clone_only = [f"--{n} {getattr(self, n)}" for n in CLONE_ONLY if getattr(self, n) != defaults[n].default]
        if clone_only:
            raise ConfigError(f"{', '.join(clone_only)} applies to cloned languages only, not with --language")
        given = dict(split_language(s, "--language_tokenizer") for s in self.language_tokenizer or ())
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise ConfigError(
                f"--language_tokenizer {unknown[0]}=... names no --language: use one of {', '.join(names)}"
            )
        if self.vocab_mode == "anchored" and self.tokenizer_name:
            raise ConfigError(
                f"--vocab_mode anchored with one shared --tokenizer_name {self.tokenizer_name} would anchor every "
                "piece: give each language its own (--language_tokenizer NAME=...) or use --vocab_mode disjoint"
            )

    @property
    def languages(self) -> list[tuple[str, str]]:
        """The real languages as (name, text), in the order given ([] for cloned corpora)."""
        return [split_language(spec, "--language") for spec in self.language or ()]

    @classmethod
    def building_options(cls) -> list[str]:
        """The options that say how a corpus is built (all but the built corpus, its config and the cache)."""
        own = {"cloned_corpus", "corpus_config_name", "corpus_cache_dir"}
        return [f.name for f in dataclasses.fields(cls) if f.name not in own]

    @classmethod
    def from_run_info(cls, data: dict[str, Any], run_dir: str | os.PathLike | None = None) -> CorpusArguments:
        """The arguments a run folder recorded (``run_info.json`` ``data``), older key names included; local paths
        recorded relative to the run folder are resolved against ``run_dir``."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {_LEGACY_KEYS.get(k, k): v for k, v in data.items()}
        values["held_out"] = recorded_held_out(values)
        values = {k: v for k, v in values.items() if k in known and v is not None}
        if run_dir is not None:

            def resolve(path: str) -> str:
                joined = os.path.normpath(os.path.join(run_dir, path))
                return joined if not os.path.isabs(path) and os.path.exists(joined) else path

            if values.get("train_files"):
                values["train_files"] = [resolve(f) for f in values["train_files"]]
            for name in ("language", "language_tokenizer"):
                if values.get(name):
                    values[name] = [f"{n}={resolve(v)}" for n, v in (s.split("=", 1) for s in values[name])]
            for name in ("dataset_name", "cloned_corpus", "tokenizer_name"):
                if values.get(name):
                    values[name] = resolve(values[name])
        return cls(**values)

    def to_dict(self, relative_to: str | os.PathLike | None = None) -> dict[str, Any]:
        """The settings that decide the corpus (None left out): not the cache folder, which belongs to the machine.
        With ``relative_to`` (a run folder), local files and folders are recorded relative to it, as
        ``run_info.json`` keeps them: a pushed run carries no absolute local path."""
        values = {k: v for k, v in dataclasses.asdict(self).items() if v is not None and k != "corpus_cache_dir"}
        if relative_to is not None:
            start = os.path.abspath(relative_to)
            if self.train_files:
                values["train_files"] = [os.path.relpath(os.path.abspath(f), start) for f in self.train_files]
            for name in ("dataset_name", "cloned_corpus", "tokenizer_name"):  # local folders, relative to the run
                value = getattr(self, name)
                if value and os.path.isdir(value):
                    values[name] = os.path.relpath(os.path.abspath(value), start)
            for name in ("language", "language_tokenizer"):
                if values.get(name):
                    values[name] = [f"{n}={_relative(v, start)}" for n, v in (s.split("=", 1) for s in values[name])]
        return values

    def base_corpus(self, text: str | list[str] | None = None) -> Any:
        """The `BaseCorpus` these arguments name (or ``text``'s, read with the same options: a real language)."""
        from .base_text import BaseCorpus

        return BaseCorpus.from_spec(
            text or self.train_files or self.dataset_name or EMBEDDED,
            config=self.dataset_config_name,
            split=self.dataset_split,
            text_column=self.text_column,
            sample_by=self.sample_by,
            max_documents=self.max_documents,
            seed=self.story_seed,
        )

    def to_config(self, num_languages: int, ratios: Any = None) -> Any:
        """The validated `ClonedCorpusConfig` (``ratios``: training shares of a pool corpus, default uniform), or
        with ``--language`` the `RealCorpusConfig` (``ratios`` None: every block of every language)."""
        from .builder import ClonedCorpusConfig

        name = {} if self.corpus_config_name is None else {"name": self.corpus_config_name}
        if self.language:
            return self._real_config(num_languages, ratios, name)
        return ClonedCorpusConfig(
            base=self.base_corpus(),
            tokenizer=self.tokenizer_name,
            vocab_size=self.vocab_size,
            eod_token=self.eod_token,
            num_languages=num_languages,
            ratios=ratios,
            clone_fraction=self.clone_fraction,
            anchors=check_anchors(self.anchors),
            share_special_tokens=self.share_special_tokens,
            block_size=self.block_size,
            eval_blocks=self.eval_blocks,
            held_out=self.held_out,
            seed=self.corpus_seed,
            **name,
        )

    def _real_config(self, num_languages: int, ratios: Any, name: dict[str, str]) -> Any:
        from .real_builder import RealCorpusConfig

        languages = self.languages
        if num_languages != len(languages):
            raise ConfigError(
                f"num_languages={num_languages} but {len(languages)} languages are given with --language: "
                f"use --num_languages {len(languages)}"
            )
        given = dict(split_language(s, "--language_tokenizer") for s in self.language_tokenizer or ())
        return RealCorpusConfig(
            names=tuple(n for n, _ in languages),
            bases=tuple(self.base_corpus(_text(text)) for _, text in languages),
            tokenizers=tuple(given.get(n, self.tokenizer_name) for n, _ in languages),
            vocab_size=self.vocab_size,
            vocab_mode=self.vocab_mode,
            ratios=ratios,
            block_size=self.block_size,
            eval_blocks=self.eval_blocks,
            held_out=self.held_out,
            seed=self.corpus_seed,
            **name,
        )

    def load(self, num_languages: int) -> tuple[Any, Any]:
        """(DatasetDict, ClonedTokenizer): the built ``--cloned_corpus`` (pool mode: rows keep their language),
        or base text cloned by the builder (clone mode: the training blocks lose their ``language`` column, the
        collator moves any block into the sampled language)."""
        if self.cloned_corpus:
            from .corpus_folder import load_cloned_corpus

            dsd, tok = load_cloned_corpus(self.cloned_corpus, self.corpus_config_name, cache_dir=self.corpus_cache_dir)
            if tok.num_languages != num_languages:
                raise ConfigError(
                    f"num_languages={num_languages} but corpus {self.cloned_corpus} has {tok.num_languages} languages"
                )
            return dsd, tok
        from .corpus_folder import corpus_builder

        builder = corpus_builder(self.to_config(num_languages), cache_dir=self.corpus_cache_dir)
        builder.download_and_prepare()
        dsd = builder.as_dataset()
        if not self.language:  # clones: any block goes into the sampled language
            dsd["train"] = dsd["train"].remove_columns(["language"])
        return dsd, builder.tokenizer


def split_language(spec: str, flag: str) -> tuple[str, str]:
    """``NAME=VALUE`` (a language and its text or tokenizer) as (name, value); ``flag`` names it in the error."""
    name, sep, value = str(spec).partition("=")
    if not sep or not _NAME.match(name) or not value:
        raise ConfigError(
            f"{flag} {spec!r} is not allowed: give NAME=VALUE, NAME a letter then letters, digits, - or _"
        )
    return name, value


def _text(spec: str) -> str | list[str]:
    """A language's text: a local file as a one-file list (`BaseCorpus.from_spec` reads it as files), anything else
    (a folder, a dataset name) as it is."""
    return [spec] if os.path.isfile(spec) else spec


def _relative(value: str, start: str) -> str:
    return os.path.relpath(os.path.abspath(value), start) if os.path.exists(value) else value
