"""Exact parameters, MACs and per-stage/per-cell table of a design without building it.

The networks of ``engine.builders`` (DARTS and NAS-Bench-201 skeletons, block stacks)
composed from the cost functions registered with each op (``engine.ops.registry``) and
block type (``engine.ops.blocks``).  The figures equal what ``engine.cost.counting``
counts on the built model (tests/engine/test_cost_analytic.py holds them to it), at a
few microseconds per op.  No torch import.

Problems (an op or block type without a cost function, shapes that do not compose such
as a stride shrinking a feature map below one pixel) raise ``DesignError`` with located
``Problem``s, the way the validator reports.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.arch.model import BlockStack, Cell, CellDesign, Design
from engine.arch.scaling import scaled_head_channels, scaled_stages, scaled_stem_channels
from engine.arch.validate import DesignError, Problem
from engine.ops import blocks, registry, stack_parts
from engine.ops import costs as c
from engine.ops.costs import Cost, Shape, ShapeError

__all__ = ["AUX_ROW", "MACS_CONVENTION", "NetworkCost", "design_cost", "op_cost"]

MACS_CONVENTION = "conv + linear multiply-adds (the torchvision way)"
AUX_ROW = "auxiliary head (training only)"

_OP_CACHE: dict[tuple[Any, ...], Cost] = {}


@dataclass
class NetworkCost:
    """Totals (the auxiliary head excluded, as in DARTS) and one row per stage/cell."""

    params: int
    macs: int
    input: Shape
    classes: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    auxiliary: dict[str, Any] | None = None

    @property
    def params_with_auxiliary(self) -> int:
        return self.params + (self.auxiliary["params"] if self.auxiliary else 0)

    def table(self) -> list[dict[str, Any]]:
        """``layer_table``'s rows: the parts, then the auxiliary head if any."""
        rows = [dict(r) for r in self.rows]
        if self.auxiliary is not None:
            rows.append(dict(self.auxiliary))
        return rows


def _fail(location: str, message: str) -> DesignError:
    return DesignError(Problem(location, message))


def op_cost(op: str, shape: Shape, stride: int, affine: bool = True) -> Cost:
    """The registered cost of cell op ``op``; ``LookupError`` when it has none."""
    spec = registry.get(op)
    if spec.cost is None:
        raise LookupError(f"op {op!r} has no cost function")
    key = (spec.cost, shape, stride, affine)
    out = _OP_CACHE.get(key)
    if out is None:
        if len(_OP_CACHE) > 100_000:
            _OP_CACHE.clear()
        out = _OP_CACHE[key] = spec.cost(shape, stride, affine)
    return out


def _row(name: str, cost: Cost, output: Sequence[int] | None = None) -> dict[str, Any]:
    return {"name": name, "params": cost.params, "macs": cost.macs,
            "output": list(output if output is not None else cost.shape)}


def _total(rows: list[dict[str, Any]]) -> tuple[int, int]:
    return sum(r["params"] for r in rows), sum(r["macs"] for r in rows)


# -- cells ----------------------------------------------------------------------------------

