"""Bounded names and free text; runs a resumed search or a redone compression replaced
are marked failed with the reason, not left "interrupted" forever (issue 11)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from engine.cli import main
from engine.store import MAX_NAME, Store, StoreError
from tests.stored_run import add_stored_run, tiny_cell_design

DEAD_PID = 2147483647


def test_names_are_bounded_and_the_message_says_the_limit(tmp_path):
    with Store(tmp_path / "s.db") as store:
        design = tiny_cell_design("d" * 50_000)
        with pytest.raises(StoreError, match="design name is 50,000 characters long; the "
                                             f"limit is {MAX_NAME} characters"):
            store.add_design(design)
        assert store.designs() == []
        with pytest.raises(StoreError, match=f"experiment name is 1,000 .* limit is {MAX_NAME}"):
            store.create_experiment("train", {}, name="e" * 1000, environment={})
        exp = store.create_experiment("train", {}, name="ok", environment={})
        with pytest.raises(StoreError, match=f"limit is {MAX_NAME}"):
            store.rename_experiment(exp, "e" * (MAX_NAME + 1))
        store.rename_experiment(exp, "e" * MAX_NAME)
        assert store.get_experiment(exp).name == "e" * MAX_NAME
        assert [e.name for e in store.experiments()] == ["e" * MAX_NAME]


def test_error_text_is_cut_and_says_so(tmp_path):
    with Store(tmp_path / "s.db") as store:
        key = store.add_design(tiny_cell_design())
        run = store.create_run(None, key)
        store.update_run(run, status="failed", error="boom " * 1_000_000)
        error = store.get_run(run).error
        assert len(error) < 10_100 and error.startswith("boom boom")
        assert error.endswith("[cut: 5,000,000 characters, the limit is 10,000]")
        exp = store.create_experiment("search", {}, environment={})
        store.add_trial(exp, 0, status="failed", error="x" * 20_000)
        assert len(store.trials(exp)[0].error) < 10_100


def test_train_refuses_a_huge_design_name_before_anything_is_stored(tmp_path, capsys):
    from engine.arch.serialize import save_design

    path = tmp_path / "big-name.json"
    save_design(tiny_cell_design("n" * 1_000_000), path)
    db = tmp_path / "s.db"
    assert main(["train", str(path), "--db", str(db), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "limit" in err and len(err) < 2000 and "Traceback" not in err
    assert not db.exists()


def _dead(db, *run_ids):
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany("UPDATE runs SET pid = ? WHERE id = ?", [(DEAD_PID, r) for r in run_ids])
    conn.close()


def test_search_resume_marks_the_killed_trials_run_superseded(tmp_path, capsys):
    from engine.search.synthetic import write_synthetic_table

    table = write_synthetic_table(tmp_path / "nb201.csv", seed=3)
    db = tmp_path / "s.db"
    assert main(["search", "--db", str(db), "--benchmark", str(table), "--objective",
                 "val_accuracy", "--budget", "4", "--strategy", "random", "--json"]) == 0
    capsys.readouterr()
    with Store(db) as store:
        key = store.add_design(tiny_cell_design())
        killed = store.create_run(1, key)      # the trial being trained when it was killed
        earlier = store.create_run(1, key)     # already marked by an earlier `runs`
        store.update_run(earlier, status="interrupted")
        other_exp = store.create_experiment("train", {}, environment={})
        other = store.create_run(other_exp, key)
        store.update_run(other, status="interrupted")
    _dead(db, killed)
    assert main(["search", "--db", str(db), "--resume", "1", "--json"]) == 0
    capsys.readouterr()
    assert main(["runs", "--db", str(db), "--json"]) == 0
    runs = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    for rid in (killed, earlier):
        assert runs[rid]["status"] == "failed"
        assert runs[rid]["error"].startswith("superseded: search experiment 1 was resumed")
    assert runs[other]["status"] == "interrupted"


def test_redoing_a_compression_marks_the_killed_one_superseded(tmp_path):
    from engine.compress import CompressJob, CompressOptions

    with Store(tmp_path / "s.db") as store:
        source, _ckpt = add_stored_run(store)
        design_hash = store.get_run(source).design_hash
        killed = store.create_run(None, design_hash, kind="compress", parent_id=source)
        _dead(store.path, killed)
        opts = CompressOptions(quantize="int8-dynamic", latency_repeats=2)
        result = CompressJob(store, source, opts).run(lambda e: None)
        assert result is not None
        old = store.get_run(killed)
        assert old.status == "failed"
        assert old.error == (f"superseded: the compression of run {source} was redone as "
                             f"run {result['run_id']}")
        assert store.get_run(result["run_id"]).status == "finished"


def test_search_refuses_a_huge_experiment_name_with_exit_2(tmp_path, capsys):
    db = tmp_path / "s.db"
    assert main(["search", "--db", str(db), "--budget", "2", "--name", "x" * 300]) == 2
    assert f"the limit is {MAX_NAME} characters" in capsys.readouterr().err
    assert not db.exists()
