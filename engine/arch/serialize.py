"""Designs as versioned JSON files, read back with located errors.

A cell design::

    {"format": "nas-studio-design", "version": 1, "kind": "cell", "name": "darts-v2",
     "macro": {"style": "darts", "channels": 36, ...},
     "normal": {"n_inputs": 2,
                "input_nodes": [{"id": 0, "pos": [0.0, 0.0]}, ...],     (optional)
                "nodes": [{"id": 2, "inputs": [{"op": "sep_conv_3x3", "source": 0}, ...],
                           "pos": [120.0, 40.0]}, ...],                    (pos optional)
                "concat": [2, 3, 4, 5]},
     "reduce": {...} or null}

A block stack: the ``BlockStack`` fields plus ``"stages": [{"block": "ir", ...}, ...]``.

Edges are stored under the node they feed.  When a cell's edge list is not grouped
that way (edges added in another order in the editor) each input also carries
``"edge": k``, its index in the cell's edge list, so ``design_from_dict(
design_to_dict(d)) == d`` always holds and built modules keep their parameter order.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path
from typing import Any

from engine.arch import jsonio
from engine.arch.model import (
    BASE_STAGE_FIELDS,
    EXTRA_MACRO_FIELDS,
    EXTRA_STACK_FIELDS,
    EXTRA_STAGE_FIELDS,
    FORMAT_VERSION,
    BlockStack,
    Cell,
    CellDesign,
    CellMacro,
    Design,
    Edge,
    Stage,
    cell_size_problems,
)
from engine.arch.validate import DesignError, Problem, check

FORMAT = "nas-studio-design"

_MACRO_FIELDS = [f.name for f in fields(CellMacro)]
_STAGE_FIELDS = [f.name for f in fields(Stage)]
_STACK_FIELDS = [f for f in BlockStack._FIELDS if f != "stages"]
_DEFAULT_STAGE, _DEFAULT_STACK, _DEFAULT_MACRO = Stage(), BlockStack(), CellMacro()


def _extras(obj: Any, names: tuple[str, ...], default: Any) -> dict[str, Any]:
    """The fields of ``names`` that differ from ``default``'s (files without them stay as
    they were, hashes included)."""
    return {f: _plain(getattr(obj, f)) for f in names if getattr(obj, f) != getattr(default, f)}


# -- writing ---------------------------------------------------------------------------

def _pos(p: tuple[float, float]) -> list[float]:
    return [float(p[0]), float(p[1])]


def _cell_to_dict(c: Cell, positions: bool = True) -> dict[str, Any]:
    by_target: dict[int, list[int]] = {n: [] for n in c.nodes}  # edge indices, one pass
    loose: list[int] = []
    for i, e in enumerate(c.edges):
        (by_target[e.target] if e.target in by_target else loose).append(i)
    grouped: list[int] = []
    for n in c.nodes:
        grouped += by_target[n]
    grouped += loose
    indexed = grouped != list(range(len(c.edges)))

    def edge(i: int) -> dict[str, Any]:
        e = c.edges[i]
        out: dict[str, Any] = {"op": e.op, "source": e.source}
        if indexed:
            out["edge"] = i
        return out

    out: dict[str, Any] = {"n_inputs": c.n_inputs}
    if positions and any(i in c.positions for i in range(c.n_inputs)):
        out["input_nodes"] = [{"id": i, **({"pos": _pos(c.positions[i])}
                                           if i in c.positions else {})}
                              for i in range(c.n_inputs)]
    nodes = []
    for n in c.nodes:
        node: dict[str, Any] = {"id": n, "inputs": [edge(i) for i in by_target[n]]}
        if positions and n in c.positions:
            node["pos"] = _pos(c.positions[n])
        nodes.append(node)
    out["nodes"] = nodes
    out["concat"] = list(c.concat)
    if loose:
        out["loose_edges"] = [{**edge(i), "target": c.edges[i].target} for i in loose]
    return out


def _plain(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


def design_to_dict(d: Design, *, positions: bool = True) -> dict[str, Any]:
    """The JSON-ready dict of a design (``positions=False`` drops GUI positions)."""
    head: dict[str, Any] = {"format": FORMAT, "version": FORMAT_VERSION}
    if isinstance(d, CellDesign):
        macro = {f: _plain(getattr(d.macro, f)) for f in _MACRO_FIELDS
                 if f not in EXTRA_MACRO_FIELDS}
        macro.update(_extras(d.macro, EXTRA_MACRO_FIELDS, _DEFAULT_MACRO))
        if macro["reductions"] is not None:
            macro["reductions"] = list(macro["reductions"])
        return {**head, "kind": "cell", "name": d.name, "macro": macro,
                "normal": _cell_to_dict(d.normal, positions),
                "reduce": None if d.reduce is None else _cell_to_dict(d.reduce, positions)}
    if isinstance(d, BlockStack):
        out = {**head, "kind": "stack", "name": d.name}
        out.update({f: getattr(d, f) for f in _STACK_FIELDS
                    if f != "name" and f not in EXTRA_STACK_FIELDS})
        out.update(_extras(d, EXTRA_STACK_FIELDS, _DEFAULT_STACK))
        out["stages"] = [{**{f: getattr(s, f) for f in BASE_STAGE_FIELDS},
                          **_extras(s, EXTRA_STAGE_FIELDS, _DEFAULT_STAGE)} for s in d.stages]
        return out
    raise TypeError(f"not a design: {type(d).__name__}")


def to_json(d: Design, *, indent: int | None = 2) -> str:
    """The design as JSON text (what ``save_design`` writes): short parts on one line."""
    obj = design_to_dict(d)
    if not indent:
        return json.dumps(obj)
    return _dump(obj, 0, indent) + "\n"


def _scalar(v: Any) -> bool:
    return not isinstance(v, dict | list) or (isinstance(v, list) and
                                               not any(isinstance(x, dict | list) for x in v))


def _inline(v: Any, width: int) -> bool:
    """Scalars, lists of scalars, and short flat objects go on one line."""
    if _scalar(v):
        return True
    if isinstance(v, dict):
        return all(_scalar(x) for x in v.values()) and width <= 124
    return all(isinstance(x, dict) and all(_scalar(y) for y in x.values()) for x in v) and \
        width <= 100


def _dump(v: Any, level: int, indent: int) -> str:
    flat = json.dumps(v)
    if _inline(v, len(flat) + level * indent):
        return flat
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(v, list):
        if not v:
            return "[]"
        items = [_dump(x, level + 1, indent) for x in v]
        return "[\n" + ",\n".join(inner + x for x in items) + "\n" + pad + "]"
    items = [f"{json.dumps(k)}: {_dump(x, level + 1, indent)}" for k, x in v.items()]
    return "{\n" + ",\n".join(inner + x for x in items) + "\n" + pad + "}"


def save_design(d: Design, path: str | Path) -> None:
    """Write the design's JSON file (positions included), atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(to_json(d), encoding="utf-8")
    tmp.replace(path)


