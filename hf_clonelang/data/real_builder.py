"""The `datasets` builder for real languages (the paper's Section 5): one base text per language, each with its own
byte-level BPE (or a given tokenizer), laid out in one joint vocabulary (`JointTokenizer`: disjoint or anchored).

Splits, as for cloned corpora: ``train`` (rows of every language, each tagged with its ``language``: at the given
ratios, as many rows as the scarcest language's text allows at its ratio; without ratios, every block of every
language, a pool for training with any schedule) and ``validation_L{k}`` /
``test_L{k}`` (``eval_blocks`` blocks each, held out from language k's own text; not parallel across languages).
Held-out text is whole documents of that language that training never reads (``held_out="documents"``, the
default, as for clones), or random blocks of its packed text (``held_out="random_blocks"``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
from datasets.builder import Key

from ..common import CITATION
from ..errors import ConfigError
from ..scratch import scratch_dir
from ..tokenization.joint_layout import VOCAB_MODES
from ..tokenization.joint_tokenizer import JointTokenizer
from .base_text import BaseCorpus
from .builder import (
    FEATURES,
    TABLE_ROWS,
    ClonedCorpusConfig,
    SavedTokenizerMixin,
    check_held_out,
    config_kwargs,
    exact_counts,
)
from .packing import (
    BlockPacker,
    BlockStore,
    DocumentStore,
    pack_held_out,
    tokenize_and_pack,
    tokenize_documents,
)
from .tokenizers import base_tokenizer


@dataclass
class RealCorpusConfig(datasets.BuilderConfig):
    """What to build: the languages (names and base texts), their tokenizers, the vocabulary mode, ratios, blocks.

    ``tokenizers`` gives a tokenizer (name, path or object) per language, or None to train a byte-level BPE of
    ``vocab_size`` on that language's text. ``ratios`` None keeps every block of every language. The name defaults
    to ``en-fr-anchored-r90-10`` (``en-fr-anchored-all`` without ratios).
    """

    names: tuple[str, ...] = ()
    bases: tuple[BaseCorpus, ...] = ()
    tokenizers: tuple[Any, ...] | None = None
    vocab_size: int = 1024
    vocab_mode: str = "disjoint"
    ratios: tuple[float, ...] | None = None
    block_size: int = 128
    eval_blocks: int = 256
    held_out: str = "documents"
    seed: int = 0

    def __post_init__(self) -> None:
        self.names, self.bases = tuple(self.names), tuple(self.bases)
        if len(self.names) < 2 or len(self.names) != len(self.bases):
            raise ConfigError(
                f"{len(self.names)} language(s) given: give at least two, each with a name and a base text"
            )
        twice = sorted({n for n in self.names if self.names.count(n) > 1})
        if twice:
            raise ConfigError(f"language {twice[0]!r} is given twice: give each language once")
        if self.vocab_mode not in VOCAB_MODES:
            raise ConfigError(f"vocab mode {self.vocab_mode!r} is not allowed: use {' or '.join(VOCAB_MODES)}")
        self.tokenizers = tuple(self.tokenizers) if self.tokenizers is not None else (None,) * len(self.names)
        if len(self.tokenizers) != len(self.names):
            raise ConfigError(f"give one tokenizer (or None) per language: {len(self.names)} languages")
        given = [t for t in self.tokenizers if isinstance(t, str)]
        if self.vocab_mode == "anchored" and len(given) != len(set(given)):
            raise ConfigError("anchored mode with one tokenizer shared by several languages anchors every piece")
        if self.ratios is not None:
            self.ratios = ClonedCorpusConfig._check_ratios(self.ratios, len(self.names))
        if self.block_size < 2 or self.eval_blocks < 1:
            raise ConfigError(f"block_size={self.block_size}, eval_blocks={self.eval_blocks}: need >= 2 and >= 1")
        check_held_out(self.held_out)
        if self.name == "default":
            shares = "-".join(f"{100 * r:.1f}".rstrip("0").rstrip(".") for r in self.ratios or ())
            self.name = f"{'-'.join(self.names)}-{self.vocab_mode}-{f'r{shares}' if shares else 'all'}"
        super().__post_init__()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description for cards and ``info.json``."""
        return {
            "name": self.name,
            "languages": list(self.names),
            "bases": [b.to_dict() for b in self.bases],
            "tokenizers": [t if t is None or isinstance(t, str) else type(t).__name__ for t in self.tokenizers],
            "vocab_size": self.vocab_size,
            "vocab_mode": self.vocab_mode,
            "num_languages": len(self.names),
            "ratios": None if self.ratios is None else list(self.ratios),
            "block_size": self.block_size,
            "eval_blocks": self.eval_blocks,
            "held_out": self.held_out,
            "seed": self.seed,
        }


