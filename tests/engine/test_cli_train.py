"""``nas-studio train`` / ``resume``: JSON output, progress lines, bad input exits 2, db intact."""

from __future__ import annotations

import json

import pytest

from engine.cli import main
from engine.store import Store

TINY = ["darts-v2", "--channels", "4", "--layers", "3", "--subset", "192", "--batch-size", "64"]


def train(db, *extra):
    return main(["train", *TINY, "--db", str(db), *extra])


def snapshot(db):
    store = Store(db)
    try:
        return [(r.id, r.status, r.epochs_done, r.test_accuracy) for r in
                store.runs()], [len(store.epochs(r.id)) for r in store.runs()]
    finally:
        store.close()


def test_train_json_and_progress(tmp_path, capsys):
    db = tmp_path / "runs.db"
    assert train(db, "--epochs", "2", "--seed", "1", "--json") == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert set(result) >= {"run_id", "test_accuracy", "val_accuracy", "params", "macs",
                           "epochs", "seconds"}
    assert result["epochs"] == 2 and result["params"] > 0 and 0 <= result["test_accuracy"] <= 1
    assert "epoch 1/2" in captured.err and "epoch 2/2" in captured.err
    store = Store(db)
    run = store.get_run(result["run_id"])
    assert run.status == "finished" and run.config["train"]["seed"] == 1
    assert len(store.epochs(result["run_id"])) == 2
    store.close()


def test_bad_inputs_exit_2_and_leave_the_database_intact(tmp_path, capsys):
    db = tmp_path / "runs.db"
    assert train(db, "--epochs", "1") == 0
    before = snapshot(db)
    capsys.readouterr()

    assert train(db, "--dataset", str(tmp_path / "no-such-folder")) == 2
    assert "no-such-folder" in capsys.readouterr().err
    assert train(db, "--dataset", "cifar10", "--data-root", str(tmp_path)) == 2
    assert "no CIFAR-10 batches in" in capsys.readouterr().err
    assert main(["resume", "42", "--db", str(db)]) == 2
    assert "unknown run id 42" in capsys.readouterr().err
    assert main(["resume", "1", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "run 1 already finished (1 epochs, test accuracy " in err  # a percentage,
    assert "%); there is nothing to resume" in err                   # not a raw float
    assert train(db, "--layers", "0") == 2
    assert "--layers must be a positive whole number, got 0" in capsys.readouterr().err
    assert train(db, "--input", "3x8x8") == 2
    assert "1 channel(s), not 3" in capsys.readouterr().err
    assert train(db, "--epochs", "0") == 2
    assert "epochs must be >= 1" in capsys.readouterr().err
    assert snapshot(db) == before

    not_sqlite = tmp_path / "notes.db"
    not_sqlite.write_text("these are my notes, not a database\n" * 20)
    content = not_sqlite.read_bytes()
    assert train(not_sqlite, "--epochs", "1") == 2
    err = capsys.readouterr().err
    assert "notes.db" in err and "error" in err
    assert main(["resume", "1", "--db", str(not_sqlite)]) == 2
    assert not_sqlite.read_bytes() == content


def test_resume_a_cancelled_run_and_refuse_a_corrupt_checkpoint(tmp_path, capsys):
    from engine.arch.presets import get_preset
    from engine.data import load_dataset
    from engine.events import EpochFinished
    from engine.train import TrainConfig, TrainJob, resume_run

    db = tmp_path / "runs.db"
    design = get_preset("darts-v2")
    design.set_macro(channels=4, layers=3)
    config = TrainConfig(epochs=2, batch_size=64, subset=192)
    store = Store(db)
    jobs = []
    for _ in range(2):
        job = TrainJob(design, load_dataset("digits"), config, store)
        job.run(lambda e, job=job: job.cancel() if isinstance(e, EpochFinished) else None)
        jobs.append(job)
    store.close()
    capsys.readouterr()

    assert main(["resume", str(jobs[0].run_id), "--db", str(db), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["run_id"] == jobs[0].run_id and out["epochs"] == 2

    checkpoint = jobs[1].checkpoint_path
    checkpoint.write_bytes(b"PK\x03\x04 truncated")
    before = snapshot(db)
    assert main(["resume", str(jobs[1].run_id), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert str(checkpoint) in err and "corrupt or unreadable" in err
    assert main(["export", str(jobs[1].run_id), "--format", "onnx", "-o",
                 str(tmp_path / "m.onnx"), "--db", str(db)]) == 2
    assert str(checkpoint) in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()
    assert snapshot(db) == before
    store = Store(db)
    with pytest.raises(Exception, match="corrupt"):
        resume_run(store, jobs[1].run_id)
    store.close()