def design_hash(d: Design) -> str:
    """sha256 of the canonical JSON, ignoring the name and GUI positions."""
    import hashlib

    obj = design_to_dict(d, positions=False)
    obj.pop("name", None)
    text = json.dumps(_canonical_numbers(obj), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical_numbers(v: Any) -> Any:
    """1 and 1.0 are the same design: write integral floats as ints for the hash."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, dict):
        return {k: _canonical_numbers(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_canonical_numbers(x) for x in v]
    return v


# -- reading ---------------------------------------------------------------------------

class _Reader:
    """Typed field access that records a located problem instead of failing fast."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, loc: str, msg: str) -> None:
        self.problems.append(Problem(loc, msg))

    def obj(self, v: Any, loc: str, allowed: list[str] | set[str]) -> dict[str, Any] | None:
        if not isinstance(v, dict):
            self.fail(loc, f"expected an object, got {_kind(v)}")
            return None
        for k in v:
            if k not in allowed:
                self.fail(loc, f"unknown field {k!r}")
        return v

    def get(self, o: dict[str, Any], key: str, loc: str, want: str, default: Any = ...) -> Any:
        sub = f"{loc}.{key}" if loc else key
        if key not in o:
            if default is ...:
                self.fail(loc or "design", f"missing field {key!r}")
            return None if default is ... else default
        return self.value(o[key], sub, want)

    def value(self, v: Any, loc: str, want: str) -> Any:
        ok = {"int": _is_int(v), "num": _is_num(v), "bool": isinstance(v, bool),
              "str": isinstance(v, str), "list": isinstance(v, list),
              "obj": isinstance(v, dict),
              "ints": isinstance(v, list) and all(_is_int(x) for x in v)}[want]
        if not ok:
            names = {"int": "a whole number", "num": "a number", "bool": "true or false",
                     "str": "text", "list": "a list", "obj": "an object",
                     "ints": "a list of whole numbers"}
            self.fail(loc, f"expected {names[want]}, got {_kind(v)}")
            return None
        if want == "ints":
            return tuple(v)
        return float(v) if want == "num" else v


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, str):
        return f"text {v!r}"
    if isinstance(v, int | float):
        return f"the number {v!r}"
    return {list: "a list", dict: "an object"}.get(type(v), type(v).__name__)


