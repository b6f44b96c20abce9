"""NAS-Bench-201 cell strings: ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``.

Node 0 is the cell input; the ``k``-th ``+``-separated group lists the edges into
node ``k`` (``op~i`` is an edge from node ``i``) and the last node is the cell
output.  A NAS-Bench-201 string has exactly 3 groups and node ``k`` lists every input
``0..k-1`` once (``none~i`` for no edge): anything else is refused naming what is
missing.  ``any_size=True`` reads the generalised form (any number of nodes, any
subset of earlier inputs) that ``format_nb201`` writes for edited cells.
"""

from __future__ import annotations

from typing import Any

from engine.arch.model import MAX_CELL_NODES, Cell, CellDesign, CellMacro, Edge
from engine.arch.validate import DesignError, Problem

WHERE = "NAS-Bench-201 string"
NB201_NODES = 3


def nb201_macro(**macro: Any) -> CellMacro:
    """The NAS-Bench-201 network: C=16, 5 cells per stage, 10 classes, 3x32x32."""
    base: dict[str, Any] = dict(style="nb201", channels=16, layers=5, stem_multiplier=1,
                                drop_path=0.0, auxiliary=False, input_shape=(3, 32, 32),
                                classes=10)
    unknown = sorted(set(macro) - set(CellMacro.__dataclass_fields__))
    if unknown:
        raise DesignError(f"unknown macro setting(s) {', '.join(map(repr, unknown))}", "macro")
    base.update(macro)
    return CellMacro(**base)


def parse_nb201(text: str, *, name: str = "nb201-cell", any_size: bool = False,
                **macro: Any) -> CellDesign:
    """A NAS-Bench-201 cell design from its string; ``macro`` overrides the skeleton.

    ``any_size`` accepts the generalised form (other node counts, inputs left out)."""
    if not isinstance(text, str):
        raise DesignError(f"expected text, got {type(text).__name__}", WHERE)
    s = text.strip()
    offset = len(text) - len(text.lstrip())
    if not s:
        raise DesignError("is empty", WHERE)
    edges: list[Edge] = []
    pos = 0
    groups = s.split("+")
    if len(groups) > MAX_CELL_NODES:
        raise DesignError(f"has {len(groups):,} node groups; a cell has at most "
                          f"{MAX_CELL_NODES:,} nodes", WHERE)
    for k, group in enumerate(groups, start=1):
        col = offset + pos + 1
        pos += len(group) + 1
        if len(group) < 2 or not group.startswith("|") or not group.endswith("|"):
            raise DesignError(Problem(f"{WHERE}, column {col}",
                                      f"node {k}: expected '|op~i|...|', got {group!r}"))
        inner_col = col + 1
        seen: set[int] = set()
        for item in group[1:-1].split("|"):
            loc = f"{WHERE}, column {inner_col}"
            inner_col += len(item) + 1
            op, tilde, src = item.partition("~")
            if not tilde or not op or not src:
                raise DesignError(Problem(loc, f"node {k}: expected 'op~i', got {item!r}"))
            if not src.isdigit():
                raise DesignError(Problem(loc, f"node {k}: input {src!r} is not a node number"))
            i = int(src)
            if i >= k:
                raise DesignError(Problem(loc, f"node {k}: input {i} is not an earlier node "
                                          f"(use 0..{k - 1})"))
            if i in seen:
                raise DesignError(Problem(loc, f"node {k}: input {i} appears twice"))
            seen.add(i)
            edges.append(Edge(i, k, op))
        missing = [i for i in range(k) if i not in seen]
        if missing and not any_size:
            raise DesignError(Problem(f"{WHERE}, column {col}", f"node {k}: input(s) "
                                      f"{', '.join(map(str, missing))} missing: node {k} "
                                      f"lists every input 0..{k - 1} (none~i for no edge)"))
    n = len(groups)
    if n != NB201_NODES and not any_size:
        if n < NB201_NODES:
            absent = ", ".join(f"node {k} (|op~0|...|op~{k - 1}|)"
                               for k in range(n + 1, NB201_NODES + 1))
            why = f"{absent} missing"
        else:
            why = f"{n - NB201_NODES} group(s) too many"
        raise DesignError(Problem(WHERE, f"has {n} '+'-separated node group(s); a "
                                  f"NAS-Bench-201 cell has {NB201_NODES}: {why}"))
    cell = Cell(n_inputs=1, nodes=list(range(1, n + 1)), edges=edges, concat=[n])
    return CellDesign(name=name, normal=cell, reduce=None, macro=nb201_macro(**macro))


def format_nb201(design: CellDesign | Cell) -> str:
    """The NAS-Bench-201 string of a design's normal cell (or of a cell)."""
    cell = design.normal if isinstance(design, CellDesign) else design
    where = "normal cell"
    if cell.n_inputs != 1:
        raise DesignError(f"a NAS-Bench-201 cell has 1 input, this one has {cell.n_inputs}",
                          where)
    want = list(range(1, len(cell.nodes) + 1))
    if sorted(cell.nodes) != want or not cell.nodes:
        raise DesignError(f"NAS-Bench-201 nodes are numbered 1..N, got {cell.nodes}", where)
    if cell.concat != [want[-1]]:
        raise DesignError(f"a NAS-Bench-201 cell outputs its last node {want[-1]}, "
                          f"got concat {cell.concat}", where)
    groups = []
    for k in want:
        items = []
        for e in cell.inputs_of(k):
            if not 0 <= e.source < k:
                raise DesignError(f"input {e.source} is not an earlier node", f"{where}, node {k}")
            if "~" in e.op or "|" in e.op or "+" in e.op:
                raise DesignError(f"op name {e.op!r} cannot be written in a NAS-Bench-201 string",
                                  f"{where}, node {k}")
            items.append(f"{e.op}~{e.source}")
        if not items:
            raise DesignError("has no inputs", f"{where}, node {k}")
        groups.append("|" + "|".join(items) + "|")
    return "+".join(groups)
