"""Bad input to the analysis tools gets a named error; huge inputs cost no memory (issue 15).

Each case failed on the library before this change: an all-NaN effective receptive field for
``n_samples=0``, a bare ``IndexError`` for ``layer=99``, an ``AttributeError`` deep in
``summary`` for a function given as a model, gigabytes allocated by ``summary`` at a huge
input and a crash with ``device="meta"``.
"""
import pytest
import torch
import torch.nn as nn

import dcnn_lib as dl
from dcnn_lib.errors import DcnnError, DcnnTypeError, DcnnValueError


def small_net():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2, padding=1),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))


# ---- effective receptive field --------------------------------------------------------------

@pytest.mark.parametrize("n_samples", [0, -3])
def test_erf_without_samples_is_an_error_not_nan(n_samples):
    with pytest.raises(DcnnValueError, match=rf"n_samples must be a positive int.*got {n_samples}"):
        dl.analysis.effective_receptive_field(small_net(), (3, 8, 8), n_samples=n_samples)


def test_erf_of_an_empty_batch_of_inputs_is_an_error():
    with pytest.raises(DcnnValueError, match=r"inputs must be .*N >= 1, got \(0, 3, 8, 8\)"):
        dl.analysis.effective_receptive_field(small_net(), inputs=torch.zeros(0, 3, 8, 8))


def test_erf_layer_out_of_range_names_the_valid_layers():
    with pytest.raises(DcnnValueError) as err:
        dl.analysis.effective_receptive_field(small_net(), (3, 8, 8), layer=99)
    msg = str(err.value)
    assert "layer=99" in msg and "from -6 to 5" in msg and "0, 1, 2, 3, 4, 5" in msg
    with pytest.raises(DcnnValueError, match=r"layer='conv2'.*its 6 rows"):
        dl.analysis.effective_receptive_field(small_net(), (3, 8, 8), layer="conv2")


def test_erf_of_a_non_module():
    with pytest.raises(DcnnTypeError, match="model must be an nn.Module"):
        dl.analysis.effective_receptive_field(lambda x: x, (3, 8, 8))


# ---- summary ----------------------------------------------------------------------------------

def test_summary_of_a_function_is_a_named_error():
    with pytest.raises(DcnnTypeError, match=r"summary: model must be an nn.Module.*got function"):
        dl.analysis.summary(lambda x: x, (3, 8, 8))
    with pytest.raises(DcnnTypeError, match=r"receptive_field: model must be an nn.Module"):
        dl.analysis.receptive_field(lambda x: x, (3, 8, 8))


@pytest.mark.parametrize("size,kind", [("3x32x32", DcnnTypeError), ((3, 32.0, 32), DcnnTypeError),
                                       ((3, 0, 8), DcnnValueError), ((8,), DcnnValueError), (None, DcnnTypeError)])
def test_summary_input_size_is_checked(size, kind):
    with pytest.raises(kind, match="input_size"):
        dl.analysis.summary(small_net(), size)


def test_summary_on_the_meta_device_at_a_huge_input():
    model = small_net()
    s = dl.analysis.summary(model, (3, 4096, 4096), device="meta")
    assert s.traced_on == "meta"
    assert s[0].output_shape == (1, 4, 4096, 4096) and s[2].output_shape == (1, 4, 2048, 2048)
    assert s[0].macs == 4096 * 4096 * 4 * 27 and s[2].macs == 2048 * 2048 * 4 * 36
    assert s.total_params == sum(p.numel() for p in model.parameters()) == s.leaf_params
    assert all(p.device.type == "cpu" for p in model.parameters())   # the model is not moved


def test_summary_by_default_costs_no_memory():
    model = small_net()
    small = dl.analysis.summary(model, (3, 8, 8))
    peak = dl.analysis.peak_memory(lambda: dl.analysis.summary(model, (3, 2048, 2048)))["peak"]
    assert peak < 2**20, f"summary allocated {peak:,} bytes"   # a real pass needs > 100 MB
    big = dl.analysis.summary(model, (3, 2048, 2048))
    assert big.total_params == small.total_params and big.total_macs > 60_000 * small.total_macs


def test_summary_meta_only_names_a_forward_that_needs_values():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)

        def forward(self, x):
            return self.conv(x) if x.sum().item() >= 0 else x

    with pytest.raises(DcnnValueError, match=r"failed on the meta device.*device='cpu'"):
        dl.analysis.summary(Branchy(), (1, 8, 8), device="meta")
    s = dl.analysis.summary(Branchy(), (1, 8, 8))            # falls back on real random data
    assert s.traced_on == "cpu" and s["conv"].macs == 36 * 9


def test_library_errors_are_builtin_errors_too():
    assert issubclass(DcnnValueError, ValueError) and issubclass(DcnnValueError, DcnnError)
    assert issubclass(DcnnTypeError, TypeError) and issubclass(DcnnTypeError, DcnnError)


class CachingAnchors(nn.Module):
    """Like the anchor generator of torchvision's detectors: makes a table on the input's
    device at first use and keeps it; then needs real values (a data-dependent step)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.table = None

    def forward(self, x):
        if self.table is None:
            self.table = torch.arange(4.0, device=x.device)
        y = self.conv(x)
        return y[y > 0].sum() + self.table.sum()      # boolean indexing: no meta kernel


@pytest.mark.parametrize("tool", ["summary", "receptive_field"])
def test_a_meta_pass_leaves_no_meta_tensor_in_the_model(tool):
    model = CachingAnchors()
    table = getattr(dl.analysis, tool)(model, (1, 8, 8))   # meta first, then real data
    assert table.traced_on == "cpu"
    assert model.table is not None and model.table.device.type == "cpu"
    model(torch.randn(1, 1, 8, 8))                          # the model still works
