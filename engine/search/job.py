"""The search job: ask a strategy, check constraints, evaluate, record, tell, repeat.

Every trial is written to the store as it finishes and the strategy's state is saved
after each ``tell``.  After a kill, ``resume_search`` rebuilds everything from the
experiment's stored config, reloads the state, and re-asks: a candidate whose trial is
already in the store takes its stored outcome instead of being evaluated again, so the
resumed search reaches the same result as an uninterrupted one with the same seed.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.arch.space import NB201Space, SearchSpace, space_from_spec
from engine.events import LogMessage, Progress, TrialFinished
from engine.jobs import CancelToken, EventSink, Job
from engine.search.base import Candidate, Status, Strategy, make_strategy
from engine.search.constraints import Constraints
from engine.search.evaluators import (
    COST_METRICS,
    Evaluator,
    TrialOutcome,
    evaluator_from_spec,
)
from engine.search.executors import TrialTask, make_executor
from engine.search.pareto import pareto_front, scalarize

FINAL = ("finished", "failed", "rejected")


@dataclass
class SearchConfig:
    """Everything needed to run (and re-run) a search; stored as the experiment config."""

    space: dict[str, Any]
    evaluator: dict[str, Any]
    strategy: str = "evolution"
    budget: int = 20
    seed: int = 0
    objectives: list[str] = field(default_factory=lambda: ["accuracy"])
    constraints: dict[str, float] = field(default_factory=dict)
    strategy_options: dict[str, Any] = field(default_factory=dict)
    workers: int = 1
    max_rejected: int | None = None   # default: 20 x budget, at least 1000

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> SearchConfig:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in obj.items() if k in names})


def trial_seed(seed: int, trial: int) -> int:
    return (int(seed) * 1_000_003 + int(trial)) % (2**31 - 1)


def _design_dict(design: Any) -> dict[str, Any]:
    from engine.arch.serialize import design_to_dict

    return design_to_dict(design)


def _light_environment() -> dict[str, Any]:
    return {"python": sys.version.split()[0], "platform": platform.platform(),
            "torch": None, "device": "none (tabular benchmark)"}


class SearchJob(Job):
    """Runs one search; ``experiment_id`` set means resume that experiment."""

    kind = "search"

    def __init__(self, config: SearchConfig, store: Any = None, *,
                 experiment_id: int | None = None, name: str | None = None,
                 job_id: str | None = None, evaluator: Evaluator | None = None) -> None:
        super().__init__(job_id)
        self.config = config
        self.store = store
        self.experiment_id = experiment_id
        self.name = name
        self.space: SearchSpace = space_from_spec(config.space)
        self.evaluator = evaluator or evaluator_from_spec(config.evaluator, self.space)
        self.constraints = Constraints.from_dict(config.constraints)
        self.objectives = [self._metric(o) for o in config.objectives] or [self.evaluator.objective]
        self.trials: dict[int, dict[str, Any]] = {}

    def describe(self) -> str:
        c = self.config
        return f"{c.strategy} search, {c.budget} trials, seed {c.seed}"

    def total(self) -> int | None:
        return self.config.budget

    def _metric(self, name: str) -> str:
        return self.evaluator.objective if name in ("accuracy", "objective") else name

    # -- the loop ---------------------------------------------------------------------------
    def _make_strategy(self) -> Strategy:
        opts = dict(self.config.strategy_options)
        if self.config.strategy == "darts":
            opts.setdefault("evaluator", self.evaluator)
        return make_strategy(self.config.strategy, self.space, seed=self.config.seed,
                             budget=self.config.budget, **opts)

    def execute(self, emit: EventSink, token: CancelToken) -> dict[str, Any]:
        cfg = self.config
        store = self.store
        strategy = self._make_strategy()
        stored: dict[int, dict[str, Any]] = {}
        counts = {"evaluated": 0, "rejected": 0}
        if store is not None and self.experiment_id is not None:
            store.set_experiment_status(self.experiment_id, "running")
            stored = {t["trial"]: t for t in store.trials(self.experiment_id)
                      if t["status"] in FINAL}
            state = store.load_search_state(self.experiment_id)
            if state:
                strategy.load_state_dict(state["strategy"])
                counts = dict(state["counts"])
            emit(LogMessage(self.job_id, message=f"resuming experiment {self.experiment_id}: "
                            f"{len(stored)} trials in the store"))
        elif store is not None:
            env = _light_environment() if cfg.evaluator.get("kind") == "tabular" else None
            self.experiment_id = store.create_experiment("search", cfg.to_dict(), seed=cfg.seed,
                                                         name=self.name, environment=env)
        context = {"store": store, "experiment_id": self.experiment_id}
        max_rejected = cfg.max_rejected or max(1000, 20 * cfg.budget)
        pending = sorted(strategy.pending.values(), key=lambda c: c.trial)
        status = "finished"
        with make_executor(cfg.workers, context) as executor:
            while counts["evaluated"] < cfg.budget:
                token.check()
                batch: list[Candidate] = list(pending)
                pending = []
                room = min(max(1, cfg.workers), cfg.budget - counts["evaluated"])
                while len(batch) < room:
                    cand = strategy.ask()
                    if cand is None:
                        break
                    batch.append(cand)
                if not batch:
                    if strategy.status is Status.DONE:
                        break
                    raise RuntimeError(f"{strategy.name}: no candidate and nothing pending")
                futures = {}
                for cand in batch:
                    if cand.trial in stored:
                        continue
                    design = self.space.decode(cand.code)
                    early, costs = self._check(design, cand)
                    if early is None:
                        task = TrialTask(self.evaluator, design, cand.code, cand.trial,
                                         trial_seed(cfg.seed, cand.trial))
                        futures[cand.trial] = (design, executor.submit(task), costs)
                    else:
                        futures[cand.trial] = (design, early, costs)
                for cand in batch:
                    if cand.trial in stored:
                        record = stored[cand.trial]
                    else:
                        design, fut, costs = futures[cand.trial]
                        outcome = fut if isinstance(fut, TrialOutcome) else fut.result()
                        record = self._record(cand, design, outcome, costs)
                    self.trials[cand.trial] = record
                    self._emit_trial(emit, cand, record)
                    if record["status"] == "rejected":
                        counts["rejected"] += 1
                    else:
                        counts["evaluated"] += 1
                    strategy.tell(cand.trial, self._value(record))
                    if store is not None:
                        store.save_search_state(self.experiment_id, {
                            "strategy": strategy.state_dict(), "counts": counts})
                    emit(Progress(self.job_id, done=counts["evaluated"], total=cfg.budget,
                                  message=f"trial {cand.trial} {record['status']}"))
                if counts["rejected"] > max_rejected:
                    emit(LogMessage(self.job_id, level="warning",
                                    message=f"stopped: {counts['rejected']} candidates rejected "
                                    "by the constraints"))
                    status = "failed" if counts["evaluated"] == 0 else "finished"
                    break
        if store is not None:
            self.trials = {t["trial"]: t for t in store.trials(self.experiment_id)}
            store.finish_experiment(self.experiment_id, status)
        result = self.summary()
        result["strategy_status"] = strategy.status.value
        return result

    def _check(self, design: Any, cand: Candidate
               ) -> tuple[TrialOutcome | None, dict[str, float]]:
        """Costs before training: (a rejected/failed outcome or None, the costs)."""
        names = tuple(dict.fromkeys(self.constraints.needed() + tuple(
            o for o in self.objectives[1:] if o in COST_METRICS)))
        if not names:
            return None, {}
        try:
            costs = {k: float(v) for k, v in
                     self.evaluator.costs(design, cand.code, names).items()}
        except Exception as exc:  # noqa: BLE001 - a design the cost model cannot size fails
            return TrialOutcome("failed", {}, f"cost model: {type(exc).__name__}: {exc}"), {}
        problems = self.constraints.violations(costs)
        if problems:
            return TrialOutcome("rejected", dict(costs), "; ".join(problems)), costs
        return None, costs

    def _record(self, cand: Candidate, design: Any, outcome: TrialOutcome,
                costs: dict[str, float]) -> dict[str, Any]:
        metrics = dict(outcome.metrics)
        for k, v in costs.items():
            metrics.setdefault(k, v)
        metrics["code"] = list(cand.code)
        if cand.parent is not None:
            metrics["parent_trial"] = cand.parent
        arch = _design_dict(design)
        record = {"trial": cand.trial, "status": outcome.status, "arch": arch,
                  "metrics": metrics, "error": outcome.error, "run_id": outcome.run_id}
        if self.store is not None:
            self.store.add_trial(self.experiment_id, cand.trial, run_id=outcome.run_id,
                                 status=outcome.status, arch=arch, metrics=metrics,
                                 error=outcome.error)
        return record

    def _emit_trial(self, emit: EventSink, cand: Candidate, record: dict[str, Any]) -> None:
        metrics = {k: float(v) for k, v in (record.get("metrics") or {}).items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool)}
        emit(TrialFinished(self.job_id, experiment_id=self.experiment_id or 0,
                           run_id=record.get("run_id"), trial=cand.trial,
                           status=record["status"], arch=record.get("arch"), metrics=metrics,
                           error=record.get("error")))

    def _value(self, record: dict[str, Any]) -> float | None:
        """The scalar the strategy maximises (scalarized when there are cost objectives)."""
        if record["status"] != "finished":
            return None
        m = record.get("metrics") or {}
        acc = m.get(self.objectives[0])
        if acc is None:
            return None
        costs = [m.get(o) for o in self.objectives[1:]]
        if any(c is None for c in costs):
            return None
        return scalarize(acc, costs, [self.constraints.to_dict().get(f"max_{o}")
                                      for o in self.objectives[1:]])

    # -- results ----------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """best {arch, objective, report}, trials, pareto, experiment_id."""
        done = [t for t in sorted(self.trials.values(), key=lambda t: t["trial"])
                if t["status"] == "finished"
                and all((t.get("metrics") or {}).get(o) is not None for o in self.objectives)]
        ev = self.evaluator
        best = None
        if done:
            top = max(done, key=lambda t: (self._value(t) or float("-inf"), -t["trial"]))
            best = self._describe(top)
        points = [[t["metrics"][o] for o in self.objectives] for t in done]
        maximize = [True] + [False] * (len(self.objectives) - 1)
        front = pareto_front(points, maximize) if points else []
        counts: dict[str, int] = {}
        for t in self.trials.values():
            counts[t["status"]] = counts.get(t["status"], 0) + 1
        return {"experiment_id": self.experiment_id, "strategy": self.config.strategy,
                "seed": self.config.seed, "objective": ev.objective, "report": ev.report,
                "objectives": self.objectives, "best": best, "trials": len(self.trials),
                "counts": counts,
                "pareto": [{**self._describe(done[i]),
                            "objectives": {o: done[i]["metrics"][o] for o in self.objectives}}
                           for i in front]}

    def _describe(self, t: dict[str, Any]) -> dict[str, Any]:
        m = t.get("metrics") or {}
        out = {"trial": t["trial"], "arch": t.get("arch"),
               "objective": m.get(self.evaluator.objective),
               "report": m.get(self.evaluator.report), "run_id": t.get("run_id")}
        code = m.get("code")
        if isinstance(self.space, NB201Space) and code is not None:
            out["cellstr"] = self.space.cellstr(code)
        return out


def resume_search(store: Any, experiment_id: int, emit: EventSink,
                  job_id: str | None = None) -> dict[str, Any] | None:
    """Continue a search experiment after a kill; returns the job's result (None if it
    failed or was cancelled: see the emitted events)."""
    exp = store.get_experiment(experiment_id)
    if exp.get("kind") != "search":
        raise ValueError(f"experiment {experiment_id} is a {exp.get('kind')!r} experiment, "
                         "not a search")
    config = SearchConfig.from_dict(exp["config"])
    job = SearchJob(config, store, experiment_id=experiment_id, job_id=job_id)
    return job.run(emit)
