"""Checks the commands run before any expensive work: output folders, repo ids, model paths, checkpoints.

Each raises `ConfigError` with one line that names the bad value and says what to do, so that a wrong path or a
malformed repo id fails in a second instead of after a corpus build or a training run.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from ..common import RunFiles
from ..errors import ConfigError
from ..hub.verify import file_damage

logger = logging.getLogger(__name__)

_CONFIG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


def check_repo_id(repo_id: str, flag: str) -> str:
    """A Hub repo id as huggingface_hub accepts it (``name`` or ``namespace/name``)."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        raise ConfigError(f"{flag} {repo_id!r} is not a valid Hub repo id: {str(err).splitlines()[0]}") from None
    return repo_id


def check_writable_folder(path: str | os.PathLike, flag: str) -> Path:
    """A folder that exists or can be created, and can be written: not a file, not under a file, not read-only."""
    folder = Path(path).absolute()
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{flag} {str(path)!r} is a file: give a folder")
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{flag} {str(path)!r} is under {str(existing)!r}, which is a file: give a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag} {str(path)!r} cannot be written ({str(existing)!r} is read-only): choose another")
    return folder


def check_config_name(name: str | None) -> None:
    """A corpus config name that works as a folder and as a `load_dataset` config: letters, digits, ``._-``."""
    if name is not None and not _CONFIG_NAME.match(name):
        raise ConfigError(
            f"corpus_config_name={name!r} is not allowed: use 1-96 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )


def check_folder_or_repo(name_or_path: str | None, flag: str) -> None:
    """A local folder that exists, or a well-formed Hub repo id (a path that names no folder is refused here, not
    reported later as a Hub that cannot be reached)."""
    if not name_or_path or os.path.isdir(name_or_path):
        return
    if name_or_path.startswith(("/", ".", "~")) or name_or_path.count("/") > 1 or os.path.exists(name_or_path):
        raise ConfigError(f"{flag} {name_or_path!r} is not a folder: give an existing folder or a Hub repo id")
    check_repo_id(name_or_path, flag)


def complete_checkpoint(output_dir: str | os.PathLike) -> str | None:
    """The newest checkpoint of ``output_dir`` that is whole (its ``trainer_state.json`` written, every file it
    loads intact); newer incomplete or damaged ones (a kill or a full disk while saving) are skipped with a warning
    naming them. None, with a warning, when checkpoints exist but none is whole (the run starts again); an error
    when there is no checkpoint at all."""
    folder = Path(output_dir)
    found = sorted(
        (p for p in folder.glob(RunFiles.CHECKPOINTS) if p.is_dir() and p.name.split("-")[-1].isdigit()),
        key=lambda p: int(p.name.split("-")[-1]),
        reverse=True,
    )
    if not found:
        raise ConfigError(f"--resume_from_checkpoint true, but {str(output_dir)!r} holds no checkpoint: leave it out")
    for checkpoint in found:
        if not (checkpoint / RunFiles.TRAINER_STATE).is_file():
            logger.warning("skipping %s: it was not written completely (no trainer_state.json)", checkpoint)
            continue
        try:
            check_checkpoint_files(checkpoint)
        except ConfigError as err:
            logger.warning("skipping %s: %s", checkpoint, err)
            continue
        return str(checkpoint)
    logger.warning("no checkpoint of %s is whole: the run starts from the beginning", output_dir)
    return None


def check_checkpoint_files(checkpoint: str | os.PathLike) -> None:
    """The files a resume loads are whole (`hub.verify.file_damage`: the state parses, weight headers load, torch
    archives have their directory); one line naming a damaged file otherwise."""
    folder = Path(checkpoint)
    for path in sorted(folder.iterdir()):
        reason = file_damage(path)
        if reason:
            raise ConfigError(
                f"checkpoint file {str(path)!r} is damaged ({reason}): delete {folder.name} to resume from an "
                "earlier checkpoint"
            )
