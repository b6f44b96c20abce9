"""``nas-studio runs``: listing runs from the store, --db before or after the command."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from engine.arch.presets import get_preset
from engine.cli import main
from engine.store import Store

ENV = {"python": "test"}


def _populate(path: Path) -> dict[str, int]:
    with Store(path) as s:
        h = s.add_design(get_preset("darts-v2"))
        exp = s.create_experiment("train", {}, name="baseline", environment=ENV)
        parent = s.create_run(exp, h)
        s.update_run(parent, status="finished", params=3_349_342, macs=528_000_000,
                     best_val_accuracy=0.9712, test_accuracy=0.965)
        other = s.create_experiment("compress", {}, environment=ENV)
        child = s.create_run(other, h, kind="compress", parent_id=parent)
        conn = sqlite3.connect(path)
        with conn:  # owned by a process that no longer exists
            conn.execute("UPDATE runs SET pid = 2147483647 WHERE id = ?", [child])
        conn.close()
    return {"exp": exp, "other": other, "parent": parent, "child": child}


def test_runs_json_on_an_empty_db(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "empty.db"
    assert main(["--db", str(db), "runs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["runs", "--db", str(db)]) == 0
    assert "no runs yet" in capsys.readouterr().out


def test_runs_json_on_a_populated_db(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "runs.db"
    ids = _populate(db)
    assert main(["runs", "--json", "--db", str(db)]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in records] == [ids["parent"], ids["child"]]
    first, second = records
    assert (first["experiment"], first["kind"], first["status"], first["parent"]) == (
        "baseline", "train", "finished", None)
    assert (first["design_name"], first["params"], first["macs"]) == (
        "darts-v2", 3_349_342, 528_000_000)
    assert (first["best_val_accuracy"], first["test_accuracy"]) == (0.9712, 0.965)
    assert first["created"].endswith("+00:00")
    assert (second["parent"], second["kind"]) == (ids["parent"], "compress")
    assert second["status"] == "interrupted"  # its process is gone

    assert main(["--db", str(db), "runs", "--json", "--experiment", str(ids["other"])]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [ids["child"]]


def test_runs_table_output(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "runs.db"
    _populate(db)
    assert main(["--db", str(db), "runs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "experiment", "kind", "status", "parent", "design",
                                "params", "macs", "val", "acc", "test", "acc", "created"]
    assert "3.35M" in lines[1] and "97.12%" in lines[1] and "96.50%" in lines[1]
    assert "interrupted" in lines[2]


def test_db_after_the_subcommand_wins(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "runs.db"
    _populate(db)
    assert main(["--db", str(tmp_path / "other.db"), "runs", "--json", "--db", str(db)]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_default_db_in_data_dir(_private_data_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["runs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert (_private_data_dir / "experiments.db").exists()


def test_bad_db_and_unknown_experiment_exit_2(tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not a database\n")
    assert main(["runs", "--db", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "notes.txt is not a NAS Studio database (not SQLite)" in err
    assert bad.read_text() == "not a database\n"
    db = tmp_path / "runs.db"
    _populate(db)
    assert main(["runs", "--db", str(db), "--experiment", "99"]) == 2
    assert "unknown experiment id 99" in capsys.readouterr().err
