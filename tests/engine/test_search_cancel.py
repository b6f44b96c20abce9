"""Cancelling a search reaches the trainer of the running trial and the DARTS supernet
training inside ask(), which reports progress as it goes."""

from __future__ import annotations

import threading

from engine.arch.space import DartsSpace
from engine.events import JobCancelled, Progress
from engine.search.evaluators import TrainEvaluator
from engine.search.job import SearchConfig, SearchJob
from engine.store import Store

TINY = {"channels": 4, "layers": 2}
EPOCHS = 40


def test_cancel_stops_the_trial_being_trained(tmp_path):
    evaluator = TrainEvaluator("digits", epochs=EPOCHS, subset=64, batch_size=32)
    cfg = SearchConfig(space=DartsSpace(**TINY).spec(), evaluator=evaluator.spec(),
                       strategy="random", budget=3)
    store = Store(tmp_path / "s.db")
    job = SearchJob(cfg, store, evaluator=evaluator)
    stop = threading.Event()

    def cancel_after_first_epoch():
        while not stop.wait(0.01):
            if store.query("SELECT COUNT(*) AS n FROM epochs")[0]["n"] >= 1:
                job.cancel()
                return

    watcher = threading.Thread(target=cancel_after_first_epoch)
    watcher.start()
    events = []
    try:
        assert job.run(events.append) is None
    finally:
        stop.set()
        watcher.join()
    assert isinstance(events[-1], JobCancelled)
    (run,) = store.runs()
    assert run.status == "cancelled" and run.epochs_done < EPOCHS   # stopped mid-training
    (exp,) = store.experiments()
    assert exp.status == "cancelled" and store.trials(exp.id) == []  # not a failed trial
    store.close()


def test_darts_supernet_inside_ask_reports_progress_and_cancels(tmp_path):
    evaluator = TrainEvaluator("digits", epochs=1, subset=256, batch_size=16)
    cfg = SearchConfig(space=DartsSpace(**TINY).spec(), evaluator=evaluator.spec(),
                       strategy="darts", budget=1,
                       strategy_options={"search_epochs": 50, "batch_size": 16})
    store = Store(tmp_path / "s.db")
    job = SearchJob(cfg, store, evaluator=evaluator)
    events = []

    def emit(event):
        events.append(event)
        if isinstance(event, Progress) and "supernet" in event.message and event.done > 0.02:
            job.cancel()

    assert job.run(emit) is None
    assert isinstance(events[-1], JobCancelled)
    steps = [e for e in events if isinstance(e, Progress) and "supernet" in e.message]
    assert steps and all(e.total == 1 for e in steps)
    assert [e.done for e in steps] == sorted(e.done for e in steps)
    assert steps[-1].done < 0.1            # stopped early in the 50 supernet epochs
    assert store.experiments()[0].status == "cancelled"
    store.close()
