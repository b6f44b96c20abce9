"""Searches on a generated NAS-Bench-201-style table: strategy quality, constraints,
failed trials, store records and resume after SIGKILL."""

import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import textwrap
import time

import pytest

from engine.arch.space import NB201Space
from engine.events import TrialFinished
from engine.search.evaluators import TabularBenchmark
from engine.search.job import SearchConfig, SearchJob, resume_search
from engine.search.pareto import hypervolume_2d, pareto_front, scalarize
from engine.search.synthetic import write_synthetic_table
from engine.store import Store


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    return write_synthetic_table(tmp_path_factory.mktemp("bench") / "nb201.csv", seed=0)


@pytest.fixture(scope="module")
def bench(table):
    return TabularBenchmark(table, "val_accuracy", "test_accuracy")


def config(bench, strategy="evolution", budget=30, seed=0, **kw):
    return SearchConfig(space=NB201Space().spec(), evaluator=bench.spec(), strategy=strategy,
                        budget=budget, seed=seed, **kw)


class Counting(TabularBenchmark):
    """The same table, counting evaluations (and optionally failing some)."""

    def __init__(self, bench, fail=None):
        self.__dict__.update(bench.__dict__)
        self.calls = []
        self.fail = fail

    def evaluate(self, design, code, **kw):
        self.calls.append(tuple(code))
        if self.fail:
            self.fail(code)
        return super().evaluate(design, code, **kw)


def test_evolution_beats_random_over_30_seeds(bench):
    means = {}
    for strategy in ("random", "evolution"):
        bests = []
        for seed in range(30):
            result = SearchJob(config(bench, strategy, 100, seed), None,
                               evaluator=bench).run(lambda e: None)
            assert result["trials"] == 100
            bests.append(result["best"]["objective"])
        means[strategy] = statistics.mean(bests)
    assert means["evolution"] > means["random"] + 1.0, means


def test_trials_recorded_as_they_finish(bench, tmp_path):
    store = Store(tmp_path / "s.db")
    events = []
    seen_in_store = []

    def emit(event):
        events.append(event)
        if isinstance(event, TrialFinished):
            seen_in_store.append(len(store.trials(event.experiment_id)))

    result = SearchJob(config(bench, budget=12, objectives=["accuracy", "params"]),
                       store).run(emit)
    eid = result["experiment_id"]
    assert seen_in_store == list(range(1, 13))
    rows = store.trials(eid)
    assert [r.trial for r in rows] == list(range(12))
    assert all(r.status == "finished" and r.arch["kind"] == "cell" for r in rows)
    assert store.get_experiment(eid).status == "finished"
    best = result["best"]
    top = max(rows, key=lambda r: (scalarize(r.metrics["val_accuracy"],
                                             [r.metrics["params"]]), -r.trial))
    assert best["trial"] == top.trial and best["report"] == top.metrics["test_accuracy"]
    points = [(r.metrics["val_accuracy"], r.metrics["params"]) for r in rows]
    assert sorted(p["trial"] for p in result["pareto"]) == pareto_front(points, [True, False])
    hv = result["hypervolume"]
    assert hv["reference"] == [0.0, max(p[1] for p in points)]
    assert hv["value"] == pytest.approx(hypervolume_2d(points, hv["reference"], [True, False]))
    assert hv["value"] > 0
    assert result["pareto"] and all(set(p["objectives"]) == {"val_accuracy", "params"}
                                    for p in result["pareto"])
    assert store.load_search_state(eid)["counts"]["evaluated"] == 12
    # evolution lineage: children name their parent trial
    assert any("parent_trial" in r.metrics for r in
               store.trials(SearchJob(config(bench, budget=20), store).run(
                   lambda e: None)["experiment_id"]))
    store.close()


def test_constraint_violations_are_rejected_never_evaluated(bench, tmp_path):
    counting = Counting(bench)
    store = Store(tmp_path / "s.db")
    cfg = config(bench, "random", budget=15, constraints={"max_params": 0.15})
    result = SearchJob(cfg, store, evaluator=counting).run(lambda e: None)
    rows = store.trials(result["experiment_id"])
    rejected = [r for r in rows if r.status == "rejected"]
    finished = [r for r in rows if r.status == "finished"]
    assert rejected and len(finished) == 15
    assert all(r.metrics["params"] > 0.15 and "params" in r.error for r in rejected)
    assert all(r.metrics["params"] <= 0.15 for r in finished)
    rejected_codes = {tuple(r.metrics["code"]) for r in rejected}
    assert not rejected_codes & set(counting.calls)
    assert len(counting.calls) == 15
    store.close()


