"""A cloned corpus (or a real-language one) on disk or on the Hub: Parquet shards per config and split, the
tokenizer of each config (`ClonedTokenizer` or `JointTokenizer`), and a dataset card whose YAML ``configs:`` lets
plain ``load_dataset(folder_or_repo, config)`` load every split.

Layout (one folder, any number of configs side by side)::

    README.md                               dataset card; YAML `configs:` lists every config's files
    data/<config>/<split>-00000-of-00001.parquet
    data/<config>/info.json                 the config, the tokenizer layout and the block counts
    tokenizer/<config>/                     the tokenizer's save_pretrained (+ tokenizers/L{k}/ standalone)

A build writes into a temporary folder and moves the finished config into place, so an interrupted or failed
build leaves neither a half-written config nor (for a new folder) any folder at all. The card is written by
:mod:`hf_clonelang.hub.cards`; pushing a config to the Hub is :func:`hf_clonelang.hub.push.push_cloned_corpus`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from .. import __version__
from ..common import CorpusFiles
from ..errors import ConfigError
from ..hub.cards import write_dataset_card
from ..hub.verify import verify_corpus_config
from ..scratch import scratch_dir
from ..tokenization.language_tokenizer import load_language_tokenizer
from .builder import ClonedCorpusBuilder, ClonedCorpusConfig
from .real_builder import RealCorpusBuilder, RealCorpusConfig

CorpusConfig = ClonedCorpusConfig | RealCorpusConfig

_SHARD = re.compile(r"^clonelang-(?P<split>\w+?)(?:-(?P<i>\d{5})-of-(?P<n>\d{5}))?\.parquet$")


def corpus_builder(config: CorpusConfig, **kwargs: Any) -> ClonedCorpusBuilder | RealCorpusBuilder:
    """The `datasets` builder of ``config``: clones of one base text, or real languages."""
    cls = RealCorpusBuilder if isinstance(config, RealCorpusConfig) else ClonedCorpusBuilder
    return cls(config=config, **kwargs)


def validate_sources(config: CorpusConfig) -> None:
    """Check every base text of ``config`` before any work (a missing file, an unreadable one)."""
    for base in config.bases if isinstance(config, RealCorpusConfig) else [config.base]:
        base.validate()


def save_cloned_corpus(
    config: CorpusConfig,
    output_dir: str | os.PathLike,
    overwrite: bool = False,
    num_proc: int | None = None,
    max_shard_size: str | int = "500MB",
) -> dict[str, Any]:
    """Build ``config`` into ``output_dir`` beside any configs already there; return the config's ``info.json``."""
    out = Path(output_dir).absolute()
    name = config.name
    if out.exists() and not out.is_dir():
        raise ConfigError(f"output {str(out)!r} exists and is not a folder")
    if (out / CorpusFiles.DATA_DIR / name).exists() and not overwrite:
        raise ConfigError(f"config {name!r} already exists in {out}: pass --overwrite to rebuild it")
    validate_sources(config)
    parent = out if out.exists() else out.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = scratch_dir(".clonelang-build-", parent)  # a killed build's folder is removed by the next build
    try:
        builder = corpus_builder(config, cache_dir=str(tmp / "cache"))
        prepared = tmp / "prepared"
        builder.download_and_prepare(
            output_dir=str(prepared), file_format="parquet", num_proc=num_proc, max_shard_size=max_shard_size
        )
        staged = tmp / "staged"
        data = staged / CorpusFiles.DATA_DIR / name
        files = _arrange_shards(prepared, data)
        (staged / CorpusFiles.TOKENIZER_DIR).mkdir(parents=True)
        shutil.move(str(prepared / "tokenizer"), str(staged / CorpusFiles.TOKENIZER_DIR / name))
        info = _info(config, builder, files)
        (data / CorpusFiles.INFO).write_text(json.dumps(info, indent=2) + "\n")
        if out.exists():
            _replace(staged / CorpusFiles.TOKENIZER_DIR / name, out / CorpusFiles.TOKENIZER_DIR / name)
            _replace(data, out / CorpusFiles.DATA_DIR / name)
            write_dataset_card(out)
        else:
            write_dataset_card(staged, location=out)
            staged.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return info


def built_config_info(folder: str | os.PathLike, config: CorpusConfig) -> dict[str, Any] | None:
    """``info.json`` of ``config`` in ``folder`` if it was built there with exactly the same settings, else None."""
    path = Path(folder) / CorpusFiles.DATA_DIR / config.name / CorpusFiles.INFO
    if not path.is_file():
        return None
    info = json.loads(path.read_text())
    return info if info["config"] == json.loads(json.dumps(_recorded_config(config))) else None


