"""The import graph of dcnn_lib: no circle anywhere, and the arrows of DESIGN.md.

Every ``import`` / ``from ... import`` statement of every module is read with ``ast`` — those
inside functions (lazy imports) too — and resolved to modules of the package. Two rules make
the graph the one Python executes:

- a module that imports from one of its own parent packages adds no edge (a parent package
  is always initialised before its submodules run);
- a module that imports dynamically (``importlib.import_module``, ``pkgutil``) is taken to
  import every module below its package (``dcnn_lib.models`` discovers its model modules so).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "dcnn_lib"
DYNAMIC = ("import_module", "walk_packages", "iter_modules")


def _modules(root: Path) -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return out


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module name -> the package modules it imports (at import time or lazily)."""
    mods = _modules(root)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, (path, is_pkg) in mods.items():
        package = name if is_pkg else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(base_parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                targets.add(base)
                targets.update(f"{base}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in DYNAMIC:
                targets.update(m for m in mods if m.startswith(package + "."))
        graph[name] = {t for t in targets if t in mods and t != name and not name.startswith(t + ".")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(u: str) -> list[str] | None:
        state[u] = 1
        stack.append(u)
        for v in sorted(graph[u]):
            if state.get(v) == 1:
                return stack[stack.index(v):] + [v]
            if not state.get(v) and (found := visit(v)):
                return found
        stack.pop()
        state[u] = 2
        return None

    for m in sorted(graph):
        if not state.get(m) and (found := visit(m)):
            return found
    return None


def test_no_import_circle_in_dcnn_lib():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_lazy_circle(tmp_path):
    pkg = tmp_path / "dcnn_lib"
    (pkg / "models").mkdir(parents=True)
    (pkg / "detection").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "models" / "__init__.py").write_text("import importlib\nimportlib.import_module('.x', __name__)\n")
    (pkg / "models" / "x.py").write_text("from ..detection import backbones\n")
    (pkg / "detection" / "__init__.py").write_text("")
    (pkg / "detection" / "backbones.py").write_text("def f():\n    from .. import models\n")
    cycle = find_cycle(import_graph(pkg))
    assert cycle and cycle[0] == cycle[-1] and "dcnn_lib.detection.backbones" in cycle


# DESIGN.md: recipes -> models/train/data; models -> layers/detection; analysis, layers and
# data never import models; detection takes any model and builds none.
NEVER = {
    "dcnn_lib.analysis": ("dcnn_lib.models", "dcnn_lib.registry", "dcnn_lib.recipes"),
    "dcnn_lib.layers": ("dcnn_lib.models", "dcnn_lib.registry", "dcnn_lib.recipes", "dcnn_lib.detection"),
    "dcnn_lib.data": ("dcnn_lib.models", "dcnn_lib.registry", "dcnn_lib.recipes"),
    "dcnn_lib.detection": ("dcnn_lib.models", "dcnn_lib.registry", "dcnn_lib.recipes"),
    "dcnn_lib.models": ("dcnn_lib.recipes", "dcnn_lib.train", "dcnn_lib.widgets", "dcnn_lib.viz"),
    "dcnn_lib.registry": ("dcnn_lib.models",),
    "dcnn_lib.model_meta": ("dcnn_lib.models", "dcnn_lib.registry"),
    "dcnn_lib.errors": ("dcnn_lib.",),
}


@pytest.mark.parametrize("source", sorted(NEVER))
def test_arrows_point_downwards(source):
    graph = import_graph()
    bad = sorted(f"{m} -> {t}" for m, targets in graph.items() if m == source or m.startswith(source + ".")
                 for t in targets if any(t == f or t.startswith(f if f.endswith(".") else f + ".") for f in NEVER[source]))
    assert not bad, bad