def _plan(cell: Cell, where: str) -> tuple[list[tuple[int, str, list[tuple[int, Any, str]]]],
                                           list[int]]:
    """The cell's evaluation order, once per cell: ``[(node, location, [(source, op cost,
    op name)])]`` and the concat; unknown ops and missing nodes are located problems."""
    try:
        order = cell.topological_nodes()
    except ValueError as exc:
        raise _fail(where, str(exc)) from None
    incoming: dict[int, list[int]] = {n: [] for n in order}
    for i, e in enumerate(cell.edges):
        if e.target not in incoming:
            raise _fail(f"{where}, edge {i + 1}", f"target {e.target} is not an intermediate node")
        incoming[e.target].append(i)
    known = set(range(cell.n_inputs))
    steps = []
    for node in order:
        loc = f"{where}, node {node}"
        if not incoming[node]:
            raise _fail(loc, "has no incoming edge")
        edges = []
        for i in incoming[node]:
            e = cell.edges[i]
            if not registry.exists(e.op) or registry.get(e.op).kind != "cell":
                raise _fail(loc, f"unknown cell op {e.op!r}")
            if e.source not in known:
                raise _fail(loc, f"input {e.source} does not exist")
            cost = registry.get(e.op).cost
            if cost is None:
                raise _fail(loc, f"op {e.op!r} has no cost function")
            edges.append((e.source, cost, e.op))
        known.add(node)
        steps.append((node, loc, edges))
    if not cell.concat:
        raise _fail(f"{where}.concat", "is empty: the cell has no output")
    for n in cell.concat:
        if n not in known:
            raise _fail(f"{where}.concat", f"node {n} does not exist")
    return steps, list(cell.concat)


def _body(cell: Cell, inputs: list[Shape], reduction: bool, where: str,
          cache: dict[Any, Any]) -> Cost:
    """``CellBody``: one op per edge (stride 2 from an input of a reduction cell), node sums,
    concat of the chosen nodes.  ``cache`` belongs to this one cell (of one design)."""
    key = (*inputs, reduction)
    hit = cache.get(key)
    if hit is not None:
        return hit
    plan = cache.get("plan")
    if plan is None:
        plan = cache["plan"] = _plan(cell, where)
    steps, concat = plan
    n_inputs = cell.n_inputs
    states: dict[int, Shape] = dict(enumerate(inputs))
    params = macs = 0
    for node, loc, edges in steps:
        shape: Shape | None = None
        for source, fn, op in edges:
            stride = 2 if reduction and source < n_inputs else 1
            x = states[source]
            ckey = (fn, x, stride, True)
            out = _OP_CACHE.get(ckey)
            if out is None:
                if len(_OP_CACHE) > 100_000:
                    _OP_CACHE.clear()
                try:
                    out = _OP_CACHE[ckey] = fn(x, stride, True)
                except ShapeError as exc:
                    raise _fail(loc, f"{op} from {source}: {exc}") from None
            if shape is not None and out.shape != shape:
                raise _fail(loc, f"sums feature maps of different shapes {_fmt(shape)} and "
                            f"{_fmt(out.shape)} ({op} from {source})")
            shape = out.shape
            params += out.params
            macs += out.macs
        states[node] = shape  # type: ignore[assignment]
    outs = [states[n] for n in concat]
    if len({s[1:] for s in outs}) > 1:
        raise _fail(f"{where}.concat", "concatenates feature maps of different sizes "
                    + ", ".join(_fmt(s) for s in outs))
    result = Cost(params, macs, (sum(s[0] for s in outs), *outs[0][1:]))
    cache[key] = result
    return result


def _fmt(shape: Sequence[int]) -> str:
    return "x".join(str(v) for v in shape)


