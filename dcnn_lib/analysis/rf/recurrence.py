"""The receptive-field recurrence of a chain of layers, as pure functions.

For a layer with kernel *k*, stride *s*, padding *p* and dilation *d* after a field of size
*r*, jump (effective stride) *j* and effective padding *P* (Araujo, Norris & Sim, "Computing
Receptive Fields of Convolutional Neural Networks", Distill 2019)::

    r_l = r_(l-1) + (k_l - 1) d_l j_(l-1)      j_l = j_(l-1) s_l      P_l = P_(l-1) + p_l j_(l-1)

starting from ``r = j = 1, P = 0`` at the input. Unit *o*'s field then spans input pixels
``o j - P`` to ``o j - P + r - 1``. The tracer (:func:`~dcnn_lib.analysis.receptive_field`)
computes the same numbers for any network, branches included; for a plain chain of
convolutions and poolings the two agree (tests/test_rf_recurrence.py checks it on every such
network of the registry).
"""
from __future__ import annotations


def conv_output_size(n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                     ceil_mode: bool = False) -> int:
    """Output size of a convolution or pooling along one axis (PyTorch's rule):
    ``floor((n + 2p - d(k-1) - 1) / s) + 1``; with ``ceil_mode`` the division rounds up, but the
    last window must start inside the input or its left padding."""
    span = n + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= n + padding:
        out -= 1
    return out


def rf_size(size_in: float, jump_in: float, kernel: int, dilation: int = 1) -> float:
    """RF size after a layer: ``r + (k - 1) d j``."""
    return size_in + (kernel - 1) * dilation * jump_in


def rf_jump(jump_in: float, stride: int) -> float:
    """Effective stride (jump) after a layer: ``j s``."""
    return jump_in * stride


def rf_padding(padding_in: float, jump_in: float, padding: int) -> float:
    """Effective padding after a layer: ``P + p j``."""
    return padding_in + padding * jump_in


__all__ = ["conv_output_size", "rf_size", "rf_jump", "rf_padding"]
