"""Opening a store safely: damaged stores refused naming the missing table, read-only
stores listed (mode=ro / immutable) and writes refused naming the path, read commands
never creating anything, the best recorded epoch shown (issue 11)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from engine.cli import main
from engine.store import Store, StoreError, StoreMissing, StoreReadOnly
from tests.stored_run import add_stored_run, read_only_folder, tiny_cell_design

TABLES = ("runs", "epochs", "trials", "designs", "artifacts")


def _tables(db: Path) -> set[str]:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()


@pytest.mark.parametrize("table", TABLES)
def test_a_dropped_table_is_refused_by_name_and_not_re_created(tmp_path, capsys, table):
    db = tmp_path / "experiments.db"
    with Store(db) as store:
        run_id, _ckpt = add_stored_run(store)
    conn = sqlite3.connect(db)
    conn.execute(f"DROP TABLE {table}")
    conn.commit()
    conn.close()
    for argv in (["runs", "--db", str(db)],
                 ["export", str(run_id), "--format", "onnx", "-o", str(tmp_path / "m.onnx"),
                  "--db", str(db)],
                 ["resume", str(run_id), "--db", str(db)]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert f"{db} is damaged: the table {table} (migration 1" in err
        assert "Traceback" not in err
    for read_only in (False, True):
        with pytest.raises(StoreError, match=f"the table {table} .* is missing"):
            Store(db, read_only=read_only)
    assert table not in _tables(db)  # sqlite-utils did not re-create it bare
    assert not (tmp_path / "m.onnx").exists()


def test_a_dropped_column_is_refused(tmp_path):
    db = tmp_path / "experiments.db"
    Store(db).close()
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE runs DROP COLUMN checkpoint")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="table runs lacks the column.*checkpoint"):
        Store(db)


def test_read_commands_never_create_a_store_or_folder(tmp_path, capsys):
    target = tmp_path / "missing" / "folder" / "x.db"
    assert main(["runs", "--db", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"{target} does not exist" in err and "nothing was created" in err
    assert not (tmp_path / "missing").exists()
    with pytest.raises(StoreMissing):
        Store(tmp_path / "nope.db", read_only=True)
    assert main(["runs", "--db", str(tmp_path / "nope.db"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_store_is_listed_and_writes_name_the_path(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "experiments.db"
    with Store(db) as store:
        run_id, _ckpt = add_stored_run(store)
    assert sorted(p.name for p in folder.iterdir()) == ["experiments.db"]  # -wal/-shm gone
    with read_only_folder(folder):
        assert main(["runs", "--db", str(db), "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert [r["id"] for r in rows] == [run_id] and rows[0]["status"] == "finished"
        with Store(db, read_only=True) as store:
            assert [r.id for r in store.runs()] == [run_id]
            assert store.mark_interrupted() == []
            with pytest.raises(StoreError, match="opened read-only"):
                store.rename_experiment(1, "x")
        with pytest.raises(StoreReadOnly, match=f"{db} is read-only"):
            Store(db)
        out = tmp_path / "m.onnx"
        assert main(["export", str(run_id), "--format", "onnx", "-o", str(out),
                     "--db", str(db)]) == 2
        err = capsys.readouterr().err
        assert f"{db} is read-only" in err and "Traceback" not in err
        assert not out.exists()
        assert sorted(p.name for p in folder.iterdir()) == ["experiments.db"]


def test_runs_shows_the_best_recorded_epoch_of_an_interrupted_run(tmp_path, capsys):
    db = tmp_path / "experiments.db"
    with Store(db) as store:
        key = store.add_design(tiny_cell_design())
        run_id = store.create_run(None, key)
        store.add_epoch(run_id, 1, val_accuracy=0.107)
        store.update_run(run_id, best_val_accuracy=0.107)
        # killed after epoch 2 was recorded, before the trainer updated the run row
        store.add_epoch(run_id, 2, val_accuracy=0.807)
        assert store.get_run(run_id).best_val_accuracy == pytest.approx(0.807)
        stale = store.create_run(None, key)
        store.update_run(stale, best_val_accuracy=0.107)
    conn = sqlite3.connect(db)  # a row written before the fix: stale figure, newer epoch
    with conn:
        conn.execute("INSERT INTO epochs (run_id, epoch, val_accuracy) VALUES (?, 2, 0.807)",
                     [stale])
        conn.execute("UPDATE runs SET pid = 2147483647")
    conn.close()
    assert main(["runs", "--db", str(db), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["status"], r["best_val_accuracy"]) for r in rows] == [
        ("interrupted", pytest.approx(0.807)), ("interrupted", pytest.approx(0.807))]
    assert main(["runs", "--db", str(db)]) == 0
    assert capsys.readouterr().out.count("80.70%") == 2
    assert main(["runs", "--db", str(db), "--status", "interrupted", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
