"""The book's mechanisms, proved on a small fixture book built with the real configuration
(_config.yml, _ext/, _assets/, references.bib): explorers that respond without a kernel
(widget state and every frame in the page), citations and the References page, exercises
with solutions and without (`make book SOLUTIONS=0`), glued numbers, hidden nbval markers,
themed tables, each script once. Plus checks on the real sources: the bibliography, cited
keys, nbval markers moved into tags, and numbers in prose backed by outputs."""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
sys.path.insert(0, str(ROOT / ".ci"))

import nbtags  # noqa: E402
import prose_numbers  # noqa: E402

# ---- the bibliography -----------------------------------------------------------------------


def bibliography():
    from pybtex.database import parse_file

    return parse_file(str(ROOT / "references.bib"))


def test_every_bib_entry_has_title_authors_and_year():
    entries = bibliography().entries
    assert len(entries) >= 50
    for key, e in entries.items():
        assert e.fields.get("title"), f"{key}: no title"
        assert e.persons.get("author"), f"{key}: no author"
        assert re.fullmatch(r"(19|20)\d\d", e.fields.get("year", "")), f"{key}: year {e.fields.get('year')!r}"
        venue = e.fields.get("journal") or e.fields.get("booktitle") or e.fields.get("publisher")
        assert venue, f"{key}: no journal, booktitle or publisher"
        assert e.fields.get("doi") or e.fields.get("url") or key == "nair2010rectified", f"{key}: no link"


@pytest.mark.parametrize("title_words", [
    "Gradient-Based Learning", "ImageNet Classification with Deep", "Visualizing and Understanding",
    "Very Deep Convolutional", "Network In Network", "Going Deeper", "Rethinking the Inception",
    "Inception-v4", "Deep Residual Learning", "Densely Connected", "FractalNet", "PolyNet", "Res2Net",
    "ConvNet for the 2020s", "Image is Worth 16x16", "data-efficient image transformers",
    "Joint-Embedding Predictive", "Dynamic Routing Between Capsules", "inception-residual convolutional",
    "R2U-Net", "Analysis of Deep Neural Network Models", "Large Scale Visual Recognition Challenge",
    "Fully Convolutional Networks", "SegNet", "RefineNet", "Pyramid Scene Parsing", "DeepLab", "U-Net",
    "NABLA-N", "Segment Anything", "Rich Feature Hierarchies", "Fast R-CNN", "Faster R-CNN", "Mask R-CNN",
    "You Only Look Once", "Single Shot", "Microscopic nuclei", "Effective Receptive Field",
    "Computing Receptive Fields", "Fashion-MNIST"])
def test_the_lectures_and_the_books_papers_are_in_the_bibliography(title_words):
    titles = [e.fields["title"].replace("{", "").replace("}", "") for e in bibliography().entries.values()]
    assert any(title_words.lower() in t.lower() for t in titles), title_words


def _markdown_sources():
    for path in CHAPTERS:
        for i, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] == "markdown":
                yield f"{path.name} cell {i}", "".join(cell["source"])
    for path in (ROOT / "chapters").glob("*.md"):
        yield path.name, path.read_text()


def test_every_cited_key_is_in_the_bibliography():
    keys = set(bibliography().entries.keys())
    for where, text in _markdown_sources():
        text = re.sub(r"``.+?``", "", text)                           # a role shown as code is not a citation
        for role in re.findall(r"\{cite(?::\w+)?\}`([^`]*)`", text):
            for key in (k.strip() for k in role.split(",")):
                assert key in keys, f"{where}: {{cite}}`{key}` is not in references.bib"


# ---- nbval markers: tags instead of comments --------------------------------------------------


def test_nbtags_moves_markers_into_tags_that_nbval_honours(tmp_path):
    from nbval.plugin import find_comment_markers, find_metadata_tags

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(1)"),
                nbformat.v4.new_code_cell("x = 2\n# NBVAL_IGNORE_OUTPUT\nx"),
                nbformat.v4.new_code_cell("print('untouched')  # NBVAL_CHECK_OUTPUT is only a marker on its own line")]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    assert nbtags.main(["--check", str(path)]) == 1
    assert nbtags.main([str(path)]) == 0
    once = path.read_bytes()
    assert nbtags.main([str(path)]) == 0 and path.read_bytes() == once       # idempotent
    cells = json.loads(once)["cells"]
    assert "".join(cells[0]["source"]) == "print(1)" and "".join(cells[1]["source"]) == "x = 2\nx"
    assert cells[0]["metadata"]["tags"] == ["nbval-check-output"]
    assert cells[1]["metadata"]["tags"] == ["nbval-ignore-output"]
    assert "tags" not in cells[2]["metadata"]
    # what nbval (installed version) reads from each cell: the same option as the comment gave
    assert dict(find_metadata_tags(cells[0]["metadata"])) == dict(find_comment_markers("# NBVAL_CHECK_OUTPUT"))
    assert dict(find_metadata_tags(cells[1]["metadata"])) == {"check": False}
    assert nbtags.main(["--check", str(path)]) == 0


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_no_chapter_code_cell_carries_an_nbval_comment(nb):
    """Readers (and Colab users) see no test markers: `.ci/nbtags.py chapters/<name>.ipynb`."""
    assert not nbtags.check(nb), "\n".join(nbtags.check(nb))


