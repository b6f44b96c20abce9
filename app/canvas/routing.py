"""Edge routing and label placement on the cell canvas.

An edge whose plain curve would run through another node (NAS-Bench-201's 0->2, 0->3
and 1->3 on one row) is bent into an arc above or below; arcs over the same columns get
different heights.  Each op label then slides along its curve to a spot free of other
labels and nodes (the least crowded spot when none is free).
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QRectF

from app.canvas.items import NODE_H, EdgeItem, NodeItem

ARC_STEP = NODE_H * 1.6        # arc height per level (control-point offset)
PARALLEL_STEP = 34.0           # spread of edges with the same two ends
MAX_LEVEL = 4
SAMPLES = [i / 24 for i in range(2, 23)]
# along the curve, from the middle outwards
LABEL_SPOTS = tuple(sorted((round(0.15 + 0.035 * i, 3) for i in range(21)),
                           key=lambda t: (abs(t - 0.5), t)))


CELL = 128.0
Obstacles = dict[tuple[int, int], list[tuple[NodeItem, QRectF]]]


def _obstacles(nodes: Iterable[NodeItem]) -> Obstacles:
    """Node boxes (ports excluded) in a coarse grid, so a lookup sees only its neighbours."""
    grid: Obstacles = {}
    for n in nodes:
        r = n.sceneBoundingRect().adjusted(2, 2, -2 - 6, -2)
        for gx in range(int(r.left() // CELL), int(r.right() // CELL) + 1):
            for gy in range(int(r.top() // CELL), int(r.bottom() // CELL) + 1):
                grid.setdefault((gx, gy), []).append((n, r))
    return grid


def _blocked(edge: EdgeItem, obstacles: Obstacles) -> bool:
    """Whether the edge's curve runs through a node other than its two ends."""
    ends = (edge.source, edge.target)
    for t in SAMPLES:
        x, y = edge.point_at(t)
        for node, r in obstacles.get((int(x // CELL), int(y // CELL)), ()):
            if node not in ends and r.left() <= x <= r.right() and r.top() <= y <= r.bottom():
                return True
    return False


def _span(edge: EdgeItem) -> tuple[float, float]:
    a, b = edge.source.scenePos().x(), edge.target.scenePos().x()
    return (min(a, b), max(a, b))


def route_edges(edges: Iterable[EdgeItem], nodes: Iterable[NodeItem]) -> None:
    """Bend every edge that would cross a node into the lowest free arc level."""
    obstacles = _obstacles(nodes)
    taken: dict[float, list[tuple[float, float]]] = {}   # x spans of the arcs per bend
    todo = []
    pairs: dict[tuple[int, int], list[EdgeItem]] = {}
    for edge in edges:
        if edge.op is not None:
            pairs.setdefault((id(edge.source), id(edge.target)), []).append(edge)
    for group in pairs.values():   # parallel edges fan out so their labels separate
        for j, edge in enumerate(group):
            edge.set_bend((j - (len(group) - 1) / 2) * PARALLEL_STEP)
    for group in pairs.values():
        todo += [e for e in group if _blocked(e, obstacles)]
    todo.sort(key=lambda e: _span(e)[1] - _span(e)[0])    # short arcs hug the row
    for edge in todo:
        lo, hi = _span(edge)
        for level in range(1, MAX_LEVEL + 1):
            done = False
            for bend in (-level * ARC_STEP, level * ARC_STEP):
                if any(s0 < hi and lo < s1 for s0, s1 in taken.get(bend, ())):
                    continue
                edge.set_bend(bend)
                if not _blocked(edge, obstacles):
                    taken.setdefault(bend, []).append((lo, hi))
                    done = True
                    break
            if done:
                break
        else:
            edge.set_bend(-ARC_STEP)


def place_labels(edges: Iterable[EdgeItem], nodes: Iterable[NodeItem]) -> None:
    """Slide each op label along its curve to the first spot free of other labels/nodes."""
    grid: dict[tuple[int, int], list[QRectF]] = {}
    size = 96.0

    def cells(r: QRectF):
        for gx in range(int(r.left() // size), int(r.right() // size) + 1):
            for gy in range(int(r.top() // size), int(r.bottom() // size) + 1):
                yield gx, gy

    def add(r: QRectF) -> None:
        for c in cells(r):
            grid.setdefault(c, []).append(r)

    def crowding(r: QRectF) -> float:
        """Overlap area with what is already placed (0: free)."""
        seen: set[int] = set()
        area = 0.0
        for c in cells(r):
            for o in grid.get(c, ()):
                if id(o) not in seen and o.intersects(r):
                    seen.add(id(o))
                    cut = o.intersected(r)
                    area += cut.width() * cut.height() + 1.0
        return area

    for node in nodes:
        add(node.sceneBoundingRect())
    for edge in edges:
        if not edge.has_label():
            continue
        best_t, best = LABEL_SPOTS[0], None
        for t in LABEL_SPOTS:
            c = crowding(edge.label_rect_at(t))
            if best is None or c < best:
                best_t, best = t, c
            if c == 0:
                break
        edge.set_label_at(best_t)
        add(edge.label_rect_at(best_t))


def label_overlaps(edges: Iterable[EdgeItem], nodes: Iterable[NodeItem]) -> list[tuple]:
    """Pairs of things an op label overlaps: other labels or nodes (for tests and checks)."""
    labelled = [e for e in edges if e.has_label()]
    out: list[tuple] = []
    for i, e in enumerate(labelled):
        r = e.label_rect()
        out += [(e, f) for f in labelled[i + 1:] if r.intersects(f.label_rect())]
        out += [(e, n) for n in nodes if r.intersects(n.sceneBoundingRect().adjusted(
            4, 4, -4 - 6, -4))]
    return out
