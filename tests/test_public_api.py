"""The public names stay importable: everything in `hf_clonelang.__all__` (each the object its own module defines),
every `from hf_clonelang... import` line of the README and docs; and every module has one name (no aliases)."""

import importlib
import importlib.util
import re
from pathlib import Path

import pytest

import hf_clonelang

ROOT = Path(__file__).resolve().parents[1]
_IMPORT = re.compile(r"^\s*from (hf_clonelang[\w.]*) import ([\w, ]+)$", re.M)


def _documented_imports():
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for module, names in _IMPORT.findall(page.read_text()):
            for name in names.split(","):
                yield page.name, module, name.strip()


def test_everything_in_all_is_what_its_module_defines():
    """Each public class and function is re-exported from the module that defines it (lazy ones included), and
    ``SHARED`` is the tokenization layer's constant."""
    for name in hf_clonelang.__all__:
        value = getattr(hf_clonelang, name)
        if name == "SHARED":
            from hf_clonelang.tokenization.clone_layout import SHARED

            assert value is SHARED == 0
            continue
        home = importlib.import_module(value.__module__)
        assert value.__module__.startswith("hf_clonelang.") and getattr(home, name) is value, name


@pytest.mark.parametrize(("page", "module", "name"), list(_documented_imports()))
def test_the_docs_import_lines_work(page, module, name):
    assert hasattr(importlib.import_module(module), name), f"{page}: from {module} import {name}"


def test_every_module_has_one_name():
    """No module is installed under a second name (``sys.modules`` aliases): importing every documented module
    gives modules whose ``__name__`` is the name they were imported by."""
    import pkgutil
    import sys

    names = [m.name for m in pkgutil.walk_packages(hf_clonelang.__path__, "hf_clonelang.")]
    assert {"hf_clonelang.tokenization.cloned_tokenizer", "hf_clonelang.reproduction.grid"} <= set(names)
    for name in names:
        module = importlib.import_module(name)
        assert module.__name__ == name and sys.modules[name] is module, name
    for gone in ("alignment", "efficiency", "vocab", "standalone", "joint_vocab", "verify"):  # moved into layers
        assert importlib.util.find_spec(f"hf_clonelang.{gone}") is None, gone
