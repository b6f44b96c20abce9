"""Design validation: every problem with a human-readable location.

``validate(design)`` returns all problems found (errors and warnings); ``check``
raises ``DesignError`` when any is an error.  Locations read like
``"reduce cell, node 3"``, ``"macro.channels"`` or ``"stages[2].kernel"``.

Rules enforced beyond plain types and ranges:

* Cells: ops come from the registry and are cell ops (not ``ds``/``ir`` blocks);
  every edge's source and target exist; no self-loops, no cycles (the cycle's
  nodes are named); every intermediate node has an input and its output is used
  (in the concat or feeding another node: an error for DARTS-style cells, a
  warning for NAS-Bench-201 cells); the concat is non-empty, has no duplicates and
  names existing nodes.  DARTS-style cells have 2 inputs and NAS-Bench-201 cells 1.
* Divisibility: the NAS-Bench-201 residual reduction adds a stride-2 3x3 conv
  (``ceil(H/2)``) to a 2x2 average pool (``floor(H/2)``), so the height and width
  entering both reductions must be even.  The DARTS skeleton has no such constraint:
  every stride-2 op gives ``ceil(H/2)`` and the factorized reduce pads odd sizes
  (engine/ops/torch_ops.py); its channel count is always even because a reduction
  cell doubles ``C``.  All grouped convolutions here are depthwise
  (``groups == channels``), so no channel count can be indivisible.
* A DARTS design without a reduce cell is built with the normal cell at the
  reduction positions (a warning); that cell then must not output a cell input.
* Block stacks: each stage's fields checked against its block type's ``BlockField``s
  (``engine.ops.blocks``: kinds, ranges, choices, odd kernels) and the type's own
  rules between fields (``BlockSpec.check``); known stem/head/classifier/pool kinds
  (``engine.ops.stack_parts``), positive integer sizes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from engine.arch.model import BlockStack, Cell, CellDesign, CellMacro, Stage, cell_size_problems
from engine.ops import registry

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a design, and where."""

    location: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class DesignError(Exception):
    """A design (or design text) that cannot be used; ``problems`` says why and where."""

    def __init__(self, problems: Iterable[Problem] | Problem | str, location: str = "design"):
        if isinstance(problems, str):
            problems = [Problem(location, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def check(design: Any) -> list[Problem]:
    """Validate; raise ``DesignError`` on any error.  Returns the warnings."""
    problems = validate(design)
    if errors(problems):
        raise DesignError([p for p in problems if p.severity == "error"])
    return problems


def validate(design: Any) -> list[Problem]:
    """Every problem of a cell design or block stack, errors first."""
    if isinstance(design, CellDesign):
        problems = _cell_design(design)
    elif isinstance(design, BlockStack):
        problems = _stack(design)
    else:
        problems = [Problem("design", f"not a design: {type(design).__name__}")]
    return sorted(problems, key=lambda p: p.severity != "error")


# -- value helpers -------------------------------------------------------------------

def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return (isinstance(v, int | float) and not isinstance(v, bool)
            and math.isfinite(float(v)))


def _pos_int(out: list[Problem], loc: str, v: Any) -> bool:
    if not _is_int(v):
        out.append(Problem(loc, f"must be a whole number, got {v!r}"))
        return False
    if v <= 0:
        out.append(Problem(loc, f"must be positive, got {v}"))
        return False
    return True


def _in_range(out: list[Problem], loc: str, v: Any, lo: float, hi: float,
              hi_open: bool = True) -> None:
    if not _is_num(v):
        out.append(Problem(loc, f"must be a number, got {v!r}"))
    elif v < lo or (v >= hi if hi_open else v > hi):
        bracket = ")" if hi_open else "]"
        out.append(Problem(loc, f"must be in [{lo:g}, {hi:g}{bracket}, got {v:g}"))


def _activation(out: list[Problem], loc: str, v: Any) -> None:
    if v not in registry.ACTIVATIONS:
        out.append(Problem(loc, f"unknown activation {v!r}; known: "
                           f"{', '.join(registry.ACTIVATIONS)}"))


# -- cell designs -------------------------------------------------------------------

def _cell_design(d: CellDesign) -> list[Problem]:
    out: list[Problem] = []
    if not isinstance(d.name, str):
        out.append(Problem("name", f"must be text, got {d.name!r}"))
    macro_ok = _macro(out, d.macro)
    style = d.macro.style
    if style == "nb201" and d.reduce is not None:
        out.append(Problem("reduce cell", "NAS-Bench-201 networks have no reduction cell; "
                           "it is ignored", "warning"))
    positions = d.macro.reduction_positions() if macro_ok and style == "darts" else []
    normal_reduces = bool(positions) and d.reduce is None
    if normal_reduces:
        out.append(Problem("reduce cell", f"none: the normal cell is used (with stride 2) at "
                           f"the reduction positions {positions}", "warning"))
    cells_ok = True
    for which, cell in d.cells().items():
        cells_ok &= _cell(out, f"{which} cell", cell, style,
                          which == "reduce" or normal_reduces)
    if macro_ok and cells_ok:
        _spatial(out, d)
    return out


def _macro(out: list[Problem], m: CellMacro) -> bool:
    n = len(out)
    if m.style not in ("darts", "nb201"):
        out.append(Problem("macro.style", f"unknown style {m.style!r}; use 'darts' or 'nb201'"))
    _pos_int(out, "macro.channels", m.channels)
    layers_ok = _pos_int(out, "macro.layers", m.layers)
    _pos_int(out, "macro.stem_multiplier", m.stem_multiplier)
    _pos_int(out, "macro.classes", m.classes)
    shape = m.input_shape
    if not isinstance(shape, tuple | list) or len(shape) != 3:
        out.append(Problem("macro.input_shape", f"must be (channels, height, width), got {shape!r}"))
    else:
        for name, v in zip(("channels", "height", "width"), shape, strict=True):
            _pos_int(out, f"macro.input_shape {name}", v)
    if not isinstance(m.auxiliary, bool):
        out.append(Problem("macro.auxiliary", f"must be true or false, got {m.auxiliary!r}"))
    _in_range(out, "macro.auxiliary_weight", m.auxiliary_weight, 0, math.inf)
    _in_range(out, "macro.drop_path", m.drop_path, 0, 1)
    if m.reductions is not None:
        if not isinstance(m.reductions, list | tuple):
            out.append(Problem("macro.reductions", f"must be a list, got {m.reductions!r}"))
        else:
            seen: set[int] = set()
            for i, r in enumerate(m.reductions):
                loc = f"macro.reductions[{i}]"
                if not _is_int(r):
                    out.append(Problem(loc, f"must be a whole number, got {r!r}"))
                elif layers_ok and not 0 <= r < m.layers:
                    out.append(Problem(loc, f"position {r} is out of range: the network has "
                                       f"{m.layers} cells (0..{m.layers - 1})"))
                elif r in seen:
                    out.append(Problem(loc, f"position {r} is listed twice"))
                else:
                    seen.add(r)
            if m.style == "nb201" and m.reductions:
                out.append(Problem("macro.reductions", "ignored by the NAS-Bench-201 macro "
                                   "(it always reduces between its 3 stages)", "warning"))
    return len(errors(out[n:])) == 0


def _cell(out: list[Problem], where: str, c: Cell, style: str, is_reduce: bool) -> bool:
    n_before = len(out)
    want_inputs = 1 if style == "nb201" else 2
    if not _pos_int(out, f"{where}.n_inputs", c.n_inputs):
        return False
    if not _cell_size(out, where, c):
        return False
    if style in ("darts", "nb201") and c.n_inputs != want_inputs:
        kind = "NAS-Bench-201" if style == "nb201" else "DARTS-style"
        out.append(Problem(where, f"{kind} cells take {want_inputs} input(s), "
                           f"this one has {c.n_inputs}"))
    inputs = set(range(c.n_inputs))
    nodes: set[int] = set()
    for n in c.nodes:
        if not _is_int(n):
            out.append(Problem(f"{where}, node {n!r}", "node ids must be whole numbers"))
        elif n in inputs:
            out.append(Problem(f"{where}, node {n}", f"id clashes with cell input {n} "
                               f"(intermediate nodes are numbered from {c.n_inputs})"))
        elif n in nodes:
            out.append(Problem(f"{where}, node {n}", "listed twice"))
        else:
            nodes.add(n)
    if not c.nodes:
        out.append(Problem(where, "has no intermediate nodes"))
    known = inputs | nodes
    used: set[int] = set()
    fed: dict[int, list[int]] = {n: [] for n in nodes}
    for i, e in enumerate(c.edges):
        if e.target not in nodes:
            out.append(Problem(f"{where}, edge {i + 1} ({e.op} from {e.source})",
                               f"target node {e.target} does not exist"))
            continue
        loc = f"{where}, node {e.target}"
        if not isinstance(e.op, str) or not registry.exists(e.op):
            out.append(Problem(loc, f"unknown op {e.op!r}"))
        elif registry.get(e.op).kind != "cell":
            out.append(Problem(loc, f"{e.op!r} is a block, not a cell op"))
        if e.source == e.target:
            out.append(Problem(loc, "takes its own output as input (self-loop)"))
        elif e.source not in known:
            out.append(Problem(loc, f"input {e.source} does not exist"))
        else:
            fed[e.target].append(e.source)
            used.add(e.source)
    targets = {e.target for e in c.edges}
    for n in c.nodes:
        if n in nodes and not fed[n] and n not in targets:
            out.append(Problem(f"{where}, node {n}", "has no inputs"))
    for cycle in _cycles(fed, nodes):
        names = " -> ".join(str(x) for x in [*cycle, cycle[0]])
        out.append(Problem(f"{where}, nodes {', '.join(map(str, sorted(cycle)))}",
                           f"form a cycle {names}"))
    if not c.concat:
        out.append(Problem(f"{where}.concat", "is empty: the cell has no output"))
    seen: set[int] = set()
    for x in c.concat:
        loc = f"{where}.concat"
        if x in seen:
            out.append(Problem(loc, f"node {x} is listed twice"))
        elif x not in known:
            out.append(Problem(loc, f"node {x} does not exist"))
        elif x in inputs:
            if is_reduce:
                out.append(Problem(loc, f"cell input {x} cannot be an output of a cell used "
                                   "for reduction: its feature map is twice the size"))
            else:
                out.append(Problem(loc, f"outputs cell input {x} unchanged", "warning"))
        seen.add(x)
    if style == "nb201" and len(c.concat) > 1:
        out.append(Problem(f"{where}.concat", f"NAS-Bench-201 cells output one node; {len(c.concat)}"
                           " are concatenated (not a NAS-Bench-201 cell string)", "warning"))
    sev: Severity = "error" if style != "nb201" else "warning"
    for n in c.nodes:
        if n in nodes and n not in used and n not in seen:
            out.append(Problem(f"{where}, node {n}", "output is never used (not in the concat "
                               "and not an input of another node)", sev))
    for x in sorted(inputs - used):
        out.append(Problem(f"{where}, input {x}", "is never used", "warning"))
    return len(errors(out[n_before:])) == 0


def _cell_size(out: list[Problem], where: str, c: Cell) -> bool:
    """Within the MAX_CELL_* limits (checked before anything is built from the cell)."""
    problems = cell_size_problems(c.n_inputs, len(c.nodes), len(c.edges))
    out += [Problem(where, message) for message in problems]
    return not problems


def _cycles(fed: dict[int, list[int]], nodes: set[int]) -> list[list[int]]:
    """Elementary cycles found by depth-first search, one per strongly connected part.

    Linear in the edges: each node's sources are listed once, the path's positions are
    kept in a dict."""
    color: dict[int, int] = dict.fromkeys(nodes, 0)
    cycles: list[list[int]] = []
    in_cycle: set[int] = set()
    sources = {n: [s for s in fed[n] if s in nodes and s != n] for n in nodes}

    def visit(start: int) -> None:
        stack: list[tuple[int, int]] = [(start, 0)]
        path: list[int] = [start]
        on_path: dict[int, int] = {start: 0}
        color[start] = 1
        while stack:
            node, i = stack[-1]
            srcs = sources[node]
            if i < len(srcs):
                stack[-1] = (node, i + 1)
                s = srcs[i]
                if color[s] == 0:
                    color[s] = 1
                    stack.append((s, 0))
                    on_path[s] = len(path)
                    path.append(s)
                elif color[s] == 1 and s not in in_cycle:
                    cyc = path[on_path[s]:]
                    cyc.reverse()  # report in data-flow order: source -> target
                    in_cycle.update(cyc)
                    cycles.append(cyc)
            else:
                color[node] = 2
                stack.pop()
                del on_path[path.pop()]

    for n in sorted(nodes):
        if color[n] == 0:
            visit(n)
    return cycles


def _spatial(out: list[Problem], d: CellDesign) -> None:
    """NAS-Bench-201: even height and width into both residual reductions."""
    m = d.macro
    if m.style != "nb201":
        return
    _, h, w = m.input_shape
    for i in range(2):
        if h % 2 or w % 2:
            out.append(Problem("macro.input_shape", f"reduction block {i + 1} receives a "
                               f"{h}x{w} feature map; the residual reduction needs an even "
                               "height and width"))
            return
        h, w = h // 2, w // 2


# -- block stacks ---------------------------------------------------------------------

def _stack(s: BlockStack) -> list[Problem]:
    from engine.ops import stack_parts

    out: list[Problem] = []
    if not isinstance(s.name, str):
        out.append(Problem("name", f"must be text, got {s.name!r}"))
    for f in ("stem_channels", "head_channels", "resolution", "in_channels", "classes",
              "stem_stride", "pool_size"):
        _pos_int(out, f, getattr(s, f))
    if _pos_int(out, "stem_kernel", s.stem_kernel) and s.stem_kernel % 2 == 0:
        out.append(Problem("stem_kernel", f"must be odd, got {s.stem_kernel}"))
    for f in ("width_mult", "depth_mult"):
        v = getattr(s, f)
        if not _is_num(v) or v <= 0:
            out.append(Problem(f, f"must be a positive number, got {v!r}"))
    _in_range(out, "dropout", s.dropout, 0, 1)
    _in_range(out, "stochastic_depth", s.stochastic_depth, 0, 1)
    _activation(out, "act", s.act)
    if not isinstance(s.head_scales_with_width, bool):
        out.append(Problem("head_scales_with_width",
                           f"must be true or false, got {s.head_scales_with_width!r}"))
    for f, known in (("stem", stack_parts.STEMS), ("stem_pool", stack_parts.POOLS),
                     ("head", stack_parts.HEADS), ("classifier", stack_parts.CLASSIFIERS)):
        _one_of(out, f, getattr(s, f), tuple(known))
    if not isinstance(s.hidden, tuple | list) or any(not _is_int(v) or v < 1 for v in s.hidden):
        out.append(Problem("hidden", f"must be a list of positive widths, got {s.hidden!r}"))
    elif s.classifier == "conv" and (s.hidden or s.pool_size != 1):
        out.append(Problem("classifier", "a conv classifier pools globally after its 1x1 conv: "
                           "it takes no hidden layers and pool size 1"))
    if not s.stages:
        out.append(Problem("stages", "the stack has no stages"))
    for i, st in enumerate(s.stages):
        _stage(out, f"stages[{i}]", st)
    return out


def _one_of(out: list[Problem], loc: str, v: Any, known: tuple[Any, ...]) -> bool:
    if v in known:
        return True
    if len(known) <= 2:
        out.append(Problem(loc, f"must be {' or '.join(map(str, known))}, got {v!r}"))
    else:
        out.append(Problem(loc, f"unknown {loc.rsplit('.', 1)[-1]} {v!r}; known: "
                           f"{', '.join(map(str, known))}"))
    return False


def _stage(out: list[Problem], loc: str, st: Stage) -> None:
    from engine.ops import blocks

    if not isinstance(st, Stage):
        out.append(Problem(loc, f"not a stage: {st!r}"))
        return
    if not blocks.block_exists(st.block):
        hint = " (a cell op)" if isinstance(st.block, str) and registry.exists(st.block) else ""
        out.append(Problem(f"{loc}.block", f"unknown block {st.block!r}{hint}; use "
                           f"{', '.join(repr(b) for b in blocks.block_names())}"))
        return
    spec = blocks.get_block(st.block)
    for f in spec.fields:
        _field(out, f"{loc}.{f.name}", f, getattr(st, f.name), spec.name)
    if spec.check is not None and not [p for p in out if p.location.startswith(loc + ".")]:
        out += [Problem(f"{loc}.{name}", message) for name, message in spec.check(st)]


def _field(out: list[Problem], loc: str, f: Any, v: Any, block: str) -> None:
    """One stage field checked against its ``BlockField``: kind, range, choices."""
    if f.kind == "act":
        _activation(out, loc, v)
    elif f.kind == "bool":
        if not isinstance(v, bool):
            out.append(Problem(loc, f"must be true or false, got {v!r}"))
    elif f.kind == "choice":
        _one_of(out, loc, v, tuple(f.choices or ()))
    elif f.kind == "ints":
        if not isinstance(v, tuple | list) or not v or any(not _is_int(x) or x < 1 for x in v):
            out.append(Problem(loc, f"must be a list of positive whole numbers, got {v!r}"))
    elif f.kind == "int":
        if f.low is None and f.choices:
            if _is_int(v):
                _one_of(out, loc, v, tuple(f.choices))
            else:
                out.append(Problem(loc, f"must be a whole number, got {v!r}"))
        elif f.low is not None and f.low >= 1:
            if _pos_int(out, loc, v) and f.odd and v % 2 == 0:
                out.append(Problem(loc, f"must be odd (the block pads 'same'), got {v}"))
        elif not _is_int(v) or v < (f.low or 0):
            out.append(Problem(loc, f"must be a whole number from {f.low or 0:g}, got {v!r}"))
    elif f.choices is not None and len(f.choices) == 1:
        if not _is_num(v) or v != f.choices[0]:
            out.append(Problem(loc, f"a {block!r} block has no {f.title.lower()} "
                               f"({f.choices[0]:g}); {v!r} is ignored", "warning"))
    elif f.high_open:
        _in_range(out, loc, v, f.low or 0, f.high)
    elif not _is_num(v) or v <= (f.low or 0):
        out.append(Problem(loc, f"must be a positive number, got {v!r}"))
