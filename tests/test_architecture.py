"""The import contract: layers depend one way, commands > training > analysis > data > hub > core.

Every import in the package (function-level ones too) is read from the source, so a lazy import cannot slip past.
The core is the top-level modules (errors, common, vocab, tokenization, standalone). The package root re-exports
every layer and the two public aliases (hf_clonelang.alignment, hf_clonelang.efficiency) are analysis modules:
no module may import the root (except ``__version__``), and the aliases count as analysis.
"""

import ast
from pathlib import Path

import pytest

import hf_clonelang

PACKAGE = Path(hf_clonelang.__file__).parent
LAYERS = ["core", "hub", "data", "analysis", "training", "commands"]  # each may import only those before it
ALIASES = {"hf_clonelang.alignment": "analysis", "hf_clonelang.efficiency": "analysis"}
OUTSIDE = {"__init__.py", "alignment.py", "efficiency.py"}


def _layer(module: str) -> str:
    """The layer of a dotted module name inside hf_clonelang (``hf_clonelang.data.builder`` -> ``data``)."""
    for alias, layer in ALIASES.items():
        if module == alias or module.startswith(alias + "."):
            return layer
    parts = module.split(".")[1:]
    if not parts:
        return "root"
    head = parts[0]
    if head in LAYERS:
        return head
    is_module = head == "__version__" or (PACKAGE / f"{head}.py").is_file() or (PACKAGE / head).is_dir()
    return "core" if is_module else "root"  # a name the package root re-exports: importing it imports the root


def _imports(source: str, module: str) -> list[str]:
    """The hf_clonelang modules that ``source`` (the text of module ``module``) imports, as absolute names."""
    package = module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                if node.module:
                    found.append(f"{base}.{node.module}")
                else:  # from . import x: x may be a module or a name of the package
                    found += [f"{base}.{a.name}" for a in node.names]
            elif node.module and node.module.split(".")[0] == "hf_clonelang":
                root = node.module == "hf_clonelang"
                found += [f"hf_clonelang.{a.name}" for a in node.names] if root else [node.module]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "hf_clonelang"]
    return found


def _violations(source: str, module: str) -> list[str]:
    """The imports of ``source`` (module ``module``) that point up the layers or at the package root."""
    allowed = LAYERS[: LAYERS.index(_layer(module)) + 1]
    return [m for m in _imports(source, module) if _layer(m) not in allowed]


def _module_name(path: Path) -> str:
    return ".".join(("hf_clonelang", *path.relative_to(PACKAGE).with_suffix("").parts))


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).as_posix() not in OUTSIDE)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_imports_point_down_the_layers(path):
    module = _module_name(path)
    bad = _violations(path.read_text(), module)
    assert not bad, f"{module} ({_layer(module)}) imports {bad}: only layers below it, never the package root"


@pytest.mark.parametrize(
    ("source", "module", "culprit"),
    [
        ("def f():\n    from ..commands.train import main\n", "hf_clonelang.data.probe", "commands"),
        ("from ..alignment import summarize\n", "hf_clonelang.hub.probe", "hf_clonelang.alignment"),
        ("from hf_clonelang import ImbalanceTrainer\n", "hf_clonelang.data.probe", "ImbalanceTrainer"),
        ("from .. import ClonedTokenizer\n", "hf_clonelang.hub.probe", "ClonedTokenizer"),
    ],
)
def test_the_contract_sees_a_violation(source, module, culprit):
    """The checker itself: an upward import, through the aliases or the package root too, is found."""
    assert any(culprit in m for m in _violations(source, module))


def test_no_library_module_imports_the_script():
    script = {"run_clm_imbalance", "hf_clonelang.commands.train"}
    for path in _modules():
        if path.parent.name != "commands":
            assert not script & set(_imports(path.read_text(), _module_name(path))), path
