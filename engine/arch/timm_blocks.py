"""timm-style block strings: ``ir_r2_k3_s2_e6_c24_se0.25`` <-> ``Stage``.

Grammar: a block-type prefix (``engine.ops.blocks``: ``ds``, ``ir``, ``mb3``, ``fire``,
``basic``, ``bot``, ``conv``, ``incep``, ``dense``, ``trans``), then ``_``-separated
options, each the option letter(s) of one of the block type's fields (``BlockField.key``)
followed by its value: ``r`` repeats, ``k`` kernel, ``s`` stride, ``e`` expansion, ``c``
channels, ``se`` squeeze-excite ratio, ``n<act>`` activation, and the block type's own
(``sq16``, ``b64.96.128.16.32``, ``poolmax3``, ``db7``...).  Lists are dot-separated
(timm's ``k3.5.7``); a true/false field is its letters alone (``bn``).  An option absent
from a string takes the field's ``omitted`` value (the stack's activation for ``n``); a
field without one must be given (``r``, ``k``, ``s``, ``c`` for ``ir``).

Block types may share a prefix: timm writes a MixConv block as ``ir`` with a kernel list
or grouped 1x1 convs (``ir_r1_k3.5.7_a1.1_p1.1_s2_e6_c40_se0.5_nsw``), read as the first
block type that takes every option.  Activations use timm's short names (``nre`` relu,
``nr6`` relu6, ``nsw`` silu, ``nhs`` hswish); our own names (``nrelu``, ``nsilu``,
``nswish``...) are accepted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from engine.arch.model import Stage
from engine.arch.validate import DesignError
from engine.ops import blocks
from engine.ops.registry import ACTIVATIONS

TIMM_ACT = {"relu": "re", "relu6": "r6", "silu": "sw", "hswish": "hs"}
_ACT_ALIASES = {**{v: k for k, v in TIMM_ACT.items()}, **{a: a for a in ACTIVATIONS},
                "swish": "silu", "hard_swish": "hswish"}
_NUMBER = re.compile(r"^\d+(\.\d+)?(e-?\d+)?$")
_INTS = re.compile(r"^\d+(\.\d+)*$")


class _Fail(Exception):
    def __init__(self, part: int, message: str) -> None:
        super().__init__(message)
        self.part, self.message = part, message


def _name(f: blocks.BlockField) -> str:
    return "SE ratio" if f.name == "se" else f.title.lower()


def _value(f: blocks.BlockField, text: str) -> Any:
    """The field's value from the text after its letters; ``ValueError`` says why not."""
    if f.kind == "bool":
        if text in ("", "1"):
            return True
        if text == "0":
            return False
        raise ValueError(f"{_name(f)} is written '{f.key}' alone (or {f.key}0, {f.key}1)")
    if f.kind == "choice":
        if text not in (f.choices or ()):
            raise ValueError(f"{_name(f)} must be one of {', '.join(map(str, f.choices or ()))}"
                             f", got {text!r}")
        return text
    if f.kind == "ints":
        if not _INTS.match(text):
            raise ValueError(f"{_name(f)} must be whole numbers separated by dots, got {text!r}")
        return tuple(int(v) for v in text.split("."))
    if not _NUMBER.match(text):
        raise ValueError(f"{_name(f)} must be a number, got {text!r}")
    if f.kind == "int":
        if not text.isdigit():
            raise ValueError(f"{_name(f)} must be a whole number")
        return int(text)
    return float(text)


def _parse_as(spec: blocks.BlockSpec, parts: list[str], default_act: str) -> Stage:
    keyed = {f.key: f for f in spec.fields if f.key and f.kind != "act"}
    act_field = next((f for f in spec.fields if f.kind == "act"), None)
    values: dict[str, Any] = {}
    seen: set[str] = set()
    for i, part in enumerate(parts[1:], start=2):
        if act_field is not None and part.startswith("n") and part != "n" \
                and not part.startswith("noskip") and not any(part.startswith(k) for k in keyed):
            name = _ACT_ALIASES.get(part[1:])
            if name is None:
                raise _Fail(i, f"part {i} {part!r}: unknown activation {part[1:]!r}; use "
                               f"{', '.join('n' + a for a in TIMM_ACT.values())}")
            if act_field.name in values:
                raise _Fail(i, f"part {i} {part!r}: activation given twice")
            values[act_field.name] = name
            continue
        keys = sorted((k for k in keyed if part.startswith(k)), key=len, reverse=True)
        if not keys:
            letters = [*keyed, *(["n"] if act_field else [])]
            raise _Fail(i, f"part {i} {part!r}: unknown option (use {', '.join(letters)})")
        error = None
        for key in keys:
            try:
                value = _value(keyed[key], part[len(key):])
            except ValueError as exc:
                error = error or str(exc)
                continue
            if key in seen:
                raise _Fail(i, f"part {i} {part!r}: option {key!r} given twice")
            seen.add(key)
            values[keyed[key].name] = value
            break
        else:
            raise _Fail(i, f"part {i} {part!r}: {error}")
    missing = [f for f in keyed.values() if f.required and f.name not in values]
    if missing:
        raise _Fail(len(parts) + 1, "missing " + ", ".join(f"{f.key} ({_name(f)})"
                                                           for f in missing))
    kw: dict[str, Any] = {"block": spec.name}
    for f in spec.fields:
        if f.name in values:
            kw[f.name] = values[f.name]
        elif f.kind == "act":
            kw[f.name] = default_act if f.omitted == blocks.STACK_ACT else f.omitted
        elif f.key is not None:
            kw[f.name] = f.omitted
        else:
            kw[f.name] = f.default
    if "se" not in kw:
        kw["se"] = 0.0
    return Stage(**kw)


