"""Labelled data for a probe: any `load_dataset` source with one or two text columns and a label column, checked
before any model runs.

A task is named by ``SOURCE[:CONFIG]``: ``embedded`` (the labelled stories of ``hf-clonelang stories``, offline), a
local CSV / TSV / JSON(L) / Parquet file or dataset folder, or a Hub dataset (``nyu-mll/glue:mrpc``). For a run of
real languages each language brings its own data: ``{lang}`` in the name is replaced by the language's name
(``facebook/xnli:{lang}``, ``data/sst2_{lang}.csv``). The training split is ``train``; the evaluation split is the
first of ``validation``, ``validation_matched`` and a labelled ``test`` that the source has, or else a seeded share
of ``train``. String labels become a `datasets.ClassLabel` (sorted names); integer labels keep their values.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...common import EMBEDDED
from ...errors import ConfigError, one_line

logger = logging.getLogger(__name__)

LANGUAGE_PLACEHOLDER = "{lang}"
"""Replaced by each language's name in a task's source, for runs of real languages."""
EVAL_SPLITS = ("validation", "validation_matched", "test")
"""Evaluation splits looked for, in this order (a ``test`` split only when it is labelled)."""
TEXT_PAIRS = (
    ("sentence1", "sentence2"),
    ("question1", "question2"),
    ("premise", "hypothesis"),
    ("question", "sentence"),
    ("question", "passage"),
)
"""Sentence-pair columns recognised without ``--text_column`` (GLUE's names, as the reference script looks for)."""
TEXT_SINGLES = ("text", "sentence")
"""Single text columns recognised without ``--text_column``."""
FILE_BUILDERS = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}
EMBEDDED_EXAMPLES = (2000, 500)
"""Training and evaluation stories of the embedded task."""


@dataclass
class Examples:
    """Texts (a tuple of one or two strings each) and their integer labels."""

    texts: list[tuple[str, ...]]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def head(self, n: int | None) -> Examples:
        return self if n is None or n >= len(self) else Examples(self.texts[:n], self.labels[:n])


@dataclass
class ProbeTask:
    """One classification task: its label names and, per language (1..N), the training and evaluation examples.
    For cloned languages every language holds the same examples; real languages each hold their own."""

    name: str
    label_names: tuple[str, ...]
    train: dict[int, Examples]
    eval: dict[int, Examples]
    sources: dict[int, str] = field(default_factory=dict)
    eval_split: str = "validation"

    @property
    def num_labels(self) -> int:
        return len(self.label_names)


@dataclass(frozen=True)
class TaskOptions:
    """How the examples of every task are read."""

    text_columns: tuple[str, ...] | None = None
    label_column: str = "label"
    train_split: str = "train"
    eval_split: str | None = None
    eval_share: float = 0.2
    max_train_examples: int | None = None
    max_eval_examples: int | None = None
    seed: int = 12
    story_seed: int = 1

    def to_dict(self) -> dict[str, Any]:
        """The options as ``probe.json`` records them."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def task_name(spec: str) -> str:
    """A short name of a task for tables and the card: ``glue/mrpc`` for ``nyu-mll/glue:mrpc``, a file's stem."""
    source, _, config = spec.partition(":")
    if source == EMBEDDED:
        return "stories"
    path = Path(source)
    base = path.stem if path.suffix in FILE_BUILDERS else source.split("/")[-1]
    return f"{base}/{config}" if config else base


def public_source(spec: str) -> str:
    """How ``probe.json`` and the card name a task's source: a local file or folder by its name only (a path would
    publish the local directory tree), anything else (``embedded``, a Hub dataset) as given."""
    source, sep, config = spec.partition(":")
    path = Path(source).expanduser()
    if source != EMBEDDED and (path.exists() or path.suffix in FILE_BUILDERS or path.is_absolute()):
        return f"{path.name}{sep}{config}"
    return spec


