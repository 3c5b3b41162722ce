"""The import contract: layers depend one way, and no modules import each other in a circle.

Layers, lowest first: core (``errors``, ``common``, ``scratch``, the argument ``parser`` and the card templates,
``hf_clonelang.model_cards``) < hub < tokenization < data < analysis < training < reproduction < commands; a module
may import only its own layer and the layers below. Every import in the package (function-level and
``TYPE_CHECKING`` ones too) is read from the source, so a lazy import cannot slip past either check. The package root
re-exports every layer: no module may import it (except ``__version__``).
"""

import ast
import importlib.util
from pathlib import Path

import pytest

import hf_clonelang

PACKAGE = Path(hf_clonelang.__file__).parent
TEMPLATES = Path(importlib.util.find_spec("hf_clonelang.model_cards").origin)  # installed as hf_clonelang.model_cards
LAYERS = ["core", "hub", "tokenization", "data", "analysis", "training", "reproduction", "commands"]
CORE = {"errors", "common", "scratch", "parser", "model_cards", "__version__"}
"""The top level keeps only what every layer needs; anything else there is a layer of its own or a mistake."""


def _layer(module: str) -> str:
    """The layer of a dotted module name inside hf_clonelang (``hf_clonelang.data.builder`` -> ``data``)."""
    parts = module.split(".")[1:]
    if not parts:
        return "root"
    head = parts[0]
    if head in LAYERS:
        return head
    return "core" if head in CORE else "root"  # a name the package root re-exports: importing it imports the root


def _imports(source: str, module: str, is_package: bool = False) -> list[str]:
    """The hf_clonelang modules (or names of their packages) that ``source``, the text of module ``module``,
    imports anywhere (top level, functions, ``if TYPE_CHECKING:``), as absolute names."""
    package = module if is_package else module.rsplit(".", 1)[0]
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
    if path == TEMPLATES:
        return "hf_clonelang.model_cards"
    name = ".".join(("hf_clonelang", *path.relative_to(PACKAGE).with_suffix("").parts))
    return name.removesuffix(".__init__")


def _modules() -> list[Path]:
    """Every module of the package but the root ``__init__`` (which re-exports the layers), and the templates'."""
    return [*sorted(p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "__init__.py"), TEMPLATES]


def _cycles(sources: dict[str, tuple[str, bool]]) -> list[list[str]]:
    """The import cycles among ``sources`` (module name -> (source, is a package)): every strongly connected
    component of the import graph with more than one module, or one module importing itself. An import of a name
    that is not one of the modules (``from .x import y``, ``y`` a function) is an edge to the module that holds it."""
    graph: dict[str, set[str]] = {}
    for module, (source, is_package) in sources.items():
        edges = set()
        for name in _imports(source, module, is_package):
            while name not in sources and "." in name:
                name = name.rsplit(".", 1)[0]  # hf_clonelang.data.builder.ClonedCorpusBuilder -> ...data.builder
            if name in sources:
                edges.add(name)
        graph[module] = edges
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: _module_name(p))
def test_imports_point_down_the_layers(path):
    module = _module_name(path)
    assert _layer(module) != "root", f"{module} is at the top level but is not core ({', '.join(sorted(CORE))})"
    bad = _violations(path.read_text(), module)
    assert not bad, f"{module} ({_layer(module)}) imports {bad}: only layers below it, never the package root"


def test_no_import_cycles():
    sources = {_module_name(p): (p.read_text(), p.name == "__init__.py") for p in _modules()}
    cycles = _cycles(sources)
    assert not cycles, f"modules that import each other in a circle: {cycles}"


@pytest.mark.parametrize(
    ("source", "module", "culprit"),
    [
        ("def f():\n    from ..commands.train import main\n", "hf_clonelang.data.probe", "commands"),
        ("from ..reproduction.plan import grid\n", "hf_clonelang.training.probe", "reproduction"),
        ("from ..data.builder import ClonedCorpusBuilder\n", "hf_clonelang.tokenization.probe", "data"),
        ("from hf_clonelang import ImbalanceTrainer\n", "hf_clonelang.data.probe", "ImbalanceTrainer"),
        ("from .. import ClonedTokenizer\n", "hf_clonelang.hub.probe", "ClonedTokenizer"),
    ],
)
def test_the_contract_sees_a_violation(source, module, culprit):
    """The checker itself: an upward import, through the package root too, is found."""
    assert any(culprit in m for m in _violations(source, module))


def test_the_contract_sees_a_cycle():
    """The cycle check itself: a lazy import and a ``TYPE_CHECKING`` import that close a circle, a circle of three
    through ``from . import``, and a name imported from a module all count; modules that import one way do not."""
    lazy = "def f():\n    from .b import g\n"
    typing_only = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import f\n"
    pkg = "hf_clonelang.analysis"
    assert _cycles({f"{pkg}.a": (lazy, False), f"{pkg}.b": (typing_only, False)}) == [[f"{pkg}.a", f"{pkg}.b"]]
    three = {
        f"{pkg}.a": ("from . import b\n", False),
        f"{pkg}.b": ("from hf_clonelang.analysis.c import h\n", False),
        f"{pkg}.c": ("import hf_clonelang.analysis.a\n", False),
    }
    assert _cycles(three) == [[f"{pkg}.a", f"{pkg}.b", f"{pkg}.c"]]
    package = {pkg: ("from .a import f\n", True), f"{pkg}.a": ("from hf_clonelang.analysis import x\n", False)}
    assert _cycles(package) == [[pkg, f"{pkg}.a"]]  # a module that imports its own importer
    one_way = {f"{pkg}.a": ("from .b import g\n", False), f"{pkg}.b": ("import numpy\n", False)}
    assert _cycles(one_way) == []


def test_no_library_module_imports_the_commands():
    """Commands are entry points: nothing below them imports one (the training script included)."""
    for path in _modules():
        module = _module_name(path)
        if _layer(module) != "commands":
            commands = [m for m in _imports(path.read_text(), module) if _layer(m) == "commands"]
            assert not commands, f"{module} imports {commands}"
