"""Issue 15, point 5 (runtime): the scale is read the same way from the argument and from
``DCNN_SCALE``, and a bad one is a named library error."""
import pytest
import torch

from dcnn_lib import runtime


@pytest.fixture(autouse=True)
def cpu_only(monkeypatch):
    monkeypatch.delenv("DCNN_SCALE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.mark.parametrize("given", [" book", "book ", " BOOK\n"])
def test_the_argument_and_the_environment_read_a_scale_alike(monkeypatch, given):
    assert runtime.resolve_scale(given) == "book"                 # was a ValueError for " book"
    monkeypatch.setenv("DCNN_SCALE", given)
    assert runtime.resolve_scale("auto") == "book"


@pytest.mark.parametrize("empty", ["  ", " Auto "])
def test_blank_and_spaced_auto_mean_auto(monkeypatch, empty):
    assert runtime.resolve_scale(empty) == "book"
    monkeypatch.setenv("DCNN_SCALE", "smoke")
    assert runtime.resolve_scale(empty) == "smoke"


@pytest.mark.parametrize("given", [1, 2.5, True, ["book"]])
def test_a_scale_that_is_not_a_string_is_a_named_type_error(given):
    from dcnn_lib.errors import DcnnTypeError

    with pytest.raises(DcnnTypeError, match=rf"SCALE must be a string, one of \('smoke', 'book', 'full'\) or 'auto', "
                                            rf"got {type(given).__name__}"):
        runtime.resolve_scale(given)


def test_an_unknown_scale_is_a_named_value_error_that_says_where_it_came_from(monkeypatch):
    from dcnn_lib.errors import DcnnValueError

    with pytest.raises(DcnnValueError, match=r"^SCALE must be one of .* got ' huge'$"):
        runtime.resolve_scale(" huge")
    monkeypatch.setenv("DCNN_SCALE", "tiny ")
    with pytest.raises(DcnnValueError, match=r"^DCNN_SCALE must be one of .* got 'tiny '$"):
        runtime.resolve_scale("auto")
    with pytest.raises(DcnnValueError, match="call resolve_scale first"):
        runtime.pick("auto", smoke=1, book=2, full=3)