def load_task(spec: str, languages: dict[int, str | None], options: TaskOptions) -> ProbeTask:
    """The task ``spec`` for the languages ``{k: name}`` (name None for a cloned language: every language reads the
    same examples, in its own ids), checked: one `ConfigError` line for anything unusable."""
    real = any(name is not None for name in languages.values())
    if real and spec.split(":")[0] == EMBEDDED:
        raise ConfigError(
            "--dataset embedded holds English stories only: a run of real languages needs each language's own "
            f"labelled data, e.g. --dataset data/task_{LANGUAGE_PLACEHOLDER}.csv"
        )
    if real and LANGUAGE_PLACEHOLDER not in spec:
        names = ", ".join(str(n) for n in languages.values())
        raise ConfigError(
            f"--dataset {spec!r} names one source for the real languages {names}: each language is evaluated on "
            f"its own labelled data; put {LANGUAGE_PLACEHOLDER} where the language's name goes"
        )
    if not real and LANGUAGE_PLACEHOLDER in spec:
        raise ConfigError(
            f"--dataset {spec!r} has {LANGUAGE_PLACEHOLDER}, but the model's languages are clones of one language: "
            "give one source, read in every language's ids"
        )
    if not real:
        train, evaluation, names, split = _load_examples(spec, options)
        return ProbeTask(
            task_name(spec),
            names,
            dict.fromkeys(languages, train),
            dict.fromkeys(languages, evaluation),
            dict.fromkeys(languages, spec),
            split,
        )
    per_language = {k: spec.replace(LANGUAGE_PLACEHOLDER, str(name)) for k, name in languages.items()}
    loaded = {k: _load_examples(source, options) for k, source in per_language.items()}
    names = {k: value[2] for k, value in loaded.items()}
    first = next(iter(names.values()))
    for k, other in names.items():
        if other != first:
            raise ConfigError(
                f"the labels of {per_language[k]} ({', '.join(other)}) differ from those of "
                f"{next(iter(per_language.values()))} ({', '.join(first)}): a probe needs the same classes in "
                "every language"
            )
    return ProbeTask(
        task_name(spec.replace(LANGUAGE_PLACEHOLDER, "lang")),
        first,
        {k: v[0] for k, v in loaded.items()},
        {k: v[1] for k, v in loaded.items()},
        per_language,
        next(iter(loaded.values()))[3],
    )


def _load_examples(spec: str, options: TaskOptions) -> tuple[Examples, Examples, tuple[str, ...], str]:
    """(training examples, evaluation examples, label names, evaluation split) of one source."""
    source, _, config = spec.partition(":")
    if source == EMBEDDED:
        return _embedded(options)
    data = _load_source(source, config or None)
    if options.train_split not in data:
        raise ConfigError(
            f"--dataset {spec!r} has no {options.train_split!r} split (it has {', '.join(data)}): give --train_split"
        )
    train = data[options.train_split]
    if len(train) == 0:
        raise ConfigError(f"--dataset {spec!r} is empty: its {options.train_split!r} split has no rows")
    split = options.eval_split
    if split is not None and split not in data:
        raise ConfigError(f"--dataset {spec!r} has no {split!r} split (it has {', '.join(data)}): give --eval_split")
    if split is None:
        split = next((s for s in EVAL_SPLITS if s in data and _labelled(data[s], options.label_column)), None)
    columns = _text_columns(train, spec, options.text_columns, options.label_column)
    _check_label_column(train, spec, options.label_column)
    _check_texts(train, columns, spec, options.train_split)  # rows numbered as in the source
    if split is None:
        if len(train) < 2:
            raise ConfigError(f"--dataset {spec!r} has {len(train)} training example(s): a probe needs more")
        parts = train.train_test_split(test_size=options.eval_share, seed=options.seed)
        train, evaluation, split = parts["train"], parts["test"], f"{options.eval_share:g} of {options.train_split}"
    else:
        evaluation = data[split]
        _text_columns(evaluation, spec, columns, options.label_column)
        _check_texts(evaluation, columns, spec, split)
    names, train_labels, eval_labels = _labels(train, evaluation, spec, options.label_column)
    result = (
        _examples(train, columns, train_labels).head(options.max_train_examples),
        _examples(evaluation, columns, eval_labels).head(options.max_eval_examples),
    )
    for part, what in zip(result, ("training", "evaluation"), strict=True):
        if len(part) == 0:
            raise ConfigError(f"--dataset {spec!r} has no {what} examples: give a dataset with labelled rows")
    return (*result, names, split)


