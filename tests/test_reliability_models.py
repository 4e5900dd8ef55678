"""Issue 15, point 5 — nonsense model arguments get a named error of the library (a
``DcnnValueError`` / ``DcnnTypeError``, also a ``ValueError`` / ``TypeError``) that says what
was given and what is expected, before anything is built:

- ``num_classes`` 0, -1, 2.5 or True, for every registered model that takes it;
- ``in_channels`` 0;
- ``input_size`` given as an int, None, a string, the wrong length, floats or non-positive
  values, for every registered model that takes it (it is always ``(C, H, W)``);
- ``get`` / ``meta`` with a name that is not a string (None, a list, a number);
- sizes a model cannot take (YOLO's grid needs a square input, SSD300 300 × 300).

Models are built on the ``meta`` device, so a case that slips through costs no memory.
"""
import pytest
import torch

import dcnn_lib as dl

ALL = dl.models.list_models()
WITH_CLASSES = [n for n in ALL if "num_classes" in dl.models.meta(n).defaults]
WITH_SIZE = [n for n in ALL if "input_size" in dl.models.meta(n).defaults]
WITH_CHANNELS = [n for n in ALL if "in_channels" in dl.models.meta(n).defaults]


def _raises(kind, match, name, **kwargs):
    with pytest.raises(kind, match=match) as err, torch.device("meta"):
        dl.models.get(name, **kwargs)
    assert isinstance(err.value, dl.errors.DcnnError)
    return err.value


@pytest.mark.parametrize("num_classes", [0, -1])
@pytest.mark.parametrize("name", WITH_CLASSES)
def test_num_classes_below_one_is_refused(name, num_classes):
    _raises(ValueError, rf"model '{name}': num_classes must be >= 1 .*got {num_classes}", name,
            num_classes=num_classes)


@pytest.mark.parametrize("num_classes", [2.5, True, "10"])
def test_num_classes_must_be_an_int(num_classes):
    _raises(TypeError, r"num_classes must be an int >= 1, got", "resnet18", num_classes=num_classes)


@pytest.mark.parametrize("name", WITH_CHANNELS)
def test_in_channels_zero_is_refused(name):
    _raises(ValueError, rf"model '{name}': in_channels must be an int >= 1, got 0", name, in_channels=0)


BAD_SIZES = [
    (64, TypeError, r"input_size must be \(C, H, W\), a tuple of three positive ints, got 64"),
    (None, TypeError, r"input_size must be \(C, H, W\), a tuple of three positive ints, got None"),
    ("3, 64, 64", TypeError, r"input_size must be \(C, H, W\).*got '3, 64, 64'"),
    ((64, 64), ValueError, r"input_size must be \(C, H, W\), three values, got 2: \(64, 64\)"),
    ((1, 3, 64, 64), ValueError, r"input_size must be \(C, H, W\), three values, got 4"),
    ((3, 64.0, 64.0), TypeError, r"input_size must hold ints \(C, H, W\), got \(3, 64.0, 64.0\)"),
    ((3, 0, 64), ValueError, r"input_size must be positive \(C, H, W\), got \(3, 0, 64\)"),
]


@pytest.mark.parametrize("size,kind,match", BAD_SIZES, ids=[repr(s[0]) for s in BAD_SIZES])
@pytest.mark.parametrize("name", WITH_SIZE)
def test_input_size_is_a_c_h_w_tuple(name, size, kind, match):
    _raises(kind, rf"model '{name}': " + match, name, input_size=size)


def test_the_models_that_take_an_input_size_take_c_h_w():
    assert {"alexnet_small", "zfnet_small", "yolo_v1", "yolo_v1_classifier", "udnet", "sam_small", "ssd"} <= set(WITH_SIZE)
    for name in WITH_SIZE:
        default = dl.models.meta(name).defaults["input_size"]
        assert isinstance(default, tuple) and len(default) == 3, (name, default)


@pytest.mark.parametrize("name,kwargs,match", [
    ("yolo_v1", {"input_size": (3, 448, 224)}, r"YOLOv1: the input must be square"),
    ("yolo_v1", {"input_size": (1, 448, 448)}, r"YOLOv1: input_size must have 3 channels"),
    ("ssd", {"input_size": (3, 512, 512)}, r"ssd: SSD300 \(backbone=None\) takes input_size \(3, 300, 300\)"),
    ("udnet", {"input_size": (3, 100, 100)}, r"UDNet: input_size must be \(3, H, H\) with H divisible by 2\^4"),
])
def test_sizes_a_model_cannot_take_are_refused_by_name(name, kwargs, match):
    _raises(ValueError, match, name, **kwargs)


@pytest.mark.parametrize("bad", [None, ["resnet50"], 50, b"resnet50"])
def test_a_model_name_must_be_a_string(bad):
    for call in (dl.models.get, dl.models.meta):
        with pytest.raises(TypeError, match=r"a model name must be a str such as 'resnet50', got") as err:
            call(bad)
        assert isinstance(err.value, dl.errors.DcnnTypeError)


def test_an_unknown_name_is_a_library_error_and_a_key_error():
    with pytest.raises(KeyError) as err:
        dl.models.get("resnet5O")
    assert isinstance(err.value, dl.errors.DcnnValueError) and "closest: resnet50" in str(err.value)


def test_an_unknown_task_is_a_library_error():
    with pytest.raises(ValueError, match="task must be one of") as err:
        dl.models.list_models(task="regression")
    assert isinstance(err.value, dl.errors.DcnnValueError)