# ---- numbers in prose ----------------------------------------------------------------------------


def test_prose_number_scanner_finds_drift_and_honours_the_convention():
    nb = {"cells": [
        {"cell_type": "code", "outputs": [{"output_type": "stream", "text": "test acc 0.9123  params 61,706\n"}],
         "source": ""},
        {"cell_type": "markdown", "source":
            "It reaches 91% (0.912) with 61,706 weights. The run trains at 0.970 here.\n\n"
            "AlexNet's 16.4% top-5 error {cite}`krizhevsky2012imagenet`. Code `0.5555` is not prose.\n\n"
            "| model | ours | paper |\n|---|---|---|\n| LeNet | 0.912 | 0.95% |\n| X | 0.444 | 1% |\n"}]}
    outputs = prose_numbers.output_numbers(nb)
    found = [w for w, _ in prose_numbers.prose_numbers(nb["cells"][1]["source"])
             if not prose_numbers.backed(w, outputs)]
    assert found == ["0.970", "0.444"]


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_numbers_in_prose_come_from_the_notebook(nb):
    """A result number in prose appears in an output (or is glued), or is a published figure
    next to its {cite} (see .ci/prose_numbers.py for the convention)."""
    found = prose_numbers.find_unbacked(nb)
    assert not found, f"{len(found)} number(s) in prose that no output backs:\n" + "\n".join(map(str, found))


# ---- the fixture book ----------------------------------------------------------------------------

SOLUTION_MARK = "SOLUTION-CELL-OUTPUT"


def _fixture_notebook() -> nbformat.NotebookNode:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        md("# Fixture chapter\n\nLeNet-5 {cite}`lecun1998gradient` reaches {glue:}`demo_acc` here."),
        code("import matplotlib.pyplot as plt\nimport dcnn_lib as dl\nfrom myst_nb import glue\n"
             "glue('demo_acc', 0.9123, display=False)"),
        code("# NBVAL_CHECK_OUTPUT\nprint('checked cell')"),
        code("dl.viz.html_table([{'model': 'lenet5', 'params': 61706, 'acc': None}], caption='demo table')"),
        code("def draw(a, b):\n    fig, ax = plt.subplots(figsize=(3, 2))\n    ax.set_title(f'a={a} b={b}')\n"
             "    return fig\n\nexplorer = dl.widgets.FrameExplorer(draw, {'a': [1, 2, 3], 'b': ['x', 'y']}, precompute=True)\n"
             "explorer"),
        md("```{exercise}\n:label: demo-ex1\n\nCount LeNet-5's parameters.\n```\n\n"
           "```{solution-start} demo-ex1\n:class: dropdown\n```"),
        code(f"print('{SOLUTION_MARK}', sum(p.numel() for p in dl.models.get('lenet5').parameters()))"),
        md("```{solution-end}\n```"),
    ]
    return nb


@pytest.fixture(scope="module")
def fixture_book(tmp_path_factory):
    """The fixture chapter executed (widget state saved, as papermill does), in a book made
    of the real configuration; built twice: with solutions and with DCNN_SOLUTIONS=0."""
    from nbclient import NotebookClient

    book = tmp_path_factory.mktemp("book")
    for d in ("_ext", "_assets"):
        shutil.copytree(ROOT / d, book / d)
    shutil.copy(ROOT / "references.bib", book)
    widgets = book / "_vendor" / "widgets"
    if (ROOT / widgets.relative_to(book)).is_dir():                 # after `make book`: the real ones
        shutil.copytree(ROOT / widgets.relative_to(book), widgets)
    else:                                                           # the page only links them here
        widgets.mkdir(parents=True)
        for js in ("require.js", "embed-amd.js"):
            (widgets / js).write_text("// placeholder\n")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    (book / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))  # script order
    (book / "_toc.yml").write_text(yaml.safe_dump({
        "format": "jb-book", "root": "chapters/demo",
        "parts": [{"caption": "Back matter", "chapters": [{"file": "chapters/references"}]}]}))
    (book / "chapters").mkdir()
    shutil.copy(ROOT / "chapters" / "references.md", book / "chapters")
    nb = _fixture_notebook()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(book)}}).execute(
        env={**env, "DCNN_OFFLINE": "1"})                           # store_widget_state: as papermill
    nbformat.write(nb, book / "chapters" / "demo.ipynb")
    jb = str(Path(sys.executable).parent / "jupyter-book")
    out = {}
    for name, solutions in (("with", "1"), ("without", "0")):
        result = subprocess.run([jb, "build", str(book), "-W", "-n", "--keep-going", "--path-output",
                                 str(book / f"out-{name}")], capture_output=True, text=True,
                                env={**env, "DCNN_SOLUTIONS": solutions})
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        out[name] = book / f"out-{name}" / "_build" / "html"
    return {"book": book, "nb": nb, **out}