_MACRO_TYPES = {"style": "str", "channels": "int", "layers": "int", "stem_multiplier": "int",
                "auxiliary": "bool", "auxiliary_weight": "num", "drop_path": "num",
                "classes": "int", "dropblock": "int"}
_STAGE_TYPES = {"block": "str", "repeats": "int", "kernel": "int", "stride": "int",
                "expansion": "num", "channels": "int", "se": "num", "act": "str",
                "kernels": "ints", "exp_kernels": "ints", "pw_kernels": "ints", "squeeze": "int",
                "branches": "ints", "bn": "bool", "pool": "str", "dropblock": "int"}
_STACK_TYPES = {"name": "str", "stem_channels": "int", "head_channels": "int",
                "width_mult": "num", "depth_mult": "num", "resolution": "int", "dropout": "num",
                "stochastic_depth": "num", "act": "str", "in_channels": "int", "classes": "int",
                "head_scales_with_width": "bool", "stem": "str", "stem_kernel": "int",
                "stem_stride": "int", "stem_pool": "str", "head": "str", "pool_size": "int",
                "hidden": "ints", "classifier": "str"}


def _read_pos(r: _Reader, v: Any, loc: str) -> tuple[float, float] | None:
    if not (isinstance(v, list) and len(v) == 2 and all(_is_num(x) for x in v)):
        r.fail(f"{loc}.pos", f"expected [x, y] numbers, got {v!r}")
        return None
    return (float(v[0]), float(v[1]))


def _read_edge(r: _Reader, v: Any, loc: str, extra: tuple[str, ...] = ()
               ) -> tuple[Edge, int | None] | None:
    o = r.obj(v, loc, {"op", "source", "edge", *extra})
    if o is None:
        return None
    op = r.get(o, "op", loc, "str")
    src = r.get(o, "source", loc, "int")
    idx = r.get(o, "edge", loc, "int", None)
    target = r.get(o, "target", loc, "int") if "target" in extra else -1
    if op is None or src is None or target is None:
        return None
    return Edge(src, target, op), idx


