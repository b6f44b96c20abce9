"""Built-in designs: EfficientNet B0-B7, MobileNetV2, the stacks of ``presets_classic``
(MnasNet, MixNet, MobileNetV3, SqueezeNet, ResNet, VGG, GoogLeNet, DenseNet), published
DARTS-space cells, NB201.

Cell presets use the DARTS CIFAR macro (C=36, 20 cells, 10 classes, 3x32x32,
auxiliary head off).  Genotype pairs are written as in quark0/darts ``genotypes.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.arch.model import BlockStack, Cell, CellDesign, CellMacro, Edge, Stage
from engine.arch.presets_classic import CLASSIC_PRESETS

Pairs = list[tuple[str, int]]


def cell_from_pairs(pairs: Pairs, concat: list[int], n_inputs: int = 2) -> Cell:
    """A DARTS-style cell: node ``n_inputs + i`` sums pairs ``2i`` and ``2i+1``."""
    if len(pairs) % 2:
        raise ValueError("a DARTS genotype lists two (op, input) pairs per node")
    nodes = [n_inputs + i for i in range(len(pairs) // 2)]
    edges = [Edge(src, n_inputs + i // 2, op) for i, (op, src) in enumerate(pairs)]
    return Cell(n_inputs=n_inputs, nodes=nodes, edges=edges, concat=list(concat))


def darts_design(name: str, normal: Pairs, normal_concat: list[int], reduce: Pairs,
                 reduce_concat: list[int], **macro: Any) -> CellDesign:
    return CellDesign(name=name, normal=cell_from_pairs(normal, normal_concat),
                      reduce=cell_from_pairs(reduce, reduce_concat),
                      macro=CellMacro(style="darts", **macro))


GENOTYPES: dict[str, tuple[Pairs, list[int], Pairs, list[int]]] = {
    "nasnet-a": (
        [("sep_conv_5x5", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 0), ("sep_conv_3x3", 0),
         ("avg_pool_3x3", 1), ("skip_connect", 0), ("avg_pool_3x3", 0), ("avg_pool_3x3", 0),
         ("sep_conv_3x3", 1), ("skip_connect", 1)],
        [2, 3, 4, 5, 6],
        [("sep_conv_5x5", 1), ("sep_conv_7x7", 0), ("max_pool_3x3", 1), ("sep_conv_7x7", 0),
         ("avg_pool_3x3", 1), ("sep_conv_5x5", 0), ("skip_connect", 3), ("avg_pool_3x3", 2),
         ("sep_conv_3x3", 2), ("max_pool_3x3", 1)],
        [4, 5, 6],
    ),
    "amoebanet-a": (
        [("avg_pool_3x3", 0), ("max_pool_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 2),
         ("sep_conv_3x3", 0), ("avg_pool_3x3", 3), ("sep_conv_3x3", 1), ("skip_connect", 1),
         ("skip_connect", 0), ("avg_pool_3x3", 1)],
        [4, 5, 6],
        [("avg_pool_3x3", 0), ("sep_conv_3x3", 1), ("max_pool_3x3", 0), ("sep_conv_7x7", 2),
         ("sep_conv_7x7", 0), ("avg_pool_3x3", 1), ("max_pool_3x3", 0), ("max_pool_3x3", 1),
         ("conv_7x1_1x7", 0), ("sep_conv_3x3", 5)],
        [3, 4, 6],
    ),
    "darts-v1": (
        [("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 0), ("sep_conv_3x3", 1),
         ("skip_connect", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 2)],
        [2, 3, 4, 5],
        [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 0),
         ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("avg_pool_3x3", 0)],
        [2, 3, 4, 5],
    ),
    "darts-v2": (
        [("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
         ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)],
        [2, 3, 4, 5],
        [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
         ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)],
        [2, 3, 4, 5],
    ),
    "pnas": (
        [("sep_conv_5x5", 0), ("max_pool_3x3", 0), ("sep_conv_7x7", 1), ("max_pool_3x3", 1),
         ("sep_conv_5x5", 1), ("sep_conv_3x3", 1), ("sep_conv_3x3", 4), ("max_pool_3x3", 1),
         ("sep_conv_3x3", 0), ("skip_connect", 1)],
        [2, 3, 4, 5, 6],
        [("sep_conv_5x5", 0), ("max_pool_3x3", 0), ("sep_conv_7x7", 1), ("max_pool_3x3", 1),
         ("sep_conv_5x5", 1), ("sep_conv_3x3", 1), ("sep_conv_3x3", 4), ("max_pool_3x3", 1),
         ("sep_conv_3x3", 0), ("skip_connect", 1)],
        [2, 3, 4, 5, 6],
    ),
    "enas": (
        [("sep_conv_3x3", 1), ("skip_connect", 1), ("sep_conv_5x5", 1), ("skip_connect", 0),
         ("avg_pool_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("avg_pool_3x3", 1),
         ("sep_conv_5x5", 1), ("avg_pool_3x3", 0)],
        [2, 3, 4, 5, 6],
        # reduce cell as in ianwhale/nsga-net models/micro_genotypes.py (same edges, up to
        # order within a node, in other public transcriptions of the ENAS paper's cell)
        [("sep_conv_5x5", 0), ("avg_pool_3x3", 1), ("sep_conv_3x3", 1), ("avg_pool_3x3", 1),
         ("avg_pool_3x3", 1), ("sep_conv_3x3", 1), ("sep_conv_5x5", 4), ("avg_pool_3x3", 1),
         ("sep_conv_3x3", 5), ("sep_conv_5x5", 0)],
        [2, 3, 6],
    ),
}

NB201_BEST = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
              "|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")

# (width, depth, resolution, dropout) from torchvision / Tan & Le 2019.
EFFICIENTNET_SETTINGS: dict[str, tuple[float, float, int, float]] = {
    "b0": (1.0, 1.0, 224, 0.2), "b1": (1.0, 1.1, 240, 0.2), "b2": (1.1, 1.2, 260, 0.3),
    "b3": (1.2, 1.4, 300, 0.3), "b4": (1.4, 1.8, 380, 0.4), "b5": (1.6, 2.2, 456, 0.4),
    "b6": (1.8, 2.6, 528, 0.5), "b7": (2.0, 3.1, 600, 0.5),
}

B0_BLOCKS = ("ds_r1_k3_s1_e1_c16_se0.25", "ir_r2_k3_s2_e6_c24_se0.25", "ir_r2_k5_s2_e6_c40_se0.25",
             "ir_r3_k3_s2_e6_c80_se0.25", "ir_r3_k5_s1_e6_c112_se0.25",
             "ir_r4_k5_s2_e6_c192_se0.25", "ir_r1_k3_s1_e6_c320_se0.25")


def b0_stages() -> list[Stage]:
    rows = [("ds", 1, 3, 1, 1, 16), ("ir", 2, 3, 2, 6, 24), ("ir", 2, 5, 2, 6, 40),
            ("ir", 3, 3, 2, 6, 80), ("ir", 3, 5, 1, 6, 112), ("ir", 4, 5, 2, 6, 192),
            ("ir", 1, 3, 1, 6, 320)]
    return [Stage(b, r, k, s, e, c, 0.25, "silu") for b, r, k, s, e, c in rows]


def efficientnet(variant: str = "b0", classes: int = 1000) -> BlockStack:
    width, depth, res, dropout = EFFICIENTNET_SETTINGS[variant]
    return BlockStack(name=f"efficientnet-{variant}", stages=b0_stages(), stem_channels=32,
                      head_channels=1280, width_mult=width, depth_mult=depth, resolution=res,
                      dropout=dropout, stochastic_depth=0.2, act="silu", classes=classes)


def mobilenet_v2(classes: int = 1000) -> BlockStack:
    rows = [("ds", 1, 1, 16, 1), ("ir", 6, 2, 24, 2), ("ir", 6, 3, 32, 2), ("ir", 6, 4, 64, 2),
            ("ir", 6, 3, 96, 1), ("ir", 6, 3, 160, 2), ("ir", 6, 1, 320, 1)]
    stages = [Stage(b, n, 3, s, t, c, 0.0, "relu6") for b, t, n, c, s in rows]
    return BlockStack(name="mobilenet-v2", stages=stages, stem_channels=32, head_channels=1280,
                      resolution=224, dropout=0.2, stochastic_depth=0.0, act="relu6",
                      classes=classes)


def _darts_preset(name: str) -> Callable[[], CellDesign]:
    def make() -> CellDesign:
        normal, nc, reduce, rc = GENOTYPES[name]
        return darts_design(name, normal, nc, reduce, rc)

    return make


def nb201_best() -> CellDesign:
    from engine.arch.nb201 import parse_nb201

    design = parse_nb201(NB201_BEST)
    design.name = "nas-bench-201-best"
    return design


PRESETS: dict[str, Callable[[], CellDesign | BlockStack]] = {
    **{f"efficientnet-{v}": (lambda v=v: efficientnet(v)) for v in EFFICIENTNET_SETTINGS},
    "mobilenet-v2": mobilenet_v2,
    **CLASSIC_PRESETS,
    **{name: _darts_preset(name) for name in GENOTYPES},
    "nas-bench-201-best": nb201_best,
}


def preset_names() -> list[str]:
    return list(PRESETS)


def preset_group(name: str) -> str:
    """The family a preset belongs to (the studio's preset menu groups them)."""
    if name.startswith("efficientnet-"):
        return "EfficientNet"
    if name.startswith(("mobilenet-", "mnasnet-", "mixnet-")):
        return "MobileNet, MnasNet, MixNet"
    if isinstance(PRESETS[name](), CellDesign):
        return "Cells (DARTS space, NAS-Bench-201)"
    return "Classic baselines"


def preset_groups() -> dict[str, list[str]]:
    """Preset names by ``preset_group``, in registration order."""
    out: dict[str, list[str]] = {}
    for name in PRESETS:
        out.setdefault(preset_group(name), []).append(name)
    return out


def get_preset(name: str) -> CellDesign | BlockStack:
    """A fresh copy of a built-in design; KeyError lists the known names."""
    try:
        return PRESETS[name.lower()]()
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}") from None