def _darts(d: CellDesign, shape: Shape, classes: int) -> NetworkCost:
    m = d.macro
    C, layers = m.channels, m.layers
    reductions = sorted(set(m.reduction_positions()))
    for r in reductions:
        if not 0 <= r < layers:
            raise _fail("macro.reductions", f"position {r} is outside cells 0..{layers - 1}")
    normal = d.normal
    reduce = d.reduce if d.reduce is not None else d.normal
    caches: dict[int, dict[Any, Any]] = {id(normal): {}, id(reduce): {}}
    if len(reductions) >= 2:
        aux_position = reductions[1]
    else:
        aux_position = reductions[-1] if reductions else 2 * layers // 3
    c_stem = m.stem_multiplier * C
    try:
        stem = c.conv2d(shape, c_stem, 3, 1, 1).then(c.batch_norm((c_stem, *shape[1:])))
    except ShapeError as exc:
        raise _fail("stem", str(exc)) from None
    rows = [_row("stem", stem)]
    s0 = s1 = stem.shape
    c_cur, reduction_prev = C, False
    aux_in: Shape | None = None
    for i in range(layers):
        reduction = i in reductions
        if reduction:
            c_cur *= 2
        which = "reduce cell" if reduction and d.reduce is not None else "normal cell"
        cell = reduce if reduction else normal
        if cell.n_inputs not in (1, 2):
            raise _fail(which, f"a DARTS-style cell takes 1 or 2 inputs, not {cell.n_inputs}")
        loc = f"cell {i} ({which})"
        try:
            pre1 = c.relu_conv_bn(s1, c_cur, 1, 1, 0)
            pre = [pre1]
            if cell.n_inputs == 2:
                pre.insert(0, c.factorized_reduce(s0, c_cur) if reduction_prev
                           else c.relu_conv_bn(s0, c_cur, 1, 1, 0))
        except ShapeError as exc:
            raise _fail(loc, f"preprocessing: {exc}") from None
        body = _body(cell, [p.shape for p in pre], reduction, which, caches[id(cell)])
        total = Cost(sum(p.params for p in pre) + body.params,
                     sum(p.macs for p in pre) + body.macs, body.shape)
        rows.append(_row(f"cell {i} ({'reduce' if reduction else 'normal'})", total))
        s0, s1 = s1, body.shape
        reduction_prev = reduction
        if i == aux_position:
            aux_in = body.shape
    c_p = s1[0]
    rows.append(_row("global pool", Cost(0, 0, (c_p, 1, 1))))
    rows.append(_row("classifier", c.linear(c_p, classes), [classes]))
    params, macs = _total(rows)
    out = NetworkCost(params, macs, shape, classes, rows)
    if m.auxiliary:
        n_red = sum(1 for r in reductions if r <= aux_position)
        size = min(shape[1], shape[2])
        for _ in range(n_red):
            size = (size + 1) // 2
        if aux_in is None:  # the position is past the last cell: the builder's c_aux is c_stem
            aux_in = (c_stem, *stem.shape[1:])
        out.auxiliary = _aux_head(aux_in, classes, size)
    return out


def _aux_head(shape: Shape, classes: int, size: int) -> dict[str, Any]:
    """``AuxiliaryHead``: ReLU, pool to 2x2, 1x1 conv 128, BN, ReLU, 2x2 conv 768, BN, ReLU,
    linear."""
    try:
        pooled = (c.pool(shape, 5, 3) if 8 <= size <= 10 else c.adaptive_pool(shape, 2)).shape
        a = c.conv2d(pooled, 128, 1).then(c.batch_norm((128, *pooled[1:])))
        b = c.conv2d(a.shape, 768, 2)
    except ShapeError as exc:
        raise _fail("macro.auxiliary", f"auxiliary head: {exc}") from None
    flat = b.shape[0] * b.shape[1] * b.shape[2]
    if flat != 768:
        raise _fail("macro.auxiliary", f"auxiliary head: its classifier expects 768 features, "
                    f"the {_fmt(shape)} input gives {flat}")
    total = a.then(b).then(c.batch_norm(b.shape)).then(c.linear(768, classes))
    return _row(AUX_ROW, total, [classes])