def _read_cell(r: _Reader, v: Any, where: str) -> Cell | None:
    o = r.obj(v, where, {"n_inputs", "input_nodes", "nodes", "concat", "loose_edges"})
    if o is None:
        return None
    n_before = len(r.problems)
    n_inputs = r.get(o, "n_inputs", where, "int")
    node_items = r.get(o, "nodes", where, "list") or []
    n_edges = sum(len(n["inputs"]) for n in node_items
                  if isinstance(n, dict) and isinstance(n.get("inputs"), list))
    too_large = cell_size_problems(n_inputs or 0, len(node_items), n_edges)
    for message in too_large:  # refused before anything is built from it
        r.fail(where, message)
    if too_large:
        return None
    positions: dict[int, tuple[float, float]] = {}
    for i, item in enumerate(r.get(o, "input_nodes", where, "list", []) or []):
        loc = f"{where}, input_nodes[{i}]"
        io = r.obj(item, loc, {"id", "pos"})
        if io is None:
            continue
        iid = r.get(io, "id", loc, "int")
        if iid is not None and n_inputs is not None and not 0 <= iid < n_inputs:
            r.fail(loc, f"input {iid} does not exist (the cell has {n_inputs} inputs)")
        elif iid is not None and "pos" in io:
            p = _read_pos(r, io["pos"], f"{where}, input {iid}")
            if p is not None:
                positions[iid] = p
    nodes: list[int] = []
    placed: list[tuple[Edge, int | None]] = []
    for i, item in enumerate(node_items):
        loc = f"{where}, nodes[{i}]"
        no = r.obj(item, loc, {"id", "inputs", "pos"})
        if no is None:
            continue
        nid = r.get(no, "id", loc, "int")
        if nid is None:
            continue
        loc = f"{where}, node {nid}"
        nodes.append(nid)
        if "pos" in no:
            p = _read_pos(r, no["pos"], loc)
            if p is not None:
                positions[nid] = p
        for j, e in enumerate(r.get(no, "inputs", loc, "list") or []):
            got = _read_edge(r, e, f"{loc}, input {j + 1}")
            if got is not None:
                got[0].target = nid
                placed.append(got)
    for i, e in enumerate(r.get(o, "loose_edges", where, "list", []) or []):
        got = _read_edge(r, e, f"{where}, loose_edges[{i}]", ("target",))
        if got is not None:
            placed.append(got)
    concat = []
    for i, x in enumerate(r.get(o, "concat", where, "list") or []):
        if r.value(x, f"{where}.concat[{i}]", "int") is not None:
            concat.append(x)
    indices = [k for _, k in placed]
    edges = [e for e, _ in placed]
    if any(k is not None for k in indices):
        if sorted(k if k is not None else -1 for k in indices) != list(range(len(placed))):
            r.fail(where, f"the inputs' 'edge' indices must number the {len(placed)} edges "
                   f"0..{len(placed) - 1} once each, got {indices}")
        else:
            edges = [e for _, e in sorted(zip(indices, edges, strict=True),
                                          key=lambda t: t[0])]
    if len(r.problems) > n_before or n_inputs is None:
        return None
    return Cell(n_inputs=n_inputs, nodes=nodes, edges=edges, concat=concat, positions=positions)


def _read_macro(r: _Reader, v: Any) -> CellMacro:
    o = r.obj(v, "macro", set(_MACRO_FIELDS)) or {}
    kw: dict[str, Any] = {}
    for f, want in _MACRO_TYPES.items():
        if f in o and (val := r.value(o[f], f"macro.{f}", want)) is not None:
            kw[f] = val
    if "input_shape" in o:
        shape = o["input_shape"]
        if isinstance(shape, list) and len(shape) == 3 and all(_is_int(x) for x in shape):
            kw["input_shape"] = tuple(shape)
        else:
            r.fail("macro.input_shape", f"expected [channels, height, width] whole numbers, "
                   f"got {shape!r}")
    if o.get("reductions") is not None:
        red = o["reductions"]
        if isinstance(red, list) and all(_is_int(x) for x in red):
            kw["reductions"] = list(red)
        else:
            r.fail("macro.reductions", f"expected null or a list of cell positions, got {red!r}")
    return CellMacro(**kw)


def _read_stage(r: _Reader, v: Any, loc: str, act: str) -> Stage | None:
    o = r.obj(v, loc, set(_STAGE_FIELDS))
    if o is None:
        return None
    kw: dict[str, Any] = {}
    defaults = {"se": 0.0, "act": act,
                **{f: getattr(_DEFAULT_STAGE, f) for f in EXTRA_STAGE_FIELDS}}
    n_before = len(r.problems)
    for f, want in _STAGE_TYPES.items():
        val = r.get(o, f, loc, want, defaults.get(f, ...))
        if val is not None:
            kw[f] = val
    return Stage(**kw) if len(r.problems) == n_before else None


