"""Block types beyond ``ds``/``ir``: MixConv, MobileNetV3, Fire, ResNet, VGG, Inception,
DenseNet; each a ``register_block`` call with its fields and a pure-Python cost function.

The modules are in ``engine/ops/torch_classic.py`` and follow the reference models'
layout (torchvision's ResNet, VGG, SqueezeNet, GoogLeNet, DenseNet and MobileNetV3, timm's
MixNet), so the presets built from them have the reference's exact size and their state
dicts align entry by entry.  Block-string prefixes are timm's where timm has a notation
(a MixConv block is ``ir_r1_k3.5.7_a1.1_p1.1_s2_e6_c40_se0.5_nsw``), our own otherwise
(``fire_r2_c128_sq16``, ``basic_r2_s2_c128``, ``bot_r3_s1_c256``...).
"""

from __future__ import annotations

from typing import Any

from engine.arch.scaling import make_divisible
from engine.ops import costs as c
from engine.ops import registry
from engine.ops.blocks import (
    COMMON_FIELDS,
    EXPANSION_FIELD,
    SE_FIELD,
    STACK_ACT,
    BlockField,
    register_block,
)
from engine.ops.costs import Cost, Shape, ShapeError

__all__ = ["inception_widths", "mb3_squeeze", "mixed_conv", "split_channels"]

_T = "engine.ops.torch_classic:"

_REPEATS, _KERNEL, _STRIDE, _CHANNELS = COMMON_FIELDS


def _stride1(title: str) -> BlockField:
    return BlockField("stride", "Stride", "int", 1, key="s", omitted=1, choices=(1,),
                      description=f"always 1: {title} downsample with the stage's pool")


def _channels(default: int, title: str = "Channels", description: str = "output channels "
              "(before width scaling)") -> BlockField:
    return BlockField("channels", title, "int", default, key="c", low=1, high=4096, step=8,
                      description=description)


def _expect_stride1(name: str, stride: int) -> None:
    if stride != 1:
        raise ShapeError(f"a {name} block has stride 1 (downsample with the stage's pool), "
                         f"got {stride}")


# -- MixConv (MixNet) --------------------------------------------------------------------------

