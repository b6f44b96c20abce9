"""Executors without Ray: the one list of names, the process pool as a worker that never
opens the store (every trial keeps its training run and epochs), a pool worker killed
mid-trial, and the CLI's errors for executors that cannot run."""

from __future__ import annotations

import os
import sys

import pytest

from engine.arch.space import DartsSpace
from engine.cli import main
from engine.search.executors import EXECUTORS, ExecutorError, ExecutorSettings, executor_names
from engine.search.job import SearchConfig, SearchJob
from engine.store import Store
from tests.engine.faults import DyingEvaluator

TINY = {"channels": 4, "layers": 2}
TRAIN = {"epochs": 1, "subset": 96, "batch_size": 48}


def _config(evaluator, **kw):
    return SearchConfig(space=DartsSpace(**TINY).spec(), evaluator=evaluator.spec(),
                        strategy="random", seed=3, **kw)


def test_one_list_of_executor_names_for_the_cli():
    import argparse

    from engine.cli.search import add_parser

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    sub = parser._subparsers._group_actions[0].choices["search"]
    (action,) = [a for a in sub._actions if "--executor" in a.option_strings]
    assert tuple(action.choices) == executor_names() == tuple(EXECUTORS) == \
        ("local", "pool", "ray")
    assert all(name in sub.format_help() for name in EXECUTORS)


def test_settings_refuse_what_does_not_fit():
    assert ExecutorSettings.from_config({}, 1).kind == "local"     # older experiments
    assert ExecutorSettings.from_config({}, 2).kind == "pool"
    assert ExecutorSettings.from_config({"kind": "ray", "address": "auto"}, 2).address == "auto"
    for kw, message in (({"kind": "mpi"}, "unknown executor"),
                        ({"kind": "pool", "address": "h:1"}, "--executor ray"),
                        ({"kind": "ray", "address": "nowhere"}, "HOST:PORT"),
                        ({"kind": "ray", "cpus_per_trial": 0}, "--cpus-per-trial"),
                        ({"kind": "local", "gpus_per_trial": 1}, "Ray resources")):
        with pytest.raises(ExecutorError, match=message):
            ExecutorSettings(**kw)


def test_pool_trials_keep_their_runs_and_a_killed_worker_is_retried_once(tmp_path):
    """Every trial of a pool run has its training run, epochs and checkpoint, recorded
    by the search (the workers never open the store); a worker killed mid-trial is
    retried once (trial 1), killed twice it is a failed trial (trial 2) and the search
    goes on (trial 3)."""
    from engine.train import load_checkpoint

    marks = tmp_path / "marks"
    marks.mkdir()
    evaluator = DyingEvaluator("digits", marks=str(marks), once=1, always=2,
                               train_options={"checkpoint": True}, **TRAIN)
    store = Store(tmp_path / "s.db")
    job = SearchJob(_config(evaluator, budget=4, workers=2, executor={"kind": "pool"}), store,
                    evaluator=evaluator)
    result = job.run(lambda e: None)
    assert result is not None
    rows = {r.trial: r for r in store.trials(result["experiment_id"])}
    assert sorted(rows) == [0, 1, 2, 3]
    assert len((marks / "trial-1").read_text().split()) == 2             # killed, retried
    assert len((marks / "trial-2").read_text().split()) == 2             # killed twice
    assert rows[2].status == "failed" and rows[2].run_id is None
    assert "worker died" in rows[2].error and "retried 1 time" in rows[2].error
    finished = [rows[t] for t in (0, 1, 3)]
    runs = {r.id: r for r in store.runs(result["experiment_id"])}
    assert sorted(r.run_id for r in finished) == sorted(runs)           # one run per trial
    for row in finished:
        assert row.status == "finished"
        run = runs[row.run_id]
        assert run.status == "finished" and run.epochs_done == 1
        assert [e["epoch"] for e in store.epochs(run.id)] == [1]
        assert run.best_val_accuracy == pytest.approx(row.metrics["val_accuracy"])
        assert run.params == row.metrics["params"]
        # the checkpoint came back as bytes and was written next to the store
        assert load_checkpoint(run.checkpoint)["epoch"] == 1
        # where it ran: a pool process, not this one
        assert row.metrics["worker"]["pid"] != os.getpid()
        assert "pid" in row.worker and run.config["worker"]["host"]
    store.close()


def test_ray_executor_without_ray_exits_2_saying_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)      # as if Ray were not installed
    db = tmp_path / "s.db"
    rc = main(["--db", str(db), "search", "--space", "darts", "--channels", "4",
               "--layers", "2", "--subset", "64", "--budget", "1", "--executor", "ray"])
    err = capsys.readouterr().err
    assert rc == 2 and 'pip install "nas-studio[cluster]"' in err and "Traceback" not in err
    with Store(db) as store:
        assert store.experiments() == []                  # refused before it started


@pytest.mark.parametrize("argv,message", [
    (["--address", "auto"], "--executor ray"),
    (["--executor", "ray", "--address", "not an address"], "HOST:PORT"),
    (["--cpus-per-trial", "2"], "Ray resources"),
    (["--executor", "ray", "--gpus-per-trial", "-1"], "--gpus-per-trial"),
])
def test_cli_refuses_executor_settings_that_do_not_fit(tmp_path, capsys, argv, message):
    rc = main(["--db", str(tmp_path / "s.db"), "search", "--space", "darts", "--subset", "64",
               "--budget", "1", *argv])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err
