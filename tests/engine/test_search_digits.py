"""All four strategies end to end on the digits data (tiny budgets, tiny networks)."""

import math
import random

import pytest

from engine.arch.space import DartsSpace, MBConvSpace
from engine.events import TrialFinished
from engine.search.evaluators import TrainEvaluator
from engine.search.job import SearchConfig, SearchJob
from engine.search.pareto import scalarize
from engine.store import Store

TINY = {"channels": 4, "layers": 2}


@pytest.fixture()
def evaluator():
    return TrainEvaluator("digits", epochs=1, subset=128, batch_size=64)


@pytest.mark.parametrize("strategy,budget", [("random", 2), ("evolution", 3),
                                             ("reinforce", 2), ("darts", 2)])
def test_strategy_end_to_end_on_digits(strategy, budget, evaluator, tmp_path):
    space = DartsSpace(**TINY)
    options = {"darts": {"search_epochs": 1, "batch_size": 32},
               "evolution": {"population": 2, "sample": 2}}.get(strategy, {})
    cfg = SearchConfig(space=space.spec(), evaluator=evaluator.spec(), strategy=strategy,
                       budget=budget, seed=0, objectives=["accuracy", "params"],
                       strategy_options=options)
    store = Store(tmp_path / "s.db")
    events = []
    result = SearchJob(cfg, store, evaluator=evaluator).run(events.append)
    assert result is not None, [e for e in events if type(e).__name__ == "JobFailed"]
    rows = store.trials(result["experiment_id"])
    # the one-shot strategy proposes exactly one design (its derived genotype)
    assert len(rows) == (1 if strategy == "darts" else budget)
    for row in rows:
        assert row.status == "finished", row.error
        assert 0.0 <= row.metrics["val_accuracy"] <= 1.0
        assert row.metrics["params"] > 0 and row.run_id is not None
        run = store.get_run(row.run_id)
        assert run.experiment_id == result["experiment_id"] and run.status == "finished"
        assert space.encode(space.decode(row.metrics["code"])) == \
            tuple(row.metrics["code"])
        assert row.arch["kind"] == "cell" and row.arch["macro"]["channels"] == 4
    assert sum(isinstance(e, TrialFinished) for e in events) == len(rows)
    run_of = {r.trial: r.run_id for r in rows}
    children = [r for r in rows if "parent_trial" in r.metrics]
    assert bool(children) == (strategy == "evolution")
    for child in children:        # lineage: the child's run names its parent's run
        assert store.get_run(child.run_id).parent_id == run_of[
            child.metrics["parent_trial"]]
    best = max(rows, key=lambda r: (scalarize(r.metrics["val_accuracy"],
                                              [r.metrics["params"]]), -r.trial))
    assert result["best"]["trial"] == best.trial
    assert result["best"]["report"] == best.metrics["test_accuracy"]
    assert best.trial in [p["trial"] for p in result["pareto"]]
    store.close()


def test_darts_one_shot_genotype_builds_and_trains(evaluator):
    from engine.arch.genotype import format_genotype
    from engine.arch.validate import check
    from engine.builders import build_model
    from engine.search.darts_oneshot import search_supernet
    from engine.train import TrainConfig, train_design

    space = DartsSpace(**TINY)
    splits = evaluator.splits()
    design, info = search_supernet(space, splits, epochs=1, batch_size=32, subset=128, seed=0)
    assert len(info["alpha_normal"]) == 14 and len(info["alpha_normal"][0]) == 8
    assert all(math.isfinite(v) for v in info["losses"])
    for cell in design.cells().values():
        assert cell.nodes == [2, 3, 4, 5]
        for node in cell.nodes:
            ins = cell.inputs_of(node)
            assert len(ins) == 2 and ins[0].source != ins[1].source
            assert all(e.op != "none" and e.source < node for e in ins)
    space.encode(design)            # an ordinary design of the space
    assert format_genotype(design).startswith("Genotype(normal=[")
    adapted = evaluator.adapt(design)
    check(adapted)
    model = build_model(adapted)
    assert sum(p.numel() for p in model.parameters()) > 0
    result = train_design(adapted, splits, TrainConfig(epochs=1, subset=128, batch_size=64,
                                                      augment=False, checkpoint=False))
    assert 0.0 <= result["test_accuracy"] <= 1.0


def test_mbconv_space_trial_on_digits(evaluator):
    space = MBConvSpace(widths=(0.25,), depths=(0.5,), stem_channels=8, head_channels=32,
                        stages=[("ds", 1, 3, 1, 1, 16), ("ir", 1, 3, 2, 6, 24),
                                ("ir", 2, 5, 2, 6, 40)])
    design = space.sample(random.Random(0))
    metrics = evaluator.evaluate(design, space.encode(design), trial=0, seed=0)
    assert 0.0 <= metrics["val_accuracy"] <= 1.0 and metrics["params"] > 0


def test_cost_model_constraint_rejects_before_training(evaluator, tmp_path):
    from engine.cost import summarize

    space = DartsSpace(**TINY)
    rng = random.Random(0)
    sizes = sorted(summarize(evaluator.adapt(space.sample(rng)), table=False,
                             memory=False)["params"] for _ in range(12))
    limit = sizes[len(sizes) // 2]
    cfg = SearchConfig(space=space.spec(), evaluator=evaluator.spec(), strategy="random",
                       budget=2, seed=1, constraints={"max_params": limit})
    store = Store(tmp_path / "s.db")
    result = SearchJob(cfg, store, evaluator=evaluator).run(lambda e: None)
    rows = store.trials(result["experiment_id"])
    rejected = [r for r in rows if r.status == "rejected"]
    finished = [r for r in rows if r.status == "finished"]
    assert len(finished) == 2 and rejected
    assert all(r.metrics["params"] > limit and r.run_id is None for r in rejected)
    assert all(r.error.startswith("params ") and f"> max {limit:,}" in r.error
               for r in rejected)
    # only the accepted designs were trained: one run each
    assert len(store.runs(result["experiment_id"])) == 2
    assert all(r.metrics["params"] <= limit for r in finished)
    store.close()


def test_cancel_marks_the_experiment_cancelled(evaluator, tmp_path):
    from engine.events import JobCancelled

    cfg = SearchConfig(space=DartsSpace(**TINY).spec(), evaluator=evaluator.spec(),
                       strategy="random", budget=5, seed=0)
    store = Store(tmp_path / "s.db")
    job = SearchJob(cfg, store, evaluator=evaluator)
    events = []

    def emit(event):
        events.append(event)
        if isinstance(event, TrialFinished):
            job.cancel()

    assert job.run(emit) is None
    assert isinstance(events[-1], JobCancelled)
    (exp,) = store.experiments()
    assert exp.status == "cancelled" and len(store.trials(exp.id)) == 1
    store.close()