def _nb201(d: CellDesign, shape: Shape, classes: int) -> NetworkCost:
    m = d.macro
    C, n = m.channels, m.layers
    cell = d.normal
    if cell.n_inputs != 1:
        raise _fail("normal cell", "the NAS-Bench-201 skeleton needs single-input cells, "
                    f"not {cell.n_inputs} inputs")
    try:
        stem = c.conv2d(shape, C, 3, 1, 1).then(c.batch_norm((C, *shape[1:])))
    except ShapeError as exc:
        raise _fail("stem", str(exc)) from None
    rows = [_row("stem", stem)]
    x = stem.shape
    cache: dict[Any, Any] = {}
    k = 0
    for stage in range(3):
        c_stage = C * 2 ** stage
        if stage:
            block = _resnet_block(x, c_stage, f"residual reduction {stage}")
            rows.append(_row("residual reduction", block))
            x = block.shape
        for _ in range(n):
            if x[0] != c_stage:  # a 1x1 ReLU-Conv-BN adapts a multi-node concat
                pre = c.relu_conv_bn(x, c_stage, 1, 1, 0)
                body = _body(cell, [pre.shape], False, "normal cell", cache)
                part = pre.then(body)
            else:
                part = body = _body(cell, [x], False, "normal cell", cache)
            rows.append({"name": f"cell {k}", "params": part.params, "macs": part.macs,
                         "output": list(part.shape)})
            x = body.shape
            k += 1
    rows.append(_row("last act", c.batch_norm(x)))
    rows.append(_row("global pool", Cost(0, 0, (x[0], 1, 1))))
    rows.append(_row("classifier", c.linear(x[0], classes), [classes]))
    params, macs = _total(rows)
    return NetworkCost(params, macs, shape, classes, rows)


@functools.lru_cache(maxsize=4096)
def _resnet_block(x: Shape, c_out: int, where: str) -> Cost:
    """``ResNetBasicBlock`` with stride 2: two ReLU-Conv-BN 3x3, avg-pool + 1x1 shortcut."""
    try:
        a = c.relu_conv_bn(x, c_out, 3, 2, 1)
        b = c.relu_conv_bn(a.shape, c_out, 3, 1, 1)
        short = c.conv2d(c.pool(x, 2, 2).shape, c_out, 1)
    except ShapeError as exc:
        raise _fail(where, str(exc)) from None
    if short.shape != b.shape:
        raise _fail(where, f"adds a {_fmt(b.shape)} branch to a {_fmt(short.shape)} shortcut: "
                    f"the {_fmt(x)} input needs an even height and width")
    return Cost(a.params + b.params + short.params, a.macs + b.macs + short.macs, b.shape)


# -- block stacks ---------------------------------------------------------------------------

