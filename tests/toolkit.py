"""The test suite's toolkit: the flags of a tiny run, one subprocess runner, and the local stand-in Hub.

Many tests train a tiny model for a few steps on a tiny corpus, build a corpus with the console CLI, or run code in
a fresh Python process (a client of the stand-in Hub must be configured before any HF library is imported). They
all use these definitions, so a change of the tiny run, of the environment of a subprocess or of the Hub's setup is
made in one place:

- ``TINY_CORPUS``, ``TINY_MODEL``, ``TINY_TRAINING``: the settings of a tiny run, by part, defined once;
  ``tiny_run_flags`` (all parts), ``tiny_corpus_flags`` (for ``hf-clonelang build``) and ``tiny_model_flags`` turn
  them into command-line flags, leaving some out, overriding or adding others (``tiny_run_settings``: as a dict);
- ``run_python``: run ``python ARGS`` and check its exit status, with ``run_training`` (``run_clm_imbalance.py``),
  ``run_cli`` (``python -m hf_clonelang.commands.cli``) and ``run_snippet`` (``python -c``, answering JSON) on top;
- ``local_hub``: a ``hub_server.LocalHub`` with the environment of its clients (the fixtures ``hub`` and
  ``module_hub`` of ``conftest.py``).

Flags are spelled with underscores, the dataclass field names; the CLI accepts dashes as well, which tests check
where they mean to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hub_server import LocalHub

ROOT = Path(__file__).resolve().parents[1]
TRAINING_SCRIPT = ROOT / "run_clm_imbalance.py"

TINY_CORPUS: Mapping[str, object] = MappingProxyType(
    {"max_documents": 400, "vocab_size": 300, "block_size": 32, "eval_blocks": 8}
)
"""A two-language corpus of the embedded stories that builds in about a second."""
TINY_MODEL: Mapping[str, object] = MappingProxyType({"n_layer": 2, "n_embd": 64, "n_head": 2})
"""A GPT-2 of two small layers."""
TINY_TRAINING: Mapping[str, object] = MappingProxyType(
    {
        "per_device_train_batch_size": 4,
        "max_steps": 60,
        "eval_steps": 30,
        "logging_steps": 10,
        "save_steps": 30,
        "learning_rate": "3e-3",
        "disable_tqdm": "true",
    }
)
"""60 steps of 4 blocks (60 x 4 x 32 tokens), evaluated and saved at steps 30 and 60: a rare language learns."""


def _updated(
    settings: Mapping[str, object], left_out: tuple[str, ...], overrides: dict[str, object]
) -> dict[str, object]:
    """`settings` with `overrides` (new names at the end), without `left_out` (which must be among them)."""
    unknown = set(left_out) - set(settings)
    assert not unknown, f"cannot leave out {sorted(unknown)}: not among the settings"
    return {name: value for name, value in {**settings, **overrides}.items() if name not in left_out}


def as_flags(settings: Mapping[str, object]) -> list[str]:
    """``["--name", "value", ...]``: command-line flags of ``settings``."""
    return [text for name, value in settings.items() for text in (f"--{name}", str(value))]


def tiny_run_settings(*left_out: str, **overrides: object) -> dict[str, object]:
    """The settings of a tiny run (corpus, model and training), updated with ``overrides`` (new names are added at
    the end), without the names in ``left_out``: leave a whole part out with ``*TINY_CORPUS``."""
    return _updated({**TINY_CORPUS, **TINY_MODEL, **TINY_TRAINING}, left_out, overrides)


def tiny_run_flags(*left_out: str, **overrides: object) -> list[str]:
    """The flags of a tiny run: ``tiny_run_settings`` as command-line flags."""
    return as_flags(tiny_run_settings(*left_out, **overrides))


def tiny_corpus_flags(*left_out: str, **overrides: object) -> list[str]:
    """The corpus part of a tiny run, the flags of ``hf-clonelang build`` for a tiny corpus; as ``tiny_run_flags``."""
    return as_flags(_updated(TINY_CORPUS, left_out, overrides))


def tiny_model_flags(*left_out: str, **overrides: object) -> list[str]:
    """The model part of a tiny run; as ``tiny_run_flags``."""
    return as_flags(_updated(TINY_MODEL, left_out, overrides))


def subprocess_env(**extra: str) -> dict[str, str]:
    """This process's environment for a child: one thread per process, no tokenizer threads, plus ``extra``."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", **extra}


def run_python(
    *args: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    returncode: int | None = 0,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGS`` in ``env`` (default: ``subprocess_env()``) and return the finished process, its output
    captured as text. Its exit status must be ``returncode`` (None: any); if not, the assertion shows the end of
    its stderr."""
    cmd = [sys.executable, *map(str, args)]
    proc = subprocess.run(
        cmd, env=subprocess_env() if env is None else dict(env), capture_output=True, text=True, timeout=timeout
    )
    if returncode is not None:
        assert proc.returncode == returncode, (
            f"exit status {proc.returncode}, not {returncode}:\n{proc.stderr[-3000:]}"
        )
    return proc


def run_training(*args: str | os.PathLike[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run the training script ``run_clm_imbalance.py ARGS``; keyword arguments as ``run_python``."""
    return run_python(TRAINING_SCRIPT, *args, **kwargs)


def run_cli(*args: str | os.PathLike[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run the console CLI ``hf-clonelang ARGS`` (as ``python -m hf_clonelang.commands.cli``); keyword arguments as
    ``run_python``."""
    return run_python("-m", "hf_clonelang.commands.cli", *args, **kwargs)


def run_snippet(code: str, **kwargs: Any) -> Any:
    """Run ``code`` (dedented) with ``python -c`` and return the JSON that its last line of stdout prints;
    keyword arguments as ``run_python``."""
    proc = run_python("-c", textwrap.dedent(code), **kwargs)
    return json.loads(proc.stdout.strip().splitlines()[-1])


@contextmanager
def local_hub(folder: Path, **extra_env: str) -> Iterator[LocalHub]:
    """A ``LocalHub`` serving from ``folder / "server"`` while the context lasts. Its ``client_env`` is the
    environment of a client process (``subprocess_env``, the Hub's endpoint and token, an ``HF_HOME`` of its own
    in ``folder / "hf_home"``, and ``extra_env``): pass it as ``env`` to the runners."""
    with LocalHub(folder / "server") as server:
        server.client_env = subprocess_env(**server.env(folder / "hf_home"), **extra_env)
        yield server