def design_from_dict(obj: Any, *, validate: bool = True) -> Design:
    """A design from its JSON dict; ``DesignError`` lists every located problem.

    With ``validate=False`` only the file's structure is checked (the editor opens
    designs that still have errors and shows them).
    """
    r = _Reader()
    if not isinstance(obj, dict):
        raise DesignError(f"expected a JSON object, got {_kind(obj)}")
    fmt = obj.get("format")
    if fmt != FORMAT:
        r.fail("format", f"expected {FORMAT!r}, got {fmt!r}" if "format" in obj
               else f"missing: not a NAS Studio design (expected \"format\": {FORMAT!r})")
        raise DesignError(r.problems)
    version = obj.get("version")
    if not _is_int(version):
        raise DesignError(Problem("version", f"expected a whole number, got {_kind(version)}"))
    if version > FORMAT_VERSION or version < 1:
        raise DesignError(Problem("version", f"version {version} is not supported (this "
                                  f"NAS Studio reads version {FORMAT_VERSION})"))
    kind = obj.get("kind")
    design: Design | None = None
    if kind == "cell":
        allowed = {"format", "version", "kind", "name", "macro", "normal", "reduce"}
        r.obj(obj, "design", allowed)
        name = r.get(obj, "name", "", "str", "cell")
        macro = _read_macro(r, obj.get("macro", {}))
        normal = _read_cell(r, obj["normal"], "normal cell") if "normal" in obj else None
        if "normal" not in obj:
            r.fail("design", "missing field 'normal' (the normal cell)")
        reduce = None if obj.get("reduce") is None else _read_cell(r, obj["reduce"], "reduce cell")
        if not r.problems and normal is not None:
            design = CellDesign(name=name, normal=normal, reduce=reduce, macro=macro)
    elif kind == "stack":
        r.obj(obj, "design", {"format", "version", "kind", "stages", *_STACK_FIELDS})
        kw: dict[str, Any] = {}
        for f, want in _STACK_TYPES.items():
            if f in obj and (val := r.value(obj[f], f, want)) is not None:
                kw[f] = val
        stages = []
        for i, s in enumerate(r.get(obj, "stages", "", "list") or []):
            st = _read_stage(r, s, f"stages[{i}]", kw.get("act", "silu"))
            if st is not None:
                stages.append(st)
        if not r.problems:
            design = BlockStack(stages=stages, **kw)
    else:
        r.fail("kind", f"expected 'cell' or 'stack', got {_kind(kind)}" if "kind" in obj
               else "missing field 'kind' ('cell' or 'stack')")
    if r.problems or design is None:
        raise DesignError(r.problems)
    if validate:
        check(design)
    return design


def from_json(text: str, *, source: str | None = None, validate: bool = True) -> Design:
    """A design from JSON text; ``source`` names the file in error locations."""
    where = f"file {source}" if source else "JSON text"
    try:
        obj = jsonio.loads(text)
    except json.JSONDecodeError as exc:
        raise DesignError(Problem(f"{where} line {exc.lineno}",
                                  f"invalid JSON ({exc.msg}, column {exc.colno})")) from None
    except jsonio.JSONDepthError as exc:
        raise DesignError(Problem(f"{where} line {exc.lineno}",
                                  f"nested deeper than {exc.limit} levels: not a design "
                                  f"file")) from None
    try:
        return design_from_dict(obj, validate=validate)
    except DesignError as exc:
        if source is None:
            raise
        raise DesignError([Problem(f"file {source}, {p.location}", p.message, p.severity)
                           for p in exc.problems]) from None


def load_design(path: str | Path, *, validate: bool = True) -> Design:
    """Read and validate a design file; ``DesignError`` names the file and the location."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DesignError(Problem(f"file {path}", "not found")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DesignError(Problem(f"file {path}", f"cannot be read ({exc})")) from None
    return from_json(text, source=path.name, validate=validate)
