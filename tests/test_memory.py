"""dcnn_lib.analysis.memory on tiny networks whose answers are worked by hand."""
import torch
import torch.nn as nn

from dcnn_lib.analysis.memory import peak_memory, saved_tensors


def test_saved_tensors_of_conv_relu_pool_by_hand():
    # input 1x1x6x6 (144 B) saved by the conv; the in-place ReLU's result 1x2x6x6 (288 B) is
    # the pool's input too (one storage); the pool keeps int64 indices 1x2x3x3 (144 B)
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2))
    s = saved_tensors(net, (1, 6, 6))
    assert s.total_bytes == 144 + 288 + 144
    assert s.bytes_by("dtype") == {"float32": 144 + 288, "int64": 144}
    assert all(t.shape != tuple(net[0].weight.shape) for t in s.tensors)  # weights are not counted
    assert len(saved_tensors(net, (4, 1, 6, 6))) == 3
    assert saved_tensors(net, (4, 1, 6, 6)).total_bytes == 4 * s.total_bytes


def test_saved_tensors_restores_the_mode_and_sees_dropout_masks():
    net = nn.Sequential(nn.Linear(10, 20), nn.Dropout(0.5)).eval()
    with_mask = saved_tensors(net, torch.randn(3, 10), train=True)
    without = saved_tensors(net, torch.randn(3, 10), train=False)
    assert not net.training
    assert with_mask.total_bytes > without.total_bytes == 3 * 10 * 4


def test_peak_memory_on_cpu():
    def work():
        big = torch.empty(1_000_000)   # 4 MB
        del big
        return torch.empty(250_000)     # 1 MB, freed when the result is dropped

    m = peak_memory(work)
    assert m["peak"] >= 4_000_000 and m["peak"] < 6_000_000
    kept = []
    m = peak_memory(lambda: kept.append(torch.empty(500_000)))
    assert 2_000_000 <= m["end"] <= m["peak"] < 3_000_000
