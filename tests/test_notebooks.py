"""Every chapter runs top to bottom at smoke scale with papermill (parameters injected), and a
failed `make execute` leaves the committed notebook byte-identical."""
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_chapter_runs_at_smoke_scale_with_papermill(nb, tmp_path):
    import papermill

    out = tmp_path / nb.name
    papermill.execute_notebook(str(nb), str(out), parameters={"SCALE": "smoke"}, cwd=str(tmp_path),
                               kernel_name="python3", progress_bar=False)
    executed = nbformat.read(out, as_version=4)
    text = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert "scale smoke" in text


def _notebook(path: Path, source: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('SCALE = "auto"', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def run_execute(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / ".ci" / "execute.py"), "--scale", "smoke", str(path)],
                          capture_output=True, text=True, cwd=ROOT)


def test_failed_execution_leaves_the_notebook_byte_identical(tmp_path):
    path = tmp_path / "failing.ipynb"
    _notebook(path, "raise RuntimeError('boom')")
    before = path.read_bytes()
    result = run_execute(path)
    assert result.returncode == 1 and "FAILED" in result.stdout and "unchanged" in result.stdout
    assert path.read_bytes() == before


def test_successful_execution_replaces_the_notebook_and_sets_the_scale(tmp_path):
    path = tmp_path / "ok.ipynb"
    _notebook(path, "import os; print('scale', os.environ['DCNN_SCALE'])")
    result = run_execute(path)
    assert result.returncode == 0, result.stdout + result.stderr
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[1].outputs[0]["text"] == "scale smoke\n"
    assert nb.metadata["papermill"]
    assert "injected-parameters" not in str([c.metadata for c in nb.cells]), "SCALE stays 'auto'"
