"""Auto-layout of a cell: columns by DAG generation (networkx), rows spread evenly."""

from __future__ import annotations

import networkx as nx

from engine.arch.model import Cell

COLUMN = 270.0
ROW = 124.0


def cell_graph(cell: Cell) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(cell.all_ids())
    g.add_edges_from((e.source, e.target) for e in cell.edges if e.source in g and e.target in g)
    return g


def generations(cell: Cell) -> list[list[int]]:
    """Nodes grouped by topological generation; inputs always form the first column.

    A graph with a cycle is laid out by its strongly connected components (the nodes
    of a cycle share a column), so an invalid design is drawn much as it was and can
    be fixed.
    """
    inputs = list(range(cell.n_inputs))
    g = cell_graph(cell)
    g.remove_nodes_from(inputs)
    try:
        gens = [sorted(gen) for gen in nx.topological_generations(g)]
    except nx.NetworkXUnfeasible:
        dag = nx.condensation(g)
        gens = [sorted(n for c in gen for n in dag.nodes[c]["members"])
                for gen in nx.topological_generations(dag)]
    return [inputs, *gens] if inputs else gens


def auto_layout(cell: Cell) -> dict[int, tuple[float, float]]:
    """Positions (scene coordinates of node centres) for every node id of ``cell``."""
    out: dict[int, tuple[float, float]] = {}
    for col, gen in enumerate(generations(cell)):
        top = -(len(gen) - 1) * ROW / 2
        for row, node in enumerate(gen):
            out[node] = (col * COLUMN, top + row * ROW)
    return out


def positions_for(cell: Cell, drawn: dict[int, tuple[float, float]] | None = None,
                  ) -> dict[int, tuple[float, float]]:
    """Saved positions where present, else where the node is drawn now, else auto-layout.

    ``drawn`` keeps nodes that were never placed by hand where they are: an edit (a new
    edge closing a cycle, say) does not re-lay out the whole cell.
    """
    drawn = drawn or {}
    ids = cell.all_ids()
    if all(n in cell.positions or n in drawn for n in ids):
        auto: dict[int, tuple[float, float]] = {}
    else:
        auto = auto_layout(cell)
    return {n: tuple(cell.positions.get(n) or drawn.get(n) or auto[n])  # type: ignore[misc]
            for n in ids}


def output_position(cell: Cell, positions: dict[int, tuple[float, float]]) -> tuple[float, float]:
    """Where the virtual output (concat) node goes: right of everything, centred on concat."""
    xs = [p[0] for p in positions.values()] or [0.0]
    members = [positions[n] for n in cell.concat if n in positions] or list(positions.values())
    y = sum(p[1] for p in members) / len(members) if members else 0.0
    return (max(xs) + COLUMN, y)
