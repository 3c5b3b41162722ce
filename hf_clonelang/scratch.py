"""Scratch folders that a killed process does not leave behind forever.

A build writes into a scratch folder and renames the result into place; a kill leaves the scratch folder. Each
one records its owner (host and process id), and the next build removes the folders whose owner process is gone:
concurrent builds keep theirs, a killed one's are cleaned.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

logger = logging.getLogger(__name__)

OWNER = ".owner"
ORPHAN_AGE_S = 24 * 3600
"""A scratch folder without an owner record (the process died before writing it) is removed after this long."""


def scratch_dir(prefix: str, parent: str | os.PathLike | None = None) -> Path:
    """A new scratch folder under ``parent`` (default: the temp folder) that records this process as its owner;
    stale ones with the same prefix are removed first."""
    parent = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    remove_stale(parent, prefix)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    (folder / OWNER).write_text(f"{socket.gethostname()} {os.getpid()}\n")
    return folder


def remove_stale(parent: str | os.PathLike, prefix: str) -> list[Path]:
    """Remove the scratch folders ``parent/prefix*`` whose owner process on this host is gone; returns them."""
    removed = []
    for folder in Path(parent).glob(f"{prefix}*"):
        if folder.is_dir() and _is_stale(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
            logger.info("removed %s, left by a process that ended before it finished", folder)
    return removed


def _is_stale(folder: Path) -> bool:
    try:
        host, pid = (folder / OWNER).read_text().split()
    except (OSError, ValueError):
        try:
            return time.time() - folder.stat().st_mtime > ORPHAN_AGE_S
        except OSError:
            return False
    if host != socket.gethostname():
        return False  # another machine's (a shared file system): it alone knows
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False
