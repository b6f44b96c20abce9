"""timm-style block strings: ``ir_r2_k3_s2_e6_c24_se0.25`` <-> ``Stage``.

Grammar: block type ``ds`` or ``ir``, then ``_``-separated options ``r`` repeats,
``k`` kernel, ``s`` stride, ``e`` expansion, ``c`` channels, ``se`` squeeze-excite
ratio and ``n<act>`` activation.  ``r``, ``k``, ``s`` and ``c`` are required; ``e``
defaults to 1, ``se`` to 0 and the activation to the stack's (``default_act``).
Activations use timm's short names (``nre`` relu, ``nr6`` relu6, ``nsw`` silu,
``nhs`` hswish); our own names (``nrelu``, ``nsilu``, ``nswish``...) are accepted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from engine.arch.model import Stage
from engine.arch.validate import DesignError
from engine.ops.registry import ACTIVATIONS

TIMM_ACT = {"relu": "re", "relu6": "r6", "silu": "sw", "hswish": "hs"}
_ACT_ALIASES = {**{v: k for k, v in TIMM_ACT.items()}, **{a: a for a in ACTIVATIONS},
                "swish": "silu", "hard_swish": "hswish"}
_OPTION = re.compile(r"^(se|[a-z])(.*)$")
_NUMBER = re.compile(r"^\d+(\.\d+)?(e-?\d+)?$")
_NAMES = {"r": "repeats", "k": "kernel", "s": "stride", "e": "expansion", "c": "channels",
          "se": "SE ratio"}


def _num(v: float) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def parse_block_string(s: str, *, default_act: str = "silu", where: str | None = None) -> Stage:
    """One stage from a block string; ``DesignError`` names the string and the part."""
    loc = where or f"block string {s!r}"
    if not isinstance(s, str):
        raise DesignError(f"expected text, got {type(s).__name__}", loc)
    parts = s.strip().split("_")
    block = parts[0]
    if block not in ("ds", "ir"):
        raise DesignError(f"part 1 {block!r}: block type must be 'ds' or 'ir'", loc)
    values: dict[str, str] = {}
    act: str | None = None
    for i, part in enumerate(parts[1:], start=2):
        m = _OPTION.match(part)
        if part.startswith("n") and part != "n" and not part.startswith("noskip"):
            name = _ACT_ALIASES.get(part[1:])
            if name is None:
                raise DesignError(f"part {i} {part!r}: unknown activation {part[1:]!r}; use "
                                  f"{', '.join('n' + a for a in TIMM_ACT.values())}", loc)
            if act is not None:
                raise DesignError(f"part {i} {part!r}: activation given twice", loc)
            act = name
            continue
        if m is None or m.group(1) not in _NAMES:
            raise DesignError(f"part {i} {part!r}: unknown option (use r, k, s, e, c, se, n)", loc)
        key, val = m.group(1), m.group(2)
        if key in values:
            raise DesignError(f"part {i} {part!r}: option {key!r} given twice", loc)
        if not _NUMBER.match(val):
            raise DesignError(f"part {i} {part!r}: {_NAMES[key]} must be a number, "
                              f"got {val!r}", loc)
        if key in ("r", "k", "s", "c") and not val.isdigit():
            raise DesignError(f"part {i} {part!r}: {_NAMES[key]} must be a whole number", loc)
        values[key] = val
    missing = [k for k in ("r", "k", "s", "c") if k not in values]
    if missing:
        raise DesignError(f"missing {', '.join(f'{k} ({_NAMES[k]})' for k in missing)}", loc)
    return Stage(block=block, repeats=int(values["r"]), kernel=int(values["k"]),
                 stride=int(values["s"]), expansion=float(values.get("e", "1")),
                 channels=int(values["c"]), se=float(values.get("se", "0")),
                 act=act or default_act)


def format_block_string(stage: Stage, *, default_act: str = "silu") -> str:
    """The canonical block string of a stage (``_se`` only when > 0, ``_n`` when not default)."""
    where = "stage"
    for f in ("repeats", "kernel", "stride", "channels"):
        v = getattr(stage, f)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise DesignError(f"{f} must be a whole number, got {v!r}", where)
    for f in ("expansion", "se"):
        v = getattr(stage, f)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
            raise DesignError(f"{f} must be a non-negative number, got {v!r}", where)
    if stage.block not in ("ds", "ir"):
        raise DesignError(f"block must be 'ds' or 'ir', got {stage.block!r}", where)
    out = (f"{stage.block}_r{stage.repeats}_k{stage.kernel}_s{stage.stride}"
           f"_e{_num(stage.expansion)}_c{stage.channels}")
    if stage.se:
        out += f"_se{_num(stage.se)}"
    if stage.act != default_act:
        if stage.act not in TIMM_ACT:
            raise DesignError(f"activation {stage.act!r} has no block-string name", where)
        out += f"_n{TIMM_ACT[stage.act]}"
    return out


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