def _arrange_shards(prepared: Path, target: Path) -> dict[str, list[str]]:
    """Rename ``clonelang-<split>[-i-of-n].parquet`` to ``<split>-<i>-of-<n>.parquet`` under ``target``."""
    target.mkdir(parents=True)
    files: dict[str, list[str]] = {}
    for path in sorted(prepared.glob("*.parquet")):
        m = _SHARD.match(path.name)
        if m is None:
            continue
        i, n = m.group("i") or "00000", m.group("n") or "00001"
        new = f"{m.group('split')}-{i}-of-{n}.parquet"
        path.rename(target / new)
        files.setdefault(m.group("split"), []).append(new)
    return files


def _recorded_config(config: CorpusConfig) -> dict[str, Any]:
    """The config as ``info.json`` records it (and a push publishes it): local base files by name, never by their
    absolute path (their size and modification time stay, so a changed file is still a different config)."""
    recorded = config.to_dict()
    if "bases" in recorded:  # real languages: a base text and a tokenizer per language
        recorded["bases"] = [_recorded_base(b) for b in recorded["bases"]]
        recorded["tokenizers"] = [_local_name(t) if isinstance(t, str) else t for t in recorded["tokenizers"]]
        return recorded
    recorded["base"] = _recorded_base(recorded["base"])
    if isinstance(recorded.get("tokenizer"), str):
        recorded["tokenizer"] = _local_name(recorded["tokenizer"])
    return recorded


def _recorded_base(base: dict[str, Any]) -> dict[str, Any]:
    base = dict(base)
    base["files"] = [os.path.basename(f) for f in base.get("files") or ()]
    base["source"] = _local_name(base["source"])
    return base


def _local_name(name_or_path: str) -> str:
    """A local folder by its name (no absolute path is published); a Hub id or a keyword as it is."""
    return os.path.basename(os.path.normpath(name_or_path)) if os.path.isdir(name_or_path) else name_or_path


def _info(config: CorpusConfig, builder: Any, files: dict[str, list[str]]) -> dict[str, Any]:
    tok = builder.tokenizer.to_dict()
    if "anchor_ids" in tok:  # clones: the id lists live in tokenizer/<config>/
        tok["num_anchors"] = len(tok.pop("anchor_ids"))
        tok["num_shared_specials"] = len(tok.pop("shared_special_ids"))
    real = isinstance(config, RealCorpusConfig)
    described = [
        b.describe().replace(b.source, _local_name(b.source)) for b in (config.bases if real else [config.base])
    ]
    return {
        "config": _recorded_config(config),
        "base_description": described if real else described[0],
        "tokenizer": tok,
        "summary": builder.summary,
        **({"limited_by": builder.limited_by} if real else {}),
        "features": builder.info.features.to_dict(),
        "splits": {
            split: {"num_examples": s.num_examples, "num_bytes": s.num_bytes}
            for split, s in builder.info.splits.items()
        },
        "files": files,
        "created": time.time(),
        "hf_clonelang_version": __version__,
    }


def _replace(new: Path, old: Path) -> None:
    """Put ``new`` where ``old`` is, with one rename once the old copy is out of the way."""
    old.parent.mkdir(parents=True, exist_ok=True)
    trash = None
    if old.exists():
        trash = old.with_name(f".trash-{old.name}-{os.getpid()}")
        old.rename(trash)
    new.rename(old)
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)


# ---------------------------------------------------------------------- loading
def load_cloned_corpus(path_or_repo: str | os.PathLike, config_name: str | None = None, **kwargs: Any) -> tuple:
    """``(DatasetDict, tokenizer)`` of one config of a corpus folder or Hub dataset repo (a `ClonedTokenizer`, or a
    `JointTokenizer` for real languages)."""
    import datasets

    location = str(path_or_repo)
    if Path(location).is_dir() and config_name is not None:
        built = sorted(p.name for p in (Path(location) / CorpusFiles.DATA_DIR).glob("*") if p.is_dir())
        if config_name not in built:
            raise ConfigError(f"{location} has no config {config_name!r}: it holds {', '.join(built) or 'none'}")
    if config_name is None:
        config_name = datasets.get_dataset_default_config_name(location)
        if config_name is None:
            names = datasets.get_dataset_config_names(location)
            if len(names) != 1:
                raise ConfigError(f"{location} holds several configs ({', '.join(names)}): name one")
            config_name = names[0]
    info = Path(location) / CorpusFiles.DATA_DIR / config_name / CorpusFiles.INFO
    if info.is_file():  # a local folder: its shards must read before anything trains on them
        verify_corpus_config(Path(location), json.loads(info.read_text()))
    dsd = datasets.load_dataset(location, config_name, **kwargs)
    is_repo = not Path(location).is_dir()
    tok = load_language_tokenizer(
        location, subfolder=f"{CorpusFiles.TOKENIZER_DIR}/{config_name}", repo_type="dataset" if is_repo else None
    )
    return dsd, tok
