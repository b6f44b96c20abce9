"""The Ray executor on a real local Ray (one per test session, tests/engine/conftest.py):
the same search as in-process, workers that never open the store, a worker killed
mid-trial, a driver killed mid-search and resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from engine.arch.space import DartsSpace
from engine.cli import main
from engine.search.evaluators import TrainEvaluator
from engine.search.executors import ExecutorSettings, TrialTask
from engine.search.job import SearchConfig, SearchJob
from engine.store import Store
from tests.engine import faults

TINY = {"channels": 4, "layers": 2}
TRAIN = {"epochs": 1, "subset": 96, "batch_size": 48}


@pytest.fixture()
def ray_executor(ray_cluster):
    from engine.search.ray_executor import RayExecutor

    # the helpers travel by value: workers need not import the tests package
    ray_cluster.ray.cloudpickle.register_pickle_by_value(faults)
    with RayExecutor(2, ExecutorSettings("ray")) as executor:
        yield executor


def _config(evaluator, **kw):
    return SearchConfig(space=DartsSpace(**TINY).spec(), evaluator=evaluator.spec(), **kw)


def _trials(store, experiment_id):
    return [(t.trial, t.status, t.code, t.arch, t.metrics.get("val_accuracy"),
             t.metrics.get("test_accuracy")) for t in store.trials(experiment_id)]


def test_ray_runs_the_same_search_as_in_process(tmp_path, ray_executor, ray_cluster):
    evaluator = TrainEvaluator("digits", **TRAIN)
    options = {"population": 2, "sample": 2}     # children from the third trial on
    cfg = {"strategy": "evolution", "budget": 6, "seed": 4, "workers": 2,
           "strategy_options": options, "objectives": ["accuracy", "params"]}
    local, remote = Store(tmp_path / "local.db"), Store(tmp_path / "ray.db")
    here = SearchJob(_config(evaluator, executor={"kind": "local"}, **cfg), local,
                     evaluator=evaluator).run(lambda e: None)
    there = SearchJob(_config(evaluator, executor={"kind": "ray"}, **cfg), remote,
                      evaluator=evaluator, executor=ray_executor).run(lambda e: None)
    assert here is not None and there is not None
    assert _trials(remote, there["experiment_id"]) == _trials(local, here["experiment_id"])
    assert there["best"]["trial"] == here["best"]["trial"]
    assert any(t.parent is not None for t in remote.trials(there["experiment_id"]))
    node = ray_cluster.ray.get_runtime_context().get_node_id()[:12]
    for t in remote.trials(there["experiment_id"]):   # the driver recorded every run
        run = remote.get_run(t.run_id)
        assert run.status == "finished" and len(remote.epochs(run.id)) == 1
        assert t.metrics["worker"]["node"] == node and t.worker.startswith(
            t.metrics["worker"]["host"])
        assert t.metrics["worker"]["pid"] != os.getpid()
        if t.parent is not None:                  # lineage survives the trip
            parent = remote.trials(there["experiment_id"])[t.parent]
            assert run.parent_id == parent.run_id
    local.close()
    remote.close()


def test_a_trial_without_gpus_sees_none(ray_executor):
    task = TrialTask(faults.EnvEvaluator(), None, (), 0, 0)
    result = ray_executor.submit(task).result(timeout=120)
    assert result.outcome.status == "finished" and result.outcome.metrics["cuda"] == ""


def test_a_killed_worker_is_retried_once_then_the_trial_fails(tmp_path, ray_executor):
    marks = tmp_path / "marks"
    marks.mkdir()
    evaluator = faults.DyingEvaluator("digits", marks=str(marks), once=1, always=2, **TRAIN)
    store = Store(tmp_path / "s.db")
    result = SearchJob(_config(evaluator, strategy="random", budget=4, seed=1, workers=2,
                               executor={"kind": "ray"}), store, evaluator=evaluator,
                       executor=ray_executor).run(lambda e: None)
    assert result is not None
    rows = {t.trial: t for t in store.trials(result["experiment_id"])}
    assert sorted(rows) == [0, 1, 2, 3]
    assert len((marks / "trial-1").read_text().split()) == 2     # killed, then retried
    assert rows[1].status == "finished" and rows[1].run_id is not None
    assert len((marks / "trial-2").read_text().split()) == 2     # killed twice: given up
    assert rows[2].status == "failed" and rows[2].run_id is None
    assert "worker died" in rows[2].error and "retried 1 time" in rows[2].error
    assert rows[0].status == rows[3].status == "finished"        # the search went on
    assert len(store.runs(result["experiment_id"])) == 3
    store.close()


def test_a_killed_driver_resumes_without_rerunning_finished_trials(tmp_path, ray_cluster,
                                                                     capsys):
    db, budget = tmp_path / "s.db", 6
    argv = ["--db", str(db), "search", "--space", "darts", "--channels", "4", "--layers", "2",
            "--subset", "96", "--batch-size", "48", "--epochs-per-trial", "1",
            "--budget", str(budget), "--seed", "2",
            "--strategy", "random", "--workers", "2", "--executor", "ray",
            "--address", ray_cluster.address, "--checkpoint-dir", str(tmp_path / "shared")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    driver = subprocess.Popen([sys.executable, "-m", "engine", *argv], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        finished = 0
        deadline = time.monotonic() + 300
        while finished < 2 and time.monotonic() < deadline:   # kill it mid-search
            line = driver.stdout.readline()
            assert line or driver.poll() is None, "the driver ended before the kill"
            finished += " finished " in line
        assert finished == 2
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=60)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
        driver.stdout.close()
    store = Store(db)
    (exp,) = store.experiments()
    before = {t.trial: t for t in store.trials(exp.id) if t.status == "finished"}
    assert len(before) >= 2 and len(before) < budget
    # a run is recorded just before its trial: a kill in between leaves at most one run
    # per worker without its trial (that trial was not finished: it runs again)
    orphans = {r.id for r in store.runs(exp.id)} - {t.run_id for t in before.values()}
    assert len(orphans) <= 2
    store.close()

    assert main(["--db", str(db), "search", "--resume", str(exp.id)]) == 0   # stored: ray
    assert "resuming experiment" in capsys.readouterr().out
    store = Store(db)
    after = {t.trial: t for t in store.trials(exp.id)}
    assert sorted(after) == list(range(budget))
    assert all(t.status == "finished" for t in after.values())
    for trial, t in before.items():                           # kept, not re-run
        assert after[trial].run_id == t.run_id and after[trial].created == t.created
    runs = store.runs(exp.id)
    assert len(runs) == budget + len(orphans)
    assert {r.id for r in runs} == {t.run_id for t in after.values()} | orphans
    assert all(len(store.epochs(r.id)) == 1 for r in runs)
    for t in after.values():      # checkpoints written by the workers to the shared folder
        path = tmp_path / "shared" / f"experiment-{exp.id}" / f"trial-{t.trial}" / "last.pt"
        assert store.get_run(t.run_id).checkpoint == str(path) and path.is_file()
    assert store.get_experiment(exp.id).status == "finished"
    store.close()
