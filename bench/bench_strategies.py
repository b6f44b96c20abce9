"""Strategy overhead per ask/tell (no evaluation), per space.

    python bench/bench_strategies.py [--steps 2000] [--reinforce-steps 100]

Target: < 1 ms per ask+tell for random search and regularized evolution.  Baseline in
the same process: drawing the same number of random option indices with
``random.Random.randrange`` (the least any sampler must do), printed as a ratio.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.arch.space import DartsSpace, MBConvSpace, NB201Space  # noqa: E402
from engine.search.strategies import make_strategy  # noqa: E402


def per_step(strategy, steps: int) -> float:
    t = time.perf_counter()
    for _ in range(steps):
        cand = strategy.ask()
        strategy.tell(cand.trial, float(sum(cand.code)))
    return (time.perf_counter() - t) / steps


def baseline(space, steps: int) -> float:
    rng = random.Random(0)
    sizes = space.sizes()
    t = time.perf_counter()
    for _ in range(steps):
        tuple(rng.randrange(n) for n in sizes)
    return (time.perf_counter() - t) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--reinforce-steps", type=int, default=100)
    args = parser.parse_args()
    print(f"{'space':<15}{'strategy':<11}{'ms/step':>9}{'x baseline':>12}   target")
    for space in (NB201Space(), DartsSpace(), MBConvSpace()):
        base = baseline(space, args.steps)
        for name in ("random", "evolution"):
            s = make_strategy(name, space, seed=0, budget=args.steps)
            ms = per_step(s, args.steps) * 1e3
            print(f"{space.name:<15}{name:<11}{ms:9.4f}{ms / (base * 1e3):12.1f}   < 1 ms")
        if args.reinforce_steps:
            s = make_strategy("reinforce", space, seed=0)
            ms = per_step(s, args.reinforce_steps) * 1e3
            print(f"{space.name:<15}{'reinforce':<11}{ms:9.3f}{ms / (base * 1e3):12.0f}   "
                  "(LSTM forward + backward per step)")
    s = make_strategy("evolution", NB201Space(), seed=0, budget=args.steps)
    per_step(s, 200)
    t = time.perf_counter()
    for _ in range(200):
        s.load_state_dict(s.state_dict())
    print(f"evolution state_dict round trip (P={s.population_size}): "
          f"{(time.perf_counter() - t) / 200 * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
