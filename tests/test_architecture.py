"""The import contract: layers depend one way, commands > training > analysis > data > hub > core.

Every import in the package (function-level ones too) is read from the source, so a lazy import cannot slip past.
The core is the top-level modules (errors, common, vocab, tokenization, standalone); the package root and the two
public aliases (hf_clonelang.alignment, hf_clonelang.efficiency) re-export and stay outside the contract.
"""

import ast
from pathlib import Path

import pytest

import hf_clonelang

PACKAGE = Path(hf_clonelang.__file__).parent
LAYERS = ["core", "hub", "data", "analysis", "training", "commands"]  # each may import only those before it
OUTSIDE = {"__init__.py", "alignment.py", "efficiency.py"}


def _layer(module: str) -> str:
    """The layer of a dotted module name inside hf_clonelang (``hf_clonelang.data.builder`` -> ``data``)."""
    parts = module.split(".")[1:]
    return parts[0] if parts and parts[0] in LAYERS else "core"


def _imports(path: Path) -> list[str]:
    """The hf_clonelang modules that ``path`` imports, as absolute dotted names."""
    package = ".".join(("hf_clonelang", *path.relative_to(PACKAGE).parent.parts))
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
                names = [f"{target}.{a.name}" for a in node.names] if not node.module else [target]
                found += names
            elif node.module and node.module.startswith("hf_clonelang"):
                found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("hf_clonelang")]
    return found


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).as_posix() not in OUTSIDE)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_imports_point_down_the_layers(path):
    own = _layer(".".join(("hf_clonelang", *path.relative_to(PACKAGE).with_suffix("").parts)))
    allowed = LAYERS[: LAYERS.index(own) + 1]
    bad = [m for m in _imports(path) if _layer(m) not in allowed and m != "hf_clonelang.__version__"]
    assert not bad, f"{path.relative_to(PACKAGE)} ({own}) imports {bad}: allowed layers are {allowed}"


def test_the_contract_sees_a_violation(tmp_path):
    """The checker itself: an upward import in a data module is found."""
    fake = PACKAGE / "data" / "_contract_probe.py"
    fake.write_text("def f():\n    from ..commands.train import main\n")
    try:
        with pytest.raises(AssertionError, match="commands"):
            test_imports_point_down_the_layers(fake)
    finally:
        fake.unlink()


def test_no_library_module_imports_the_script():
    script = {"run_clm_imbalance", "hf_clonelang.commands.train"}
    for path in _modules():
        if path.parent.name != "commands":
            assert not script & set(_imports(path)), path
