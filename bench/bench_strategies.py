"""Strategies side by side on a generated NAS-Bench-201-style table, and their overhead.

    python bench/bench_strategies.py [--seeds 30] [--queries 100]
        [--strategies random,evolution,tpe,gp,nsga2,predictor] [--overhead 100,1000]
        [--skip-quality] [--skip-overhead]

Quality: every strategy runs the real search job (``SearchJob``, tabular evaluator) on
the table ``engine.search.synthetic`` writes (seed 0), for each seed.  One objective:
the mean test accuracy reported for the best design (the table's best cell is printed
as the ceiling, random search as the baseline).  Two objectives (accuracy, params): the
mean hypervolume of each run's front, from ``front_summary`` with one fixed reference
for all runs (accuracy 0, the table's largest params).  The default strategy is marked.

Overhead: CPU milliseconds per ask+tell (no evaluation) on the nas-bench-201, darts and
mbconv spaces, averaged over the last tenth of a run of N trials ("at N trials").  The
GP sampler at 1,000 trials is timed on ten asks after 990 random trials loaded through
its resume path (a real 1,000-trial run takes hours).  Baseline in the same process:
drawing the option indices with ``random.Random.randrange``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.arch.space import DartsSpace, MBConvSpace, NB201Space  # noqa: E402
from engine.search.strategies import default_strategy, get_strategy, make_strategy  # noqa: E402

OBJ1 = ["accuracy"]
OBJ2 = ["accuracy", "params"]


def run_search(bench, strategy: str, seed: int, queries: int, objectives: list[str]):
    from engine.search.job import SearchConfig, SearchJob

    cfg = SearchConfig(space=NB201Space().spec(), evaluator=bench.spec(), strategy=strategy,
                       budget=queries, seed=seed, objectives=objectives)
    job = SearchJob(cfg, None, evaluator=bench)
    result = job.run(lambda e: None)
    return job, result


def quality(args, names: list[str]) -> None:
    from engine.search.evaluators import TabularBenchmark
    from engine.search.pareto import front_summary
    from engine.search.synthetic import write_synthetic_table

    with tempfile.TemporaryDirectory() as tmp:
        table = write_synthetic_table(Path(tmp) / "nb201.csv", seed=0)
        bench = TabularBenchmark(table, "val_accuracy", "test_accuracy")
    rows = bench.table.values()
    ceiling = max(rows, key=lambda r: r["val_accuracy"])["test_accuracy"]
    reference = (0.0, max(r["params"] for r in rows))
    top = front_summary(_Points(rows), ["val_accuracy", "params"], reference=reference)
    print(f"table: 15,625 cells; best cell's test accuracy {ceiling:.3f}; the whole table's "
          f"front has hypervolume {top.hypervolume:.4f} (reference {reference})")
    print(f"{args.seeds} seeds x {args.queries} queries\n")
    print(f"{'strategy':<11}{'best test acc':>14}{'vs random':>10}{'hypervolume':>13}"
          f"{'vs random':>10}{'s/run':>8}")
    base: dict[str, float] = {}
    for name in names:
        info = get_strategy(name)
        accs, hvs = [], []
        t = time.perf_counter()
        runs = 0
        if info.fits_objectives(1):
            for seed in range(args.seeds):
                _, result = run_search(bench, name, seed, args.queries, OBJ1)
                accs.append(result["best"]["report"])
                runs += 1
        for seed in range(args.seeds):
            job, _ = run_search(bench, name, seed, args.queries, OBJ2)
            fs = front_summary(job.trials.values(), job.objectives, reference=reference)
            hvs.append(fs.hypervolume)
            runs += 1
        acc = statistics.mean(accs) if accs else None
        hv = statistics.mean(hvs)
        base.setdefault("acc", acc if acc is not None else float("nan"))
        base.setdefault("hv", hv)
        mark = []
        if name == default_strategy(1):
            mark.append("default (1 objective)")
        if name == default_strategy(2):
            mark.append("default (2 objectives)")
        acc_text = f"{acc:14.3f}{acc - base['acc']:+10.3f}" if acc is not None else \
            f"{'(2+ only)':>14}{'':>10}"
        print(f"{name:<11}{acc_text}{hv:13.4f}{hv - base['hv']:+10.4f}"
              f"{(time.perf_counter() - t) / runs:8.2f}  {', '.join(mark)}", flush=True)


class _Points(list):
    """Table rows as items with ``value(name)`` for ``front_summary``."""

    class _Row:
        def __init__(self, row):
            self.row = row

        def value(self, name):
            return self.row.get(name)

    def __init__(self, rows):
        super().__init__(self._Row(r) for r in rows)


def _value(code, m: int):
    v = float(sum((i % 3 + 1) * x for i, x in enumerate(code)))
    return v if m == 1 else (v, -float(sum(code)))


def per_step(name: str, space, n: int) -> tuple[float, float]:
    """(CPU ms per ask+tell over the last tenth of n trials, over all n)."""
    info = get_strategy(name)
    m = 2 if info.objectives == "multi" else 1
    s = make_strategy(name, space, seed=0, budget=n, objectives=m)
    times = []
    for _ in range(n):
        t = time.process_time()
        cand = s.ask()
        s.tell(cand.trial, _value(cand.code, m))
        times.append(time.process_time() - t)
    tail = times[-max(1, n // 10):]
    return statistics.mean(tail) * 1e3, statistics.mean(times) * 1e3


def gp_at(space, n: int, asks: int = 10) -> float:
    """CPU ms per ask+tell of the GP sampler after n - asks random trials (resume path)."""
    rng = random.Random(0)
    s = make_strategy("gp", space, seed=0, budget=n)
    state = s.state_dict()
    state["trials"] = []
    for k in range(n - asks):
        code = space.sample_code(rng)
        state["trials"].append([k, "COMPLETE", [_value(code, 1)], list(code), {}])
    state["asked"] = state["told"] = n - asks
    s.load_state_dict(state)
    t = time.process_time()
    for _ in range(asks):
        cand = s.ask()
        s.tell(cand.trial, _value(cand.code, 1))
    return (time.process_time() - t) / asks * 1e3


def baseline(space, steps: int) -> float:
    rng = random.Random(0)
    sizes = space.sizes()
    t = time.process_time()
    for _ in range(steps):
        tuple(rng.randrange(n) for n in sizes)
    return (time.process_time() - t) / steps * 1e3


def overhead(args, names: list[str]) -> None:
    sizes = [int(n) for n in args.overhead.split(",")]
    print("\nCPU ms per ask+tell at N trials (mean of the last tenth; whole run in brackets)")
    print(f"{'space':<15}{'strategy':<11}" + "".join(f"{f'N={n}':>22}" for n in sizes))
    for space in (NB201Space(), DartsSpace(), MBConvSpace()):
        base = baseline(space, 20000)
        print(f"{space.name:<15}{'(randrange)':<11}" + "".join(f"{base:22.4f}" for _ in sizes))
        for name in names:
            cells = []
            for n in sizes:
                if name == "gp" and n > 300:
                    cells.append(f"{gp_at(space, n):10.1f} (10 asks)")
                    continue
                at, whole = per_step(name, space, n)
                cells.append(f"{at:10.2f} ({whole:8.2f})")
            print(f"{space.name:<15}{name:<11}" + "".join(f"{c:>22}" for c in cells),
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--strategies", default="random,evolution,tpe,gp,nsga2,predictor")
    parser.add_argument("--overhead", default="100,1000", help="trial counts")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-overhead", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)   # 2 shared cores: threads only contend (GP sampler)
    names = [n.strip() for n in args.strategies.split(",") if n.strip()]
    if not args.skip_quality:
        quality(args, names)
    if not args.skip_overhead:
        overhead(args, names)


if __name__ == "__main__":
    main()
