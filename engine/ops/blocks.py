"""The registry of stack block types (``BlockSpec``): ``ds``, ``ir`` and whatever comes next.

A block type says what a stage of that type has: its fields (``Stage`` attributes) with
titles, defaults and the option letter in a timm block string (``ir_r2_k3_s2_e6_c24``),
its title and description, the factory that builds one block (a ``"module:function"``
path, resolved lazily: it imports torch) and its cost function (pure Python).

Adding a block type is one ``register_block`` call plus its factory and cost function::

    register_block("fire", "Fire module", prefix="fire",
                   fields=(*COMMON_FIELDS, BlockField("squeeze", "Squeeze ratio", "float",
                                                      0.125, key="sq", omitted=0.125)),
                   factory="engine.ops.torch_blocks:fire_block", cost=fire_cost,
                   description="SqueezeNet: 1x1 squeeze, then 1x1 and 3x3 expand, concat.")

Calling conventions (every block type follows them):

* factory: ``factory(in_channels, out_channels, *, stride, drop_prob, norm, **settings)
  -> nn.Module``;
* cost: ``cost(shape, out_channels, *, stride, **settings) -> Cost`` for an input of
  ``shape`` (C, H, W), returning the block's parameters, MACs and output shape;

where ``settings`` maps each field of the block type except ``repeats``, ``channels`` and
``stride`` (``BlockSpec.settings(stage)``) to its value.  The first block of a stage
gets the stage's stride, the others stride 1.  Each block type is also registered as an
op of kind ``"block"`` in ``engine.ops.registry`` (what the palette lists).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from engine.ops import costs as _c
from engine.ops import registry
from engine.ops.costs import Cost, Shape
from engine.ops.stack_parts import POOLS

__all__ = ["ACT_FIELD", "COMMON_FIELDS", "EXPANSION_FIELD", "SE_FIELD", "STACK_ACT",
           "STRUCTURAL_FIELDS", "BlockCost",
           "BlockField", "BlockSpec", "all_blocks", "block_exists", "block_names", "by_prefix",
           "get_block", "register_block", "stage_label", "STAGE_FIELDS", "all_by_prefix",
           "format_value", "OPTION_ORDER", "ordered_fields"]

FieldKind = Literal["int", "float", "act", "bool", "ints", "choice"]
BlockCost = Callable[..., Cost]
"""``cost(shape, out_channels, *, stride, **settings) -> Cost``."""

STACK_ACT = "stack"
"""``BlockField.omitted`` of the activation: absent from a block string, the stack's own."""

STRUCTURAL_FIELDS = ("repeats", "channels", "stride")
"""Fields the stack builder handles itself (not passed as block settings)."""
STAGE_FIELDS = ("pool", "dropblock")
"""Fields every block type has, applied by the stack builder after the stage's blocks
(appended to each registration; not passed as block settings)."""


@dataclass(frozen=True)
class BlockField:
    """One setting of a block type: a ``Stage`` attribute.

    ``default`` is what a new stage gets in the editor; ``key`` is the option letter(s) in
    a timm block string (``None``: not written there); ``omitted`` is the value when the
    option is absent from a block string (``None``: the option is required; ``STACK_ACT``:
    the stack's activation).  ``choices`` lists the allowed values where they are few;
    ``low``/``high`` bound numbers (``high_open``: ``high`` itself excluded), ``step`` is
    the editor's increment, ``odd`` asks for odd whole numbers.
    """

    name: str
    title: str
    kind: FieldKind
    default: Any
    key: str | None = None
    omitted: Any = None
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    high_open: bool = False
    step: float | None = None
    odd: bool = False
    description: str = ""
    scales: bool = False
    """A channel count the stack's width multiplier scales (as it does ``channels``)."""
    always: bool = False
    """Written to block strings even at its ``omitted`` value (timm writes ``e1``)."""

    @property
    def required(self) -> bool:
        """Must the option appear in a block string?"""
        return self.key is not None and self.omitted is None


