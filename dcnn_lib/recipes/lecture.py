"""The lecture's own architectures on Fashion-MNIST, set up as Dive into Deep Learning trains
them on one GPU (d2l, classic edition, 10 epochs on a V100: AlexNet and NiN at 224×224, VGG-11
with a quarter of the channels at 224×224, GoogLeNet and ResNet-18 at 96×96).

These are what ``full`` scale adds on a GPU: the chapters' CPU recipes are scaled-down
networks at 28-64 px; these train the real architectures at d2l's input sizes, with the book's
recipe (AdamW, one-cycle, batch norm where the architecture has it, label smoothing), and
compare with d2l's printed test accuracy (``D2L``). At ``book`` scale they are
not trained (minutes per epoch on a CPU); ``smoke`` runs one epoch on a few hundred images,
so every code path is exercised in CI. ``benchmarks/gpu_check.sh`` trains them at ``full``.

Each runs 10 epochs at ``full``, like d2l. Expected cost on one modern datacenter GPU (bf16,
channels-last), from the multiply-adds of one grey image (``dl.analysis.summary``): AlexNet
0.66 G, VGG-11/4 0.51 G, NiN 1.00 G, GoogLeNet at 96 px 0.26 G, ResNet-18 at 96 px 0.32 G —
60,000 images × 3 (forward and backward) × 10 epochs is 0.5-1.8 P multiply-adds a run, a few
minutes each.
"""
from . import Recipe, register

# d2l's printed test accuracy after 10 epochs (shared/reference/published-figures.md).
D2L = {"alexnet_d2l": 0.882, "vgg11_d2l": 0.922, "nin_d2l": 0.785, "googlenet_d2l": 0.883,
       "resnet18_d2l": 0.918}

_LECTURE = dict(resize=True, epochs={"smoke": 1, "book": 1, "full": 10},
                train_subset={"smoke": 128, "book": 2_000, "full": None},
                test_subset={"smoke": 64, "book": 1_000, "full": None},
                lr=2e-3, weight_decay=5e-4, label_smoothing=0.1, augment=True)

register(Recipe("alexnet_d2l", "alexnet", {"num_classes": 10, "in_channels": 1}, size=224, batch_size=128,
                note="torchvision's AlexNet (one-GPU layout) at 224 px, as d2l trains it", **_LECTURE))
register(Recipe("vgg11_d2l", "vgg_small", {"config": "A", "width": 0.25, "hidden": 4096, "dropout": 0.5,
                                           "batch_norm": True, "pool_size": 7},
                size=224, batch_size=128, note="VGG-11 (config A) with channels ÷ 4 at 224 px, batch norm",
                **_LECTURE))
register(Recipe("nin_d2l", "nin", {"num_classes": 10, "in_channels": 1}, size=224, batch_size=128,
                note="the paper's 4-block NiN at 224 px, as d2l trains it", **_LECTURE))
register(Recipe("googlenet_d2l", "googlenet", {"num_classes": 10, "in_channels": 1}, size=96, batch_size=128,
                note="GoogLeNet (batch norm, torchvision's layout) at 96 px, as d2l trains it", **_LECTURE))
register(Recipe("resnet18_d2l", "resnet18", {"num_classes": 10, "in_channels": 1}, size=96, batch_size=256,
                note="ResNet-18 at 96 px, as d2l trains it", **_LECTURE))
