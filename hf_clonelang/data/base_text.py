"""Base text: the embedded story corpus, any `load_dataset` source, local text / JSONL / Parquet files.

Everything streams: texts come out one at a time, so memory is bounded by a batch of documents, not the corpus.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..common import EMBEDDED
from ..errors import ConfigError, one_line
from . import stories

DEFAULT_EMBEDDED_STORIES = 20_000
"""Stories in the default embedded corpus: about 11 MB of text, 2.5M tokens with a 1024-entry BPE."""

SAMPLE_BY = ("line", "paragraph", "document")
_TEXT_SUFFIXES = (".txt", ".text", ".md")
_JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
_PARQUET_SUFFIXES = (".parquet",)


@dataclass(frozen=True)
class BaseCorpus:
    """Where the base text of a cloned corpus comes from.

    ``source`` is ``"embedded"`` (the generated stories), ``"files"`` (local ``files``: .txt / .jsonl / .json /
    .parquet, optionally .gz), or a `load_dataset` path: a Hub dataset name or a local dataset folder, read with
    ``config``, ``split`` and ``text_column``. Text files are split into documents by ``sample_by`` (one document
    per line, per blank-line-separated paragraph, or per file). ``max_documents`` caps any source; the embedded
    corpus is endless and defaults to `DEFAULT_EMBEDDED_STORIES` stories generated from ``seed``;
    ``grammar_version`` is part of the spec so that builds cached from an older story grammar are not reused, and
    ``file_stamps`` (size and modification time of each local file, or of each file of a local dataset folder,
    filled in when not given) so that a changed file is never answered from a corpus cached before the change.
    """

    source: str = EMBEDDED
    files: tuple[str, ...] = ()
    config: str | None = None
    split: str = "train"
    text_column: str = "text"
    sample_by: str = "paragraph"
    max_documents: int | None = None
    seed: int = 0
    grammar_version: str = stories.GRAMMAR_VERSION
    file_stamps: tuple[str, ...] = ()

    @classmethod
    def from_spec(cls, base: str | Sequence[str] = EMBEDDED, **kwargs: Any) -> BaseCorpus:
        """Read the CLI form: ``embedded``, one dataset name or folder, or one or more local files."""
        items = [base] if isinstance(base, str) else list(base)
        if not items:
            raise ConfigError("no base corpus given: use 'embedded', a dataset name, or text/JSONL files")
        if items == [EMBEDDED]:
            return cls(source=EMBEDDED, **kwargs)
        files = [x for x in items if os.path.isfile(x)]
        if files and len(files) == len(items):
            return cls(source="files", files=tuple(os.path.abspath(f) for f in files), **kwargs)
        if len(items) > 1:
            missing = next(x for x in items if not os.path.isfile(x))
            raise ConfigError(f"base file {missing!r} does not exist: several bases must all be local files")
        item = items[0]
        if not os.path.isdir(item) and looks_like_file(item):
            raise ConfigError(f"base file {item!r} does not exist")
        return cls(source=os.path.abspath(item) if os.path.isdir(item) else item, **kwargs)

    def __post_init__(self) -> None:
        if self.is_embedded and self.grammar_version != stories.GRAMMAR_VERSION:
            raise ConfigError(
                f"embedded stories of grammar version {self.grammar_version} cannot be generated: this "
                f"hf_clonelang has version {stories.GRAMMAR_VERSION}"
            )
        if self.sample_by not in SAMPLE_BY:
            raise ConfigError(f"sample_by={self.sample_by!r} is not allowed: use one of {', '.join(SAMPLE_BY)}")
        if self.max_documents is not None and self.max_documents < 1:
            raise ConfigError(f"max_documents={self.max_documents} is not allowed: it must be >= 1")
        if self.source == "files" and not self.files:
            raise ConfigError("source='files' needs at least one file")
        local_folder = not self.is_embedded and os.path.isdir(self.source)
        if not self.file_stamps and (self.source == "files" or local_folder):
            files = self.files if self.source == "files" else sorted(map(str, Path(self.source).rglob("*")))
            stamps = tuple(_stamp(f) for f in files if os.path.isfile(f))
            object.__setattr__(self, "file_stamps", stamps)  # frozen: set once, as part of the identity

    @property
    def is_embedded(self) -> bool:
        return self.source == EMBEDDED

    def describe(self) -> str:
        """One line for cards and logs."""
        if self.is_embedded:
            return f"embedded stories (seed {self.seed}, {self.num_documents_hint} stories)"
        if self.source == "files":
            names = ", ".join(os.path.basename(f) for f in self.files[:3]) + (", ..." if len(self.files) > 3 else "")
            return f"local files: {names}"
        config = f", config {self.config}" if self.config else ""
        return f"dataset {self.source}{config}, split {self.split}, column {self.text_column}"

    @property
    def num_documents_hint(self) -> int | None:
        return self.max_documents or (DEFAULT_EMBEDDED_STORIES if self.is_embedded else None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    # ------------------------------------------------------------------ reading
    def validate(self) -> None:
        """Cheap checks before any expensive work: files exist, the text column is there."""
        if self.is_embedded:
            return
        if self.source == "files":
            for f in self.files:
                if not os.path.isfile(f):
                    raise ConfigError(f"base file {f!r} does not exist")
        columns = self._columns()
        if columns is not None and self.text_column not in columns:
            raise ConfigError(
                f"text column {self.text_column!r} not found in {self.describe()}: "
                f"available columns are {', '.join(sorted(columns)) or 'none'}"
            )

    def texts(self) -> Iterator[str]:
        """Documents of the corpus, in order; empty documents are skipped."""
        if self.is_embedded:
            it: Iterable[str] = (s["text"] for s in stories.stories(self.num_documents_hint or 0, seed=self.seed))
        else:
            col = self.text_column
            it = (row[col] for row in self._stream())
        texts = (t for t in it if isinstance(t, str) and t.strip())
        try:
            yield from itertools.islice(texts, self.max_documents) if self.max_documents else texts
        except ConfigError:
            raise
        except Exception as err:  # a file that is not what its name says: one line naming it
            raise self._unreadable(err) from err

    def _unreadable(self, err: BaseException) -> ConfigError:
        """The error for base text that cannot be read: which source, why, and what to give instead."""
        utf8 = isinstance(err, UnicodeDecodeError)
        hint = "give UTF-8 text" if utf8 else "check that the files hold what their names say"
        where = ", ".join(self.files) if self.source == "files" else self.describe()
        return ConfigError(f"cannot read the base text ({where}): {one_line(err)}; {hint}")

    def _stream(self) -> Any:
        from datasets import load_dataset

        if self.source == "files":
            builder, kwargs = _file_builder(self.files, self.sample_by)
            return load_dataset(builder, data_files=list(self.files), split="train", streaming=True, **kwargs)
        try:
            return load_dataset(self.source, self.config, split=self.split, streaming=True)
        except (FileNotFoundError, ValueError) as err:
            raise ConfigError(f"cannot load base dataset {self.source!r}: {str(err).splitlines()[0]}") from err

    def _columns(self) -> set[str] | None:
        ds = self._stream()
        if ds.features is not None:
            return set(ds.features)
        try:
            first = next(iter(ds), None)
        except Exception as err:
            raise self._unreadable(err) from err
        if first is None:
            raise ConfigError(f"the base corpus ({self.describe()}) is empty")
        return set(first)


def _stamp(path: str) -> str:
    """``size:mtime_ns`` of a file (empty for a missing one: `validate` names it)."""
    try:
        st = os.stat(path)
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}"


def looks_like_file(item: str) -> bool:
    """Whether ``item`` names a local file (a text / JSON / Parquet suffix, or a path), not a dataset name."""
    name = item.lower().removesuffix(".gz")
    return name.endswith(_TEXT_SUFFIXES + _JSON_SUFFIXES + _PARQUET_SUFFIXES) or item.startswith(("/", ".", "~"))


def _file_builder(files: Sequence[str], sample_by: str) -> tuple[str, dict[str, Any]]:
    kinds = set()
    for f in files:
        name = f.lower().removesuffix(".gz").removesuffix(".bz2").removesuffix(".xz").removesuffix(".zst")
        if name.endswith(_JSON_SUFFIXES):
            kinds.add("json")
        elif name.endswith(_PARQUET_SUFFIXES):
            kinds.add("parquet")
        else:
            kinds.add("text")
    if len(kinds) > 1:
        raise ConfigError(f"base files mix formats ({', '.join(sorted(kinds))}): give files of one format")
    kind = kinds.pop()
    return kind, ({"sample_by": sample_by} if kind == "text" else {})


def embedded_dataset(num_stories: int = DEFAULT_EMBEDDED_STORIES, seed: int = 0, start: int = 0) -> Any:
    """The embedded stories as a `datasets.Dataset` with ``text``, ``label`` (a `ClassLabel` of `stories.TOPICS`)."""
    import datasets

    label = datasets.ClassLabel(names=list(stories.TOPICS))
    features = datasets.Features({"text": datasets.Value("string"), "label": label})
    rows = [{"text": s["text"], "label": s["label"]} for s in stories.stories(num_stories, seed=seed, start=start)]
    return datasets.Dataset.from_list(rows, features=features)
