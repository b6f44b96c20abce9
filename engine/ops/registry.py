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

Family = Literal["none", "identity", "pool", "sep_conv", "dil_conv", "conv", "block"]


@dataclass(frozen=True)
class OpSpec:
    name: str
    display: str
    family: Family
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

FAMILY_COLORS: dict[str, str] = {
    "none": "#9e9e9e",
    "identity": "#43a047",
    "pool": "#1e88e5",
    "sep_conv": "#e53935",
    "dil_conv": "#fb8c00",
    "conv": "#8e24aa",
    "block": "#00897b",
}


def register(name: str, display: str, family: Family, *, kind: Literal["cell", "block"] = "cell",
             kernel: int | None = None, has_weights: bool = True, factory: str,
             description: str = "") -> OpSpec:
    if name in _REGISTRY:
        raise ValueError(f"op {name!r} registered twice")
    spec = OpSpec(name, display, family, kind, kernel, has_weights, factory, description,
                  FAMILY_COLORS[family])
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
