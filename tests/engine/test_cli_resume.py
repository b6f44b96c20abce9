"""``nas-studio resume``: runs by RUN_ID, searches by --experiment."""

import json

from engine.cli import main
from engine.search.synthetic import write_synthetic_table


def test_resume_experiment_continues_search(tmp_path, capsys):
    table = str(write_synthetic_table(tmp_path / "nb201.csv", seed=1))
    db = str(tmp_path / "s.db")
    rc = main(["--db", db, "search", "--benchmark", table, "--objective", "val_accuracy",
               "--report", "test_accuracy", "--budget", "12", "--strategy", "evolution",
               "--json"])
    first = json.loads(capsys.readouterr().out)
    assert rc == 0
    rc = main(["resume", "--experiment", str(first["experiment_id"]), "--db", db, "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    resumed = json.loads(out.out)
    assert resumed["best"] == first["best"]
    assert resumed["experiment_id"] == first["experiment_id"]


def test_resume_needs_an_id(tmp_path, capsys):
    rc = main(["resume", "--db", str(tmp_path / "x.db")])
    assert rc == 2
    assert "RUN_ID" in capsys.readouterr().err


def test_resume_unknown_experiment(tmp_path, capsys):
    rc = main(["resume", "--experiment", "99", "--db", str(tmp_path / "x.db")])
    assert rc == 2
    assert "99" in capsys.readouterr().err