class RealCorpusBuilder(SavedTokenizerMixin, datasets.ArrowBasedBuilder):
    """Builds a real-language corpus from a `RealCorpusConfig` (see the module docstring)."""

    BUILDER_CONFIG_CLASS = RealCorpusConfig
    TOKENIZER_CLASS = JointTokenizer
    VERSION = datasets.Version("1.0.0")

    def __init__(self, *args: Any, config: RealCorpusConfig | None = None, **kwargs: Any) -> None:
        if config is not None:
            kwargs.update(config_kwargs(config))
        kwargs.setdefault("dataset_name", "clonelang")  # the shards are named clonelang-<split>
        super().__init__(*args, **kwargs)
        self.summary: dict[str, Any] | None = None
        self._stores: list[BlockStore] = []
        self.limited_by: str | None = None

    @property
    def joint_tokenizer(self) -> JointTokenizer | None:
        """The joint tokenizer once built (`tokenizer` also loads a cached build's)."""
        return self._tokenizer

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description="Real-language corpus built with hf_clonelang", features=FEATURES, citation=CITATION
        )

    def _split_generators(self, dl_manager: Any) -> list[datasets.SplitGenerator]:
        cfg = self.config
        work = self._work_dir = scratch_dir("clonelang-work-")
        rng = np.random.default_rng(cfg.seed)
        bases, pools = [], []
        for k, (base_text, given) in enumerate(zip(cfg.bases, cfg.tokenizers, strict=True), 1):
            base_text.validate()
            tok = base_tokenizer(given, base_text.texts(), cfg.vocab_size)
            if tok.eos_token_id is None:
                raise ConfigError(f"the tokenizer of {cfg.names[k - 1]} has no end-of-document (eos) token")
            store = BlockStore(os.path.join(work, f"L{k}"), cfg.block_size)
            os.makedirs(store.directory)
            if cfg.held_out == "documents":
                pools.append(self._pack_documents(cfg.names[k - 1], base_text, tok, store, rng))
            else:
                pools.append(self._pack_random_blocks(cfg.names[k - 1], base_text, tok, store, rng))
            bases.append(tok)
            self._stores.append(store)
        self._tokenizer = JointTokenizer(bases, mode=cfg.vocab_mode, names=cfg.names)
        if cfg.ratios is None:  # every block: a pool
            counts = np.array([len(p) for p in pools])
            limited_by = None
        else:  # as many rows as the scarcest language allows at its ratio
            room = [len(p) / r if r > 0 else np.inf for p, r in zip(pools, cfg.ratios, strict=True)]
            counts = exact_counts(int(min(room)), cfg.ratios)
            limited_by = cfg.names[int(np.argmin(room))]
        langs = np.concatenate([np.full(c, k, np.int32) for k, c in enumerate(counts, 1)])
        blocks = np.concatenate([np.sort(p[:c]) for p, c in zip(pools, counts, strict=True)])
        shuffle = rng.permutation(len(langs))
        self._train = (langs[shuffle], blocks[shuffle])
        held_out = [cfg.eval_blocks] * len(counts)
        self.summary = {
            split: {f"L{k}": {"blocks": int(c), "tokens": int(c) * cfg.block_size} for k, c in enumerate(rows, 1)}
            for split, rows in (("train", counts), ("validation", held_out), ("test", held_out))
        }
        self.limited_by = limited_by  # the language whose text limits the train rows (None: every block kept)
        splits = [datasets.SplitGenerator(name="train", gen_kwargs={"kind": "train", "language": 0})]
        for kind in ("validation", "test"):
            splits += [
                datasets.SplitGenerator(name=f"{kind}_L{k}", gen_kwargs={"kind": kind, "language": k})
                for k in range(1, len(cfg.names) + 1)
            ]
        return splits

    def _pack_random_blocks(
        self, name: str, text: BaseCorpus, tok: Any, store: BlockStore, rng: np.random.Generator
    ) -> np.ndarray:
        """``held_out="random_blocks"``: one language's text packed, random blocks of it held out; the training
        blocks in a random order (the language's pool)."""
        cfg = self.config
        packer = BlockPacker(cfg.block_size, tok.eos_token_id)
        for blocks in tokenize_and_pack(text.texts(), tok, packer):
            store.append(blocks)
        if store.num_blocks <= 2 * cfg.eval_blocks:
            raise ConfigError(
                f"the text of {name} gives {store.num_blocks} blocks of {cfg.block_size} tokens: too "
                f"few for eval_blocks={cfg.eval_blocks} (2 x {cfg.eval_blocks} held out plus training)"
            )
        order = rng.permutation(store.num_blocks)
        store.save_array("validation_ids", np.sort(order[: cfg.eval_blocks]))
        store.save_array("test_ids", np.sort(order[cfg.eval_blocks : 2 * cfg.eval_blocks]))
        return order[2 * cfg.eval_blocks :]

    def _pack_documents(
        self, name: str, text: BaseCorpus, tok: Any, store: BlockStore, rng: np.random.Generator
    ) -> np.ndarray:
        """``held_out="documents"``: one language's documents, whole ones drawn for validation and test, each part
        packed on its own; the training blocks in a random order (the language's pool)."""
        cfg = self.config
        documents = DocumentStore(store.directory, tok.eos_token_id)
        for batch in tokenize_documents(text.texts(), tok):
            documents.append(batch)
        train_ids, *held_out = pack_held_out(documents, store, cfg.eval_blocks, rng, f"the text of {name}")
        for kind, ids in zip(("validation", "test"), held_out, strict=True):
            store.save_array(f"{kind}_ids", ids)
        return rng.permutation(train_ids)

    def _generate_tables(self, kind: str, language: int) -> Any:
        layout = self._tokenizer.layout
        size = self.config.block_size
        if kind == "train":
            langs, blocks = self._train
        else:
            ids = self._stores[language - 1].array(f"{kind}_ids")
            langs, blocks = np.full(len(ids), language, np.int32), ids
        for table_idx, lo in enumerate(range(0, len(langs), TABLE_ROWS)):
            lang, block = langs[lo : lo + TABLE_ROWS], blocks[lo : lo + TABLE_ROWS]
            rows = np.empty((len(lang), size), dtype=np.int64)
            for k in np.unique(lang):
                mine = lang == k
                order = np.argsort(block[mine])
                read = self._stores[k - 1].read(block[mine][order])
                placed = np.empty_like(read)
                placed[order] = read
                rows[mine] = layout.to_joint_ids(placed, int(k))
            offsets = np.arange(0, rows.size + 1, size, dtype=np.int32)
            table = pa.table(
                {
                    "input_ids": pa.ListArray.from_arrays(offsets, pa.array(rows.ravel(), pa.int32())),
                    "language": pa.array(lang, pa.int32()),
                    "block_id": pa.array(block, pa.int64()),
                }
            )
            yield Key(0, table_idx), table
