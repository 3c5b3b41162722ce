"""Translation pairs for the alignment of real languages: a TSV file (optionally gzipped) with one sentence pair
per line, the sentence in the first column and its translation in the second (e.g. the Tatoeba English–French
pairs). Pairs are read in file order, or a seeded sample of them, so that a measurement names exactly its input.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from ..errors import ConfigError


def read_pairs(path: str | os.PathLike, limit: int | None = None, seed: int | None = None) -> list[tuple[str, str]]:
    """The (sentence, translation) pairs of ``path``; ``limit`` keeps the first ``limit`` of them, or with ``seed``
    a seeded sample of ``limit`` pairs (in file order). A line without two non-empty tab-separated columns is an
    error naming the file and the line."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"pairs file {str(path)!r} does not exist")
    if limit is not None and limit < 1:
        raise ConfigError(f"limit={limit} is not allowed: give >= 1 pairs")
    opener = gzip.open if file.suffix == ".gz" else open
    pairs = []
    try:
        with opener(file, "rt", encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                columns = line.rstrip("\n").split("\t")
                if len(columns) < 2 or not columns[0].strip() or not columns[1].strip():
                    raise ConfigError(
                        f"{file}:{number} is not a pair: give a sentence and its translation separated by a tab"
                    )
                pairs.append((columns[0].strip(), columns[1].strip()))
                if limit is not None and seed is None and len(pairs) == limit:
                    break
    except (UnicodeDecodeError, OSError) as err:
        raise ConfigError(f"cannot read pairs file {str(path)!r}: {type(err).__name__}: {err}") from err
    if not pairs:
        raise ConfigError(f"pairs file {str(path)!r} holds no pairs")
    if limit is not None and seed is not None and limit < len(pairs):
        keep = np.sort(np.random.default_rng(seed).choice(len(pairs), size=limit, replace=False))
        pairs = [pairs[i] for i in keep]
    return pairs