def test_failed_trials_are_recorded_and_the_search_goes_on(bench, tmp_path):
    def fail(code):
        if code[0] == 0:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        if code[1] == 0:
            raise ValueError("boom")

    class NaNs(Counting):
        def evaluate(self, design, code, **kw):
            metrics = super().evaluate(design, code, **kw)
            if code[2] == 0:
                metrics["val_accuracy"] = float("nan")
            return metrics

    evaluator = NaNs(bench, fail)
    store = Store(tmp_path / "s.db")
    result = SearchJob(config(bench, "evolution", budget=40, seed=1), store,
                       evaluator=evaluator).run(lambda e: None)
    rows = store.trials(result["experiment_id"])
    assert len(rows) == 40 and result["best"] is not None
    errors = [r.error for r in rows if r.status == "failed"]
    assert any(e.startswith("out of memory") for e in errors)
    assert any(e.startswith("ValueError: boom") for e in errors)
    assert any("'val_accuracy' is nan" in e for e in errors)
    assert result["counts"]["failed"] == len(errors) and result["counts"]["finished"] >= 10
    store.close()


SCRIPT = textwrap.dedent("""
    import sys, time
    from engine.search.evaluators import TabularBenchmark
    from engine.search.job import SearchConfig, SearchJob
    from engine.arch.space import NB201Space
    from engine.store import Store

    class Slow(TabularBenchmark):
        def evaluate(self, *a, **kw):
            time.sleep(0.05)
            return super().evaluate(*a, **kw)

    table, db, strategy, objectives = sys.argv[1:5]
    bench = Slow(table, "val_accuracy", "test_accuracy")
    cfg = SearchConfig(space=NB201Space().spec(), evaluator=bench.spec(), strategy=strategy,
                       budget=40, seed=5, objectives=objectives.split(","))
    SearchJob(cfg, Store(db), evaluator=bench).run(lambda e: None)
    print("completed")
""")


@pytest.mark.parametrize("strategy,objectives", [
    ("evolution", "accuracy"), ("random", "accuracy"), ("tpe", "accuracy"),
    ("predictor", "accuracy"), ("evolution", "accuracy,params"),
    ("nsga2", "accuracy,params")])
def test_resume_after_sigkill_matches_uninterrupted(bench, table, tmp_path, strategy,
                                                    objectives):
    db = tmp_path / "killed.db"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(table), str(db), strategy,
                             objectives],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db) as conn:
                    done = conn.execute("SELECT count(*) FROM trials").fetchone()[0]
            except sqlite3.OperationalError:
                done = 0
        if done >= 12:
            break
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = Store(db)
    store.mark_interrupted()
    (exp,) = store.experiments()
    assert exp.status == "interrupted"
    stored = len(store.trials(exp.id))
    assert 12 <= stored < 40
    counting = Counting(bench)
    job = SearchJob(SearchConfig.from_dict(exp.config), store, experiment_id=exp.id,
                    evaluator=counting)
    resumed = job.run(lambda e: None)
    assert len(counting.calls) == 40 - stored      # finished trials were not re-run
    reference_store = Store(tmp_path / "ref.db")
    reference = SearchJob(config(bench, strategy, budget=40, seed=5,
                                 objectives=objectives.split(",")),
                          reference_store).run(lambda e: None)

    def strip(rows):
        return [(r.trial, r.status, r.metrics) for r in rows]

    assert strip(store.trials(exp.id)) == strip(reference_store.trials(1))
    for key in ("best", "pareto", "trials"):
        assert resumed[key] == reference[key]
    assert store.get_experiment(exp.id).status == "finished"
    # resuming a finished search re-runs nothing and gives the same answer
    again = resume_search(store, exp.id, lambda e: None)
    assert again["best"] == reference["best"]
    store.close()
    reference_store.close()


def test_process_pool_gives_the_same_search(bench):
    one = SearchJob(config(bench, "evolution", budget=16, seed=2), None,
                    evaluator=bench).run(lambda e: None)
    pooled = SearchJob(config(bench, "evolution", budget=16, seed=2, workers=2), None,
                       evaluator=bench).run(lambda e: None)
    rerun = SearchJob(config(bench, "evolution", budget=16, seed=2, workers=2), None,
                               evaluator=bench)
    assert pooled["trials"] == 16 and pooled["best"] is not None
    assert pooled["best"]["objective"] <= max(bench.table[c]["val_accuracy"]
                                              for c in bench.table)
    # same seed and workers: the same trials whatever the completion order
    again = rerun.run(lambda e: None)
    assert again["best"] == pooled["best"] and again["pareto"] == pooled["pareto"]
    assert one["trials"] == 16


def test_tabular_search_does_not_import_torch(table):
    code = f"""
import sys
from engine.cli import main
rc = main(["--db", sys.argv[1], "search", "--benchmark", {str(table)!r},
           "--objective", "val_accuracy", "--report", "test_accuracy", "--budget", "30",
           "--strategy", "evolution", "--json"])
print("torch" in sys.modules, rc)
"""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-c", code, f"{tmp}/s.db"],
                             capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "False 0", out.stderr
