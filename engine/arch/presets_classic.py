"""Built-in stacks mirroring published networks: MnasNet, MixNet, MobileNetV3, SqueezeNet,
ResNet, VGG, GoogLeNet, DenseNet.

Each has exactly the reference's parameters and MACs at 224x224 with 1000 classes
(torchvision's ``mnasnet1_0``/``0_5``, ``mobilenet_v3_large``/``small``,
``squeezenet1_0``/``1_1``, ``resnet18``/``50``, ``vgg11``/``16``, ``googlenet`` without
auxiliary heads, ``densenet121``; timm's ``mixnet_s``/``m``), its parameters in the same
state-dict order (``engine.train.pretrained`` maps their checkpoints).  Stages are written
as block strings (``engine.arch.timm_blocks``), MixNet's exactly as in timm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.arch.model import BlockStack

__all__ = ["CLASSIC_PRESETS", "REFERENCES"]

MNASNET_DEPTHS = (32, 16, 24, 40, 80, 96, 192, 320)

MIXNET_S = ("ds_r1_k3_s1_e1_c16",
            "ir_r1_k3_a1.1_p1.1_s2_e6_c24", "ir_r1_k3_a1.1_p1.1_s1_e3_c24",
            "ir_r1_k3.5.7_s2_e6_c40_se0.5_nsw", "ir_r3_k3.5_a1.1_p1.1_s1_e6_c40_se0.5_nsw",
            "ir_r1_k3.5.7_p1.1_s2_e6_c80_se0.25_nsw", "ir_r2_k3.5_p1.1_s1_e6_c80_se0.25_nsw",
            "ir_r1_k3.5.7_a1.1_p1.1_s1_e6_c120_se0.5_nsw",
            "ir_r2_k3.5.7.9_a1.1_p1.1_s1_e3_c120_se0.5_nsw",
            "ir_r1_k3.5.7.9.11_s2_e6_c200_se0.5_nsw", "ir_r2_k3.5.7.9_p1.1_s1_e6_c200_se0.5_nsw")
MIXNET_M = ("ds_r1_k3_s1_e1_c24",
            "ir_r1_k3.5.7_a1.1_p1.1_s2_e6_c32", "ir_r1_k3_a1.1_p1.1_s1_e3_c32",
            "ir_r1_k3.5.7.9_s2_e6_c40_se0.5_nsw", "ir_r3_k3.5_a1.1_p1.1_s1_e6_c40_se0.5_nsw",
            "ir_r1_k3.5.7_s2_e6_c80_se0.25_nsw", "ir_r3_k3.5.7.9_a1.1_p1.1_s1_e6_c80_se0.25_nsw",
            "ir_r1_k3_s1_e6_c120_se0.5_nsw", "ir_r3_k3.5.7.9_a1.1_p1.1_s1_e3_c120_se0.5_nsw",
            "ir_r1_k3.5.7.9_s2_e6_c200_se0.5_nsw", "ir_r3_k3.5.7.9_p1.1_s1_e6_c200_se0.5_nsw")
MOBILENET_V3_LARGE = (
    "mb3_r1_k3_s1_e1_c16_nre", "mb3_r1_k3_s2_e4_c24_nre", "mb3_r1_k3_s1_e3_c24_nre",
    "mb3_r1_k5_s2_e3_c40_se0.25_nre", "mb3_r2_k5_s1_e3_c40_se0.25_nre",
    "mb3_r1_k3_s2_e6_c80", "mb3_r1_k3_s1_e2.5_c80", "mb3_r2_k3_s1_e2.3_c80",
    "mb3_r2_k3_s1_e6_c112_se0.25", "mb3_r1_k5_s2_e6_c160_se0.25", "mb3_r2_k5_s1_e6_c160_se0.25")
MOBILENET_V3_SMALL = (
    "mb3_r1_k3_s2_e1_c16_se0.25_nre", "mb3_r1_k3_s2_e4.5_c24_nre", "mb3_r1_k3_s1_e3.67_c24_nre",
    "mb3_r1_k5_s2_e4_c40_se0.25", "mb3_r2_k5_s1_e6_c40_se0.25", "mb3_r2_k5_s1_e3_c48_se0.25",
    "mb3_r3_k5_s2_e6_c96_se0.25")
SQUEEZENET_1_0 = ("fire_r2_c128_sq16", "fire_r1_c256_sq32_poolmax3", "fire_r1_c256_sq32",
                  "fire_r2_c384_sq48", "fire_r1_c512_sq64_poolmax3", "fire_r1_c512_sq64")
SQUEEZENET_1_1 = ("fire_r2_c128_sq16_poolmax3", "fire_r2_c256_sq32_poolmax3",
                  "fire_r2_c384_sq48", "fire_r2_c512_sq64")
RESNET_18 = ("basic_r2_s1_c64", "basic_r2_s2_c128", "basic_r2_s2_c256", "basic_r2_s2_c512")
RESNET_50 = ("bot_r3_s1_c256", "bot_r4_s2_c512", "bot_r6_s2_c1024", "bot_r3_s2_c2048")
VGG_11 = ("conv_r1_k3_s1_c64_poolmax2", "conv_r1_k3_s1_c128_poolmax2",
          "conv_r2_k3_s1_c256_poolmax2", "conv_r2_k3_s1_c512_poolmax2",
          "conv_r2_k3_s1_c512_poolmax2")
VGG_16 = ("conv_r2_k3_s1_c64_poolmax2", "conv_r2_k3_s1_c128_poolmax2",
          "conv_r3_k3_s1_c256_poolmax2", "conv_r3_k3_s1_c512_poolmax2",
          "conv_r3_k3_s1_c512_poolmax2")
GOOGLENET = ("conv_r1_k1_s1_c64_bn", "conv_r1_k3_s1_c192_bn_poolmax3",
             "incep_r1_c256_b64.96.128.16.32", "incep_r1_c480_b128.128.192.32.96_poolmax3",
             "incep_r1_c512_b192.96.208.16.48", "incep_r1_c512_b160.112.224.24.64",
             "incep_r1_c512_b128.128.256.24.64", "incep_r1_c528_b112.144.288.32.64",
             "incep_r1_c832_b256.160.320.32.128_poolmax2", "incep_r1_c832_b256.160.320.32.128",
             "incep_r1_c1024_b384.192.384.48.128")
DENSENET_121 = ("dense_r6_c32", "trans_c128", "dense_r12_c32", "trans_c256", "dense_r24_c32",
                "trans_c512", "dense_r16_c32")

REFERENCES: dict[str, str] = {
    "mnasnet-1.0": "torchvision:mnasnet1_0", "mnasnet-0.5": "torchvision:mnasnet0_5",
    "mixnet-s": "timm:mixnet_s", "mixnet-m": "timm:mixnet_m",
    "mobilenet-v3-large": "torchvision:mobilenet_v3_large",
    "mobilenet-v3-small": "torchvision:mobilenet_v3_small",
    "squeezenet-1.0": "torchvision:squeezenet1_0", "squeezenet-1.1": "torchvision:squeezenet1_1",
    "resnet-18": "torchvision:resnet18", "resnet-50": "torchvision:resnet50",
    "vgg-11": "torchvision:vgg11", "vgg-16": "torchvision:vgg16",
    "googlenet": "torchvision:googlenet", "densenet-121": "torchvision:densenet121",
}
"""The model each preset mirrors (``library:builder``)."""


def _stack(name: str, strings: tuple[str, ...], act: str, **fields: Any) -> BlockStack:
    from engine.arch.timm_blocks import parse_block_strings

    fields.setdefault("stochastic_depth", 0.0)
    return BlockStack(name=name, stages=parse_block_strings(list(strings), default_act=act),
                      act=act, resolution=224, classes=1000, **fields)


def mnasnet(alpha: float) -> BlockStack:
    """torchvision's MNASNet: every width ``make_divisible(width * alpha, 8)``, head 1280."""
    from engine.arch.scaling import make_divisible

    d = [make_divisible(v * alpha, 8) for v in MNASNET_DEPTHS]
    rows = (f"ds_r1_k3_s1_e1_c{d[1]}", f"ir_r3_k3_s2_e3_c{d[2]}", f"ir_r3_k5_s2_e3_c{d[3]}",
            f"ir_r3_k5_s2_e6_c{d[4]}", f"ir_r2_k3_s1_e6_c{d[5]}", f"ir_r4_k5_s2_e6_c{d[6]}",
            f"ir_r1_k3_s1_e6_c{d[7]}")
    return _stack(f"mnasnet-{alpha:.1f}", rows, "relu", stem_channels=d[0], head_channels=1280,
                  dropout=0.2)


