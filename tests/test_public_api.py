"""The public names stay importable: everything in `hf_clonelang.__all__`, every `from hf_clonelang... import`
line of the README and docs, and the functions of `hf_clonelang.alignment` / `hf_clonelang.efficiency`."""

import importlib
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


def test_everything_in_all_resolves():
    for name in hf_clonelang.__all__:
        assert getattr(hf_clonelang, name) is not None, name


@pytest.mark.parametrize(("page", "module", "name"), list(_documented_imports()))
def test_the_docs_import_lines_work(page, module, name):
    assert hasattr(importlib.import_module(module), name), f"{page}: from {module} import {name}"


def test_the_old_module_names_are_the_analysis_modules():
    import hf_clonelang.alignment as alignment
    import hf_clonelang.efficiency as efficiency
    from hf_clonelang.analysis import alignment as moved_alignment
    from hf_clonelang.analysis import efficiency as moved_efficiency

    assert alignment is moved_alignment and efficiency is moved_efficiency
    for name in ("hidden_alignment", "gradient_alignment", "alignment_report", "summarize"):
        assert callable(getattr(alignment, name)), name
    for name in ("fit_power_law", "token_efficiency", "mlpe", "monolingual_curves", "interpolate_loglog"):
        assert callable(getattr(efficiency, name)), name
