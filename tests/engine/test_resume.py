"""Kill a training subprocess with SIGKILL mid-epoch, resume it, get identical metrics."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from engine.arch.presets import get_preset
from engine.data import load_dataset
from engine.store import Store
from engine.train import ResumeError, TrainConfig, resume_run, train_design

CONFIG = dict(epochs=4, batch_size=64, lr=0.05, subset=256, seed=11, eval_batch_size=512)

CHILD = textwrap.dedent("""
    import sys, time, torch
    torch.set_num_threads(int(sys.argv[3]))
    import engine.train.trainer as trainer_module
    from engine.arch.presets import get_preset
    from engine.events import Progress
    from engine.store import Store
    from engine.train import TrainConfig, TrainJob
    trainer_module.PROGRESS_INTERVAL_S = 0.0
    design = get_preset("darts-v2")
    design.set_macro(channels=4, layers=3, drop_path=0.1)
    store = Store(sys.argv[1])

    def emit(event):
        if isinstance(event, Progress) and event.message.startswith("epoch 3/"):
            open(sys.argv[2], "w").close()   # mid-epoch 3: wait to be killed
            time.sleep(120)

    TrainJob(design, "digits", TrainConfig(check_every=1, **%r), store).run(emit)
""") % (CONFIG,)


def design():
    d = get_preset("darts-v2")
    d.set_macro(channels=4, layers=3, drop_path=0.1)
    return d


def strip(rows):
    keys = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr")
    return [{k: r[k] for k in keys} for r in rows]


def start_and_kill(tmp_path, db):
    marker = tmp_path / "in-epoch-3"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(marker),
                              str(torch.get_num_threads())], env=os.environ.copy())
    store = Store(db)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and child.poll() is None:
            runs = store.runs()
            if runs and len(store.epochs(runs[0].id)) >= 2 and marker.exists():
                break
            time.sleep(0.05)
        assert child.poll() is None, "the child finished or died before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return store, store.runs()[0].id


def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path):
    splits = load_dataset("digits", seed=CONFIG["seed"])
    reference = train_design(design(), splits, TrainConfig(check_every=1, **CONFIG))

    db = tmp_path / "runs.db"
    store, run_id = start_and_kill(tmp_path, db)
    assert store.get_run(run_id).status == "running"
    assert [r["epoch"] for r in store.epochs(run_id)] == [1, 2]
    assert store.mark_interrupted() == [run_id]

    result = resume_run(store, run_id)
    run = store.get_run(run_id)
    assert run.status == "finished" and run.epochs_done == 4
    assert result["test_accuracy"] == reference["test_accuracy"]
    assert run.test_accuracy == reference["test_accuracy"]
    assert run.best_val_accuracy == reference["best_val_accuracy"]
    assert strip(store.epochs(run_id)) == strip(reference["history"])
    assert store.get_experiment(run.experiment_id).status == "finished"
    with pytest.raises(ResumeError, match=f"run {run_id} already finished"):
        resume_run(store, run_id)
    store.close()


def test_resume_restores_an_epoch_the_store_missed(tmp_path):
    """Killed after the checkpoint but before the epoch row was written: nothing is lost."""
    splits = load_dataset("digits", seed=CONFIG["seed"])
    store = Store(tmp_path / "runs.db")
    cfg = TrainConfig(**{**CONFIG, "epochs": 2})
    from engine.events import EpochFinished
    from engine.train import TrainJob

    job = TrainJob(design(), splits, cfg, store)

    def cancel_after_epoch_one(event):
        if isinstance(event, EpochFinished):
            job.cancel()

    job.run(cancel_after_epoch_one)
    run_id = job.run_id
    store.close()
    with sqlite3.connect(tmp_path / "runs.db") as con:
        con.execute("DELETE FROM epochs WHERE run_id = ?", [run_id])
    store = Store(tmp_path / "runs.db")
    assert store.epochs(run_id) == [] and store.get_run(run_id).status == "cancelled"
    resume_run(store, run_id)
    assert [r["epoch"] for r in store.epochs(run_id)] == [1, 2]
    reference = train_design(design(), splits, cfg)
    assert strip(store.epochs(run_id)) == strip(reference["history"])
    store.close()


def test_resume_refuses_unknown_runs_and_corrupt_checkpoints(tmp_path):
    store = Store(tmp_path / "runs.db")
    with pytest.raises(ResumeError, match="unknown run id 99"):
        resume_run(store, 99)
    splits = load_dataset("digits", seed=CONFIG["seed"])
    from engine.events import EpochFinished
    from engine.train import TrainJob

    job = TrainJob(design(), splits, TrainConfig(**{**CONFIG, "epochs": 2}), store)
    job.run(lambda e: job.cancel() if isinstance(e, EpochFinished) else None)
    checkpoint = store.get_run(job.run_id).checkpoint
    with open(checkpoint, "r+b") as fh:
        fh.truncate(100)
    from engine.train import CheckpointError

    with pytest.raises(CheckpointError, match="last.pt is corrupt or unreadable"):
        resume_run(store, job.run_id)
    run = store.get_run(job.run_id)
    assert run.status == "cancelled" and len(store.epochs(job.run_id)) == 1
    store.close()


def test_stored_settings_that_fail_todays_checks_are_a_resume_error(tmp_path):
    """A run stored by a laxer version (here subset 0) resumes with a ResumeError, not a
    ValueError traceback."""
    import json

    db = tmp_path / "runs.db"
    store = Store(db)
    result = train_design(design(), load_dataset("digits", seed=0),
                          TrainConfig(**{**CONFIG, "epochs": 1}), store)
    store.close()
    run_id = result["run_id"]
    with sqlite3.connect(db) as con:
        config = json.loads(con.execute("SELECT config FROM runs WHERE id=?",
                                        (run_id,)).fetchone()[0])
        config["train"]["subset"] = 0
        con.execute("UPDATE runs SET config=?, status='interrupted' WHERE id=?",
                    (json.dumps(config), run_id))
    store = Store(db)
    with pytest.raises(ResumeError, match=rf"run {run_id}: its stored training settings are "
                                          r"invalid: subset must be >= 1"):
        resume_run(store, run_id)
    store.close()
