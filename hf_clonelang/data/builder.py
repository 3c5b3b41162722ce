"""The cloned-corpus `datasets` builder: base text -> blocks -> ``train`` in N languages with exact ratios, and the
same held-out blocks in every language as ``validation_L{k}`` / ``test_L{k}``.

datasets 5 runs no loading scripts, so the builder is a class of this package, used directly::

    builder = ClonedCorpusBuilder(num_languages=2, ratios=(0.9, 0.1))    # or config=ClonedCorpusConfig(...)
    builder.download_and_prepare()
    dsd = builder.as_dataset()          # DatasetDict(train, validation_L1, validation_L2, test_L1, test_L2)

How it works: one streaming pass tokenizes the base text into documents, written as raw int32 to a work file
(memory stays bounded by a batch of documents). Held-out text is whole documents that training never reads, as the
paper evaluates on other books (``held_out="documents"``, the default; a document is the unit the base text gives:
a story, a row of a dataset, a line / paragraph / file of a text file by ``sample_by``): validation and test each
take randomly drawn documents until they fill ``eval_blocks`` blocks, and the training documents, in their order,
are packed into the training blocks. ``held_out="random_blocks"`` instead draws random blocks of the one packed
stream (the held-out text then shares documents with training). Every training block gets its language, and both
draws come from the seed; each split is generated in shards of blocks, cloned with one vectorised id map per
language. Shards are fixed before generation, so ``num_proc`` never changes the output.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import shutil
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
from datasets.builder import Key
from tqdm.auto import tqdm

from ..common import CITATION, HELD_OUT, INT32_MAX, check_anchors, check_clone_fraction, check_num_languages
from ..errors import ConfigError
from ..scratch import scratch_dir
from ..tokenization.cloned_tokenizer import ClonedTokenizer
from .base_text import BaseCorpus
from .packing import (
    BlockPacker,
    BlockStore,
    DocumentStore,
    pack_held_out,
    tokenize_and_pack,
    tokenize_documents,
)
from .tokenizers import base_tokenizer

FEATURES = datasets.Features(
    {
        "input_ids": datasets.List(datasets.Value("int32")),
        "language": datasets.Value("int32"),
        "block_id": datasets.Value("int64"),
    }
)
SHARD_BLOCKS = 8192
"""Blocks per generation shard: the unit that ``num_proc`` distributes."""
TABLE_ROWS = 1024


def default_config_name(num_languages: int, ratios: tuple[float, ...], clone_fraction: float = 1.0) -> str:
    """Readable config name: ``L2-r90-10``, ``L3-r20-30-50-c0.95``; ``L10-uniform`` for more than four languages in
    equal shares; a short hash of the ratios when the percentages would make a very long name."""
    if num_languages > 4 and max(ratios) - min(ratios) < 1e-9:
        name = f"L{num_languages}-uniform"
    else:
        name = f"L{num_languages}-r" + "-".join(f"{100 * r:.1f}".rstrip("0").rstrip(".") for r in ratios)
        if len(name) > 64:
            digest = hashlib.sha1(",".join(f"{r:.6g}" for r in ratios).encode()).hexdigest()[:8]
            name = f"L{num_languages}-r{digest}"
    return name if clone_fraction >= 1.0 else f"{name}-c{clone_fraction:g}"


def exact_counts(total: int, ratios: tuple[float, ...]) -> np.ndarray:
    """Split ``total`` items by ``ratios`` with the largest-remainder method: each count is within 1 of exact."""
    want = np.asarray(ratios, dtype=np.float64) * total
    counts = np.floor(want).astype(np.int64)
    order = np.argsort(-(want - counts), kind="stable")
    counts[order[: total - int(counts.sum())]] += 1
    return counts


@dataclass
class ClonedCorpusConfig(datasets.BuilderConfig):
    """What to build: base text, base tokenizer, languages and their training ratios, blocks, held-out size.

    ``tokenizer`` is a name or path for `AutoTokenizer`, a tokenizer object, or None to train a byte-level BPE of
    ``vocab_size`` on the base text. ``eod_token`` defaults to the tokenizer's eos token. ``ratios`` (one per
    language, summing to 1) default to uniform. ``eval_blocks`` blocks go to validation and as many to test, from
    whole documents that training never reads (``held_out``, see `HELD_OUT`). The name defaults to
    `default_config_name`.
    """

    base: BaseCorpus = field(default_factory=BaseCorpus)
    tokenizer: Any = None
    vocab_size: int = 1024
    eod_token: str | None = None
    num_languages: int = 2
    ratios: tuple[float, ...] | None = None
    clone_fraction: float = 1.0
    anchors: str | tuple[int, ...] = "random"
    share_special_tokens: bool = False
    block_size: int = 128
    eval_blocks: int = 256
    held_out: str = "documents"
    seed: int = 0

    def __post_init__(self) -> None:
        n = self.num_languages = check_num_languages(self.num_languages)
        self.ratios = self._check_ratios(self.ratios, n)
        self.clone_fraction = check_clone_fraction(self.clone_fraction)
        if self.block_size < 2:
            raise ConfigError(f"block_size={self.block_size} is not allowed: it must be >= 2")
        if self.eval_blocks < 1:
            raise ConfigError(f"eval_blocks={self.eval_blocks} is not allowed: it must be >= 1")
        check_held_out(self.held_out)
        if self.tokenizer is None and self.vocab_size * n > INT32_MAX:
            raise ConfigError(
                f"num_languages={n} is too large: {n} languages of {self.vocab_size} ids overflow int32 ids"
            )
        self.anchors = check_anchors(self.anchors)
        if self.name == "default":
            self.name = default_config_name(n, self.ratios, float(self.clone_fraction))
        super().__post_init__()

    @staticmethod
    def _check_ratios(ratios: Any, n: int) -> tuple[float, ...]:
        if ratios is None:
            return tuple([1.0 / n] * n)
        values = tuple(float(r) for r in ratios)
        if len(values) != n:
            raise ConfigError(
                f"ratios={','.join(f'{r:g}' for r in values)} give {len(values)} values for num_languages={n}: "
                f"give one ratio per language"
            )
        if any(r < 0 or math.isnan(r) for r in values):
            raise ConfigError(f"ratios={','.join(f'{r:g}' for r in values)} are not allowed: ratios must be >= 0")
        if abs(sum(values) - 1.0) > 1e-6:
            raise ConfigError(
                f"ratios={','.join(f'{r:g}' for r in values)} sum to {sum(values):g}: they must sum to 1"
            )
        return values

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description for cards and ``info.json``."""
        tok = self.tokenizer
        if tok is not None and not isinstance(tok, str):
            tok = getattr(tok, "name_or_path", "") or type(tok).__name__
        return {
            "name": self.name,
            "base": self.base.to_dict(),
            "tokenizer": tok,
            "vocab_size": self.vocab_size if tok is None else None,
            "eod_token": self.eod_token,
            "num_languages": self.num_languages,
            "ratios": list(self.ratios),
            "clone_fraction": self.clone_fraction,
            "anchors": self.anchors if isinstance(self.anchors, str) else list(self.anchors),
            "share_special_tokens": self.share_special_tokens,
            "block_size": self.block_size,
            "eval_blocks": self.eval_blocks,
            "held_out": self.held_out,
            "seed": self.seed,
        }


