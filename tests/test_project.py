"""The project's files agree with each other: lock / pyproject / environment / Binder, the
book's configuration / table of contents / chapters, and the chapters' conventions."""
import json
import re
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements-lock.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements-lock.txt: {line!r} is not pinned with =="
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_lock_pins_the_stack():
    pins = lock_pins()
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"
    assert pins["jupyter-book"] == "1.0.4.post1"
    for tool in ("nbval", "papermill", "jupyterlab", "pytest", "ipykernel"):
        assert tool in pins, tool


def test_lock_satisfies_the_loose_requirements_of_the_package():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = lock_pins()
    reqs = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    for spec in reqs:
        req = Requirement(spec)
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{name} (pyproject) is not in the lock"
        assert req.specifier.contains(pins[name], prereleases=True), f"lock {name}=={pins[name]} breaks {spec}"
    assert any(d.startswith("torch>=2.4") for d in project["dependencies"]), "keep torch loose for Colab"


def test_environment_and_binder_install_the_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    assert "-r requirements-lock.txt" in pip and "-e ." in pip
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python="))
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert runtime == "python-" + python.split("=")[1] == f"python-{sys.version_info.major}.{sys.version_info.minor}"
    binder = [l.strip() for l in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
              if l.strip() and not l.startswith("#")]
    assert "-r ../requirements-lock.txt" in binder
    assert all(l.startswith(("-r", "--extra-index-url")) for l in binder), "binder pins only through the lock"
    assert "pip install --no-deps -e ." in (ROOT / "binder" / "postBuild").read_text()
    assert "dataset-fashion-mnist" in (ROOT / "binder" / "apt.txt").read_text()


def config():
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def test_book_config():
    c = config()
    assert c["execute"]["execute_notebooks"] == "off"
    assert c["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert c["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert c["repository"]["url"].startswith("https://github.com/")
    js = c["sphinx"]["config"]["nb_ipywidgets_js"]
    assert set(js) == {"widgets/require.js", "widgets/embed-amd.js"}
    assert c["sphinx"]["config"]["html_static_path"] == ["_vendor", "_assets"]
    assert not (ROOT / "_static").exists(), "JB1 would add _vendor's widget JS to every page twice"


def test_repository_is_named_in_one_place():
    url = config()["repository"]["url"]
    for nb in CHAPTERS:
        first = next(c for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code")
        src = "".join(first["source"])
        assert "find_spec(\"dcnn_lib\")" in src and "pip" in src, f"{nb.name}: first code cell is not the bootstrap"
        assert f'REPOSITORY = "{url}"' in src, f"{nb.name}: bootstrap installs from another repository"
    # nothing else names another GitHub repository of ours
    for path in [ROOT / "README.md", *ROOT.glob("chapters/*.md")]:
        for found in re.findall(r"https://github\.com/dcnn-book/[\w.-]+", path.read_text()):
            assert found == url, f"{path.name} names {found}"


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return toc, [c["file"] for p in toc["parts"] for c in p["chapters"]]


def test_toc_parts_follow_the_lecture_and_list_only_existing_chapters():
    toc, files = toc_files()
    order = ["Foundations", "Classification", "Segmentation", "Detection"]
    captions = [p["caption"] for p in toc["parts"]]
    assert captions[-1] == "Back matter" and toc["parts"][-1]["chapters"] == [{"file": "chapters/references"}]
    captions = captions[:-1]
    assert captions == [c for c in order if c in captions], captions
    assert all(p["chapters"] for p in toc["parts"]), "no empty parts"
    for f in [toc["root"], *files]:
        assert any((ROOT / f).with_suffix(s).is_file() for s in (".ipynb", ".md")), f"{f} is in the toc but missing"
    listed = {Path(f).stem for f in files} | {Path(toc["root"]).stem}
    present = {p.stem for p in (ROOT / "chapters").glob("*") if p.suffix in (".ipynb", ".md")}
    assert present == listed, f"chapters not in the toc: {present - listed}"


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_chapter_conventions(nb):
    data = json.loads(nb.read_text())
    code = [c for c in data["cells"] if c["cell_type"] == "code"]
    params = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
    assert len(params) == 1 and 'SCALE = "auto"' in "".join(params[0]["source"])
    assert data["metadata"].get("papermill"), "outputs must come from `make execute` (papermill)"
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert outputs and not any(o["output_type"] == "error" for o in outputs)
    text = "".join("".join(o.get("text", "")) for o in outputs)
    assert re.search(r"device \S+ .*· scale (smoke|book|full) · dcnn_lib ", text), "no provenance line"
    assert any("NBVAL_CHECK_OUTPUT" in "".join(c["source"]) or "nbval-check-output" in c["metadata"].get("tags", [])
               for c in code), "no checked cells"
    assert "widgets" in data["metadata"] or not any(
        "application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs), "widget state not saved"


def test_committed_chapters_ran_at_book_scale_or_more():
    """Committed outputs are real results: executed at book (CPU) or full (GPU) scale."""
    for nb in CHAPTERS:
        text = "".join("".join(o.get("text", "")) for c in json.loads(nb.read_text())["cells"]
                       for o in c.get("outputs", []))
        assert re.search(r"scale (book|full) ", text), f"{nb.name} was committed from a smoke run"


def test_gitignore_keeps_the_tree_clean():
    ignored = (ROOT / ".gitignore").read_text().split()
    for entry in (".venv/", "_build/", "_vendor/", "__pycache__/", ".execute-tmp/", "checkpoints/", "/data/"):
        assert entry in ignored, entry
