"""Argument parsing of every command: `HfArgumentParser` over the argument dataclasses, plus a config file.

The argument dataclasses live in their layers (`CorpusArguments` in data, `ModelArguments` and
`ImbalanceTrainingArguments` in training, `ReproduceArguments` in reproduction, `BuildArguments` in commands); this
is the one machinery that parses them, so every command reads flags and files alike, and the reproduction grid
resolves a run's command line exactly as the training script will.

``--config cfg.yaml`` (or a lone positional ``cfg.yaml`` / ``cfg.json``) supplies values that the command line
then overrides, as TRL's parser does: the file's entries become flags placed before the command line's own, so
the same type conversion applies to both and the last value wins. Dash and underscore spellings
(``--vocab-size``, ``--vocab_size``) are the same flag. A list flag given several times on the command line
collects every value (``--language en=a.txt --language fr=b.txt``); the command line's list still replaces the
config file's. A command may name a *remainder* field: everything after ``--`` goes there verbatim (after the
config file's list of that name), e.g. the flags ``reproduce`` passes to every run.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import ConfigError

CONFIG_SUFFIXES = (".json", ".yaml", ".yml")


def parse_dataclasses(
    types: Sequence[type], argv: Sequence[str], prog: str, description: str = "", remainder: str | None = None
) -> tuple:
    """One instance per dataclass in ``types`` from ``argv`` (with an optional config file), validated.
    ``remainder`` names a list field that takes the arguments after ``--`` (the config file's list first)."""
    from transformers import HfArgumentParser

    parser = HfArgumentParser(list(types), prog=prog, description=description, allow_abbrev=False)
    parser.add_argument(
        "--config", default=None, metavar="FILE", help="YAML or JSON file of arguments; the command line overrides it"
    )
    argv = list(argv)
    passed: list[str] = []
    if remainder is not None and "--" in argv:
        cut = argv.index("--")
        argv, passed = argv[:cut], argv[cut + 1 :]
    config, argv = _config_file(argv)
    argv = collect_repeated(argv, parser)
    values = config_values(config) if config else {}
    if remainder is not None:
        passed = [*_string_list(values.pop(remainder, None) or [], f"{remainder} in {config}"), *passed]
    flags = [*as_flags(values), *argv]
    _, rest = parser.parse_known_args(flags)  # unknown flags first: before any value is checked
    if rest:
        raise ConfigError(f"unknown arguments: {' '.join(rest)} (see {prog} --help)")
    parsed = tuple(v for v in parser.parse_args_into_dataclasses(flags) if dataclasses.is_dataclass(v))
    for value in parsed:  # (the --config namespace is dropped)
        if remainder is not None and hasattr(value, remainder):
            setattr(value, remainder, [*getattr(value, remainder), *passed])
    return parsed


def _string_list(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise ConfigError(f"{what} must be a list of flags and values, e.g. [--tie_word_embeddings, true]")
    return [flag_value(v) for v in value]


def comma_numbers(text: str, flag: str, integers: bool = False) -> tuple[float, ...] | tuple[int, ...]:
    """A comma-separated list as the command line writes it (``--seeds 0,1``) as numbers, or one line naming the
    flag and its value."""
    try:
        return tuple((int if integers else float)(x) for x in text.split(","))
    except ValueError:
        kind = "integers" if integers else "numbers"
        raise ConfigError(f"{flag}={text!r} is not allowed: give a comma-separated list of {kind}") from None


def collect_repeated(argv: list[str], parser: Any) -> list[str]:
    """Every value of a list flag (``nargs="+"``) given more than once, under its first occurrence."""
    lists = {opt: action.dest for action in parser._actions if action.nargs == "+" for opt in action.option_strings}
    out: list[str] = []
    first: dict[str, int] = {}  # dest -> where its values go in ``out``
    i = 0
    while i < len(argv):
        flag, eq, inline = argv[i].partition("=")
        dest = lists.get(flag) if argv[i].startswith("--") else None
        if dest is None:
            out.append(argv[i])
            i += 1
            continue
        values = [inline] if eq else []
        i += 1
        while not eq and i < len(argv) and not argv[i].startswith("--"):
            values.append(argv[i])
            i += 1
        if dest in first:
            at = first[dest]
            out[at:at] = values
            first = {d: (p + len(values) if p >= at and d != dest else p) for d, p in first.items()}
            first[dest] = at + len(values)
        else:
            out += [flag, *values]
            first[dest] = len(out)
    return out


def _config_file(argv: list[str]) -> tuple[str | None, list[str]]:
    """Take ``--config FILE`` / ``--config=FILE`` or a leading positional config file out of ``argv``."""
    for i, arg in enumerate(argv):
        if arg == "--config":
            if i + 1 == len(argv):
                raise ConfigError("--config needs a file name")
            return argv[i + 1], argv[:i] + argv[i + 2 :]
        if arg.startswith("--config="):
            return arg.split("=", 1)[1], argv[:i] + argv[i + 1 :]
    if argv and not argv[0].startswith("-") and argv[0].endswith(CONFIG_SUFFIXES):
        return argv[0], argv[1:]
    return None, argv


def config_values(path: str) -> dict[str, Any]:
    """The entries of a YAML / JSON config file (argument names to values)."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"config file {path!r} does not exist")
    import yaml

    text = file.read_text()
    loaded = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise ConfigError(f"config file {path!r} must hold a mapping of argument names to values")
    return loaded


def as_flags(values: dict[str, Any]) -> list[str]:
    """``{"max_steps": 100, "train_files": ["a", "b"]}`` as ``--max_steps 100 --train_files a b`` (None: left out)."""
    flags: list[str] = []
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, list):
            flags += [f"--{key}", *map(str, value)]
        else:
            flags += [f"--{key}", flag_value(value)]
    return flags


def flag_value(value: Any) -> str:
    """One value as the command line spells it: ``true`` / ``false``, a dict as JSON, anything else as text."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)