def check_held_out(value: str) -> str:
    """``value`` if it names a way to hold out text (`HELD_OUT`), else one line saying what is allowed."""
    if value not in HELD_OUT:
        raise ConfigError(f"held_out={value!r} is not allowed: use {' or '.join(HELD_OUT)}")
    return value


def config_kwargs(config: datasets.BuilderConfig) -> dict[str, Any]:
    """A ready config as the keyword arguments a `datasets` builder takes (its fields, ``config_name``)."""
    kwargs = {f.name: getattr(config, f.name) for f in fields(config) if f.init}
    for key in ("data_files", "data_dir"):
        kwargs.pop(key, None)
    kwargs["config_name"] = kwargs.pop("name")
    return kwargs


class SavedTokenizerMixin:
    """For the corpus builders: the tokenizer a build made is saved beside the prepared data (``tokenizer/``) and
    loaded from there when the data came from the cache; the build's scratch folder (``_work_dir``) goes away."""

    TOKENIZER_CLASS: Any = None
    _tokenizer: Any = None
    _work_dir: Any = None

    @property
    def tokenizer(self) -> Any:
        """The corpus's tokenizer (`ClonedTokenizer` for clones, `JointTokenizer` for real languages)."""
        if self._tokenizer is None:
            saved = Path(self._output_dir) / "tokenizer"
            if not saved.is_dir():
                raise RuntimeError("the corpus is not prepared yet: call download_and_prepare() first")
            self._tokenizer = self.TOKENIZER_CLASS.from_pretrained(saved)
        return self._tokenizer

    def download_and_prepare(self, *args: Any, **kwargs: Any) -> None:
        """`datasets.DatasetBuilder.download_and_prepare`, then the tokenizer is saved beside the data."""
        try:
            super().download_and_prepare(*args, **kwargs)
            if self._tokenizer is not None:
                self._tokenizer.save_pretrained(Path(self._output_dir) / "tokenizer")
        finally:
            if self._work_dir is not None:
                shutil.rmtree(self._work_dir, ignore_errors=True)
                self._work_dir = None


