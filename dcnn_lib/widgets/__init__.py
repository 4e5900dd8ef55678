"""Explorers (ipywidgets) and the static figures they are made of, one explorer a module.

Every explorer is a :class:`~dcnn_lib.widgets.frames.FrameExplorer`: its pictures are drawn
for every combination of the values its sliders offer and saved with the notebook's widget
state, so the sliders work in the static book (no kernel); with a kernel they work the same,
and ``precompute=False`` with a larger ``grid`` draws pictures on demand.

- :mod:`.rf`: receptive field of a stack of convolutions (:func:`rf_explorer`)
- :mod:`.lrn`: local response normalisation (:func:`lrn_explorer`, :func:`lrn_figure`)
- :mod:`.nms`: IoU and non-maximum suppression (:class:`NMSExplorer`, :func:`nms_steps`)
"""
from . import frames, lrn, nms, rf
from .frames import *  # noqa: F401,F403
from .lrn import *  # noqa: F401,F403
from .nms import *  # noqa: F401,F403
from .rf import *  # noqa: F401,F403

__all__ = [*frames.__all__, *rf.__all__, *lrn.__all__, *nms.__all__]