def _resnet(name: str, strings: tuple[str, ...]) -> BlockStack:
    return _stack(name, strings, "relu", stem_channels=64, stem_kernel=7, stem_pool="max3p",
                  head="none", dropout=0.0)


CLASSIC_PRESETS: dict[str, Callable[[], BlockStack]] = {
    "mnasnet-1.0": lambda: mnasnet(1.0),
    "mnasnet-0.5": lambda: mnasnet(0.5),
    "mixnet-s": lambda: _stack("mixnet-s", MIXNET_S, "relu", stem_channels=16,
                               head_channels=1536, dropout=0.2),
    "mixnet-m": lambda: _stack("mixnet-m", MIXNET_M, "relu", stem_channels=24,
                               head_channels=1536, dropout=0.25),
    "mobilenet-v3-large": lambda: _stack("mobilenet-v3-large", MOBILENET_V3_LARGE, "hswish",
                                         stem_channels=16, head_channels=960, hidden=(1280,),
                                         dropout=0.2),
    "mobilenet-v3-small": lambda: _stack("mobilenet-v3-small", MOBILENET_V3_SMALL, "hswish",
                                         stem_channels=16, head_channels=576, hidden=(1024,),
                                         dropout=0.2),
    "squeezenet-1.0": lambda: _stack("squeezenet-1.0", SQUEEZENET_1_0, "relu", stem="conv_bias",
                                     stem_channels=96, stem_kernel=7, stem_pool="max3",
                                     head="none", classifier="conv", dropout=0.5),
    "squeezenet-1.1": lambda: _stack("squeezenet-1.1", SQUEEZENET_1_1, "relu", stem="conv_bias",
                                     stem_channels=64, stem_kernel=3, stem_pool="max3",
                                     head="none", classifier="conv", dropout=0.5),
    "resnet-18": lambda: _resnet("resnet-18", RESNET_18),
    "resnet-50": lambda: _resnet("resnet-50", RESNET_50),
    "vgg-11": lambda: _stack("vgg-11", VGG_11, "relu", stem="none", head="none", pool_size=7,
                             hidden=(4096, 4096), dropout=0.5),
    "vgg-16": lambda: _stack("vgg-16", VGG_16, "relu", stem="none", head="none", pool_size=7,
                             hidden=(4096, 4096), dropout=0.5),
    "googlenet": lambda: _stack("googlenet", GOOGLENET, "relu", stem_channels=64, stem_kernel=7,
                                stem_pool="max3", head="none", dropout=0.2),
    "densenet-121": lambda: _stack("densenet-121", DENSENET_121, "relu", stem_channels=64,
                                   stem_kernel=7, stem_pool="max3p", head="bn", dropout=0.0),
}
