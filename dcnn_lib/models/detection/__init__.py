"""Detection models, ``task="detection"`` (``dcnn_lib.models`` imports every module here: a new file
registers its models).

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

# The small backbone of the detectors' CPU test configurations (TestSettings.kwargs): the
# registry's VGG-style network at 1/16 width on grey input (inflated to RGB by the detector).
SMALL_BACKBONE = {"backbone": "vgg_small", "backbone_kwargs": {"width": 1 / 16, "in_channels": 1}}
# torchvision's detectors on 64×64 test images: few proposals and RoIs.
FEW_ROIS = {"min_size": 64, "max_size": 64, "rpn_pre_nms_top_n_train": 100, "rpn_post_nms_top_n_train": 50,
            "rpn_pre_nms_top_n_test": 50, "rpn_post_nms_top_n_test": 50, "box_batch_size_per_image": 32,
            "box_detections_per_img": 10}
