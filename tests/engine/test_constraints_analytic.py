"""Constraint checks use the analytic cost model: rejected candidates build nothing."""

from __future__ import annotations

import pytest

from engine.arch.space import DartsSpace, get_space
from engine.cost.analytic import design_cost
from engine.search.constraints import Constraints
from engine.search.evaluators import Evaluator, design_costs
from engine.search.job import SearchConfig, SearchJob
from engine.store import Store


def _no_build(*args, **kwargs):
    raise AssertionError("a network was built to check a constraint")


class NeverTrains(Evaluator):
    objective = report = "accuracy"

    def evaluate(self, design, code, *, trial, seed, budget=None, context=None):
        raise AssertionError("a rejected candidate was evaluated")

    def spec(self):
        return {"kind": "never-trains"}


def test_design_costs_builds_nothing(monkeypatch):
    import engine.builders
    import engine.cost.counting

    monkeypatch.setattr(engine.builders, "build_model", _no_build)
    monkeypatch.setattr(engine.cost.counting, "meta_model", _no_build)
    design = get_space("mbconv").decode([0] * len(get_space("mbconv").sizes()))
    cost = design_cost(design)
    assert design_costs(design, ("params", "macs")) == {"params": cost.params, "macs": cost.macs}


def test_a_search_whose_candidates_all_break_the_limit_builds_nothing(monkeypatch, tmp_path):
    import engine.builders
    import engine.cost.counting

    monkeypatch.setattr(engine.builders, "build_model", _no_build)
    monkeypatch.setattr(engine.cost.counting, "meta_model", _no_build)
    space = DartsSpace(channels=4, layers=3)
    cfg = SearchConfig(space=space.spec(), evaluator={"kind": "never-trains"}, strategy="random",
                       budget=2, seed=0, constraints={"max_params": 1000})
    store = Store(tmp_path / "s.db")
    try:
        SearchJob(cfg, store, evaluator=NeverTrains()).run(lambda e: None)
        rows = store.trials(store.experiments()[0].id)
    finally:
        store.close()
    assert rows and all(r.status == "rejected" for r in rows)
    assert all(r.error.startswith("params ") for r in rows)


def test_constraints_know_when_no_member_fits():
    space = get_space("mbconv")
    assert Constraints().infeasible(space) is None
    message = Constraints(max_params=50_000).infeasible(space)
    assert message is not None and message.startswith("no design under 50k params")
    assert Constraints(max_params=10 ** 9).infeasible(space) is None
    with pytest.raises(ValueError, match="must be positive"):
        Constraints(max_macs=0)