def _embedded(options: TaskOptions) -> tuple[Examples, Examples, tuple[str, ...], str]:
    """The embedded stories labelled with their plot (`TOPICS`): stories 0..1999 of ``story_seed`` to train on,
    the next 500 to evaluate on (the training corpus uses another seed, so the model never read them)."""
    from ...data.stories import TOPICS, stories

    n_train, n_eval = EMBEDDED_EXAMPLES
    rows = list(stories(n_train + n_eval, seed=options.story_seed))
    texts = [(row["text"],) for row in rows]
    labels = np.asarray([row["label"] for row in rows], dtype=np.int64)
    train = Examples(texts[:n_train], labels[:n_train]).head(options.max_train_examples)
    evaluation = Examples(texts[n_train:], labels[n_train:]).head(options.max_eval_examples)
    return train, evaluation, TOPICS, f"validation (seed {options.story_seed})"


def _load_source(source: str, config: str | None) -> Any:
    """A `datasets.DatasetDict` of a local file, a local folder or a Hub dataset."""
    from datasets import DatasetDict, load_dataset

    path = Path(source)
    looks_local = path.suffix in FILE_BUILDERS or source.startswith((".", "/", "~")) or path.exists()
    if looks_local and not path.exists():
        raise ConfigError(f"--dataset {source!r} does not exist: give a CSV/TSV/JSON(L)/Parquet file or folder")
    if path.is_file() and path.suffix in (".csv", ".tsv", ".json", ".jsonl") and _text_file_is_empty(path):
        raise ConfigError(f"--dataset {source!r} is empty: it holds no rows")
    try:
        if path.is_file():
            builder = FILE_BUILDERS.get(path.suffix)
            if builder is None:
                raise ConfigError(
                    f"--dataset {source!r} is a {path.suffix or 'suffix-less'} file: give one of "
                    f"{', '.join(FILE_BUILDERS)}"
                )
            extra = {"delimiter": "\t"} if path.suffix == ".tsv" else {}
            data = load_dataset(builder, data_files=str(path), **extra)
        else:
            data = load_dataset(source, config)
    except ConfigError:
        raise
    except Exception as err:  # not found, no such config, unreadable file: one line naming the source
        raise ConfigError(
            f"--dataset {source!r}{f' (config {config!r})' if config else ''} does not load: {one_line(err)}"
        ) from err
    if not isinstance(data, DatasetDict) or not data:
        raise ConfigError(f"--dataset {source!r} holds no splits")
    return data


def _text_file_is_empty(path: Path) -> bool:
    """Whether a CSV / TSV holds no line besides its header, or a JSON(L) file nothing but blanks or ``[]``."""
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [line for line in (next(f, None) for _ in range(3)) if line is not None and line.strip()]
    if path.suffix in (".csv", ".tsv"):
        return len(lines) <= 1
    return not lines or (len(lines) == 1 and lines[0].strip() in ("[]", "{}"))


def _labelled(split: Any, column: str) -> bool:
    """Whether an evaluation split carries labels (GLUE's test splits hold -1 everywhere)."""
    if column not in split.column_names or len(split) == 0:
        return False
    values = split[column]
    return not all(isinstance(v, (int, np.integer)) and v < 0 for v in values)


def _text_columns(split: Any, spec: str, given: tuple[str, ...] | None, label: str = "label") -> tuple[str, ...]:
    columns = split.column_names
    if given:
        missing = [c for c in given if c not in columns]
        if missing:
            raise ConfigError(
                f"--dataset {spec!r} has no text column {missing[0]!r} (its columns: {', '.join(columns)}): give "
                "--text_column"
            )
        return tuple(given)
    for pair in TEXT_PAIRS:
        if all(c in columns for c in pair):
            return pair
    for single in TEXT_SINGLES:
        if single in columns:
            return (single,)
    strings = [c for c in columns if c not in (label, "idx") and getattr(split.features[c], "dtype", None) == "string"]
    if len(strings) == 1:  # one text column under another name
        return (strings[0],)
    raise ConfigError(
        f"--dataset {spec!r} has no text column (its columns: {', '.join(columns)}): give --text_column NAME (or "
        "NAME1,NAME2 for sentence pairs)"
    )