def split_channels(channels: int, groups: int) -> list[int]:
    """timm's ``_split_channels``: equal parts, the remainder to the first."""
    if groups < 1 or channels < groups:
        raise ShapeError(f"{channels} channels cannot be split into {groups} kernel groups")
    split = [channels // groups] * groups
    split[0] += channels - sum(split)
    return split


def mixed_conv(shape: Shape, c_out: int, kernels: tuple[int, ...], stride: int,
               depthwise: bool) -> Cost:
    """timm's ``MixedConv2d`` (one conv per kernel size over a split of the channels; a
    single kernel is a plain conv)."""
    ins, outs = split_channels(shape[0], len(kernels)), split_channels(c_out, len(kernels))
    params = macs = 0
    size = shape[1:]
    for k, ci, co in zip(kernels, ins, outs, strict=True):
        if depthwise and ci != co:
            raise ShapeError(f"a depthwise mixed conv maps {ci} to {co} channels")
        part = c.conv2d((ci, *shape[1:]), co, k, stride, (k - 1) // 2,
                        groups=ci if depthwise else 1)
        params, macs, size = params + part.params, macs + part.macs, part.shape[1:]
    return Cost(params, macs, (c_out, *size))


def _mix_cost(shape: Shape, out_channels: int, *, stride: int, kernels: tuple[int, ...],
              exp_kernels: tuple[int, ...], pw_kernels: tuple[int, ...], expansion: float,
              se: float, **_: Any) -> Cost:
    c_in = shape[0]
    mid = c_in if expansion == 1 else make_divisible(c_in * expansion, 8)
    out = Cost(0, 0, shape)
    if mid != c_in:
        out = out.then(mixed_conv(shape, mid, exp_kernels, 1, False))
        out = out.then(c.batch_norm(out.shape))
    out = out.then(mixed_conv(out.shape, mid, kernels, stride, True))
    out = out.then(c.batch_norm(out.shape))
    if se > 0:
        out = out.then(c.squeeze_excite(out.shape, max(1, int(c_in * se))))
    out = out.then(mixed_conv(out.shape, out_channels, pw_kernels, 1, False))
    return out.then(c.batch_norm(out.shape))


def _odd_kernels(name: str, title: str) -> Any:
    def check(stage: Any) -> list[tuple[str, str]]:
        ks = getattr(stage, name)
        if not isinstance(ks, tuple | list) or not ks:
            return [(name, f"{title}: give at least one kernel size")]
        if any(not isinstance(k, int) or isinstance(k, bool) or k < 1 or k % 2 == 0
               for k in ks):
            return [(name, f"{title}: kernel sizes must be odd whole numbers, got "
                           f"{'.'.join(str(k) for k in ks)}")]
        return []
    return check


def _mix_check(stage: Any) -> list[tuple[str, str]]:
    out = (_odd_kernels("kernels", "depthwise kernels")(stage)
           + _odd_kernels("exp_kernels", "expansion groups")(stage)
           + _odd_kernels("pw_kernels", "projection groups")(stage))
    if not out and len(stage.kernels) == 1 and stage.exp_kernels == (1,) and \
            stage.pw_kernels == (1,):
        out.append(("kernels", "one kernel and no groups: this is an 'ir' block (its block "
                               "string reads back as one)"))
    return out


_MIX_ACT = BlockField("act", "Activation", "act", "silu", key="n", omitted=STACK_ACT,
                      choices=registry.ACTIVATIONS,
                      description="activation after the expansion and depthwise convs, and "
                                  "inside the squeeze-excite")

register_block(
    "mix", "MixConv inverted residual", prefix="ir",
    fields=(_REPEATS,
            BlockField("kernels", "Kernels", "ints", (3, 5, 7), key="k",
                       description="depthwise kernel sizes, one per channel group "
                                   "(timm's k3.5.7)"),
            _STRIDE, _CHANNELS, EXPANSION_FIELD,
            BlockField("exp_kernels", "Expansion groups", "ints", (1,), key="a", omitted=(1,),
                       description="kernel per group of the 1x1 expansion (a1.1: two groups)"),
            BlockField("pw_kernels", "Projection groups", "ints", (1,), key="p", omitted=(1,),
                       description="kernel per group of the 1x1 projection (p1.1: two groups)"),
            SE_FIELD, _MIX_ACT),
    factory=_T + "mix_block", cost=_mix_cost, check=_mix_check,
    description="MixNet: an inverted residual whose depthwise conv mixes kernel sizes over "
                "channel groups (MixConv), optionally grouped 1x1 convs.")


# -- MobileNetV3 ------------------------------------------------------------------------------

def mb3_squeeze(expanded: int, se: float) -> int:
    """torchvision's MobileNetV3 squeeze width: ``se`` of the expanded width, rounded to 8."""
    return make_divisible(expanded * se, 8)


def _mb3_cost(shape: Shape, out_channels: int, *, stride: int, kernel: int, expansion: float,
              se: float, **_: Any) -> Cost:
    c_in = shape[0]
    mid = c_in if expansion == 1 else make_divisible(c_in * expansion, 8)
    out = Cost(0, 0, shape)
    if mid != c_in:
        out = out.then(c.conv2d(shape, mid, 1)).then(c.batch_norm((mid, *shape[1:])))
    out = out.then(c.conv2d(out.shape, mid, kernel, stride, (kernel - 1) // 2, groups=mid))
    out = out.then(c.batch_norm(out.shape))
    if se > 0:
        out = out.then(c.squeeze_excite(out.shape, mb3_squeeze(mid, se)))
    out = out.then(c.conv2d(out.shape, out_channels, 1))
    return out.then(c.batch_norm(out.shape))


register_block(
    "mb3", "MobileNetV3 block", prefix="mb3",
    fields=(*COMMON_FIELDS, EXPANSION_FIELD,
            BlockField("se", "Squeeze-excite", "float", 0.25, key="se", omitted=0.0, low=0.0,
                       high=1.0, high_open=True, step=0.05,
                       description="squeeze width as a fraction of the expanded channels, "
                                   "rounded to 8; hard-sigmoid gate (0: none)"),
            BlockField("act", "Activation", "act", "hswish", key="n", omitted=STACK_ACT,
                       choices=registry.ACTIVATIONS,
                       description="activation after the expansion and depthwise convs")),
    factory=_T + "mb3_block", cost=_mb3_cost,
    description="MobileNetV3: expand 1x1, depthwise kxk, squeeze-excite with ReLU and a "
                "hard-sigmoid gate, project 1x1 (h-swish or ReLU).")


_RES_ACT = BlockField("act", "Activation", "act", "relu", key="n", omitted=STACK_ACT,
                      choices=registry.ACTIVATIONS,
                      description="activation after the convs and after the sum")


# -- SqueezeNet ------------------------------------------------------------------------------

def _fire_cost(shape: Shape, out_channels: int, *, stride: int, squeeze: int,
               **_: Any) -> Cost:
    _expect_stride1("fire", stride)
    if out_channels % 2:
        raise ShapeError(f"a fire module splits its {out_channels} output channels evenly "
                         "between 1x1 and 3x3 expands: use an even number")
    sq = c.conv2d(shape, squeeze, 1, bias=True)
    e1 = c.conv2d(sq.shape, out_channels // 2, 1, bias=True)
    e3 = c.conv2d(sq.shape, out_channels // 2, 3, 1, 1, bias=True)
    return Cost(sq.params + e1.params + e3.params, sq.macs + e1.macs + e3.macs,
                (out_channels, *e1.shape[1:]))


def _fire_check(stage: Any) -> list[tuple[str, str]]:
    if isinstance(stage.channels, int) and stage.channels % 2:
        return [("channels", f"must be even (half 1x1, half 3x3 expands), got {stage.channels}")]
    return []


register_block(
    "fire", "Fire module", prefix="fire",
    fields=(_REPEATS, _stride1("fire modules"), _channels(128),
            BlockField("squeeze", "Squeeze", "int", 16, key="sq", low=1, high=4096, step=8,
                       scales=True, description="channels of the 1x1 squeeze conv"),
            _RES_ACT),
    factory=_T + "fire_block", cost=_fire_cost, check=_fire_check,
    description="SqueezeNet: 1x1 squeeze conv, then 1x1 and 3x3 expand convs "
                "(half the output each), concatenated; biases, no batch norm.")


# -- ResNet ----------------------------------------------------------------------------------

def _shortcut(shape: Shape, c_out: int, stride: int) -> Cost:
    if stride == 1 and shape[0] == c_out:
        return Cost(0, 0, shape)
    down = c.conv2d(shape, c_out, 1, stride)
    return down.then(c.batch_norm(down.shape))


def _residual(shape: Shape, branch: Cost, c_out: int, stride: int) -> Cost:
    short = _shortcut(shape, c_out, stride)
    if short.shape != branch.shape:
        raise ShapeError(f"adds a {branch.shape} branch to a {short.shape} shortcut")
    return Cost(branch.params + short.params, branch.macs + short.macs, branch.shape)


def _basic_cost(shape: Shape, out_channels: int, *, stride: int, **_: Any) -> Cost:
    a = c.conv2d(shape, out_channels, 3, stride, 1)
    a = a.then(c.batch_norm(a.shape))
    b = a.then(c.conv2d(a.shape, out_channels, 3, 1, 1))
    return _residual(shape, b.then(c.batch_norm(b.shape)), out_channels, stride)


def bottleneck_width(channels: int, expansion: float) -> int:
    width = channels / expansion
    if expansion <= 0 or width < 1 or not float(width).is_integer():
        raise ShapeError(f"{channels} output channels over expansion {expansion:g} is not a "
                         "whole width")
    return int(width)


def _bottleneck_cost(shape: Shape, out_channels: int, *, stride: int, expansion: float,
                     **_: Any) -> Cost:
    width = bottleneck_width(out_channels, expansion)
    out = c.conv2d(shape, width, 1)
    out = out.then(c.batch_norm(out.shape))
    out = out.then(c.conv2d(out.shape, width, 3, stride, 1))
    out = out.then(c.batch_norm(out.shape))
    out = out.then(c.conv2d(out.shape, out_channels, 1))
    return _residual(shape, out.then(c.batch_norm(out.shape)), out_channels, stride)


def _bottleneck_check(stage: Any) -> list[tuple[str, str]]:
    try:
        bottleneck_width(stage.channels, stage.expansion)
    except (ShapeError, TypeError, ZeroDivisionError):
        return [("expansion", f"must divide the {stage.channels} output channels into a whole "
                              f"width, got {stage.expansion!r}")]
    return []


register_block(
    "basic", "Basic residual block", prefix="basic",
    fields=(_REPEATS, _STRIDE, _channels(64), _RES_ACT),
    factory=_T + "basic_block", cost=_basic_cost,
    description="ResNet-18/34: two 3x3 conv-BN layers and a shortcut (1x1 conv-BN when the "
                "shape changes), summed, then the activation.")
register_block(
    "bottleneck", "Bottleneck residual block", prefix="bot",
    fields=(_REPEATS, _STRIDE, _channels(256),
            BlockField("expansion", "Expansion", "float", 4.0, key="e", omitted=4.0, low=0.0,
                       high=64.0, step=1.0,
                       description="output channels over the width of the 3x3 conv"),
            _RES_ACT),
    factory=_T + "bottleneck_block", cost=_bottleneck_cost, check=_bottleneck_check,
    description="ResNet-50 (v1.5): 1x1 reduce, 3x3 (strided), 1x1 expand, each conv-BN, and "
                "a shortcut, summed, then the activation.")


# -- VGG conv groups ----------------------------------------------------------------------------

def _conv_cost(shape: Shape, out_channels: int, *, stride: int, kernel: int, bn: bool,
               **_: Any) -> Cost:
    out = c.conv2d(shape, out_channels, kernel, stride, (kernel - 1) // 2, bias=not bn)
    return out.then(c.batch_norm(out.shape)) if bn else out


register_block(
    "conv", "Conv layers (VGG group)", prefix="conv",
    fields=(BlockField("repeats", "Layers", "int", 2, key="r", low=1, high=32, step=1,
                       description="conv layers in the group"),
            BlockField("kernel", "Kernel", "int", 3, key="k", choices=(1, 3, 5, 7), low=1,
                       odd=True, description="kernel size (odd: 'same' padding)"),
            _STRIDE, _channels(64),
            BlockField("bn", "Batch norm", "bool", True, key="bn", omitted=False,
                       description="batch norm after each conv (else the conv has a bias)"),
            _RES_ACT),
    factory=_T + "conv_block", cost=_conv_cost,
    description="VGG / GoogLeNet stem: conv (BN) activation, once per layer; pool with the "
                "stage's 'Pool after'.")


# -- Inception (GoogLeNet) ---------------------------------------------------------------------

def inception_widths(out_channels: int, branches: tuple[int, ...]) -> tuple[int, ...]:
    """(1x1, 3x3 reduce, 3x3, second reduce, second, pool projection): the pool projection
    takes the output channels the other branches leave."""
    if len(branches) != 5 or any(not isinstance(b, int) or b < 1 for b in branches):
        raise ShapeError(f"an inception block needs five positive branch widths, got "
                         f"{'.'.join(str(b) for b in branches) or 'none'}")
    b1, r3, b3, r5, b5 = branches
    proj = out_channels - b1 - b3 - b5
    if proj < 1:
        raise ShapeError(f"the branches' {b1 + b3 + b5} channels leave none of the "
                         f"{out_channels} outputs for the pool projection")
    return (b1, r3, b3, r5, b5, proj)


def _inception_cost(shape: Shape, out_channels: int, *, stride: int, kernel: int,
                    branches: tuple[int, ...], **_: Any) -> Cost:
    _expect_stride1("inception", stride)
    b1, r3, b3, r5, b5, proj = inception_widths(out_channels, branches)

    def basic(x: Shape, co: int, k: int) -> Cost:
        out = c.conv2d(x, co, k, 1, (k - 1) // 2)
        return out.then(c.batch_norm(out.shape))

    parts = [basic(shape, b1, 1),
             basic(shape, r3, 1).then(basic((r3, *shape[1:]), b3, 3)),
             basic(shape, r5, 1).then(basic((r5, *shape[1:]), b5, kernel)),
             basic(shape, proj, 1)]
    return Cost(sum(p.params for p in parts), sum(p.macs for p in parts),
                (out_channels, *shape[1:]))


def _inception_check(stage: Any) -> list[tuple[str, str]]:
    try:
        inception_widths(stage.channels, tuple(stage.branches))
    except (ShapeError, TypeError) as exc:
        return [("branches", str(exc))]
    return []


register_block(
    "inception", "Inception module", prefix="incep",
    fields=(_REPEATS, _stride1("inception modules"), _channels(256, description=(
                "output channels: the branches' plus the pool projection's")),
            BlockField("branches", "Branches", "ints", (64, 96, 128, 16, 32), key="b",
                       scales=True,
                       description="1x1, 3x3 reduce, 3x3, second reduce, second conv widths; "
                                   "the pool projection gets the remaining outputs"),
            BlockField("kernel", "Second kernel", "int", 3, key="k", omitted=3, choices=(3, 5),
                       description="kernel of the second reduced branch (3 in torchvision's "
                                   "GoogLeNet, 5 in the paper)"),
            _RES_ACT),
    factory=_T + "inception_block", cost=_inception_cost, check=_inception_check,
    description="GoogLeNet: 1x1, 1x1-3x3, 1x1-kxk and pool-1x1 branches (conv-BN-act), "
                "concatenated.")


# -- DenseNet ------------------------------------------------------------------------------------

def dense_width(growth: int, bn_size: float) -> int:
    width = growth * bn_size
    if width < 1 or not float(width).is_integer():
        raise ShapeError(f"bottleneck size {bn_size:g} x growth {growth} is not a whole width")
    return int(width)


def _dense_cost(shape: Shape, out_channels: int, *, stride: int, expansion: float,
                **_: Any) -> Cost:
    _expect_stride1("dense", stride)
    width = dense_width(out_channels, expansion)
    out = c.batch_norm(shape).then(c.conv2d(shape, width, 1))
    out = out.then(c.batch_norm(out.shape)).then(c.conv2d(out.shape, out_channels, 3, 1, 1))
    return Cost(out.params, out.macs, (shape[0] + out_channels, *shape[1:]))


def _dense_check(stage: Any) -> list[tuple[str, str]]:
    try:
        dense_width(stage.channels, stage.expansion)
    except (ShapeError, TypeError):
        return [("expansion", f"times the growth rate {stage.channels} must be a whole width, "
                              f"got {stage.expansion!r}")]
    return []


def _transition_cost(shape: Shape, out_channels: int, *, stride: int, **_: Any) -> Cost:
    out = c.batch_norm(shape).then(c.conv2d(shape, out_channels, 1))
    if stride == 1:
        return out
    return out.then(c.pool(out.shape, 2, 2))


register_block(
    "dense", "Dense block layers", prefix="dense",
    fields=(BlockField("repeats", "Layers", "int", 6, key="r", low=1, high=128, step=1,
                       description="dense layers; each adds 'growth rate' channels"),
            _stride1("dense blocks"),
            _channels(32, "Growth rate", "channels each layer adds (before width scaling)"),
            BlockField("expansion", "Bottleneck size", "float", 4.0, key="e", omitted=4.0,
                       low=0.0, high=16.0, step=1.0,
                       description="width of each layer's 1x1 conv over the growth rate"),
            _RES_ACT),
    factory=_T + "dense_layer", cost=_dense_cost, check=_dense_check,
    description="DenseNet: each layer (BN-act-1x1 conv-BN-act-3x3 conv) concatenates its "
                "'growth rate' new channels to its input.")
register_block(
    "transition", "Dense transition", prefix="trans",
    fields=(BlockField("repeats", "Repeats", "int", 1, key="r", omitted=1, choices=(1,),
                       description="one transition between dense blocks"),
            BlockField("stride", "Stride", "int", 2, key="s", omitted=2, choices=(1, 2),
                       description="2: average pool 2x2 after the conv"),
            _channels(128, description="output channels (DenseNet halves its input)"),
            _RES_ACT),
    factory=_T + "transition_block", cost=_transition_cost,
    description="DenseNet transition: BN, activation, 1x1 conv, 2x2 average pool.")
