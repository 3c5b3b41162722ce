"""Verification of what is about to be published or loaded: a run folder whose model loads and whose training
finished, a corpus config whose Parquet shards read with the row counts its ``info.json`` records. Each failure is
one `ConfigError` line naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..common import CorpusFiles, RunFiles
from ..errors import ConfigError, one_line


def file_damage(path: Path) -> str | None:
    """Why a JSON file, a safetensors file (its header) or a torch archive (its directory, which a truncated file
    loses) does not load, in one line; None when it does or when its kind is not checked."""
    try:
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(path), framework="np"):
                pass
        elif path.suffix in (".pt", ".pth", ".bin"):
            import zipfile

            with zipfile.ZipFile(path) as archive:
                archive.namelist()
    except Exception as err:
        return one_line(err)
    return None


def verify_run(run: Path, finished: bool = True) -> None:
    """Refuse to publish a run whose model does not load or, with ``finished``, that did not finish (no
    ``run_info.json`` / ``all_results.json``: its card would have no results): one line naming the file."""
    if not run.is_dir():
        raise ConfigError(f"{str(run)!r} is not a folder: give a run folder written by run_clm_imbalance.py")
    config = run / "config.json"
    if not config.is_file():
        raise ConfigError(f"{run} holds no model (config.json): push a run folder written by run_clm_imbalance.py")
    reason = file_damage(config)
    if reason:
        raise ConfigError(f"{config} is not valid JSON ({reason}): save the model again")
    if finished:
        for name in (RunFiles.RUN_INFO, RunFiles.ALL_RESULTS):
            if not (run / name).is_file():
                raise ConfigError(f"{run} is not a finished run ({name} is missing): finish or resume the training")
    weights = sorted(run.glob("*.safetensors"))
    index = run / "model.safetensors.index.json"
    if index.is_file():  # a sharded model: every shard the index names must be there
        try:
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        except (ValueError, KeyError) as err:
            raise ConfigError(f"{index} is not a valid shard index ({one_line(err)}): save the model again") from None
        missing = [name for name in shards if not (run / name).is_file()]
        if missing:
            raise ConfigError(f"{run} lacks the model shards {', '.join(missing)}: save the model again")
    if not weights and not (run / "pytorch_model.bin").is_file():
        raise ConfigError(f"{run} holds no model weights (model.safetensors): save the model again")
    for path in weights:
        reason = file_damage(path)  # the header: a truncated file fails here
        if reason:
            raise ConfigError(f"{path} does not load ({reason}): it is truncated or corrupt")


def verify_corpus_config(folder: Path, info: dict[str, Any]) -> None:
    """Refuse to publish a corpus config whose Parquet shards do not read or hold other row counts than its
    ``info.json`` says."""
    import pyarrow.parquet as pq

    name = info["config"]["name"]
    for split, files in info.get("files", {}).items():
        rows = 0
        for file in files:
            path = folder / CorpusFiles.DATA_DIR / name / file
            try:
                rows += pq.read_metadata(path).num_rows
            except Exception as err:
                raise ConfigError(f"{path} does not read as Parquet ({one_line(err)}): rebuild the config") from None
        expected = info.get("splits", {}).get(split, {}).get("num_examples")
        if expected is not None and rows != expected:
            raise ConfigError(f"split {split!r} of {name!r} has {rows} rows, info.json says {expected}: rebuild it")


def verify_probe(folder: Path) -> dict[str, Any]:
    """Refuse to publish probe results that do not load or hold no accuracy per task and language (a killed or
    hand-edited ``probe.json``), or whose plot is missing; returns the results."""
    path = folder / RunFiles.PROBE
    if not path.is_file():
        raise ConfigError(f"{folder} holds no {RunFiles.PROBE}: run hf-clonelang probe first")
    reason = file_damage(path)
    if reason:
        raise ConfigError(f"{path} is not valid JSON ({reason}): run the probe again")
    probe = json.loads(path.read_text())
    tasks = probe.get("tasks") if isinstance(probe, dict) else None
    if not tasks or not all(
        isinstance(entry.get("languages"), dict)
        and entry["languages"]
        and all(isinstance(s.get("accuracy"), (int, float)) for s in entry["languages"].values())
        for entry in tasks.values()
    ):
        raise ConfigError(f"{path} holds no accuracy per task and language: run the probe again")
    plot = folder / RunFiles.PROBE_PLOT
    if not plot.is_file() or not plot.read_bytes().startswith(b"\x89PNG"):
        raise ConfigError(f"{plot} is missing or not a PNG: run the probe again")
    return probe
