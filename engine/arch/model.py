"""The design model: cell graphs and block stacks as plain dataclasses.

Pure Python (no torch).  Views subscribe to changes through ``Design.subscribe``;
every mutation goes through a mutator method that notifies subscribers.

Cell node numbering follows DARTS: ids ``0 .. n_inputs-1`` are the cell inputs,
intermediate nodes have ids ``>= n_inputs``.  Edges point from a source node to
the target node whose sum they feed.  Intermediate nodes may be listed in any
order; builders evaluate them in topological order (the validator rejects cycles).
"""

from __future__ import annotations

import copy
import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

CellStyle = Literal["darts", "nb201"]
BlockType = str
"""A block type name (``engine.ops.blocks``: ``ds``, ``ir``, ``mix``, ``fire``...)."""
FORMAT_VERSION = 1

# The largest cell the studio accepts (designs, Genotype/NAS-Bench-201 text, the editor):
# published cells have 3-32 nodes; above these the validator refuses, naming the limit.
MAX_CELL_NODES = 1000    # intermediate nodes
MAX_CELL_EDGES = 10_000  # operations
MAX_CELL_INPUTS = 16     # cell inputs (DARTS: 2, NAS-Bench-201: 1)


def cell_size_problems(n_inputs: int, n_nodes: int, n_edges: int) -> list[str]:
    """What is above the MAX_CELL_* limits, as messages (empty when within them)."""
    return [f"has {count:,} {what}; a cell has at most {limit:,}"
            for what, count, limit in (("inputs", n_inputs, MAX_CELL_INPUTS),
                                       ("intermediate nodes", n_nodes, MAX_CELL_NODES),
                                       ("operations (edges)", n_edges, MAX_CELL_EDGES))
            if count > limit]


@dataclass
class Edge:
    """One operation applied to ``source`` whose result is summed into ``target``."""

    source: int
    target: int
    op: str


class CellOrderError(ValueError):
    """No topological order: ``pending`` lists the nodes on or after a cycle or a
    missing source, in list order."""

    def __init__(self, pending: list[int]) -> None:
        self.pending = pending
        super().__init__(f"cycle or missing input among nodes {pending}")


@dataclass
class Cell:
    """A DAG of operations: inputs, intermediate nodes, and the concatenated output."""

    n_inputs: int = 2
    nodes: list[int] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    concat: list[int] = field(default_factory=list)
    positions: dict[int, tuple[float, float]] = field(default_factory=dict)

    def inputs_of(self, node: int) -> list[Edge]:
        """Edges feeding ``node``, in insertion order (one pass over the edges: for every
        node at once use ``edges_by_target``)."""
        return [e for e in self.edges if e.target == node]

    def edges_by_target(self) -> dict[int, list[Edge]]:
        """Each intermediate node's incoming edges, in insertion order (one pass)."""
        out: dict[int, list[Edge]] = {n: [] for n in self.nodes}
        for e in self.edges:
            if e.target in out:
                out[e.target].append(e)
        return out

    def all_ids(self) -> list[int]:
        return list(range(self.n_inputs)) + list(self.nodes)

    def _dependencies(self) -> tuple[dict[int, int], dict[int, int], dict[int, list[int]]]:
        """(position in ``nodes``, unresolved intermediate sources, users) for Kahn's
        algorithm; a node reading a source that does not exist never resolves."""
        position: dict[int, int] = {}
        for i, n in enumerate(self.nodes):
            position.setdefault(n, i)
        waiting = dict.fromkeys(position, 0)
        users: dict[int, list[int]] = {n: [] for n in position}
        for e in self.edges:
            t, src = e.target, e.source
            if t not in position:
                continue
            if src in position:
                waiting[t] += 1
                users[src].append(t)
            elif not (isinstance(src, int) and 0 <= src < self.n_inputs):
                waiting[t] += 1  # a missing source: never ready
        return position, waiting, users

    def _unordered(self, order: list[int]) -> CellOrderError:
        done = set(order)
        return CellOrderError([n for n in self.nodes if n not in done])

    def topological_nodes(self) -> list[int]:
        """Intermediate nodes in an order where every source comes first: by depth (the
        longest path from the inputs), list order within a depth.  Linear in the edges.

        Raises ValueError on a cycle (the validator reports it with locations).
        """
        position, waiting, users = self._dependencies()
        depth = {n: 1 for n, w in waiting.items() if w == 0}
        frontier = list(depth)
        while frontier:
            n = frontier.pop()
            for t in users[n]:
                depth[t] = max(depth.get(t, 1), depth[n] + 1)
                waiting[t] -= 1
                if waiting[t] == 0:
                    frontier.append(t)
        order = sorted((n for n, w in waiting.items() if w == 0),
                       key=lambda n: (depth[n], position[n]))
        if len(order) < len(position):
            raise self._unordered(order)
        return order

    def stable_topological_nodes(self) -> list[int]:
        """Intermediate nodes in topological order, keeping list order where it is free
        (the first ready node in ``nodes`` comes next).  O(E + V log V).

        Raises ValueError on a cycle or a missing source.
        """
        position, waiting, users = self._dependencies()
        heap = [position[n] for n, w in waiting.items() if w == 0]
        heapq.heapify(heap)
        by_position = {i: n for n, i in position.items()}
        order: list[int] = []
        while heap:
            n = by_position[heapq.heappop(heap)]
            order.append(n)
            for t in users[n]:
                waiting[t] -= 1
                if waiting[t] == 0:
                    heapq.heappush(heap, position[t])
        if len(order) < len(position):
            raise self._unordered(order)
        return order


