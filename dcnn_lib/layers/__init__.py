"""Reusable building blocks, one concept a file."""
from .guards import guard_inputs
from .lrn import LocalResponseNorm
from .mlpconv import MlpConv
from .partial_conv import PartialConv2d
from .rbf import EuclideanRBF, rbf_centres
from .scaled_tanh import ScaledTanh
from .subsampling import Subsampling

__all__ = ["guard_inputs", "LocalResponseNorm", "PartialConv2d", "EuclideanRBF", "rbf_centres", "ScaledTanh", "Subsampling", "MlpConv"]

# Residual networks (ResNet chapter): the block protocol, shortcuts, blocks and unit variants.
from .residual import ResidualBlock, is_residual_block  # noqa: E402
from .shortcut import ZeroPadShortcut, make_shortcut, projection_shortcut  # noqa: E402
from .basic_block import BasicBlock  # noqa: E402
from .bottleneck import Bottleneck  # noqa: E402
from .residual_unit import VARIANTS as RESIDUAL_UNIT_VARIANTS, ResidualUnit  # noqa: E402
from .preact_block import PreActBlock  # noqa: E402

__all__ += ["ResidualBlock", "is_residual_block", "ZeroPadShortcut", "make_shortcut", "projection_shortcut",
            "BasicBlock", "Bottleneck", "RESIDUAL_UNIT_VARIANTS", "ResidualUnit", "PreActBlock"]

# Inception networks (Inception chapter): the conv unit, the module as data, the modules of
# each version, auxiliary heads. (inception_resnet uses ResidualBlock, imported above.)
from .conv_bn_act import ConvBNAct  # noqa: E402
from .inception import Inception, googlenet_module, scale_branches  # noqa: E402
from .aux_classifier import InceptionAux, InceptionV3Aux  # noqa: E402
from .input_transform import InceptionInputTransform  # noqa: E402
from .inception_v3 import inception_v3_a, inception_v3_b, inception_v3_c, inception_v3_d, inception_v3_e  # noqa: E402
from .inception_v4 import (inception_v4_a, inception_v4_b, inception_v4_c, inception_v4_reduction_b,  # noqa: E402
                           inception_v4_stem, reduction_a)
from .inception_resnet import (IR_BLOCKS, InceptionResNetBlock, inception_resnet_v1_stem,  # noqa: E402
                               inception_resnet_v2_stem, ir_block_a, ir_block_b, ir_block_c, ir_reduction_b)

__all__ += ["ConvBNAct", "Inception", "googlenet_module", "scale_branches", "InceptionAux", "InceptionV3Aux",
            "InceptionInputTransform", "inception_v3_a", "inception_v3_b", "inception_v3_c", "inception_v3_d",
            "inception_v3_e", "inception_v4_a", "inception_v4_b", "inception_v4_c", "inception_v4_reduction_b",
            "inception_v4_stem", "reduction_a", "InceptionResNetBlock", "inception_resnet_v1_stem",
            "inception_resnet_v2_stem", "IR_BLOCKS", "ir_block_a", "ir_block_b", "ir_block_c", "ir_reduction_b"]

# Segmentation (Segmentation chapter): upsampling, skips, context aggregation, decoders, SAM's parts.
from .bilinear_upsampling import BilinearUpsampling, bilinear_kernel  # noqa: E402
from .up_conv import UpConcat, match_size  # noqa: E402
from .double_conv import DoubleConv  # noqa: E402
from .recurrent_conv import RecurrentConv, RecurrentResidualBlock  # noqa: E402
from .aspp import ASPP, ImagePooling  # noqa: E402
from .pyramid_pooling import PyramidPooling  # noqa: E402
from .seg_head import ConvHead  # noqa: E402
from .context_module import ContextModule  # noqa: E402
from .dilation import dilate_stage  # noqa: E402
from .feature_stages import FeatureStages  # noqa: E402
from .residual_conv_unit import ResidualConvUnit  # noqa: E402
from .multi_resolution_fusion import MultiResolutionFusion  # noqa: E402
from .chained_residual_pooling import ChainedResidualPooling  # noqa: E402
from .layer_norm_2d import LayerNorm2d  # noqa: E402
from .attention import Attention  # noqa: E402
from .vit_block import MLP, PatchEmbedding, ViTBlock  # noqa: E402
from .two_way_transformer import TwoWayAttentionBlock, TwoWayTransformer  # noqa: E402

from .inception_recurrent import InceptionRecurrentBlock, recurrent_or_plain  # noqa: E402
from .recurrent_dense import RecurrentDenseLayer  # noqa: E402

__all__ += ["InceptionRecurrentBlock", "recurrent_or_plain", "RecurrentDenseLayer"]

# Capsule networks (Recurrent convolutions and capsules chapter).
from .squash import squash  # noqa: E402
from .primary_capsules import PrimaryCapsules  # noqa: E402
from .routing import Routing, dynamic_routing  # noqa: E402
from .routing_capsules import RoutingCapsules  # noqa: E402
from .margin_loss import CapsuleLoss, margin_loss  # noqa: E402

__all__ += ["squash", "PrimaryCapsules", "Routing", "dynamic_routing", "RoutingCapsules", "CapsuleLoss",
            "margin_loss"]
__all__ += ["BilinearUpsampling", "bilinear_kernel", "UpConcat", "match_size", "DoubleConv", "RecurrentConv",
            "RecurrentResidualBlock", "ASPP", "ImagePooling", "PyramidPooling", "ConvHead", "ContextModule",
            "dilate_stage", "FeatureStages", "ResidualConvUnit", "MultiResolutionFusion", "ChainedResidualPooling",
            "LayerNorm2d", "Attention", "MLP", "PatchEmbedding", "ViTBlock", "TwoWayAttentionBlock",
            "TwoWayTransformer"]

# ConvNeXt, Vision Transformers and JEPA: stochastic depth, the ConvNeXt block, the roadmap's
# switchable block, position embeddings and the transformer encoder.
from .permute import Permute  # noqa: E402
from .stochastic_depth import StochasticDepth  # noqa: E402
from .convnext_block import ConvNeXtBlock  # noqa: E402
from .roadmap_block import RoadmapBlock  # noqa: E402
from .pos_embedding import resize_grid_embedding, sincos_1d, sincos_2d  # noqa: E402
from .transformer_encoder import TransformerEncoder  # noqa: E402

__all__ += ["Permute", "StochasticDepth", "ConvNeXtBlock", "RoadmapBlock", "resize_grid_embedding", "sincos_1d",
            "sincos_2d", "TransformerEncoder"]
# Beyond ResNet (chapter "Dense, fractal and multi-scale networks"): dense connectivity,
# fractal expansion with drop-path, polynomial compositions of residual blocks, Res2Net's split.
from .dense_block import DenseBlock, DenseLayer  # noqa: E402
from .transition import Transition, compressed  # noqa: E402
from .fractal_join import FractalJoin  # noqa: E402
from .fractal_block import FractalBlock, FractalConv  # noqa: E402
from .poly_inception import POLY_KINDS, InceptionResidual, PolyInception, tie_branch_convolutions  # noqa: E402
from .res2net_bottleneck import Res2NetBottleneck  # noqa: E402

__all__ += ["DenseBlock", "DenseLayer", "Transition", "compressed", "FractalJoin", "FractalBlock", "FractalConv",
            "POLY_KINDS", "InceptionResidual", "PolyInception", "tie_branch_convolutions", "Res2NetBottleneck"]
