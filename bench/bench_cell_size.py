"""How cell graph operations scale with the cell's size (issue 11: a 5,000-node cell).

A DARTS-like chain cell (each node reads the two before it) of N intermediate nodes.
For each operation the time at N is printed as a ratio to its time at the smallest N:
linear work gives ratios close to N / N_min (printed as "linear").  The previous
round-by-round topological order is timed as the baseline in the same process.

    python bench/bench_cell_size.py [--sizes 250 500 1000 5000] [--repeats 3] [--cost]

The validator, reading JSON, the builder and ``--cost`` (params + MACs through the FLOP
counter) run up to MAX_CELL_NODES; above it they refuse the cell (the refusal is shown).

Measured 2026-12-02 (2 shared CPU cores, CPU time, collector off while timing), ratios
to N=250 at N = 500 / 1000 / 5000 (linear: 2 / 4 / 20): topological_nodes 2.0 / 3.9 /
27.9 (11 ms at 5000), Genotype order 2.0 / 5.0 / 31.2, validate 2.7 / 4.8 / refused,
JSON write 2.1 / 4.2 / 32.2, JSON read 2.7 / 5.0 / refused, format_genotype 2.0 / 5.3 /
29.0, building the cell 2.3 / 4.3 (0.7 s at 1000); the previous topological order 6.7x
from 250 to 500 nodes (1.9 s at 500, now 0.9 ms: 2,180x faster).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

from engine.arch.genotype import format_genotype, stable_topological
from engine.arch.model import MAX_CELL_NODES, Cell, CellDesign, CellMacro, Edge
from engine.arch.serialize import design_from_dict, design_to_dict
from engine.arch.validate import validate


def chain_design(n: int) -> CellDesign:
    edges = []
    for k in range(2, 2 + n):
        edges += [Edge(k - 1, k, "skip_connect"), Edge(max(0, k - 2), k, "sep_conv_3x3")]
    cell = Cell(n_inputs=2, nodes=list(range(2, 2 + n)), edges=edges, concat=[n + 1])
    return CellDesign(name=f"chain{n}", normal=cell,
                      macro=CellMacro(channels=4, layers=1, reductions=[],
                                      input_shape=(3, 8, 8)))


def previous_topological(cell: Cell) -> list[int]:
    """The order as computed before issue 11 (one scan of all edges per node per round)."""
    pending, done, order = list(cell.nodes), set(range(cell.n_inputs)), []
    while pending:
        ready = [n for n in pending if all(e.source in done for e in cell.inputs_of(n))]
        if not ready:
            raise ValueError(pending)
        for n in ready:
            order.append(n)
            done.add(n)
            pending.remove(n)
    return order


def seconds(fn: Callable[[], object], repeats: int, min_total: float = 0.3) -> float:
    """Median CPU seconds per call (this process: steadier than wall time on a shared
    machine) over ``repeats`` rounds, each of enough calls to last
    ``min_total`` seconds (fast operations are otherwise all timer noise)."""
    gc.collect()
    gc.disable()  # the collector's passes over torch's heap are not the cell's cost
    try:
        t0 = time.process_time()
        fn()
        once = time.process_time() - t0
        calls = max(1, int(min_total / max(once, 1e-6)))
        times = []
        for _ in range(repeats):
            t0 = time.process_time()
            for _ in range(calls):
                fn()
            times.append((time.process_time() - t0) / calls)
    finally:
        gc.enable()
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000, 5000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cost", action="store_true", help="also params + MACs (torch)")
    ap.add_argument("--baseline-max", type=int, default=500,
                    help="time the previous topological order up to this size")
    args = ap.parse_args()
    sizes = sorted(args.sizes)

    def build(d: CellDesign) -> object:
        from engine.builders.cell_network import CellBody

        return CellBody(d.normal, 2, False)

    def cost(d: CellDesign) -> object:
        from engine.cost import summarize

        return summarize(d, table=False, memory=False)

    ops: dict[str, Callable[[CellDesign], object]] = {
        "topological_nodes": lambda d: d.normal.topological_nodes(),
        "stable order (Genotype)": lambda d: stable_topological(d.normal),
        "validate": validate,
        "JSON write": design_to_dict,
        "JSON read": lambda d: design_from_dict(written[len(d.normal.nodes)], validate=False),
        "format_genotype": format_genotype,
        "build cell (torch)": build,
        "previous topological": lambda d: previous_topological(d.normal),
    }
    if args.cost:
        ops["params + MACs (torch)"] = cost
    designs = {n: chain_design(n) for n in sizes}
    written = {n: design_to_dict(d) for n, d in designs.items()}
    limited = ("validate", "JSON read", "build cell (torch)", "params + MACs (torch)")
    build(designs[sizes[0]])  # warm-up: torch import
    print(f"chain cell, N intermediate nodes (MAX_CELL_NODES = {MAX_CELL_NODES}); "
          f"ratios to N={sizes[0]}")
    print(f"{'operation':<26}" + "".join(f"{'N=' + str(n):>16}" for n in sizes))
    print(f"{'linear':<26}" + "".join(f"{n / sizes[0]:>15.1f}x" for n in sizes))
    for name, fn in ops.items():
        base = None
        cells = []
        for n in sizes:
            if (name in limited and n > MAX_CELL_NODES) or (name.startswith("previous")
                                                     and n > args.baseline_max):
                cells.append(f"{'-':>16}")
                continue
            t = seconds(lambda n=n, fn=fn: fn(designs[n]), args.repeats)
            base = t if base is None else base
            cells.append(f"{t / base:>8.1f}x {t * 1e3:>5.1f}ms"
                         if t < 10 else f"{t / base:>8.1f}x {t:>6.0f}s ")
        print(f"{name:<26}" + "".join(cells))
    n = max(s for s in sizes if s <= args.baseline_max)
    old = seconds(lambda: previous_topological(designs[n].normal), 1)
    new = seconds(lambda: designs[n].normal.topological_nodes(), args.repeats)
    print(f"\ntopological order at N={n}: previous {old:.2f} s, now {new * 1e3:.1f} ms "
          f"({old / new:,.0f}x faster)")
    if sizes[-1] > MAX_CELL_NODES:
        print(f"validate at N={sizes[-1]} is the refusal: "
              f"{validate(designs[sizes[-1]])[0]}")


if __name__ == "__main__":
    main()