class ClonedCorpusBuilder(SavedTokenizerMixin, datasets.ArrowBasedBuilder):
    """Builds a cloned-language corpus from a `ClonedCorpusConfig` (see the module docstring)."""

    BUILDER_CONFIG_CLASS = ClonedCorpusConfig
    TOKENIZER_CLASS = ClonedTokenizer
    VERSION = datasets.Version("1.0.0")

    def __init__(self, *args: Any, config: ClonedCorpusConfig | None = None, **kwargs: Any) -> None:
        """Takes a ready ``config=ClonedCorpusConfig(...)``, or its fields as keyword arguments, plus the usual
        `datasets.DatasetBuilder` arguments (``cache_dir``...)."""
        if config is not None:
            kwargs.update(config_kwargs(config))
        kwargs.setdefault("dataset_name", "clonelang")
        super().__init__(*args, **kwargs)
        self._tokenizer: ClonedTokenizer | None = None
        self._work_dir: str | None = None
        self._store: BlockStore | None = None
        self.summary: dict[str, dict[str, dict[str, int]]] | None = None

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description="Cloned-language corpus built with hf_clonelang", features=FEATURES, citation=CITATION
        )

    # ------------------------------------------------------------------ public
    @property
    def cloned_tokenizer(self) -> ClonedTokenizer:
        """The tokenizer the corpus was built with (saved under ``tokenizer/`` of the prepared dataset)."""
        return self.tokenizer

    # ------------------------------------------------------------------ preparation
    def _split_generators(self, dl_manager: Any) -> list[datasets.SplitGenerator]:
        cfg = self.config
        cfg.base.validate()
        base = self._base_tokenizer()
        eod_id = self._eod_id(base)
        self._work_dir = str(scratch_dir("clonelang-work-"))
        self._store = BlockStore(self._work_dir, cfg.block_size)
        eval_rng, lang_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(cfg.seed).spawn(2))
        if cfg.held_out == "documents":
            (train_ids, validation_ids, test_ids), frequencies = self._pack_documents(base, eod_id, eval_rng)
        else:
            num_blocks, frequencies = self._pack(base, eod_id)
            train_ids, validation_ids, test_ids = self._held_out_blocks(num_blocks, eval_rng)
        self._tokenizer = ClonedTokenizer(
            base,
            num_languages=cfg.num_languages,
            clone_fraction=cfg.clone_fraction,
            anchors=cfg.anchors if isinstance(cfg.anchors, str) else list(cfg.anchors),
            seed=cfg.seed,
            share_special_tokens=cfg.share_special_tokens,
            frequencies=frequencies,
        )
        counts = exact_counts(len(train_ids), cfg.ratios)
        langs = np.repeat(np.arange(1, cfg.num_languages + 1, dtype=np.int32), counts)
        train_langs = lang_rng.permutation(langs)  # the language of every training block, from the seed
        for name, values in (
            ("train_ids", train_ids),
            ("train_langs", train_langs),
            ("validation_ids", validation_ids),
            ("test_ids", test_ids),
        ):
            self._store.save_array(name, values)
        self.summary = self._summarize(train_langs)

        splits = [self._split("train", "train", 0, len(train_ids))]
        for kind, ids in (("validation", validation_ids), ("test", test_ids)):
            splits += [self._split(f"{kind}_L{k}", kind, k, len(ids)) for k in range(1, cfg.num_languages + 1)]
        return splits

    def _split(self, name: str, kind: str, language: int, size: int) -> datasets.SplitGenerator:
        shards = [(i, s, min(s + SHARD_BLOCKS, size)) for i, s in enumerate(range(0, size, SHARD_BLOCKS))]
        return datasets.SplitGenerator(name=name, gen_kwargs={"kind": kind, "language": language, "shards": shards})

    def _base_tokenizer(self) -> Any:
        cfg = self.config
        return base_tokenizer(cfg.tokenizer, cfg.base.texts(), cfg.vocab_size)  # texts() reads only if trained

    def _eod_id(self, base: Any) -> int:
        token = self.config.eod_token or base.eos_token
        if token is None:
            raise ConfigError(
                f"tokenizer {getattr(base, 'name_or_path', '') or type(base).__name__} has no end-of-document "
                "(eos) token: name one with eod_token / --eod-token"
            )
        token_id = base.convert_tokens_to_ids(token)
        if token_id is None or (token_id == base.unk_token_id and token != base.unk_token):
            raise ConfigError(f"eod token {token!r} is not in the tokenizer's vocabulary: pick one that is")
        if token_id == base.pad_token_id and not self.config.share_special_tokens:
            raise ConfigError(
                f"eod token {token!r} (id {token_id}) is also the tokenizer's padding token, which every language "
                "shares: the end-of-document token would be a shared anchor. Give the tokenizer a distinct pad "
                "token, name another end-of-document token with eod_token / --eod-token, or share the special "
                "tokens on purpose with share_special_tokens / --share-special-tokens"
            )
        return int(token_id)

    def _pack(self, base: Any, eod_id: int) -> tuple[int, np.ndarray]:
        cfg = self.config
        vocab = max(base.get_vocab().values()) + 1
        counts = np.zeros(vocab, dtype=np.int64)
        packer = BlockPacker(cfg.block_size, eod_id)
        quiet = datasets.utils.are_progress_bars_disabled()  # HF_DATASETS_DISABLE_PROGRESS_BARS, like datasets' own
        with tqdm(desc="Tokenizing and packing", unit=" blocks", disable=quiet) as bar:
            for blocks in tokenize_and_pack(cfg.base.texts(), base, packer):
                self._store.append(blocks)
                counts += np.bincount(blocks.ravel(), minlength=vocab)
                bar.update(len(blocks))
        num_blocks = self._store.num_blocks
        if packer.num_documents == 0:
            raise ConfigError(f"the base corpus ({cfg.base.describe()}) is empty")
        if num_blocks <= 2 * cfg.eval_blocks:
            raise ConfigError(
                f"the base corpus has {num_blocks} blocks of {cfg.block_size} tokens: too few for "
                f"eval_blocks={cfg.eval_blocks} (2 x {cfg.eval_blocks} held out plus training): "
                "lower eval_blocks or give more text"
            )
        return num_blocks, counts

    def _held_out_blocks(self, num_blocks: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``held_out="random_blocks"``: random blocks of the packed stream held out (train, validation, test)."""
        cfg = self.config
        held_out = rng.choice(num_blocks, size=2 * cfg.eval_blocks, replace=False)
        train_ids = np.setdiff1d(np.arange(num_blocks, dtype=np.int64), held_out)
        return train_ids, np.sort(held_out[: cfg.eval_blocks]), np.sort(held_out[cfg.eval_blocks :])

    def _pack_documents(
        self, base: Any, eod_id: int, rng: np.random.Generator
    ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
        """``held_out="documents"``: the base text as documents, whole ones drawn for validation and test, every
        part packed on its own; the block ids of (train, validation, test) and the token counts of the text."""
        cfg = self.config
        vocab = max(base.get_vocab().values()) + 1
        counts = np.zeros(vocab, dtype=np.int64)
        documents = DocumentStore(self._work_dir, eod_id)
        quiet = datasets.utils.are_progress_bars_disabled()
        with tqdm(desc="Tokenizing", unit=" documents", disable=quiet) as bar:
            for batch in tokenize_documents(cfg.base.texts(), base):
                documents.append(batch)
                flat = np.fromiter(itertools.chain.from_iterable(batch), dtype=np.int64)
                counts += np.bincount(flat, minlength=vocab)
                counts[eod_id] += len(batch)  # each document's end
                bar.update(len(batch))
        if documents.num_documents == 0:
            raise ConfigError(f"the base corpus ({cfg.base.describe()}) is empty")
        ids = pack_held_out(documents, self._store, cfg.eval_blocks, rng, "the base corpus")
        return ids, counts

    def _summarize(self, train_langs: np.ndarray) -> dict[str, dict[str, dict[str, int]]]:
        cfg = self.config
        n, size = cfg.num_languages, cfg.block_size
        counts = np.bincount(train_langs, minlength=n + 1)[1:]
        summary = {"train": {f"L{k}": {"blocks": int(c), "tokens": int(c) * size} for k, c in enumerate(counts, 1)}}
        for kind in ("validation", "test"):
            for k in range(1, n + 1):
                summary[f"{kind}_L{k}"] = {f"L{k}": {"blocks": cfg.eval_blocks, "tokens": cfg.eval_blocks * size}}
        return summary

    # ------------------------------------------------------------------ generation
    def _generate_tables(self, kind: str, language: int, shards: list[tuple[int, int, int]]) -> Any:
        # File access lives in BlockStore: datasets patches open/np.load/Path inside builder modules for streaming.
        size = self.config.block_size
        store = self._store
        tok = self._tokenizer
        for shard_id, start, stop in shards:
            for table_idx, lo in enumerate(range(start, stop, TABLE_ROWS)):
                hi = min(lo + TABLE_ROWS, stop)
                block_ids = store.array(f"{kind}_ids", lo, hi)
                base = store.read(block_ids)
                if kind == "train":
                    lang = store.array("train_langs", lo, hi).astype(np.int32)
                else:
                    lang = np.full(hi - lo, language, np.int32)
                cloned = base.copy()
                for k in np.unique(lang):
                    rows = lang == k
                    cloned[rows] = tok.to_language(base[rows], int(k))
                offsets = np.arange(0, cloned.size + 1, size, dtype=np.int32)
                table = pa.table(
                    {
                        "input_ids": pa.ListArray.from_arrays(offsets, pa.array(cloned.ravel(), pa.int32())),
                        "language": pa.array(lang, pa.int32()),
                        "block_id": pa.array(block_ids, pa.int64()),
                    }
                )
                yield Key(shard_id, table_idx), table
