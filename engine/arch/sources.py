"""One entry point for "a design the user named": preset, file, or pasted text.

``resolve_source`` accepts a preset name (any case), a ``.json`` design file, a
DARTS ``Genotype(...)`` literal (DARTS CIFAR macro), a NAS-Bench-201 cell string
(NAS-Bench-201 macro) or timm block strings (an EfficientNet-B0-like stack), applies
the macro overrides, validates, and raises ``DesignError`` with located problems.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from engine.arch.model import BlockStack, CellDesign, Design
from engine.arch.validate import DesignError, Problem, check

_GENOTYPE = re.compile(r"^\s*(\w+\s*=\s*)?([\w.]*Genotype\s*)?\(", re.S)
_BLOCKS = re.compile(r"^[\s\[\]('\"]*([a-z0-9]+)_", re.S)


def _looks_like_blocks(text: str) -> bool:
    """Text starting with a block-string prefix (``ir_``, ``fire_``...)."""
    from engine.ops.blocks import all_blocks

    m = _BLOCKS.match(text)
    return m is not None and m.group(1) in {b.prefix for b in all_blocks()}


def parse_input_shape(value: Any) -> tuple[int, int, int]:
    """``(C, H, W)`` from a tuple/list or text like ``3x32x32``; ``DesignError`` otherwise."""
    if isinstance(value, str):
        parts = re.split(r"[x,\s]+", value.strip().lower())
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            value = tuple(int(p) for p in parts)
    if isinstance(value, tuple | list) and len(value) == 3 and all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        return (int(value[0]), int(value[1]), int(value[2]))
    raise DesignError(f"expected CxHxW with positive whole numbers, got {value!r}",
                      "input shape")


def _is_file(s: str) -> bool:
    try:
        return Path(s).expanduser().is_file()
    except (OSError, ValueError):
        return False


def _load(text: str) -> tuple[Design, str | None]:
    """The design ``text`` names, and the file name when it came from a file."""
    from engine.arch import presets

    s = text.strip()
    if not s:
        raise DesignError("is empty", "source")
    if s.lower() in presets.PRESETS:
        return presets.get_preset(s), None
    if _GENOTYPE.match(s):
        from engine.arch.genotype import parse_genotype

        return parse_genotype(s), None
    if s.startswith("|"):
        from engine.arch.nb201 import parse_nb201

        return parse_nb201(s), None
    if "\n" not in s and _is_file(s):
        from engine.arch.serialize import load_design

        return load_design(Path(s).expanduser(), validate=False), Path(s).name
    if _looks_like_blocks(s):
        from engine.arch.timm_blocks import parse_block_strings

        return BlockStack(name="block-strings", stages=parse_block_strings(s)), None
    if s.lower().endswith(".json"):
        raise DesignError(Problem(f"file {s}", "not found"))
    shown = s if len(s) <= 60 else s[:57] + "..."
    raise DesignError(f"{shown!r} is not a preset, a design file, a Genotype(...), a "
                      f"NAS-Bench-201 string or block strings; presets: "
                      f"{', '.join(presets.preset_names())}", "source")


def apply_overrides(design: Design, *, input_shape: Any = None, classes: int | None = None,
                    layers: int | None = None, channels: int | None = None,
                    auxiliary: bool | None = None) -> Design:
    """Set macro options on a design in place (and return it)."""
    shape = None if input_shape is None else parse_input_shape(input_shape)
    if isinstance(design, CellDesign):
        fields: dict[str, Any] = {}
        if shape is not None:
            fields["input_shape"] = shape
        for key, value in (("classes", classes), ("layers", layers), ("channels", channels),
                           ("auxiliary", auxiliary)):
            if value is not None:
                fields[key] = value
        for key, value in fields.items():
            setattr(design.macro, key, value)
        return design
    unsupported = [k for k, v in (("layers", layers), ("channels", channels),
                                  ("auxiliary", auxiliary)) if v is not None]
    if unsupported:
        raise DesignError(f"option(s) {', '.join(unsupported)} only apply to cell designs; "
                          f"{design.name!r} is a block stack", "options")
    if shape is not None:
        c, h, w = shape
        if h != w:
            raise DesignError(f"a block stack takes square inputs, got {h}x{w}", "input shape")
        design.in_channels, design.resolution = c, h
    if classes is not None:
        design.classes = classes
    return design


def resolve_source(text: str, *, input_shape: Any = None, classes: int | None = None,
                   layers: int | None = None, channels: int | None = None,
                   auxiliary: bool | None = None) -> Design:
    """The validated design ``text`` names, with the macro overrides applied."""
    if not isinstance(text, str):
        raise DesignError(f"expected text, got {type(text).__name__}", "source")
    design, file_name = _load(text)
    apply_overrides(design, input_shape=input_shape, classes=classes, layers=layers,
                    channels=channels, auxiliary=auxiliary)
    try:
        check(design)
    except DesignError as exc:
        if file_name is None:
            raise
        # a design file's problems name the file, as its JSON errors do
        raise DesignError([Problem(f"file {file_name}, {p.location}", p.message, p.severity)
                           for p in exc.problems]) from None
    return design
