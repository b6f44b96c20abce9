"""The kinds of stem, head, classifier and stage pooling a block stack can have.

One list of names each (the validator, the builder, the cost path and the inspector read
them), with a title for the editor.  Pure Python.

* stem: ``conv`` (conv ``stem_kernel`` x ``stem_kernel``, stride ``stem_stride``, "same"
  padding, BN, activation: EfficientNet, ResNet, DenseNet), ``conv_bias`` (conv with a
  bias and no padding, activation, no BN: SqueezeNet), ``none`` (VGG); then the optional
  ``stem_pool``.
* head: ``conv`` (1x1 conv to ``head_channels``, BN, activation), ``bn`` (BN and
  activation: DenseNet's final norm), ``none`` (ResNet, VGG, GoogLeNet).
* classifier: ``linear`` (adaptive average pool to ``pool_size``, flatten, a linear-act-
  dropout layer per ``hidden`` width, dropout, linear: EfficientNet, MobileNetV3, VGG),
  ``conv`` (dropout, 1x1 conv with bias, ReLU, global average pool: SqueezeNet).
* pools after a stage's blocks or the stem: max 2x2 stride 2 (VGG), max 3x3 stride 2 with
  ceil mode (SqueezeNet, GoogLeNet), max 3x3 stride 2 padding 1 (ResNet), average 2x2.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.ops.costs import Cost, Shape, ShapeError

__all__ = ["CLASSIFIERS", "HEADS", "POOLS", "STEMS", "Pool", "pool_cost", "pool_out"]


@dataclass(frozen=True)
class Pool:
    name: str
    title: str
    kind: str          # "max" | "avg" | "" (none)
    kernel: int = 1
    stride: int = 1
    padding: int = 0
    ceil: bool = False


POOLS: dict[str, Pool] = {p.name: p for p in (
    Pool("none", "none", ""),
    Pool("max2", "max pool 2×2, stride 2", "max", 2, 2),
    Pool("max3", "max pool 3×3, stride 2, ceil", "max", 3, 2, 0, True),
    Pool("max3p", "max pool 3×3, stride 2, pad 1", "max", 3, 2, 1),
    Pool("avg2", "average pool 2×2, stride 2", "avg", 2, 2),
)}

STEMS: dict[str, str] = {
    "conv": "conv, BN, activation",
    "conv_bias": "conv with bias, activation (no BN, no padding)",
    "none": "none (the first stage takes the image)",
}
HEADS: dict[str, str] = {
    "conv": "1×1 conv, BN, activation",
    "bn": "BN, activation",
    "none": "none",
}
CLASSIFIERS: dict[str, str] = {
    "linear": "pool, hidden layers, dropout, linear",
    "conv": "dropout, 1×1 conv, ReLU, global pool (SqueezeNet)",
}


def pool_out(size: int, p: Pool) -> int:
    """Output length of pool ``p`` along one axis (PyTorch's ``pooling_output_shape``,
    ceil mode included: a last window may start inside the map and hang over its end)."""
    if not p.kind:
        return size
    out = (size + 2 * p.padding - p.kernel + (p.stride - 1 if p.ceil else 0)) // p.stride + 1
    if p.ceil and (out - 1) * p.stride >= size + p.padding:
        out -= 1
    if out < 1:
        raise ShapeError(f"a {p.title} does not fit a feature map {size} pixels wide")
    return out


def pool_cost(shape: Shape, name: str) -> Cost:
    """Pooling is free: only the shape changes."""
    p = POOLS[name]
    c, h, w = shape
    return Cost(0, 0, (c, pool_out(h, p), pool_out(w, p)))