def _check_label_column(split: Any, spec: str, column: str) -> None:
    if column not in split.column_names:
        raise ConfigError(
            f"--dataset {spec!r} has no label column {column!r} (its columns: {', '.join(split.column_names)}): "
            "give --label_column"
        )


def _labels(train: Any, evaluation: Any, spec: str, column: str) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Label names and the integer labels of both splits: a ClassLabel's names, booleans (``False``, ``True``),
    sorted string labels, or the sorted distinct integers numbered 0..n-1 (named by their value)."""
    from datasets import ClassLabel

    _check_label_column(evaluation, spec, column)
    feature = train.features[column]
    raw = {"train": list(train[column]), "eval": list(evaluation[column])}
    if isinstance(feature, ClassLabel):
        names = tuple(feature.names)
        values = {k: np.asarray(v, dtype=np.int64) for k, v in raw.items()}
        _check_negative(values, spec, column)
    elif all(isinstance(v, (bool, np.bool_)) for v in raw["train"] + raw["eval"]):  # a CSV's True / False
        names = ("False", "True")
        values = {k: np.asarray(v, dtype=np.int64) for k, v in raw.items()}
    elif all(isinstance(v, str) for v in raw["train"] + raw["eval"]):
        names = tuple(sorted(set(raw["train"]) | set(raw["eval"])))
        index = {name: i for i, name in enumerate(names)}
        values = {k: np.asarray([index[x] for x in v], dtype=np.int64) for k, v in raw.items()}
    else:
        everything = raw["train"] + raw["eval"]
        if all(isinstance(x, float) and x.is_integer() for x in everything):  # pandas reads 0 / 1 as 0.0 / 1.0 ...
            raw = {k: [int(x) for x in v] for k, v in raw.items()}
            everything = raw["train"] + raw["eval"]
        bad = next((x for x in everything if isinstance(x, float) and not x.is_integer()), None)  # ... and 0.5
        if bad is None:
            bad = next((x for x in everything if isinstance(x, bool) or not isinstance(x, (int, np.integer))), None)
        if bad is not None:
            raise ConfigError(
                f"--dataset {spec!r}: label {bad!r} in column {column!r} is not allowed: labels are integers >= 0 "
                "or strings (class names)"
            )
        values = {k: np.asarray(v, dtype=np.int64) for k, v in raw.items()}
        _check_negative(values, spec, column)
        # the sorted distinct values are the classes, numbered 0..n-1 (as the reference's label_to_id,
        # finetune_classification.py:372-377,472-473): labels {1, 2} are two classes, not three
        classes = np.unique(np.concatenate([v for v in values.values() if len(v)]))
        names = tuple(str(int(c)) for c in classes)
        values = {k: np.searchsorted(classes, v).astype(np.int64) for k, v in values.items()}
    present = np.unique(values["train"])
    if len(present) < 2:
        label = names[int(present[0])] if len(present) else "none"
        raise ConfigError(
            f"--dataset {spec!r}: every training example has the label {label!r}: a probe needs at least 2 classes"
        )
    return names, values["train"], values["eval"]


def _check_texts(split: Any, columns: tuple[str, ...], spec: str, name: str) -> None:
    """Refuse a missing or blank text, naming its row (counted from 0 in the split)."""
    for column in columns:
        for i, text in enumerate(split[column]):
            if not isinstance(text, str) or not text.strip():
                raise ConfigError(
                    f"--dataset {spec!r}: row {i} of split {name!r} has an empty text in column {column!r}: remove "
                    "or fill empty rows"
                )


def _check_negative(values: dict[str, np.ndarray], spec: str, column: str) -> None:
    low = min((int(v.min()) for v in values.values() if len(v)), default=0)
    if low < 0:
        raise ConfigError(
            f"--dataset {spec!r}: label {low} in column {column!r} is not allowed: integer labels must be >= 0 "
            "(unlabelled rows, e.g. GLUE's test split, cannot be probed)"
        )


def _examples(split: Any, columns: tuple[str, ...], labels: np.ndarray) -> Examples:
    return Examples(list(zip(*(split[c] for c in columns), strict=True)), labels)