@dataclass
class CellMacro:
    """The network around the cells.

    ``style="darts"``: DARTS CIFAR skeleton; ``layers`` is the total number of cells,
    reductions at ``reductions`` (default ``layers//3`` and ``2*layers//3``).
    ``style="nb201"``: NAS-Bench-201 skeleton; ``layers`` is cells *per stage*
    (3 stages, residual reduction blocks between them).
    """

    style: CellStyle = "darts"
    channels: int = 36
    layers: int = 20
    stem_multiplier: int = 3
    reductions: list[int] | None = None
    auxiliary: bool = False
    auxiliary_weight: float = 0.4
    drop_path: float = 0.2
    input_shape: tuple[int, int, int] = (3, 32, 32)
    classes: int = 10
    dropblock: int = 0  # DropBlock block size after the cells from the first reduction on

    def reduction_positions(self) -> list[int]:
        if self.style == "nb201":
            return []
        if self.reductions is not None:
            return list(self.reductions)
        return [self.layers // 3, 2 * self.layers // 3]


@dataclass
class Stage:
    """One stage of a block stack (timm-style block string fields).

    The fields after ``act`` belong to particular block types (``engine.ops.blocks`` says
    which type has which) or to every stage (``pool``, ``dropblock``); design files carry
    them only when they differ from these defaults (``EXTRA_STAGE_FIELDS``).
    """

    block: BlockType = "ir"
    repeats: int = 1
    kernel: int = 3
    stride: int = 1
    expansion: float = 6
    channels: int = 16
    se: float = 0.25
    act: str = "silu"
    kernels: tuple[int, ...] = (3,)      # mix: depthwise kernel per channel group (k3.5.7)
    exp_kernels: tuple[int, ...] = (1,)  # mix: the expansion conv split into groups (a1.1)
    pw_kernels: tuple[int, ...] = (1,)   # mix: the projection conv split into groups (p1.1)
    squeeze: int = 16                    # fire: squeeze channels
    branches: tuple[int, ...] = ()       # inception: 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5
    bn: bool = True                      # conv group: batch norm after each conv
    pool: str = "none"                   # any stage: pooling after its blocks
    dropblock: int = 0                   # any stage: DropBlock block size (0: none)


BASE_STAGE_FIELDS = ("block", "repeats", "kernel", "stride", "expansion", "channels", "se", "act")
"""Written to every design file's stages."""
EXTRA_STAGE_FIELDS = ("kernels", "exp_kernels", "pw_kernels", "squeeze", "branches", "bn",
                      "pool", "dropblock")
"""Written only when they differ from ``Stage``'s defaults (older files stay byte-identical)."""


@dataclass
class ChangeEvent:
    """What changed: ``kind`` names the mutator, ``detail`` its arguments."""

    kind: str
    detail: dict[str, Any]


class _Observable:
    """Change notifications for views (never the source of truth)."""

    def _listeners(self) -> list[Callable[[ChangeEvent], None]]:
        if "_subs" not in self.__dict__:
            self.__dict__["_subs"] = []
        return self.__dict__["_subs"]

    def subscribe(self, fn: Callable[[ChangeEvent], None]) -> Callable[[], None]:
        """Call ``fn(event)`` after each mutation; returns an unsubscribe function."""
        subs = self._listeners()
        subs.append(fn)
        return lambda: subs.remove(fn) if fn in subs else None

    def _notify(self, kind: str, **detail: Any) -> None:
        event = ChangeEvent(kind, detail)
        for fn in list(self._listeners()):
            fn(event)


@dataclass(eq=False)
class CellDesign(_Observable):
    """A cell network: normal cell, reduction cell (DARTS style) and macro settings."""

    name: str = "cell"
    normal: Cell = field(default_factory=Cell)
    reduce: Cell | None = None
    macro: CellMacro = field(default_factory=CellMacro)
    kind: str = field(default="cell", init=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CellDesign):
            return NotImplemented
        return (self.name, self.normal, self.reduce, self.macro) == (
            other.name, other.normal, other.reduce, other.macro)

    def cell(self, which: str) -> Cell:
        """``"normal"`` or ``"reduce"``."""
        c = self.normal if which == "normal" else self.reduce
        if c is None:
            raise KeyError(f"design has no {which} cell")
        return c

    def cells(self) -> dict[str, Cell]:
        out = {"normal": self.normal}
        if self.reduce is not None:
            out["reduce"] = self.reduce
        return out

    # -- mutators (the only way views change a design) ------------------------
    def add_node(self, which: str, node_id: int | None = None,
                 position: tuple[float, float] | None = None) -> int:
        c = self.cell(which)
        if node_id is None:
            node_id = max(c.all_ids()) + 1
        if node_id in c.all_ids():
            raise ValueError(f"{which} cell: node {node_id} already exists")
        c.nodes.append(node_id)
        if position is not None:
            c.positions[node_id] = position
        self._notify("add_node", cell=which, node=node_id)
        return node_id

    def remove_node(self, which: str, node_id: int) -> None:
        """Removes the node only; callers remove its edges first (compound command)."""
        c = self.cell(which)
        if any(e.source == node_id or e.target == node_id for e in c.edges):
            raise ValueError(f"{which} cell: node {node_id} still has edges")
        c.nodes.remove(node_id)
        c.positions.pop(node_id, None)
        if node_id in c.concat:
            c.concat.remove(node_id)
        self._notify("remove_node", cell=which, node=node_id)

    def add_edge(self, which: str, source: int, target: int, op: str,
                 index: int | None = None) -> int:
        c = self.cell(which)
        edge = Edge(source, target, op)
        if index is None:
            index = len(c.edges)
        c.edges.insert(index, edge)
        self._notify("add_edge", cell=which, index=index)
        return index

    def remove_edge(self, which: str, index: int) -> Edge:
        c = self.cell(which)
        edge = c.edges.pop(index)
        self._notify("remove_edge", cell=which, index=index)
        return edge

    def set_edge_op(self, which: str, index: int, op: str) -> str:
        c = self.cell(which)
        old = c.edges[index].op
        c.edges[index].op = op
        self._notify("set_edge_op", cell=which, index=index)
        return old

    def set_concat(self, which: str, concat: list[int]) -> list[int]:
        c = self.cell(which)
        old = list(c.concat)
        c.concat = list(concat)
        self._notify("set_concat", cell=which)
        return old

    def set_position(self, which: str, node_id: int, pos: tuple[float, float] | None) -> None:
        c = self.cell(which)
        if pos is None:
            c.positions.pop(node_id, None)
        else:
            c.positions[node_id] = (float(pos[0]), float(pos[1]))
        self._notify("set_position", cell=which, node=node_id)

    def set_macro(self, **fields: Any) -> dict[str, Any]:
        old = {k: getattr(self.macro, k) for k in fields}
        for k, v in fields.items():
            if not hasattr(self.macro, k):
                raise AttributeError(f"macro has no field {k!r}")
            setattr(self.macro, k, v)
        self._notify("set_macro", fields=list(fields))
        return old

    def copy(self) -> CellDesign:
        return CellDesign(copy.deepcopy(self.name), copy.deepcopy(self.normal),
                          copy.deepcopy(self.reduce), copy.deepcopy(self.macro))


@dataclass(eq=False)
class BlockStack(_Observable):
    """An EfficientNet/MobileNet-style network: stem, stages of blocks, head."""

    name: str = "stack"
    stages: list[Stage] = field(default_factory=list)
    stem_channels: int = 32
    head_channels: int = 1280
    width_mult: float = 1.0
    depth_mult: float = 1.0
    resolution: int = 224
    dropout: float = 0.2
    stochastic_depth: float = 0.2
    act: str = "silu"
    in_channels: int = 3
    classes: int = 1000
    head_scales_with_width: bool = True
    # stem, head and classifier variants (engine.ops.stack_parts); written to design files
    # only when they differ from these defaults (EXTRA_STACK_FIELDS)
    stem: str = "conv"
    stem_kernel: int = 3
    stem_stride: int = 2
    stem_pool: str = "none"
    head: str = "conv"
    pool_size: int = 1
    hidden: tuple[int, ...] = ()
    classifier: str = "linear"
    kind: str = field(default="stack", init=False)

    _FIELDS = ("name", "stages", "stem_channels", "head_channels", "width_mult", "depth_mult",
               "resolution", "dropout", "stochastic_depth", "act", "in_channels", "classes",
               "head_scales_with_width", "stem", "stem_kernel", "stem_stride", "stem_pool",
               "head", "pool_size", "hidden", "classifier")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BlockStack):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._FIELDS)

    # -- mutators --------------------------------------------------------------
    def insert_stage(self, index: int, stage: Stage) -> None:
        self.stages.insert(index, stage)
        self._notify("insert_stage", index=index)

    def remove_stage(self, index: int) -> Stage:
        stage = self.stages.pop(index)
        self._notify("remove_stage", index=index)
        return stage

    def move_stage(self, src: int, dst: int) -> None:
        stage = self.stages.pop(src)
        self.stages.insert(dst, stage)
        self._notify("move_stage", src=src, dst=dst)

    def set_stage(self, index: int, **fields: Any) -> dict[str, Any]:
        stage = self.stages[index]
        old = {k: getattr(stage, k) for k in fields}
        for k, v in fields.items():
            if not hasattr(stage, k):
                raise AttributeError(f"stage has no field {k!r}")
            setattr(stage, k, v)
        self._notify("set_stage", index=index, fields=list(fields))
        return old

    def set_fields(self, **fields: Any) -> dict[str, Any]:
        old = {k: getattr(self, k) for k in fields}
        for k, v in fields.items():
            if k not in self._FIELDS or k == "stages":
                raise AttributeError(f"block stack has no settable field {k!r}")
            setattr(self, k, v)
        self._notify("set_fields", fields=list(fields))
        return old

    def copy(self) -> BlockStack:
        return BlockStack(**{f: copy.deepcopy(getattr(self, f)) for f in self._FIELDS})


EXTRA_MACRO_FIELDS = ("dropblock",)
"""``CellMacro`` fields design files carry only when they differ from the defaults."""
EXTRA_STACK_FIELDS = ("stem", "stem_kernel", "stem_stride", "stem_pool", "head", "pool_size",
                      "hidden", "classifier")
"""``BlockStack`` fields design files carry only when they differ from the defaults."""

Design = CellDesign | BlockStack
