"""Typed store records: RunRecord, TrialRecord, ExperimentRecord."""

from __future__ import annotations

import dataclasses

import pytest

from engine.arch.presets import get_preset
from engine.arch.serialize import design_hash, design_to_dict
from engine.store import Store
from engine.store.records import ExperimentRecord, RunRecord, TrialRecord, objective_names

ENV = {"python": "test"}


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "x.db")
    yield s
    s.close()


def test_read_methods_return_frozen_records(store):
    d = get_preset("darts-v2")
    h = store.add_design(d)
    exp = store.create_experiment("train", {"lr": 0.1}, seed=3, environment=ENV)
    run = store.create_run(exp, h, config={"epochs": 2})
    child = store.create_run(exp, h, kind="compress", parent_id=run, recipe={"prune": 0.5})
    store.update_run(run, params=1000, best_val_accuracy=0.5, test_accuracy=0.25)
    rec = store.get_run(run)
    assert isinstance(rec, RunRecord)
    assert (rec.id, rec.experiment_id, rec.design_hash, rec.kind) == (run, exp, h, "train")
    assert rec.config == {"epochs": 2} and rec.accuracy == 0.25 and rec.costs == {"params": 1000}
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.status = "failed"  # type: ignore[misc]
    assert [r.id for r in store.lineage(child)] == [child, run]
    assert store.get_run(child).recipe == {"prune": 0.5}
    joined = store.runs_with_designs(exp)
    assert [r.design_name for r in joined] == [d.name, d.name]
    assert {r.experiment_kind for r in joined} == {"train"}
    e = store.get_experiment(exp)
    assert isinstance(e, ExperimentRecord)
    assert (e.kind, e.seed, e.config, e.objectives) == ("train", 3, {"lr": 0.1}, ())
    assert [x.id for x in store.experiments()] == [exp]


def test_trial_objectives_come_from_the_experiment_config(store):
    cfg = {"evaluator": {"kind": "tabular", "objective": "valid_acc", "report": "test_acc"},
           "objectives": ["accuracy", "params"], "strategy": "random"}
    exp = store.create_experiment("search", cfg, environment=ENV)
    e = store.get_experiment(exp)
    assert e.objectives == ("valid_acc", "params") and e.report == "test_acc"
    assert e.strategy == "random" and e.dataset == "tabular"
    arch = design_to_dict(get_preset("nas-bench-201-best"))
    store.add_trial(exp, 0, arch=arch, metrics={"valid_acc": 91.5, "params": 0.4,
                                                "code": [1, 2], "parent_trial": None})
    store.add_trial(exp, 1, status="rejected", metrics={"params": 9.0, "parent_trial": 0})
    t0, t1 = store.trials(exp)
    assert isinstance(t0, TrialRecord)
    assert t0.objectives == {"valid_acc": 91.5, "params": 0.4}
    assert t0.objective == 91.5 and t0.complete and t0.code == (1, 2) and t0.parent is None
    assert t0.design_hash == design_hash(get_preset("nas-bench-201-best"))
    assert t1.objectives == {"valid_acc": None, "params": 9.0}
    assert not t1.complete and t1.parent == 0 and t1.design_hash is None


def test_trial_design_hash_is_the_evaluated_runs_design(store):
    """A trained trial's hash is its run's (the design adapted to the dataset), not the
    hash of the sampled design."""
    sampled = get_preset("nas-bench-201-best")
    adapted = sampled.copy()
    adapted.macro.input_shape = (1, 8, 8)
    adapted.macro.classes = 10
    exp = store.create_experiment("search", {"evaluator": {"kind": "train"}}, environment=ENV)
    run = store.create_run(exp, store.add_design(adapted))
    store.add_trial(exp, 0, run_id=run, arch=sampled, metrics={"val_accuracy": 0.5})
    (t,) = store.trials(exp)
    assert t.design_hash == design_hash(adapted) != design_hash(sampled)
    assert t.objectives == {"val_accuracy": 0.5}


@pytest.mark.parametrize(("cfg", "names"), [
    ({}, ("val_accuracy",)),
    ({"objectives": ["objective", "macs"]}, ("val_accuracy", "macs")),
    ({"evaluator": {"objective": "acc"}, "objectives": ["accuracy", "latency_ms"]},
     ("acc", "latency_ms")),
])
def test_objective_names(cfg, names):
    assert objective_names(cfg) == names