@dataclass(frozen=True)
class BlockSpec:
    """A stack block type: name (the ``Stage.block`` value), metadata, factory, cost."""

    name: str
    title: str
    prefix: str
    fields: tuple[BlockField, ...]
    factory: str
    cost: BlockCost | None
    description: str = ""
    check: Callable[[Any], list[tuple[str, str]]] | None = None
    """Rules between fields: ``check(stage) -> [(field, message)]`` (the validator's)."""

    def field(self, name: str) -> BlockField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"block type {self.name!r} has no field {name!r}")

    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def defaults(self) -> dict[str, Any]:
        """Field values of a new stage of this type."""
        return {f.name: f.default for f in self.fields}

    def settings(self, stage: Any) -> dict[str, Any]:
        """The keyword settings the factory and the cost function take, read from ``stage``."""
        return {f.name: getattr(stage, f.name) for f in self.fields
                if f.name not in STRUCTURAL_FIELDS and f.name not in STAGE_FIELDS}

    def resolve(self) -> Callable[..., Any]:
        """Import and return the factory (imports torch)."""
        module, _, func = self.factory.partition(":")
        return getattr(importlib.import_module(module), func)

    def block_cost(self, shape: Shape, out_channels: int, stride: int, stage: Any) -> Cost:
        """The cost of one block of ``stage`` on ``shape``; ``LookupError`` without a cost."""
        if self.cost is None:
            raise LookupError(f"block type {self.name!r} has no cost function")
        return self.cost(shape, out_channels, stride=stride, **self.settings(stage))


_BLOCKS: dict[str, BlockSpec] = {}


def register_block(name: str, title: str, *, fields: tuple[BlockField, ...], factory: str,
                   cost: BlockCost | None, prefix: str | None = None,
                   description: str = "",
                   check: Callable[[Any], list[tuple[str, str]]] | None = None) -> BlockSpec:
    """Register a block type (and its palette op of kind ``"block"``).

    Several block types may share a block-string prefix (timm writes a MixConv block as
    ``ir_..._k3.5.7``): a string is read as the first of them that takes all its options.
    The stage fields (``pool``, ``dropblock``) are appended to ``fields``.
    """
    fields = tuple(fields) + tuple(f for f in _STAGE_FIELD_SPECS
                                   if f.name not in {g.name for g in fields})
    if name in _BLOCKS or registry.exists(name):
        raise ValueError(f"block type {name!r} registered twice (or clashes with an op)")
    names = [f.name for f in fields]
    missing = [f for f in STRUCTURAL_FIELDS if f not in names]
    if missing or len(set(names)) != len(names):
        raise ValueError(f"block type {name!r}: fields must include {STRUCTURAL_FIELDS} once "
                         f"each and not repeat (missing {missing})")
    spec = BlockSpec(name, title, prefix or name, tuple(fields), factory, cost, description,
                     check)
    _BLOCKS[name] = spec
    registry.register(name, title, "block", kind="block", factory=factory,
                      description=description)
    return spec


def get_block(name: str) -> BlockSpec:
    try:
        return _BLOCKS[name]
    except KeyError:
        raise KeyError(f"unknown block type {name!r}; known: {', '.join(_BLOCKS)}") from None


def block_exists(name: object) -> bool:
    return isinstance(name, str) and name in _BLOCKS


def all_blocks() -> list[BlockSpec]:
    return list(_BLOCKS.values())


def block_names() -> tuple[str, ...]:
    return tuple(_BLOCKS)


def by_prefix(prefix: str) -> BlockSpec | None:
    """The first block type whose block-string prefix is ``prefix``."""
    return next((b for b in _BLOCKS.values() if b.prefix == prefix), None)


def all_by_prefix(prefix: str) -> list[BlockSpec]:
    """Every block type written with block-string prefix ``prefix``, in registration order."""
    return [b for b in _BLOCKS.values() if b.prefix == prefix]


