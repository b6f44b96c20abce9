"""The one registry of cell operations and stack blocks.

Metadata is pure Python so the validator and the GUI palette read it without
importing torch; ``factory`` is a ``"module:function"`` path the builders resolve
lazily; ``cost`` is a pure-Python function ``cost(shape, stride, affine=True) -> Cost``
(``engine.ops.costs``) giving the parameters, MACs and output shape the factory's module
has, which ``engine.cost`` composes into a network's figures without building it.
Adding an op is one ``register`` call here plus its factory, its cost and tests.

Stack block types (``ds``, ``ir``...) are ``BlockSpec`` records in ``engine.ops.blocks``;
each also appears here as an op of kind ``"block"`` (what the palette lists).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from engine.ops import costs as _c
from engine.ops.costs import Cost, Shape

OpCost = Callable[..., Cost]
"""``cost(shape, stride, affine=True) -> Cost`` for a cell op on ``shape`` (C, H, W)."""


@dataclass(frozen=True)
class OpSpec:
    name: str
    display: str
    family: str               # an OpFamily name
    kind: Literal["cell", "block"]
    kernel: int | None
    has_weights: bool
    factory: str
    description: str = ""
    color: str = "#888888"
    cost: OpCost | None = None

    def resolve(self) -> Callable[..., Any]:
        """Import and return the factory (imports torch)."""
        module, _, func = self.factory.partition(":")
        return getattr(importlib.import_module(module), func)


_REGISTRY: dict[str, OpSpec] = {}


@dataclass(frozen=True)
class OpFamily:
    """A group of ops the palette and the cell legend show together.

    ``title`` heads the palette group, ``legend`` labels the cell editor's color chip,
    ``icon`` names an SVG in resources/icons (``op-<name>`` by default).
    """

    name: str
    title: str
    legend: str
    color: str
    icon: str


_FAMILIES: dict[str, OpFamily] = {}


def register_family(name: str, title: str, legend: str, color: str,
                    icon: str | None = None) -> OpFamily:
    if name in _FAMILIES:
        raise ValueError(f"op family {name!r} registered twice")
    fam = OpFamily(name, title, legend, color, icon or f"op-{name}")
    _FAMILIES[name] = fam
    return fam


def family(name: str) -> OpFamily:
    try:
        return _FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown op family {name!r}") from None


def families(kind: str | None = None) -> list[OpFamily]:
    """Families in registration order; with ``kind``, only those that have such ops."""
    if kind is None:
        return list(_FAMILIES.values())
    used = {s.family for s in _REGISTRY.values() if s.kind == kind}
    return [f for f in _FAMILIES.values() if f.name in used]


register_family("none", "Zero", "zero", "#9e9e9e")
register_family("identity", "Identity", "identity", "#43a047")
register_family("pool", "Pooling", "pooling", "#1e88e5")
register_family("sep_conv", "Separable convolutions", "separable conv", "#e53935")
register_family("dil_conv", "Dilated convolutions", "dilated conv", "#fb8c00")
register_family("conv", "Convolutions", "conv", "#8e24aa")
register_family("block", "Stack blocks", "block", "#00897b")


def register(name: str, display: str, family: str, *, kind: Literal["cell", "block"] = "cell",
             kernel: int | None = None, has_weights: bool = True, factory: str,
             description: str = "", cost: OpCost | None = None) -> OpSpec:
    if name in _REGISTRY:
        raise ValueError(f"op {name!r} registered twice")
    if family not in _FAMILIES:
        raise ValueError(f"op {name!r}: unknown family {family!r}")
    spec = OpSpec(name, display, family, kind, kernel, has_weights, factory, description,
                  _FAMILIES[family].color, cost)
    _REGISTRY[name] = spec
    return spec


def get(name: str) -> OpSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown op {name!r}") from None


def exists(name: str) -> bool:
    return name in _REGISTRY


def all_ops(kind: str | None = None) -> list[OpSpec]:
    return [s for s in _REGISTRY.values() if kind is None or s.kind == kind]


_T = "engine.ops.torch_ops:"


def _zero_cost(shape: Shape, stride: int, affine: bool = True) -> Cost:
    return _c.zero_op(shape, stride)


def _skip_cost(shape: Shape, stride: int, affine: bool = True) -> Cost:
    return Cost(0, 0, shape) if stride == 1 else _c.factorized_reduce(shape, shape[0], affine)


def _pool_cost(shape: Shape, stride: int, affine: bool = True) -> Cost:
    return _c.pool(shape, 3, stride, 1)


def _sep_cost(kernel: int) -> OpCost:
    def cost(shape: Shape, stride: int, affine: bool = True) -> Cost:
        return _c.sep_conv(shape, shape[0], kernel, stride, (kernel - 1) // 2, affine)
    return cost


def _dil_cost(kernel: int) -> OpCost:
    def cost(shape: Shape, stride: int, affine: bool = True) -> Cost:
        return _c.dil_conv(shape, shape[0], kernel, stride, kernel - 1, 2, affine)
    return cost


def _conv_7x1_1x7_cost(shape: Shape, stride: int, affine: bool = True) -> Cost:
    c = shape[0]
    first = _c.conv2d(shape, c, (1, 7), (1, stride), (0, 3))
    second = _c.conv2d(first.shape, c, (7, 1), (stride, 1), (3, 0))
    return first.then(second).then(_c.batch_norm(second.shape, affine))


def _nor_cost(kernel: int) -> OpCost:
    def cost(shape: Shape, stride: int, affine: bool = True) -> Cost:
        return _c.relu_conv_bn(shape, shape[0], kernel, stride, (kernel - 1) // 2, affine,
                               bias=not affine)
    return cost


register("none", "None (zero)", "none", has_weights=False, factory=_T + "zero",
         description="Drops the edge: outputs zeros.", cost=_zero_cost)
register("skip_connect", "Skip connection", "identity", has_weights=False, factory=_T + "skip",
         description="Identity; factorized reduce when the edge has stride 2.", cost=_skip_cost)
register("max_pool_3x3", "Max pool 3x3", "pool", kernel=3, has_weights=False,
         factory=_T + "max_pool_3x3", cost=_pool_cost)
register("avg_pool_3x3", "Average pool 3x3", "pool", kernel=3, has_weights=False,
         factory=_T + "avg_pool_3x3", cost=_pool_cost)
register("sep_conv_3x3", "Separable conv 3x3", "sep_conv", kernel=3, factory=_T + "sep_conv_3x3",
         description="(ReLU, depthwise 3x3, pointwise, BN) twice.", cost=_sep_cost(3))
register("sep_conv_5x5", "Separable conv 5x5", "sep_conv", kernel=5, factory=_T + "sep_conv_5x5",
         cost=_sep_cost(5))
register("sep_conv_7x7", "Separable conv 7x7", "sep_conv", kernel=7, factory=_T + "sep_conv_7x7",
         cost=_sep_cost(7))
register("dil_conv_3x3", "Dilated conv 3x3", "dil_conv", kernel=3, factory=_T + "dil_conv_3x3",
         description="ReLU, depthwise 3x3 dilation 2, pointwise, BN.", cost=_dil_cost(3))
register("dil_conv_5x5", "Dilated conv 5x5", "dil_conv", kernel=5, factory=_T + "dil_conv_5x5",
         cost=_dil_cost(5))
register("conv_7x1_1x7", "Conv 7x1 + 1x7", "conv", kernel=7, factory=_T + "conv_7x1_1x7",
         cost=_conv_7x1_1x7_cost)
register("nor_conv_1x1", "ReLU-Conv-BN 1x1", "conv", kernel=1, factory=_T + "nor_conv_1x1",
         cost=_nor_cost(1))
register("nor_conv_3x3", "ReLU-Conv-BN 3x3", "conv", kernel=3, factory=_T + "nor_conv_3x3",
         cost=_nor_cost(3))

ACTIVATIONS = ("silu", "relu6", "relu", "hswish")

DARTS_OPS = ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
             "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")
NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")

# The block types register themselves here too (kind "block"); imported last because
# ``engine.ops.blocks`` calls ``register`` above.
from engine.ops import blocks as _blocks  # noqa: E402, F401
