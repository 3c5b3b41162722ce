"""A cloned corpus on disk or on the Hub: Parquet shards per config and split, the cloned tokenizer of each config,
and a dataset card whose YAML ``configs:`` lets plain ``load_dataset(folder_or_repo, config)`` load every split.

Layout (one folder, any number of configs side by side)::

    README.md                               dataset card; YAML `configs:` lists every config's files
    data/<config>/<split>-00000-of-00001.parquet
    data/<config>/info.json                 the config, the tokenizer layout and the block counts
    tokenizer/<config>/                     ClonedTokenizer.save_pretrained (+ tokenizers/L{k}/ standalone)

A build writes into a temporary folder and moves the finished config into place, so an interrupted or failed
build leaves neither a half-written config nor (for a new folder) any folder at all.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

from .. import __version__
from ..common import CITATION
from ..errors import ConfigError, HubError
from ..hub.cards import hub_timeout, one_line
from ..tokenization import ClonedTokenizer
from .builder import ClonedCorpusBuilder, ClonedCorpusConfig

DATA_DIR = "data"
TOKENIZER_DIR = "tokenizer"
INFO_NAME = "info.json"
CARD_NAME = "README.md"
_SHARD = re.compile(r"^clonelang-(?P<split>\w+?)(?:-(?P<i>\d{5})-of-(?P<n>\d{5}))?\.parquet$")


def save_cloned_corpus(
    config: ClonedCorpusConfig,
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
    if (out / DATA_DIR / name).exists() and not overwrite:
        raise ConfigError(f"config {name!r} already exists in {out}: pass --overwrite to rebuild it")
    config.base.validate()
    parent = out if out.exists() else out.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".clonelang-build-{name}-", dir=parent))
    try:
        builder = ClonedCorpusBuilder(config=config, cache_dir=str(tmp / "cache"))
        prepared = tmp / "prepared"
        builder.download_and_prepare(
            output_dir=str(prepared), file_format="parquet", num_proc=num_proc, max_shard_size=max_shard_size
        )
        staged = tmp / "staged"
        data = staged / DATA_DIR / name
        files = _arrange_shards(prepared, data)
        (staged / TOKENIZER_DIR).mkdir(parents=True)
        shutil.move(str(prepared / "tokenizer"), str(staged / TOKENIZER_DIR / name))
        info = _info(config, builder, files)
        (data / INFO_NAME).write_text(json.dumps(info, indent=2) + "\n")
        if out.exists():
            _replace(staged / TOKENIZER_DIR / name, out / TOKENIZER_DIR / name)
            _replace(data, out / DATA_DIR / name)
            write_dataset_card(out)
        else:
            write_dataset_card(staged, location=out)
            staged.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return info


def built_config_info(folder: str | os.PathLike, config: ClonedCorpusConfig) -> dict[str, Any] | None:
    """``info.json`` of ``config`` in ``folder`` if it was built there with exactly the same settings, else None."""
    path = Path(folder) / DATA_DIR / config.name / INFO_NAME
    if not path.is_file():
        return None
    info = json.loads(path.read_text())
    return info if info["config"] == json.loads(json.dumps(config.to_dict())) else None


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


def _info(config: ClonedCorpusConfig, builder: ClonedCorpusBuilder, files: dict[str, list[str]]) -> dict[str, Any]:
    tok = builder.cloned_tokenizer.to_dict()
    tok["num_anchors"] = len(tok.pop("anchor_ids"))  # the id lists live in tokenizer/<config>/
    tok["num_shared_specials"] = len(tok.pop("shared_special_ids"))
    return {
        "config": config.to_dict(),
        "base_description": config.base.describe(),
        "tokenizer": tok,
        "summary": builder.summary,
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


# ---------------------------------------------------------------------- card
def read_infos(folder: str | os.PathLike) -> list[dict[str, Any]]:
    """``info.json`` of every config in a corpus folder, oldest first."""
    infos = [json.loads(p.read_text()) for p in Path(folder).glob(f"{DATA_DIR}/*/{INFO_NAME}")]
    return sorted(infos, key=lambda i: (i.get("created", 0), i["config"]["name"]))


def render_dataset_card(infos: list[dict[str, Any]], location: str, is_repo: bool = False) -> str:
    """The dataset card (README.md text) of a corpus holding ``infos`` (the oldest config is the default)."""
    from huggingface_hub import DatasetCard, DatasetCardData

    if not infos:
        raise ValueError("a corpus card needs at least one config")
    configs = []
    for i, info in enumerate(infos):
        name = info["config"]["name"]
        entry: dict[str, Any] = {
            "config_name": name,
            "data_files": [
                {"split": split, "path": [f"{DATA_DIR}/{name}/{f}" for f in files]}
                for split, files in _ordered_splits(info["files"])
            ],
        }
        if i == 0:
            entry["default"] = True
        configs.append(entry)
    embedded = all(info["config"]["base"]["source"] == "embedded" for info in infos)
    data = DatasetCardData(
        pretty_name="Cloned-language corpus",
        language=["en"] if embedded else None,
        license="apache-2.0" if embedded else None,
        task_categories=["text-generation"],
        tags=["hf-clonelang", "cloned-languages", "multilingual", "language-imbalance"],
        configs=configs,
    )
    template = resources.files("hf_clonelang.model_cards").joinpath("dataset_card.md").read_text()
    card = DatasetCard.from_template(
        data,
        template_str=template,
        pretty_name="Cloned-language corpus",
        configs=[_card_config(info) for info in infos],
        location=location,
        is_repo=is_repo,
        citation=CITATION,
    )
    return str(card)


def _ordered_splits(files: dict[str, list[str]]) -> list[tuple[str, list[str]]]:
    def key(split: str) -> tuple[int, int]:
        kind, _, lang = split.partition("_L")
        return (
            ["train", "validation", "test"].index(kind) if kind in ("train", "validation", "test") else 3,
            int(lang) if lang.isdigit() else 0,
        )

    return [(s, files[s]) for s in sorted(files, key=key)]


def _card_config(info: dict[str, Any]) -> dict[str, Any]:
    cfg, tok = info["config"], info["tokenizer"]
    languages = [f"L{k}" for k in range(1, cfg["num_languages"] + 1)]
    summary = {split: info["summary"][split] for split, _ in _ordered_splits(info["summary"])}
    return {
        "name": cfg["name"],
        "num_languages": cfg["num_languages"],
        "ratios_text": " / ".join(f"{k} {100 * r:g}%" for k, r in zip(languages, cfg["ratios"], strict=True)),
        "clone_fraction_text": f"{tok['clone_fraction']:.4g}",
        "num_anchors": tok["num_anchors"],
        "anchors": tok["anchors"],
        "shared": tok.get("shared_ids_description")
        or ("special tokens shared" if not cfg.get("clone_specials", True) else "only padding"),
        "base": info.get("base_description") or cfg["base"]["source"],
        "tokenizer": cfg["tokenizer"] or "byte-level BPE trained on the base text",
        "base_vocab_size": tok["base_vocab_size"],
        "vocab_size": tok["vocab_size"],
        "language_ranges": tok["language_ranges"],
        "block_size": cfg["block_size"],
        "eval_blocks": cfg["eval_blocks"],
        "seed": cfg["seed"],
        "languages": languages,
        "summary": summary,
    }


def write_dataset_card(folder: str | os.PathLike, location: str | os.PathLike | None = None) -> None:
    """(Re)write ``README.md`` of a corpus folder from the ``info.json`` of all its configs, atomically.
    ``location`` is the path the card tells readers to load from (default: the folder)."""
    folder = Path(folder)
    text = render_dataset_card(read_infos(folder), location=str(location or folder))
    tmp = folder / f".{CARD_NAME}.tmp"
    tmp.write_text(text)
    os.replace(tmp, folder / CARD_NAME)


# ---------------------------------------------------------------------- loading
def load_cloned_corpus(path_or_repo: str | os.PathLike, config_name: str | None = None, **kwargs: Any) -> tuple:
    """``(DatasetDict, ClonedTokenizer)`` of one config of a corpus folder or Hub dataset repo."""
    import datasets

    location = str(path_or_repo)
    if config_name is None:
        config_name = datasets.get_dataset_default_config_name(location)
        if config_name is None:
            names = datasets.get_dataset_config_names(location)
            if len(names) != 1:
                raise ConfigError(f"{location} holds several configs ({', '.join(names)}): name one")
            config_name = names[0]
    dsd = datasets.load_dataset(location, config_name, **kwargs)
    is_repo = not Path(location).is_dir()
    tok = ClonedTokenizer.from_pretrained(
        location, subfolder=f"{TOKENIZER_DIR}/{config_name}", repo_type="dataset" if is_repo else None
    )
    return dsd, tok


# ---------------------------------------------------------------------- pushing
def push_cloned_corpus(
    folder: str | os.PathLike,
    config_name: str,
    repo_id: str,
    token: str | None = None,
    private: bool | None = None,
    revision: str | None = None,
) -> str:
    """Push one config of a local corpus folder to a Hub dataset repo, beside the configs already there.

    One commit adds the config's Parquet shards, its tokenizer and a card listing every config of the repo (read
    back from their ``info.json``), and deletes files of an earlier push of the same config that the new one no
    longer has. Returns the commit URL. Failures raise `HubError` and leave the local folder untouched.
    """
    from huggingface_hub import HfApi

    folder = Path(folder)
    local = {info["config"]["name"]: info for info in read_infos(folder)}
    if config_name not in local:
        raise ConfigError(f"config {config_name!r} is not in {folder}: it holds {', '.join(local) or 'no config'}")
    api = HfApi(token=token)
    try:
        with hub_timeout():
            return _commit_config(api, folder, local[config_name], repo_id, private, revision)
    except Exception as err:  # network and HTTP errors of every kind: one line with the cause
        raise HubError(f"pushing {config_name!r} to dataset repo {repo_id!r} failed: {one_line(err)}") from err


def _commit_config(
    api: Any, folder: Path, info: dict[str, Any], repo_id: str, private: bool | None, revision: str | None
) -> str:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, hf_hub_download

    name = info["config"]["name"]
    api.create_repo(repo_id, repo_type="dataset", exist_ok=True, private=private)
    remote_files = api.list_repo_files(repo_id, repo_type="dataset", revision=revision)
    infos = {name: info}
    for path in remote_files:
        m = re.fullmatch(rf"{DATA_DIR}/([^/]+)/{INFO_NAME}", path)
        if m and m.group(1) != name:
            got = hf_hub_download(repo_id, path, repo_type="dataset", revision=revision, token=api.token)
            infos[m.group(1)] = json.loads(Path(got).read_text())
    ordered = sorted(infos.values(), key=lambda i: (i.get("created", 0), i["config"]["name"]))
    card = render_dataset_card(ordered, location=repo_id, is_repo=True)
    prefixes = (f"{DATA_DIR}/{name}/", f"{TOKENIZER_DIR}/{name}/")
    adds = [
        CommitOperationAdd(path.relative_to(folder).as_posix(), str(path))
        for prefix in prefixes
        for path in sorted((folder / prefix).rglob("*"))
        if path.is_file()
    ]
    fresh = {op.path_in_repo for op in adds}
    deletes = [CommitOperationDelete(p) for p in remote_files if p.startswith(prefixes) and p not in fresh]
    commit = api.create_commit(
        repo_id,
        [*deletes, *adds, CommitOperationAdd(CARD_NAME, card.encode())],
        repo_type="dataset",
        revision=revision,
        commit_message=f"Add cloned-language config {name}",
    )
    return commit.commit_url