def format_value(v: Any) -> str:
    """A field value as a block string writes it: ``6``, ``0.25``, ``3.5.7``."""
    if isinstance(v, tuple | list):
        return ".".join(format_value(x) for x in v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def stage_label(index: int, stage: Any) -> str:
    """The name of stage ``index`` (0-based, as built) in cost tables: ``stage 2 (ir k3 s2 c24
    e6 x2)`` (the block type's option letters, then the repeats)."""
    spec = _BLOCKS.get(stage.block)
    if spec is None:
        return f"stage {index + 1} ({stage.block} x{stage.repeats})"
    shown = [f for f in ordered_fields(spec) if f.kind not in ("act", "bool")
             and f.name not in ("repeats", "se") and f.name not in STAGE_FIELDS]
    parts = [f"{f.key}{format_value(getattr(stage, f.name))}" for f in shown]
    return f"stage {index + 1} ({' '.join([stage.block, *parts])} x{stage.repeats})"


OPTION_ORDER = ("r", "k", "a", "p", "s", "e", "c", "se")
"""timm's order of block-string options; a block type's other options follow in field order."""


def ordered_fields(spec: BlockSpec) -> list[BlockField]:
    """The fields written in block strings (those with a key), in ``OPTION_ORDER``."""
    keyed = [f for f in spec.fields if f.key]
    return sorted(keyed, key=lambda f: (OPTION_ORDER.index(f.key) if f.key in OPTION_ORDER
                                        else len(OPTION_ORDER)))


# -- fields every stage has, and those shared by the MBConv family --------------------------

_STAGE_FIELD_SPECS = (
    BlockField("pool", "Pool after", "choice", "none", key="pool", omitted="none",
               choices=tuple(POOLS),
               description="pooling after the stage's blocks"),
    BlockField("dropblock", "DropBlock", "int", 0, key="db", omitted=0, low=0, high=64, step=1,
               description="DropBlock block size on the stage's output while training "
                           "(0: none; the keep probability is a training setting)"),
)

ACT_FIELD = BlockField("act", "Activation", "act", "silu", key="n", omitted=STACK_ACT,
                       choices=registry.ACTIVATIONS,
                       description="activation after the expansion and depthwise convs")
COMMON_FIELDS: tuple[BlockField, ...] = (
    BlockField("repeats", "Repeats", "int", 1, key="r", low=1, high=32, step=1,
               description="blocks in the stage (before depth scaling)"),
    BlockField("kernel", "Kernel", "int", 3, key="k", choices=(3, 5, 7), low=1, odd=True,
               description="depthwise kernel size (odd: the block pads 'same')"),
    BlockField("stride", "Stride", "int", 1, key="s", choices=(1, 2),
               description="stride of the stage's first block"),
    BlockField("channels", "Channels", "int", 16, key="c", low=1, high=4096, step=8,
               description="output channels (before width scaling)"),
)
SE_FIELD = BlockField("se", "Squeeze-excite", "float", 0.25, key="se", omitted=0.0, low=0.0,
                     high=1.0, high_open=True, step=0.05,
                     description="squeeze width as a fraction of the block's input channels "
                                 "(0: no squeeze-excite)")
EXPANSION_FIELD = BlockField("expansion", "Expansion", "float", 6.0, key="e", omitted=1.0,
                             low=0.0, high=12.0, step=1.0, always=True,
                             description="width of the expanded layer over the input channels")
_DS_EXPANSION = BlockField("expansion", "Expansion", "float", 1.0, key="e", omitted=1.0,
                           choices=(1.0,), always=True,
                           description="always 1: a depthwise-separable block does not expand")


def _mbconv_cost(shape: Shape, out_channels: int, *, stride: int, kernel: int,
                 expansion: float, se: float, **_ignored: Any) -> Cost:
    return _c.mbconv(shape, out_channels, kernel=kernel, stride=stride, expansion=expansion,
                     se=se)


def _ds_cost(shape: Shape, out_channels: int, *, stride: int, kernel: int, se: float,
             **_ignored: Any) -> Cost:
    return _c.mbconv(shape, out_channels, kernel=kernel, stride=stride, expansion=1, se=se)


_B = "engine.ops.torch_blocks:"
register_block("ds", "Depthwise-separable block", prefix="ds",
               fields=(*COMMON_FIELDS, _DS_EXPANSION, SE_FIELD, ACT_FIELD),
               factory=_B + "ds_block", cost=_ds_cost,
               description="MBConv1: depthwise conv, optional squeeze-excite, "
                           "pointwise projection.")
register_block("ir", "Inverted residual (MBConv)", prefix="ir",
               fields=(*COMMON_FIELDS, EXPANSION_FIELD, SE_FIELD, ACT_FIELD),
               factory=_B + "ir_block", cost=_mbconv_cost,
               description="MBConv: expand 1x1, depthwise kxk, optional squeeze-excite, "
                           "project 1x1.")

# The classic and MobileNet/MixNet block types (their own module: blocks_classic.py).
from engine.ops import blocks_classic as _classic  # noqa: E402, F401
