"""Detection models; importing this package registers them (``task="detection"``).

One family a file, each a detector that only assembles parts (:mod:`dcnn_lib.detection`), and
every one under the same contract (:mod:`dcnn_lib.detection.contract`): a dict of losses in
training mode, a list of ``{"boxes", "labels", "scores"}`` (+ ``"masks"``) in eval mode.

- ``rcnn`` (:mod:`.rcnn`): selective search, warped regions, CNN features, SVMs, box regression;
- ``fast_rcnn`` (:mod:`.fast_rcnn`): one CNN pass, RoI pooling, multi-task loss;
- ``faster_rcnn``, ``fasterrcnn_resnet50_fpn`` (:mod:`.faster_rcnn`): the region proposal network;
- ``mask_rcnn``, ``maskrcnn_resnet50_fpn`` (:mod:`.mask_rcnn`): RoIAlign and the mask head;
- ``yolo_v1`` (:mod:`.yolo`): one pass, a 7 × 7 grid, the sum-squared loss;
- ``ssd``, ``ssd300_vgg16`` (:mod:`.ssd`): default boxes on several maps, hard negative mining;
- ``udnet`` (:mod:`.udnet`): R2U-Net regression of centre maps.

Backbones come from the registry (``vgg16``, ``resnet50``, ``alexnet_paper``, ``r2unet``...).
"""
from . import fast_rcnn, faster_rcnn, mask_rcnn, rcnn, ssd, udnet, yolo  # noqa: F401
