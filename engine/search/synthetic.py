"""A generated NAS-Bench-201-style table for strategy studies and tests.

The real table cannot be downloaded here, so this one has *structure*: each of the 6
edges gives each op a fixed score, a cell's accuracy is the sum of its edges' scores
plus a few pairwise interactions and small noise, and params/MACs grow with the convs.
Strategies that exploit locality (evolution) should beat random search on it.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from engine.arch.space import NB201Space

_OP_BASE = {"none": 0.0, "skip_connect": 1.2, "nor_conv_1x1": 1.6, "nor_conv_3x3": 2.4,
            "avg_pool_3x3": 0.8}
_OP_PARAMS = {"none": 0, "skip_connect": 0, "nor_conv_1x1": 1, "nor_conv_3x3": 9,
              "avg_pool_3x3": 0}


def write_synthetic_table(path: str | Path, seed: int = 0, noise: float = 0.3) -> Path:
    """Write all 15,625 cells with columns cellstr, val_accuracy, test_accuracy, params, macs."""
    rng = random.Random(seed)
    space = NB201Space()
    ops = space.ops
    edge_scores = [[_OP_BASE[o] + rng.gauss(0, 0.6) for o in ops] for _ in range(6)]
    pairs = [(rng.randrange(6), rng.randrange(6), rng.randrange(5), rng.randrange(5),
              rng.uniform(0.5, 1.5)) for _ in range(4)]
    path = Path(path)
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["cellstr", "val_accuracy", "test_accuracy", "params", "macs"])
        for code in _all_codes(len(ops)):
            score = sum(edge_scores[e][i] for e, i in enumerate(code))
            score += sum(w for a, b, oa, ob, w in pairs if code[a] == oa and code[b] == ob)
            val = 70.0 + 1.5 * score + rng.gauss(0, noise)
            test = val + rng.gauss(0, noise)
            convs = sum(_OP_PARAMS[ops[i]] for i in code)
            params = 0.07 + 0.012 * convs
            out.writerow([space.cellstr(code), f"{val:.4f}", f"{test:.4f}", f"{params:.5f}",
                          f"{params * 110:.3f}"])
    return path


def _all_codes(n_ops: int) -> list[tuple[int, ...]]:
    import itertools

    return list(itertools.product(range(n_ops), repeat=6))
