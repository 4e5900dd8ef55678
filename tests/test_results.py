"""dl.results: a result recorded in an executed notebook is read back from its JSON."""
import json

import nbformat
import pytest
from nbclient import NotebookClient

import dcnn_lib as dl
from dcnn_lib.train import History


def _history(accs):
    h = History(name="tiny")
    for i, a in enumerate(accs):
        h.append(epoch=i + 1, train_loss=1.0 / (i + 1), train_acc=a - 0.01, val_loss=0.5, val_acc=a, lr=1e-3,
                 seconds=2.5)
    return h


def test_summarise_takes_the_last_epoch_and_counts_parameters():
    import torch.nn as nn

    rec = dl.results.summarise("tiny", _history([0.5, 0.8, 0.7]), nn.Linear(3, 2), scale="smoke",
                               reference=("d2l", 0.75), macs=123)
    assert rec["test_acc"] == 0.7 and rec["best_test_acc"] == 0.8 and rec["epochs"] == 3
    assert rec["params"] == 8 and rec["train_seconds"] == 7.5 and rec["macs"] == 123.0
    assert (rec["reference"], rec["reference_acc"]) == ("d2l", 0.75)


@pytest.mark.parametrize("bad", ["", "a b", "x:y"])
def test_record_names_are_checked(bad):
    with pytest.raises(dl.errors.DcnnValueError, match="name"):
        dl.results.summarise(bad, _history([0.5]))


def test_an_empty_history_is_refused():
    with pytest.raises(dl.errors.DcnnTypeError, match="History"):
        dl.results.summarise("x", History())


def test_recorded_in_a_notebook_and_read_back(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import dcnn_lib as dl, torch.nn as nn\n"
        "from dcnn_lib.train import History\n"
        "h = History(name='m')\n"
        "h.append(epoch=1, train_loss=0.3, train_acc=0.9, val_loss=0.4, val_acc=0.875, lr=0.1, seconds=12.0)\n"
        "dl.results.record('fixture_net', h, nn.Linear(4, 3), scale='book', reference=('d2l', 0.8))\n"
        "dl.results.record('second', h, scale='book');")]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    path = tmp_path / "fixture.ipynb"
    nbformat.write(nb, path)
    table = dl.results.read(str(tmp_path / "*.ipynb"))
    assert list(table["name"]) == ["fixture_net", "second"]
    row = table.iloc[0]
    assert row["chapter"] == "fixture" and row["params"] == 15 and row["test_acc"] == 0.875
    assert row["reference_acc"] == 0.8 and row["scale"] == "book"
    # nothing is shown to the reader: glue(display=False) hides the output
    outputs = json.loads(path.read_text())["cells"][0]["outputs"]
    assert all(not any(k.startswith("text/") for k in o.get("data", {})) for o in outputs)


def test_a_pattern_that_matches_nothing_is_an_error(tmp_path):
    with pytest.raises(dl.errors.DcnnValueError, match="no notebook"):
        dl.results.read(str(tmp_path / "missing*.ipynb"))
