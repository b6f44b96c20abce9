"""The search job: ask a strategy, check constraints, evaluate, record, tell, repeat.

Every trial is written to the store as it finishes and the strategy's state is saved
after each ``tell``.  After a kill, ``resume_search`` rebuilds everything from the
experiment's stored config, reloads the state, and re-asks: a candidate whose trial is
already in the store takes its stored outcome instead of being evaluated again, so the
resumed search reaches the same result as an uninterrupted one with the same seed.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import platform
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.arch.space import NB201Space, SearchSpace, space_from_spec
from engine.events import EpochFinished, LogMessage, Progress, TrialFinished
from engine.jobs import Cancelled, CancelToken, EventSink, Job
from engine.search.base import Candidate, Status, Strategy
from engine.search.constraints import Constraints
from engine.search.evaluators import (
    COST_METRICS,
    Evaluator,
    TrialOutcome,
    evaluator_from_spec,
)
from engine.search.executors import Executor, ExecutorSettings, TrialTask, make_executor
from engine.search.halving import Schedule, run_bracket
from engine.search.pareto import front_summary, score
from engine.search.remote import record_result
from engine.search.strategies import make_strategy
from engine.store.records import TrialRecord, objective_names

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
    schedule: dict[str, Any] = field(default_factory=dict)  # successive halving / Hyperband
    max_rejected: int | None = None   # default: 20 x budget, at least 1000
    executor: dict[str, Any] = field(default_factory=dict)  # ExecutorSettings: where trials run

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
                 job_id: str | None = None, evaluator: Evaluator | None = None,
                 executor: Executor | None = None) -> None:
        super().__init__(job_id)
        self.executor = executor   # given: the caller owns it (started, shut down)
        self.config = config
        self.store = store
        self.experiment_id = experiment_id
        self.name = name
        self.space: SearchSpace = space_from_spec(config.space)
        self.evaluator = evaluator or evaluator_from_spec(config.evaluator, self.space)
        self.evaluator.restrict_space(self.space)  # e.g. to the cells a partial table lists
        self.constraints = Constraints.from_dict(config.constraints)
        self.objectives = list(objective_names(
            {**config.to_dict(), "evaluator": {**config.evaluator,
                                               "objective": self.evaluator.objective}}))
        self.schedule = Schedule.from_dict(config.schedule)
        self.executor_settings = ExecutorSettings.from_config(config.executor, config.workers)
        self.trials: dict[int, TrialRecord] = {}
        self._partial: dict[int, TrialRecord] = {}

    def describe(self) -> str:
        """``"evolution search of mbconv, 20 trials, seed 0, max params 50k"``."""
        c = self.config
        limits = "".join(f", {k.replace('_', ' ')} {_short(v)}"
                         for k, v in sorted(c.constraints.items()))
        space = getattr(self.space, "name", "") or c.space.get("space") or "a custom space"
        return f"{c.strategy} search of {space}, {c.budget} trials, seed {c.seed}{limits}"

    def total(self) -> int | None:
        return self.config.budget

    # -- the loop ---------------------------------------------------------------------------
    def _make_strategy(self) -> Strategy:
        opts = dict(self.config.strategy_options)
        if self.config.strategy == "darts":
            opts.setdefault("evaluator", self.evaluator)
        return make_strategy(self.config.strategy, self.space, seed=self.config.seed,
                             budget=self.config.budget, objectives=len(self.objectives), **opts)

    def execute(self, emit: EventSink, token: CancelToken) -> dict[str, Any]:
        cfg = self.config
        store = self.store
        strategy = self._make_strategy()
        counts = {"evaluated": 0, "rejected": 0}
        strategy.token = token      # work inside ask() (a supernet) stops on cancel

        def asking(fraction: float, message: str) -> None:
            emit(Progress(self.job_id, done=counts["evaluated"] + fraction,
                          total=cfg.budget, message=message))

        strategy.progress = asking
        stored: dict[int, TrialRecord] = {}
        self._partial = {}
        if store is not None and self.experiment_id is not None:
            store.set_experiment_status(self.experiment_id, "running")
            store.supersede_runs(f"superseded: search experiment {self.experiment_id} was "
                                 "resumed and trains this run's trial again",
                                 experiment_id=self.experiment_id)
            rows = store.trials(self.experiment_id)
            stored = {t.trial: t for t in rows if t.status in FINAL}
            self._partial = {t.trial: t for t in rows if t.status not in FINAL}
            state = store.load_search_state(self.experiment_id)
            if state:
                strategy.load_state_dict(state["strategy"])
                counts.clear()
                counts.update(state["counts"])
            emit(LogMessage(self.job_id, message=f"resuming experiment {self.experiment_id}: "
                            f"{len(stored)} trials in the store"))
        elif store is not None:
            env = _light_environment() if cfg.evaluator.get("kind") == "tabular" else None
            self.experiment_id = store.create_experiment("search", cfg.to_dict(), seed=cfg.seed,
                                                         name=self.name, environment=env)
        for note in self.evaluator.notes():  # coverage of a partial table, left-out data
            emit(LogMessage(self.job_id, level="warning", message=note))
        context = {"store": store, "experiment_id": self.experiment_id, "token": token,
                   # a trial's epochs reach the studio's live curves (in-process trials)
                   "emit": lambda ev: emit(ev) if isinstance(ev, EpochFinished) else None}
        self._context, self._token = context, token
        max_rejected = cfg.max_rejected or max(1000, 20 * cfg.budget)
        pending = sorted(strategy.pending.values(), key=lambda c: c.trial)
        brackets = self.schedule.brackets()
        status = "finished"
        try:
            with (contextlib.nullcontext(self.executor) if self.executor is not None else
                  make_executor(self.executor_settings, cfg.workers)) as executor:
                if pending:  # asked before the kill: finish exactly that batch first
                    self._run_batch(pending, stored, executor, strategy, counts, emit)
                while counts["evaluated"] < cfg.budget:
                    token.check()
                    batch: list[Candidate] = []
                    bracket = brackets[counts.get("brackets", 0) % len(brackets)] if brackets \
                        else None
                    room = bracket[0] if bracket else max(1, cfg.workers)
                    room = min(room, cfg.budget - counts["evaluated"])
                    while len(batch) < room:
                        cand = strategy.ask()
                        if cand is None:
                            break
                        batch.append(cand)
                    if not batch:
                        if strategy.status is Status.DONE:
                            break
                        raise RuntimeError(f"{strategy.name}: no candidate and nothing pending")
                    if bracket is None:
                        self._run_batch(batch, stored, executor, strategy, counts, emit)
                    else:
                        self._run_bracket(batch, bracket[1], stored, executor, strategy, counts,
                                          emit)
                    if counts["rejected"] > max_rejected:
                        emit(LogMessage(self.job_id, level="warning",
                                        message=f"stopped: {counts['rejected']} candidates "
                                        "rejected by the constraints"))
                        status = "failed" if counts["evaluated"] == 0 else "finished"
                        break
        except Exception as exc:  # a kill leaves "running" for Store.mark_interrupted
            if store is not None and self.experiment_id is not None:
                store.finish_experiment(self.experiment_id,
                                        "cancelled" if isinstance(exc, Cancelled) else "failed")
            raise
        if store is not None:
            self.trials = {t.trial: t for t in store.trials(self.experiment_id)}
            store.finish_experiment(self.experiment_id, status)
        result = self.summary()
        result["strategy_status"] = strategy.status.value
        return result

    def _task(self, design: Any, cand: Candidate, budget: float | None = None) -> TrialTask:
        parent = self.trials.get(cand.parent) if cand.parent is not None else None
        return TrialTask(self.evaluator, design, cand.code, cand.trial,
                         trial_seed(self.config.seed, cand.trial), budget,
                         parent.run_id if parent else None, self.experiment_id,
                         self.store is not None, self.executor_settings.checkpoint_dir)

    def _outcome(self, task: TrialTask, future: Any) -> TrialOutcome:
        """A finished future's outcome, its training run recorded here (the one writer)."""
        return record_result(self.store, task, future.result())

    def _as_finished(self, futures: dict[Any, Any]) -> Iterator[Any]:
        """The futures as they finish (ties in trial order); cancellable while waiting."""
        waiting = set(futures)
        while waiting:
            done, waiting = cf.wait(waiting, timeout=0.2, return_when=cf.FIRST_COMPLETED)
            yield from sorted(done, key=lambda f: futures[f][0].trial)
            if waiting:
                self._token.check()

    def _run_batch(self, batch: list[Candidate], stored: dict[int, TrialRecord],
                   executor: Any, strategy: Strategy, counts: dict[str, int],
                   emit: EventSink) -> None:
        """Evaluate a batch (one candidate per worker); record each trial as it finishes,
        tell the strategy in trial order."""
        records = {c.trial: stored[c.trial] for c in batch if c.trial in stored}
        futures = {}
        for cand in batch:
            if cand.trial in stored:
                continue
            design = self.space.decode(cand.code)
            early, costs = self._check(design, cand)
            if early is not None:
                records[cand.trial] = self._record(cand, design, early, costs)
                continue
            task = self._task(design, cand)
            futures[executor.submit(task, self._context)] = (cand, design, costs, task)
        for fut in self._as_finished(futures):
            cand, design, costs, task = futures[fut]
            records[cand.trial] = self._record(cand, design, self._outcome(task, fut), costs)
        for cand in batch:
            self._tell(cand, records[cand.trial], strategy, counts, emit)

    def _run_bracket(self, batch: list[Candidate], rungs: list[float],
                     stored: dict[int, TrialRecord], executor: Any, strategy: Strategy,
                     counts: dict[str, int], emit: EventSink) -> None:
        """Successive halving over the batch; every outcome is recorded before any tell,
        so a resumed bracket replays from the stored per-rung values."""
        by_trial = {c.trial: c for c in batch}
        designs: dict[int, Any] = {}
        early: dict[int, tuple[TrialOutcome, dict[str, float]]] = {}
        known: dict[int, dict[str, float]] = {}
        costs_of: dict[int, dict[str, float]] = {}
        for cand in batch:
            designs[cand.trial] = design = self.space.decode(cand.code)
            rec = stored.get(cand.trial) or self._partial.get(cand.trial)
            if rec is not None:
                known[cand.trial] = dict(rec.metrics.get("rungs") or {})
                if cand.trial in stored:
                    continue
            outcome, costs = self._check(design, cand)
            costs_of[cand.trial] = costs
            if outcome is not None:
                early[cand.trial] = (outcome, costs)
        live = [t for t in by_trial if t not in early and
                (t not in stored or stored[t].status != "rejected")]

        def evaluate(trial: int, budget: float) -> Any:
            task = self._task(designs[trial], by_trial[trial], budget)
            return _Pending(self, task, executor.submit(task, self._context))

        def on_rung(trial: int, outcome: TrialOutcome, history: dict[str, float]) -> None:
            if self.store is not None:
                metrics = {**outcome.metrics, "rungs": history, "code": list(
                    by_trial[trial].code)}
                self.store.add_trial(self.experiment_id, trial, run_id=outcome.run_id,
                                     status="running", arch=self._evaluated(designs[trial])[0],
                                     metrics=metrics, error=outcome.error)

        final = run_bracket(live, rungs, self.schedule.eta, self.evaluator.objective,
                            evaluate, known, on_rung)
        records = {}
        for cand in batch:
            t = cand.trial
            if t in stored:
                records[t] = stored[t]
            elif t in early:
                records[t] = self._record(cand, designs[t], early[t][0], early[t][1])
            else:
                outcome = final[t]
                if outcome is None:  # decided by values stored before a kill
                    rec = self._partial[t]
                    m = {k: v for k, v in rec.metrics.items() if k not in ("code", "parent_trial")}
                    ok = self._value({"trial": t, "status": "finished", "metrics": m}) is not None
                    outcome = TrialOutcome("finished" if ok else "failed", m, rec.error,
                                           rec.run_id)
                records[t] = self._record(cand, designs[t], outcome, costs_of.get(t, {}))
        counts["brackets"] = counts.get("brackets", 0) + 1
        for cand in batch:
            self._tell(cand, records[cand.trial], strategy, counts, emit)

    def _tell(self, cand: Candidate, record: TrialRecord, strategy: Strategy,
              counts: dict[str, int], emit: EventSink) -> None:
        self.trials[cand.trial] = record
        emit(TrialFinished(self.job_id, record=record))
        counts["rejected" if record.status == "rejected" else "evaluated"] += 1
        strategy.tell(cand.trial, self._strategy_value(record, strategy))
        if self.store is not None:
            self.store.save_search_state(self.experiment_id, {
                "strategy": strategy.state_dict(), "counts": counts})
        emit(Progress(self.job_id, done=counts["evaluated"], total=self.config.budget,
                      message=f"trial {cand.trial} {record.status}"))

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

    def _evaluated(self, design: Any) -> tuple[dict[str, Any], str | None]:
        """The JSON and hash of the design the evaluator scores (adapted to its data)."""
        from engine.arch.serialize import design_hash

        try:
            design = self.evaluator.evaluated_design(design)
        except Exception:  # noqa: BLE001 - the trial then fails in evaluation and says why
            pass
        return _design_dict(design), design_hash(design)

    def _record(self, cand: Candidate, design: Any, outcome: TrialOutcome,
                costs: dict[str, float]) -> TrialRecord:
        metrics = dict(outcome.metrics)
        for k, v in costs.items():
            metrics.setdefault(k, v)
        metrics["code"] = list(cand.code)
        if cand.parent is not None:
            metrics["parent_trial"] = cand.parent
        arch, key = self._evaluated(design)
        if self.store is not None:
            self.store.add_trial(self.experiment_id, cand.trial, run_id=outcome.run_id,
                                 status=outcome.status, arch=arch, metrics=metrics,
                                 error=outcome.error)
        return TrialRecord.from_row(
            {"experiment_id": self.experiment_id or 0, "trial": cand.trial,
             "status": outcome.status, "run_id": outcome.run_id, "arch": arch,
             "metrics": metrics, "error": outcome.error}, tuple(self.objectives), key)

    def _value(self, record: Any) -> float | None:
        """The scalar the strategy maximises (``engine.search.pareto.score``)."""
        rec = self._as_record(record)
        values = [rec.value(o) for o in self.objectives]
        if rec.status != "finished" or any(v is None for v in values):
            return None
        return score(values, self.objectives, self.constraints.to_dict())

    def _strategy_value(self, record: Any, strategy: Strategy) -> Any:
        """What the strategy is told: the scalar score, or for a multi-objective strategy
        every objective (costs negated, so that all are maximised)."""
        if strategy.n_objectives < 2:
            return self._value(record)
        rec = self._as_record(record)
        values = [rec.value(o) for o in self.objectives]
        if rec.status != "finished" or any(v is None for v in values):
            return None
        return (float(values[0]), *(-float(v) for v in values[1:]))

    def _as_record(self, record: Any) -> TrialRecord:
        if isinstance(record, TrialRecord):
            return record
        return TrialRecord.from_row({"experiment_id": self.experiment_id or 0, **record},
                                    tuple(self.objectives))

    # -- results ----------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """best {arch, objective, report}, trials, pareto, hypervolume, experiment_id."""
        records = [self._as_record(t) for t in sorted(self.trials.values(),
                                                      key=lambda t: t.trial)]
        fs = front_summary(records, self.objectives, self.constraints.to_dict())
        counts: dict[str, int] = {}
        for t in records:
            counts[t.status] = counts.get(t.status, 0) + 1
        hv = None
        if fs.hypervolume is not None and fs.reference is not None:
            hv = {"value": fs.hypervolume, "reference": list(fs.reference)}
        ev = self.evaluator
        return {"experiment_id": self.experiment_id, "strategy": self.config.strategy,
                "seed": self.config.seed, "objective": ev.objective, "report": ev.report,
                "objectives": self.objectives,
                "best": None if fs.best is None else {
                    **self._describe(fs.best), "score": fs.best_score,
                    "objectives": {o: fs.best.value(o) for o in self.objectives}},
                "trials": len(records), "counts": counts, "hypervolume": hv,
                "pareto": [{**self._describe(t),
                            "objectives": {o: t.value(o) for o in self.objectives}}
                           for t in fs.front]}

    def _describe(self, t: TrialRecord) -> dict[str, Any]:
        out = {"trial": t.trial, "arch": t.arch,
               "objective": t.metrics.get(self.evaluator.objective),
               "report": t.metrics.get(self.evaluator.report), "run_id": t.run_id}
        if isinstance(self.space, NB201Space) and t.code is not None:
            out["cellstr"] = self.space.cellstr(list(t.code))
        return out


def _short(v: float) -> str:
    """250000 -> "250k", 1.5e6 -> "1.5M", 12.5 -> "12.5"."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:g}{suffix}"
    return f"{v:g}"


class _Pending:
    """A rung's evaluation: ``result()`` waits for it and records its run."""

    def __init__(self, job: SearchJob, task: TrialTask, future: Any) -> None:
        self.job, self.task, self.future = job, task, future

    def result(self) -> TrialOutcome:
        for _ in self.job._as_finished({self.future: (self.task,)}):
            pass
        return self.job._outcome(self.task, self.future)


def resume_search(store: Any, experiment_id: int, emit: EventSink,
                  job_id: str | None = None, executor: Executor | None = None
                  ) -> dict[str, Any] | None:
    """Continue a search experiment after a kill; returns the job's result (None if it
    failed or was cancelled: see the emitted events)."""
    exp = store.get_experiment(experiment_id)
    if exp.kind != "search":
        raise ValueError(f"experiment {experiment_id} is a {exp.kind!r} experiment, "
                         "not a search")
    config = SearchConfig.from_dict(exp.config)
    job = SearchJob(config, store, experiment_id=experiment_id, job_id=job_id,
                    executor=executor)
    return job.run(emit)
