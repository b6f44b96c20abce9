"""Cancel latency: a search cancelled while a trial trains, and while the DARTS supernet
trains inside ask(), against a train job cancelled mid-epoch (the baseline), measured
in the same process.  Latency = time from ``cancel()`` to ``run()`` returning.

    python bench/bench_cancel.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path


def _latency(make_job, started) -> float:
    """Run the job in a thread, cancel once ``started(events)`` holds, time the stop."""
    events: list = []
    job = make_job()
    done = threading.Event()
    thread = threading.Thread(target=lambda: (job.run(events.append), done.set()))
    thread.start()
    while not started(events):
        time.sleep(0.005)
    t0 = time.perf_counter()
    job.cancel()
    done.wait()
    dt = time.perf_counter() - t0
    thread.join()
    assert type(events[-1]).__name__ == "JobCancelled", events[-1]
    return dt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from engine.arch.space import DartsSpace
    from engine.data import load_dataset
    from engine.events import EpochFinished, Progress
    from engine.search.evaluators import TrainEvaluator
    from engine.search.job import SearchConfig, SearchJob
    from engine.store import Store
    from engine.train import TrainConfig, TrainJob

    space = DartsSpace(channels=4, layers=2)
    tmp = Path(tempfile.mkdtemp())
    store = Store(tmp / "bench.db")
    splits = load_dataset("digits")
    evaluator = TrainEvaluator("digits", epochs=30, batch_size=32)

    def train_job():
        cfg = TrainConfig(epochs=30, batch_size=32, checkpoint=False, augment=False)
        return TrainJob(space.decode([0] * len(space.choices())), splits, cfg, store)

    def search_job(strategy="random", **opts):
        cfg = SearchConfig(space=space.spec(), evaluator=evaluator.spec(), strategy=strategy,
                           budget=2, strategy_options=opts)
        return lambda: SearchJob(cfg, store, evaluator=evaluator)

    epochs = [0]

    def training(events) -> bool:   # the search's trial has written its first epoch
        n = store.query("SELECT COUNT(*) AS n FROM epochs")[0]["n"]
        if n > epochs[0]:
            epochs[0] = n
            return True
        return False

    rows = {
        "train job (baseline)": (train_job,
                                 lambda ev: any(isinstance(e, EpochFinished) for e in ev)),
        "search, trial training": (search_job(), training),
        "search, darts supernet in ask()": (
            search_job("darts", search_epochs=30, batch_size=32),
            lambda ev: any(isinstance(e, Progress) and "supernet" in e.message for e in ev)),
    }
    results = {}
    for name, (make, started) in rows.items():
        epochs[0] = store.query("SELECT COUNT(*) AS n FROM epochs")[0]["n"]
        results[name] = statistics.median(_latency(make, started)
                                          for _ in range(args.repeats))
    store.close()
    base = results["train job (baseline)"]
    for name, s in results.items():
        print(f"{name:34s} cancel latency {1000 * s:8.1f} ms  ({s / base:5.2f}x baseline)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