def parse_block_string(s: str, *, default_act: str = "silu", where: str | None = None) -> Stage:
    """One stage from a block string; ``DesignError`` names the string and the part."""
    loc = where or f"block string {s!r}"
    if not isinstance(s, str):
        raise DesignError(f"expected text, got {type(s).__name__}", loc)
    parts = s.strip().split("_")
    specs = blocks.all_by_prefix(parts[0])
    if not specs:
        prefixes = sorted({b.prefix for b in blocks.all_blocks()})
        raise DesignError(f"part 1 {parts[0]!r}: block type must be one of "
                          f"{', '.join(repr(p) for p in prefixes)}", loc)
    failures: list[_Fail] = []
    for spec in specs:
        try:
            return _parse_as(spec, parts, default_act)
        except _Fail as exc:
            failures.append(exc)
    best = max(failures, key=lambda f: f.part)  # the reading that got furthest (first on ties)
    raise DesignError(best.message, loc)


def _written(v: Any) -> str:
    if isinstance(v, float) and not v.is_integer():
        return repr(v)
    return blocks.format_value(v)


def _check_value(f: blocks.BlockField, v: Any) -> None:
    where = "stage"
    if f.kind == "int" and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
        raise DesignError(f"{f.name} must be a whole number, got {v!r}", where)
    if f.kind == "float" and (isinstance(v, bool) or not isinstance(v, int | float)
                              or not math.isfinite(v) or v < 0):
        raise DesignError(f"{f.name} must be a non-negative number, got {v!r}", where)
    if f.kind == "ints" and (not isinstance(v, tuple | list) or not v or any(
            not isinstance(x, int) or isinstance(x, bool) or x < 0 for x in v)):
        raise DesignError(f"{f.name} must be a list of whole numbers, got {v!r}", where)


def format_block_string(stage: Stage, *, default_act: str = "silu") -> str:
    """The canonical block string of a stage (options at their omitted value left out)."""
    if not blocks.block_exists(stage.block):
        prefixes = ", ".join(repr(b) for b in blocks.block_names())
        raise DesignError(f"block must be one of {prefixes}, got {stage.block!r}", "stage")
    spec = blocks.get_block(stage.block)
    keyed = [f for f in blocks.ordered_fields(spec) if f.kind != "act"]
    out = [spec.prefix]
    for f in keyed:
        v = getattr(stage, f.name)
        _check_value(f, v)
        at_omitted = f.omitted is not None and (tuple(v) if isinstance(v, list) else v) == f.omitted
        if at_omitted and not f.always:
            continue
        if f.kind == "bool":
            out.append(f.key if v else f"{f.key}0")
        else:
            out.append(f"{f.key}{_written(v)}")
    act = next((f for f in spec.fields if f.kind == "act"), None)
    if act is not None and stage.act != default_act:
        if stage.act not in TIMM_ACT:
            raise DesignError(f"activation {stage.act!r} has no block-string name", "stage")
        out.append(f"n{TIMM_ACT[stage.act]}")
    return "_".join(out)


def _split(text: str) -> list[tuple[str, str]]:
    """(location, string) for each entry of a pasted list: lines, commas or spaces (as typed
    on a command line), quotes, brackets."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0]
        pieces = [p.strip("[]()").strip("'\"") for p in re.split(r"[,\s]+", line)]
        for k, s in enumerate((p for p in pieces if p), start=1):
            out.append((f"line {n}, item {k}", s))
    return out


def parse_block_strings(source: str | Iterable[str] | Iterable[Iterable[str]], *,
                        default_act: str = "silu") -> list[Stage]:
    """Stages from a list of block strings (timm ``arch_def`` nesting is flattened) or text
    with one string per line or comma-separated; errors name the line/item or index."""
    items: list[tuple[str, str]] = []
    if isinstance(source, str):
        items = _split(source)
    else:
        for i, entry in enumerate(source):
            if isinstance(entry, str):
                items.append((f"item {i + 1}", entry))
            else:
                items += [(f"item {i + 1}.{j + 1}", s) for j, s in enumerate(entry)]
    if not items:
        raise DesignError("no block strings given", "block strings")
    stages, problems = [], []
    for loc, s in items:
        try:
            stages.append(parse_block_string(s, default_act=default_act,
                                             where=f"block strings, {loc} {s!r}"))
        except DesignError as exc:
            problems += exc.problems
    if problems:
        raise DesignError(problems)
    return stages


def format_block_strings(stages: Iterable[Stage], *, default_act: str = "silu") -> list[str]:
    return [format_block_string(s, default_act=default_act) for s in stages]
