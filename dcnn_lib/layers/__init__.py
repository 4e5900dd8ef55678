"""Reusable building blocks, one concept a file."""
from .guards import guard_inputs
from .partial_conv import PartialConv2d
from .rbf import EuclideanRBF, rbf_centres
from .scaled_tanh import ScaledTanh
from .subsampling import Subsampling

__all__ = ["guard_inputs", "PartialConv2d", "EuclideanRBF", "rbf_centres", "ScaledTanh", "Subsampling"]