def _stem_cost(s: BlockStack, shape: Shape, stem_c: int) -> Cost:
    """``features[0]``: the stem conv (if any), its BN, then the stem pool."""
    k, stride = int(s.stem_kernel), int(s.stem_stride)
    if s.stem == "conv":
        out = c.conv2d(shape, stem_c, k, stride, (k - 1) // 2)
        out = out.then(c.batch_norm(out.shape))
    elif s.stem == "conv_bias":
        out = c.conv2d(shape, stem_c, k, stride, bias=True)
    elif s.stem == "none":
        out = Cost(0, 0, shape)
    else:
        raise _fail("stem", f"unknown kind {s.stem!r}; known: {', '.join(stack_parts.STEMS)}")
    return out.then(_pool(out.shape, s.stem_pool, "stem_pool"))


def _pool(shape: Shape, name: str, where: str) -> Cost:
    if name not in stack_parts.POOLS:
        raise _fail(where, f"unknown pool {name!r}; known: {', '.join(stack_parts.POOLS)}")
    return stack_parts.pool_cost(shape, name)


def _head_rows(s: BlockStack, x: Shape, head_c: int, classes: int) -> list[dict[str, Any]]:
    """The head, global pool and classifier rows."""
    if s.head == "conv":
        head = c.conv2d(x, head_c, 1)
        head = head.then(c.batch_norm(head.shape))
    elif s.head == "bn":
        head = c.batch_norm(x)
    elif s.head == "none":
        head = Cost(0, 0, x)
    else:
        raise _fail("head", f"unknown kind {s.head!r}; known: {', '.join(stack_parts.HEADS)}")
    x = head.shape
    rows = [_row("head", head)]
    if s.classifier == "conv":
        rows.append(_row("global pool", Cost(0, 0, x)))
        conv = c.conv2d(x, classes, 1, bias=True)
        rows.append(_row("classifier", Cost(conv.params, conv.macs, (classes, 1, 1)), [classes]))
        return rows
    if s.classifier != "linear":
        raise _fail("classifier", f"unknown kind {s.classifier!r}; known: "
                    f"{', '.join(stack_parts.CLASSIFIERS)}")
    size = int(s.pool_size)
    rows.append(_row("global pool", Cost(0, 0, (x[0], size, size))))
    features, params, macs = x[0] * size * size, 0, 0
    for width in s.hidden:
        layer = c.linear(features, int(width))
        params, macs, features = params + layer.params, macs + layer.macs, int(width)
    last = c.linear(features, classes)
    rows.append(_row("classifier", Cost(params + last.params, macs + last.macs, last.shape),
                     [classes]))
    return rows


def _stack(s: BlockStack, shape: Shape, classes: int) -> NetworkCost:
    stages = scaled_stages(s)
    if not stages:
        raise _fail("stages", "a block stack needs at least one stage")
    stem_c, head_c = scaled_stem_channels(s), scaled_head_channels(s)
    try:
        stem = _stem_cost(s, shape, stem_c)
    except ShapeError as exc:
        raise _fail("stem", str(exc)) from None
    rows = [_row("stem", stem)]
    x = stem.shape
    cache: dict[tuple[Any, ...], Cost] = {}
    for i, st in enumerate(stages):
        where = f"stages[{i}]"
        if not blocks.block_exists(st.block):
            raise _fail(f"{where}.block", f"unknown block type {st.block!r}")
        if not isinstance(st.repeats, int) or st.repeats < 1:
            raise _fail(f"{where}.repeats", f"must be at least 1, got {st.repeats!r}")
        spec = blocks.get_block(st.block)
        if spec.cost is None:
            raise _fail(f"{where}.block", f"block type {st.block!r} has no cost function")
        settings = spec.settings(st)
        skey = (st.block, tuple(sorted(settings.items())), st.channels)
        params = macs = 0
        for r in range(st.repeats):
            stride = st.stride if r == 0 else 1
            key = (skey, x, stride)
            out = cache.get(key)
            if out is None:
                try:
                    out = cache[key] = spec.cost(x, st.channels, stride=stride, **settings)
                except ShapeError as exc:
                    raise _fail(where, f"block {r + 1}: {exc}") from None
            params, macs, x = params + out.params, macs + out.macs, out.shape
        try:
            x = _pool(x, st.pool, f"{where}.pool").shape
        except ShapeError as exc:
            raise _fail(f"{where}.pool", str(exc)) from None
        rows.append(_row(blocks.stage_label(i, st), Cost(params, macs, x)))
    try:
        rows += _head_rows(s, x, head_c, classes)
    except ShapeError as exc:
        raise _fail("head", str(exc)) from None
    params, macs = _total(rows)
    return NetworkCost(params, macs, shape, classes, rows)


def design_cost(design: Design, *, classes: int | None = None,
                input_shape: Sequence[int] | None = None) -> NetworkCost:
    """The cost of ``design`` as ``engine.builders.build_model`` would build it."""
    from engine.builders import input_shape_of  # (pure Python at import)

    shape = tuple(int(v) for v in (input_shape if input_shape is not None
                                   else input_shape_of(design)))
    if len(shape) != 3 or min(shape) < 1:
        raise _fail("input", f"must be three positive sizes (C, H, W), got {shape}")
    if isinstance(design, CellDesign):
        n = int(classes if classes is not None else design.macro.classes)
        if design.macro.style == "nb201":
            return _nb201(design, shape, n)  # type: ignore[arg-type]
        return _darts(design, shape, n)  # type: ignore[arg-type]
    if isinstance(design, BlockStack):
        n = int(classes if classes is not None else design.classes)
        return _stack(design, shape, n)  # type: ignore[arg-type]
    raise TypeError(f"not a design: {type(design).__name__}")
