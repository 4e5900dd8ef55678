"""Analysis tools that work on ANY ``nn.Module`` (no model file is imported here)."""
from .summary import LayerRow, Summary, summary
from .table import RowTable

__all__ = ["LayerRow", "RowTable", "Summary", "summary"]

# Receptive fields, analytic and effective (receptive-fields chapter).
from .rf import (  # noqa: E402
    Box, ERFMass, ReceptiveFields, RFRow, conv_output_size, effective_receptive_field, erf_mass, receptive_field,
    rf_jump, rf_padding, rf_size,
)

__all__ += ["Box", "ERFMass", "ReceptiveFields", "RFRow", "conv_output_size", "effective_receptive_field", "erf_mass",
            "receptive_field", "rf_jump", "rf_padding", "rf_size"]

# Lesion studies and the unraveled view of residual networks (ResNet chapter).
from .lesion import SkipOnly, lesioned, swapped  # noqa: E402
from .unraveled import (input_gradient_norms, path_counts, path_gradient, path_gradient_norms,  # noqa: E402
                        residual_blocks)

__all__ += ["SkipOnly", "lesioned", "swapped", "input_gradient_norms", "path_counts", "path_gradient", "path_gradient_norms",
            "residual_blocks"]

# What a forward pass keeps in memory: saved tensors and measured peaks (VGG chapter).
from .memory import SavedTensor, SavedTensors, peak_memory, saved_tensors  # noqa: E402

__all__ += ["SavedTensor", "SavedTensors", "peak_memory", "saved_tensors"]

# Measured inference latency and throughput (design-principles chapter).
from .profile import Profile, ProfileRow, profile  # noqa: E402

__all__ += ["Profile", "ProfileRow", "profile"]
