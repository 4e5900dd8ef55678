"""Receptive fields of any ``nn.Module``: analytic (exact, multi-path) and effective (gradient based).

:func:`receptive_field` answers, for every layer of a network, *which input pixels can change
this unit*: the receptive field (RF). It returns a :class:`ReceptiveFields` table with one
:class:`RFRow` per layer in execution order, indexable by position and by module name. Each
row gives, per spatial axis ``(h, w)``:

- ``output_size``: the size of the layer's output map;
- ``size``: the RF size *r*, in input pixels (the field of one unit, not clipped to the image);
- ``stride``: the effective stride or *jump* *j*: how far apart, in input pixels, the fields
  of two neighbouring units are;
- ``padding``: the effective padding *P*: unit 0's field starts at input pixel ``-P``;

and maps any output coordinate to its input box and centre (:meth:`RFRow.input_box`,
:meth:`RFRow.input_centre`) and back (:meth:`RFRow.feature_coord`).

One concern a module:

- :mod:`.recurrence`: the recurrence of a chain of layers as pure functions (Araujo et al.);
- :mod:`.geometry`: the field of every unit along each axis, and merges of paths;
- :mod:`.rules`: how each ATen operation maps fields (what a torch upgrade may touch);
- :mod:`.tracer`: the dispatch tracer that runs the real ``forward``;
- :mod:`.table`: the result (:class:`RFRow`, :class:`ReceptiveFields`, :class:`Box`);
- :mod:`.analytic`: the entry point :func:`receptive_field`;
- :mod:`.erf`: the effective receptive field (Luo et al., 2016) and :func:`erf_mass`.
"""
from .analytic import receptive_field
from .erf import ERFMass, effective_receptive_field, erf_mass
from .recurrence import conv_output_size, rf_jump, rf_padding, rf_size
from .table import Box, ReceptiveFields, RFRow

__all__ = ["receptive_field", "effective_receptive_field", "erf_mass", "ReceptiveFields", "RFRow", "Box", "ERFMass",
           "conv_output_size", "rf_size", "rf_jump", "rf_padding"]
