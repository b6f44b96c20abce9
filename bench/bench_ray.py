"""Ray executor: throughput of a 16-trial digits search with 1 and 2 Ray workers, and the
per-trial overhead of a Ray task against the in-process executor.

    python bench/bench_ray.py [--trials 16] [--subset 384] [--tiny-trials 8]

Every figure comes from this one process, measured back to back on the same machine:
the throughput ratio is 2-worker trials/s over 1-worker trials/s (searches with 1 or 2
trials in flight on one local Ray of 2 CPUs, whose start-up is printed apart and not
counted; medians of alternated repeats); the overhead is
(seconds per tiny trial on a 1-worker Ray) minus (seconds per tiny trial in-process),
each search a random one over the same tiny DARTS cells so both evaluate the same
designs.  One torch thread per trial everywhere (OMP_NUM_THREADS=1), as Ray gives a
1-CPU task.  The machine may be shared: rerun and compare the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def search(trials: int, subset: int, executor, kind: str, workers: int,
           store_path: Path | None):
    from engine.arch.space import DartsSpace
    from engine.search.evaluators import TrainEvaluator
    from engine.search.job import SearchConfig, SearchJob
    from engine.store import Store

    evaluator = TrainEvaluator("digits", epochs=1, subset=subset, batch_size=64)
    cfg = SearchConfig(space=DartsSpace(channels=4, layers=2).spec(),
                       evaluator=evaluator.spec(), strategy="random", budget=trials, seed=0,
                       workers=workers, executor={"kind": kind})
    store = Store(store_path) if store_path is not None else None
    start = time.perf_counter()
    result = SearchJob(cfg, store, evaluator=evaluator, executor=executor).run(lambda e: None)
    seconds = time.perf_counter() - start
    assert result is not None and result["counts"].get("finished") == trials, result
    if store is not None:
        runs = store.runs(result["experiment_id"])
        assert len(runs) == trials and all(store.epochs(r.id) for r in runs)
        store.close()
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=16)
    ap.add_argument("--subset", type=int, default=384, help="training images per trial")
    ap.add_argument("--tiny-trials", type=int, default=8)
    ap.add_argument("--tiny-subset", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3, help="overhead: alternated repeats")
    args = ap.parse_args()

    import tempfile

    import ray

    from engine.search.evaluators import cached_dataset
    from engine.search.executors import ExecutorSettings, InProcessExecutor
    from engine.search.ray_executor import RayExecutor

    cached_dataset("digits")
    tmp = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    print(f"ray {ray.__version__}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at start")

    local = InProcessExecutor()
    search(1, args.tiny_subset, local, "local", 1, tmp / "warm.db")
    per_search: dict[int, list[float]] = {1: [], 2: []}
    tiny: dict[tuple[str, bool], list[float]] = {}
    start = time.perf_counter()
    with RayExecutor(2, ExecutorSettings("ray")) as ex:   # a local Ray of 2 CPUs
        started = time.perf_counter() - start
        search(2, args.tiny_subset, ex, "ray", 2, tmp / "warm-ray.db")
        for i in range(args.repeats):      # alternated, so that load changes hit both
            for kind, executor in (("local", local), ("ray", ex)):
                for stored in (True, False):
                    path = tmp / f"tiny-{kind}-{i}.db" if stored else None
                    tiny.setdefault((kind, stored), []).append(search(
                        args.tiny_trials, args.tiny_subset, executor, kind, 1,
                        path) / args.tiny_trials)
            for workers in (1, 2):         # trials in flight on the Ray: 1 or 2
                per_search[workers].append(search(args.trials, args.subset, ex, "ray",
                                                  workers, tmp / f"ray{workers}-{i}.db"))
    print(f"local Ray (2 CPUs) started in {started:.1f} s (not counted below)")
    import statistics

    throughput = {w: args.trials / statistics.median(v) for w, v in per_search.items()}
    for workers, rate in throughput.items():
        runs = ", ".join(f"{v:.1f}" for v in per_search[workers])
        print(f"{workers} Ray worker(s): {args.trials} trials ({args.subset} images, 1 epoch) "
              f"in {runs} s: median {rate:.3f} trials/s")
    print(f"throughput 2 vs 1 Ray workers: {throughput[2] / throughput[1]:.2f}x")

    for stored in (True, False):
        per_local = statistics.median(tiny[("local", stored)])
        per_ray = statistics.median(tiny[("ray", stored)])
        print(f"tiny trials ({args.tiny_subset} images, 1 epoch, "
              f"{'recorded in a store' if stored else 'no store'}), median of "
              f"{args.repeats}: in-process {per_local:.3f} s, Ray {per_ray:.3f} s per trial: "
              f"Ray overhead {per_ray - per_local:+.3f} s per trial "
              f"({per_ray / per_local:.2f}x)")
    print(f"load average {os.getloadavg()[0]:.1f} at end (2 cores, shared machine)")


if __name__ == "__main__":
    main()
