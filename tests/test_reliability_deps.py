"""Issue 15, point 10: what the library and the chapters import is declared.

A bare ``pip install`` of the package used to miss ``pandas`` (every chapter, ``to_dataframe``)
and ``scikit-learn`` (``dl.data.photo("china")``, the RF explorer's default photo); the
detection chapter's nuclei part needs ``stardist``'s files, which that chapter's first cell
installs. Imports are read from the code (AST), mapped to distributions by the installed
metadata, and looked up in ``pyproject.toml``'s dependencies.
"""
import ast
import functools
import importlib.metadata as md
import json
import re
import sys
import tomllib

import pytest
from packaging.requirements import Requirement

from conftest import ROOT

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {Requirement(r).name.lower() for r in project["dependencies"]}


def _optional(tree: ast.AST) -> set[int]:
    """Ids of the import nodes inside ``try:`` blocks that catch ImportError: optional by design."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
                for h in node.handlers):
            ids |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return ids


def imported(source: str) -> set[str]:
    """Top-level modules ``source`` needs (optional imports left out)."""
    tree = ast.parse(source)
    optional, names = _optional(tree), set()
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"dcnn_lib"}


@functools.lru_cache(maxsize=None)
def _module_to_distributions() -> dict:
    return md.packages_distributions()


def distributions(module: str) -> set[str]:
    return {d.lower() for d in _module_to_distributions().get(module, [module])}


def code_cells(nb):
    return ["".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"]


def bootstrap_installs(nb) -> set[str]:
    """Distributions the chapter's first cell pip-installs by name (besides dcnn_lib itself)."""
    first = code_cells(nb)[0]
    return {Requirement(r).name.lower() for r in re.findall(r'"install", "-q", "([A-Za-z0-9_.\-<>=]+)"', first)}


def test_the_library_declares_what_it_imports():
    modules = set().union(*(imported(p.read_text()) for p in (ROOT / "dcnn_lib").rglob("*.py")))
    missing = {m: distributions(m) for m in modules if not distributions(m) & declared()}
    assert not missing, f"imported by dcnn_lib but not in pyproject's dependencies: {missing}"


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_a_chapter_imports_only_declared_packages_or_installs_them(nb):
    modules = set().union(*(imported("\n".join(l for l in cell.splitlines() if not l.lstrip().startswith(("%", "!"))))
                            for cell in code_cells(nb)))
    have = declared() | bootstrap_installs(nb)
    missing = {m: distributions(m) for m in modules if not distributions(m) & have}
    assert not missing, f"{nb.name} imports packages a pip install would not bring: {missing}"


def test_a_chapter_that_reads_stardists_files_installs_stardist():
    """The nuclei image is read from the stardist package's files (no import to find)."""
    users = [nb for nb in CHAPTERS if any("stardist_available" in c or "stardist_nuclei" in c for c in code_cells(nb))]
    assert users, "no chapter reads the nuclei image any more: drop this test"
    for nb in users:
        assert "stardist" in bootstrap_installs(nb) | declared(), f"{nb.name}: its first cell does not install stardist"


def test_the_chapters_default_photo_is_installed_by_the_package():
    from dcnn_lib.data.photos import PHOTOS

    assert PHOTOS["china"][0] == "sklearn" and "scikit-learn" in declared()
