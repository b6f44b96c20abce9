"""The one registry of cell operations and stack blocks.

Metadata is pure Python so the validator and the GUI palette read it without
importing torch; ``factory`` is a ``"module:function"`` path the builders resolve
lazily.  Adding an op is one ``register`` call here plus its factory and tests.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal


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
             description: str = "") -> OpSpec:
    if name in _REGISTRY:
        raise ValueError(f"op {name!r} registered twice")
    if family not in _FAMILIES:
        raise ValueError(f"op {name!r}: unknown family {family!r}")
    spec = OpSpec(name, display, family, kind, kernel, has_weights, factory, description,
                  _FAMILIES[family].color)
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

register("none", "None (zero)", "none", has_weights=False, factory=_T + "zero",
         description="Drops the edge: outputs zeros.")
register("skip_connect", "Skip connection", "identity", has_weights=False, factory=_T + "skip",
         description="Identity; factorized reduce when the edge has stride 2.")
register("max_pool_3x3", "Max pool 3x3", "pool", kernel=3, has_weights=False,
         factory=_T + "max_pool_3x3")
register("avg_pool_3x3", "Average pool 3x3", "pool", kernel=3, has_weights=False,
         factory=_T + "avg_pool_3x3")
register("sep_conv_3x3", "Separable conv 3x3", "sep_conv", kernel=3, factory=_T + "sep_conv_3x3",
         description="(ReLU, depthwise 3x3, pointwise, BN) twice.")
register("sep_conv_5x5", "Separable conv 5x5", "sep_conv", kernel=5, factory=_T + "sep_conv_5x5")
register("sep_conv_7x7", "Separable conv 7x7", "sep_conv", kernel=7, factory=_T + "sep_conv_7x7")
register("dil_conv_3x3", "Dilated conv 3x3", "dil_conv", kernel=3, factory=_T + "dil_conv_3x3",
         description="ReLU, depthwise 3x3 dilation 2, pointwise, BN.")
register("dil_conv_5x5", "Dilated conv 5x5", "dil_conv", kernel=5, factory=_T + "dil_conv_5x5")
register("conv_7x1_1x7", "Conv 7x1 + 1x7", "conv", kernel=7, factory=_T + "conv_7x1_1x7")
register("nor_conv_1x1", "ReLU-Conv-BN 1x1", "conv", kernel=1, factory=_T + "nor_conv_1x1")
register("nor_conv_3x3", "ReLU-Conv-BN 3x3", "conv", kernel=3, factory=_T + "nor_conv_3x3")

_B = "engine.ops.torch_blocks:"
register("ds", "Depthwise-separable block", "block", kind="block", factory=_B + "ds_block",
         description="MBConv1: depthwise conv, optional squeeze-excite, pointwise projection.")
register("ir", "Inverted residual (MBConv)", "block", kind="block", factory=_B + "ir_block",
         description="MBConv: expand 1x1, depthwise kxk, optional squeeze-excite, project 1x1.")

ACTIVATIONS = ("silu", "relu6", "relu", "hswish")

DARTS_OPS = ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
             "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")
NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
