"""The local folder of a saved tokenizer: the folder itself, or a snapshot of just its files in a Hub repo (model or
dataset), for `ClonedTokenizer.from_pretrained`, `JointTokenizer.from_pretrained` and `load_language_tokenizer`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


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
