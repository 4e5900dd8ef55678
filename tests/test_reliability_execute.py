"""Issue 15, point 7: ``make execute`` (``.ci/execute.py``) on bad paths, failed runs, and the
papermill metadata it commits."""
import importlib.util
import json
from pathlib import Path

import pytest

from conftest import ROOT

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


@pytest.fixture
def runner(monkeypatch):
    spec = importlib.util.spec_from_file_location("ci_execute", ROOT / ".ci" / "execute.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.chdir(ROOT)
    return module


def test_a_misspelt_path_stops_the_run_even_when_another_matches(runner, monkeypatch, capsys):
    ran = []
    monkeypatch.setattr(runner, "execute", lambda path, *a, **k: ran.append(path) or True)
    code = runner.main(["chapters/lenet5.ipynb", "chapters/lenet.ipynb", "--scale", "smoke"])
    out = capsys.readouterr().out
    assert code == 2 and ran == []                       # exit 0 after running lenet5 before
    assert "no notebook matches 'chapters/lenet.ipynb' (did you mean chapters/lenet5.ipynb?)" in out
    assert runner.main(["chapters/lenet5.ipynb", "chapters/vgg.ipynb"]) == 0 and len(ran) == 2


def test_a_failure_before_any_cell_points_at_no_partial_run(runner, tmp_path, capsys):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ this is not JSON")
    assert runner.execute(broken, "smoke", None, tmp_dir=tmp_path / "partial") is False
    out = capsys.readouterr().out
    assert "papermill wrote no partial run" in out and "the partial run is in" not in out
    assert broken.read_text() == "{ this is not JSON"


def fake_papermill_output(source: Path, output: Path, **kwargs) -> None:
    """What papermill writes: the notebook with absolute temporary paths in its metadata."""
    nb = json.loads(source.read_text())
    nb["metadata"]["papermill"] = {"duration": 1.0, "input_path": str(source.resolve()),
                                   "output_path": str(output.resolve()), "parameters": {}}
    output.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def test_a_run_commits_relative_papermill_paths(runner, monkeypatch, tmp_path):
    import papermill

    monkeypatch.setattr(runner, "ROOT", tmp_path)              # a repository of one chapter
    chapter = tmp_path / "chapters" / "x.ipynb"
    chapter.parent.mkdir()
    chapter.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    monkeypatch.setattr(papermill, "execute_notebook",
                        lambda src, out, **k: fake_papermill_output(Path(src), Path(out)))
    assert runner.execute(chapter, "smoke", None, tmp_dir=tmp_path / ".execute-tmp") is True
    meta = json.loads(chapter.read_text())["metadata"]["papermill"]
    assert meta["input_path"] == meta["output_path"] == "chapters/x.ipynb"
    assert meta["duration"] == 1.0


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_committed_chapters_hold_no_machine_paths(nb):
    meta = json.loads(nb.read_text())["metadata"]["papermill"]
    assert meta["input_path"] == meta["output_path"] == f"chapters/{nb.name}"


def test_normalizing_changes_only_the_two_paths(runner, tmp_path):
    nb = tmp_path / "x.ipynb"
    fake_papermill_output(CHAPTERS[0], nb)
    before = nb.read_text()
    assert runner.normalize_papermill_paths(nb, "chapters/x.ipynb") is True
    after = nb.read_text()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert len(changed) == 2 and all("_path" in a for a, _ in changed)
    assert runner.normalize_papermill_paths(nb, "chapters/x.ipynb") is False
