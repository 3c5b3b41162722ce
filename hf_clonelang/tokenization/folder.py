"""The local folder of a saved tokenizer: the folder itself, or a snapshot of just its files in a Hub repo (model or
dataset), and the settings file in it; for `ClonedTokenizer.from_pretrained`, `JointTokenizer.from_pretrained` and
`load_language_tokenizer`."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError


def tokenizer_folder(
    path_or_repo: str | os.PathLike,
    subfolder: str | None,
    allow: Sequence[str],
    ignore: Sequence[str] = (),
    repo_type: str | None = None,
    revision: str | None = None,
    token: str | None = None,
) -> Path:
    """The local folder of a saved tokenizer: ``path_or_repo/subfolder``, or for a Hub repo a snapshot of just the
    ``allow`` patterns (less ``ignore``) under ``subfolder``."""
    root = Path(path_or_repo)
    if not root.is_dir():
        from huggingface_hub import snapshot_download

        prefix = f"{subfolder.strip('/')}/" if subfolder else ""
        root = Path(
            snapshot_download(
                str(path_or_repo),
                repo_type=repo_type,
                revision=revision,
                token=token,
                allow_patterns=[prefix + a for a in allow],
                ignore_patterns=[prefix + i for i in ignore] or None,
            )
        )
    return root / subfolder if subfolder else root


def read_settings(root: Path, name: str, kind: str) -> dict[str, Any]:
    """The settings file ``name`` that a ``kind`` (a tokenizer class) saved in ``root``, or one line saying that the
    folder is not one of its folders."""
    path = root / name
    if not path.is_file():
        raise ConfigError(f"{root} holds no {name}: it is not a folder written by {kind}")
    return json.loads(path.read_text())
