"""Successive halving and Hyperband: brackets, eliminations, and exact resume mid-bracket."""

import pytest

from engine.arch.space import NB201Space
from engine.search.evaluators import TabularBenchmark, TrialOutcome
from engine.search.halving import Schedule, run_bracket
from engine.search.job import SearchConfig, SearchJob
from engine.search.synthetic import write_synthetic_table
from engine.store import Store


class Budgeted(TabularBenchmark):
    """Table values, lower at small budgets (like accuracy after fewer epochs)."""

    def __init__(self, bench, crash_at=None):
        self.__dict__.update(bench.__dict__)
        self.calls = []
        self.crash_at = crash_at

    def evaluate(self, design, code, *, budget=None, **kw):
        self.calls.append((tuple(code), budget))
        if self.crash_at is not None and len(self.calls) == self.crash_at:
            raise Killed()
        metrics = super().evaluate(design, code, budget=budget, **kw)
        metrics["val_accuracy"] -= 8.0 / (budget or 8.0)
        return metrics


class Killed(BaseException):
    """Stands in for SIGKILL: escapes every ``except Exception``."""


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    path = write_synthetic_table(tmp_path_factory.mktemp("b") / "t.csv", seed=1)
    return TabularBenchmark(path, "val_accuracy", "test_accuracy")


def test_schedule_brackets():
    assert Schedule("halving", 1, 8, 2).brackets() == [(8, [1, 2, 4, 8])]
    hb = Schedule("hyperband", 1, 9, 3).brackets()
    assert hb == [(9, [1, 3, 9]), (5, [3, 9]), (3, [9])]
    assert Schedule().brackets() == []
    with pytest.raises(ValueError, match="eta must be >= 2"):
        Schedule("halving", eta=1)
    with pytest.raises(ValueError, match="schedule must be one of"):
        Schedule("asha")


def test_run_bracket_keeps_the_best_fraction():
    values = {t: float(t % 5) for t in range(8)}
    calls = []

    def evaluate(t, budget):
        calls.append((t, budget))
        ok = t != 6
        return TrialOutcome("finished" if ok else "failed",
                            {"acc": values[t] + budget} if ok else {}, None if ok else "x")

    final = run_bracket(list(range(8)), [1, 2, 4], 2, "acc", evaluate, {})
    assert [t for t, b in calls if b == 1] == list(range(8))
    # rung 1 keeps the best half of 0..7 by t % 5 (ties: lower trial first; 6 failed)
    assert sorted(t for t, b in calls if b == 2) == [2, 3, 4, 7]
    assert sorted(t for t, b in calls if b == 4) == [3, 4]
    assert final[4].metrics["budget"] == 4.0 and final[0].metrics["budget"] == 1.0
    assert final[4].metrics["rungs"] == {"1": 5.0, "2": 6.0, "4": 8.0}
    assert final[6].status == "failed"


def config(bench, **kw):
    base = dict(space=NB201Space().spec(), evaluator=bench.spec(), strategy="evolution",
                budget=24, seed=4, schedule={"kind": "hyperband", "min_budget": 1,
                                             "max_budget": 8, "eta": 2})
    return SearchConfig(**{**base, **kw})


def test_hyperband_search_and_resume_mid_bracket(bench, tmp_path):
    ref_eval = Budgeted(bench)
    ref_store = Store(tmp_path / "ref.db")
    reference = SearchJob(config(bench), ref_store, evaluator=ref_eval).run(lambda e: None)
    assert reference["trials"] == 24
    rows = ref_store.trials(reference["experiment_id"])
    budgets = sorted({r.metrics["budget"] for r in rows})
    assert budgets == [1.0, 2.0, 4.0, 8.0]            # early-stopped and full trials
    assert len(ref_eval.calls) > 24                   # survivors are trained again

    store = Store(tmp_path / "killed.db")
    crashing = Budgeted(bench, crash_at=11)           # dies at rung 2 of the first bracket
    with pytest.raises(Killed):
        SearchJob(config(bench), store, evaluator=crashing).run(lambda e: None)
    partial = store.trials(1)
    assert len(partial) == 8 and all(r.status == "running" for r in partial)
    assert sum("2" in r.metrics["rungs"] for r in partial) == 2
    resumed_eval = Budgeted(bench)
    resumed = SearchJob(config(bench), store, experiment_id=1,
                        evaluator=resumed_eval).run(lambda e: None)
    assert len(resumed_eval.calls) == len(ref_eval.calls) - 10   # stored rungs reused

    def strip(rs):
        return [(r.trial, r.status, r.metrics) for r in rs]

    assert strip(store.trials(1)) == strip(rows)
    assert resumed["best"] == reference["best"]
    store.close()
    ref_store.close()