def _page(html_dir: Path, name: str = "chapters/demo.html") -> str:
    return (html_dir / name).read_text()


def _widget_state(html: str) -> dict:
    soup = BeautifulSoup(html, "html.parser")
    script = soup.find("script", type="application/vnd.jupyter.widget-state+json")
    assert script is not None, "no widget state in the page"
    return json.loads(script.string)["state"]


def test_the_page_carries_every_frame_and_the_links_that_switch_them(fixture_book):
    state = _widget_state(_page(fixture_book["with"]))
    by_name = {}
    for model_id, m in state.items():
        by_name.setdefault(m["model_name"], []).append((model_id, m))
    images = by_name["ImageModel"]
    pngs = []
    for _, m in images:
        buffers = {tuple(b["path"]): b["data"] for b in m.get("buffers", [])}   # bytes travel as buffers
        pngs.append(base64.b64decode(buffers.get(("value",)) or m["state"].get("value", "")))
    assert len(pngs) == 6 and len(set(pngs)) == 6 and all(p.startswith(b"\x89PNG") for p in pngs)
    stacks = dict(by_name["StackModel"])
    assert len(stacks) == 1 + 3                                     # a's stack, then one b-stack per a
    sliders = dict(by_name["SelectionSliderModel"])
    assert sorted(m["state"]["description"] for m in sliders.values()) == ["a", "b"]
    links = [m["state"] for _, m in by_name["DirectionalLinkModel"]]
    assert len(links) == 4
    for link in links:
        src_id, src_attr = link["source"][0].removeprefix("IPY_MODEL_"), link["source"][1]
        dst_id, dst_attr = link["target"][0].removeprefix("IPY_MODEL_"), link["target"][1]
        assert src_id in sliders and src_attr == "index" and dst_id in stacks and dst_attr == "selected_index"
    # the view the page displays is the explorer's box, which holds the sliders and the stacks
    view = BeautifulSoup(_page(fixture_book["with"]), "html.parser").find(
        "script", type="application/vnd.jupyter.widget-view+json")
    box = state[json.loads(view.string)["model_id"]]
    assert box["model_name"] == "VBoxModel"


def test_citations_link_to_the_references_page(fixture_book):
    html = _page(fixture_book["with"])
    link = re.search(r'<a class="reference internal" href="references\.html#(id\d+)"[^>]*>LeCun <em>et al\.</em>', html)
    assert link, "the citation is not an author-year link to the References page"
    refs = _page(fixture_book["with"], "chapters/references.html")
    entry = BeautifulSoup(refs, "html.parser").find(id=link.group(1))
    assert "gradient-based learning applied to document recognition" in entry.get_text().lower()
    assert refs.count('role="doc-biblioentry"') == len(bibliography().entries)   # :all: lists every entry


def test_exercises_show_their_solutions_unless_asked_not_to(fixture_book):
    with_ = _page(fixture_book["with"])
    without = _page(fixture_book["without"])
    for html in (with_, without):
        assert "exercise" in html and "Count LeNet-5" in html
    assert SOLUTION_MARK in with_ and "solution" in with_ and "dropdown" in with_
    assert SOLUTION_MARK not in without and "Solution to" not in without
    # the solution is a real code cell with its output: nbval runs it at smoke scale
    cell = fixture_book["nb"].cells[6]
    assert cell.cell_type == "code" and SOLUTION_MARK in cell.outputs[0]["text"]


def test_glue_markers_tables_and_scripts(fixture_book):
    html = _page(fixture_book["with"])
    soup = BeautifulSoup(html, "html.parser")
    assert "0.9123" in soup.get_text()                              # {glue:}`demo_acc`
    code = " ".join(pre.get_text() for pre in soup.select("div.cell_input pre"))
    assert "print('checked cell')" in code and "NBVAL" not in code   # marker hidden from readers
    assert soup.select_one("div.cell_output table.dcnn-table caption").get_text() == "demo table"
    assert "<NA>" not in html and "&lt;NA&gt;" not in html
    assert html.count("const THEBE_JS_URL") == 1                    # each script once
    assert re.search(r'href="\.\./_static/dcnn\.css', html) and re.search(r'src="\.\./_static/dcnn\.js', html)
    title = soup.title.get_text()
    assert title == "Fixture chapter — DCNN Book"
    html_dir = fixture_book["with"]
    assert (html_dir / "_static" / "dcnn.css").is_file() and (html_dir / "_static" / "dcnn.js").is_file()
