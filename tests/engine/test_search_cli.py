"""``nas-studio search`` on a generated tabular benchmark: JSON output, seeds, resume, errors."""

import json
import statistics

import pytest

from engine.cli import main
from engine.search.synthetic import write_synthetic_table


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    return str(write_synthetic_table(tmp_path_factory.mktemp("t") / "nb201.csv", seed=3))


def search(capsys, db, *args):
    rc = main(["search", "--db", str(db), *args])
    out = capsys.readouterr()
    return rc, out


def bench_args(table):
    return ["--benchmark", table, "--objective", "val_accuracy", "--report", "test_accuracy"]


def test_json_result(table, tmp_path, capsys):
    rc, out = search(capsys, tmp_path / "s.db", *bench_args(table), "--budget", "25",
                     "--strategy", "evolution", "--objectives", "accuracy,params",
                     "--max-params", "0.2", "--json")
    assert rc == 0, out.err
    result = json.loads(out.out)
    best = result["best"]
    assert {"arch", "objective", "report"} <= set(best)
    assert best["arch"]["kind"] == "cell" and best["cellstr"].startswith("|")
    assert result["trials"] >= 25 and result["experiment_id"] == 1
    assert result["counts"]["finished"] == 25 and result["counts"].get("rejected", 0) > 0
    assert result["pareto"]
    for point in result["pareto"]:
        assert set(point["objectives"]) == {"val_accuracy", "params"}
        assert point["objectives"]["params"] <= 0.2
    # trial lines go to stderr with --json
    assert "trial" in out.err

    rc, out = search(capsys, tmp_path / "s.db", "--resume", "1", "--json")
    assert rc == 0 and json.loads(out.out)["best"] == best


def test_seeds_and_mean(table, tmp_path, capsys):
    rc, out = search(capsys, tmp_path / "s.db", *bench_args(table), "--budget", "10",
                     "--strategy", "random", "--seeds", "0..3", "--json")
    assert rc == 0, out.err
    result = json.loads(out.out)
    assert [s["seed"] for s in result["seeds"]] == [0, 1, 2, 3]
    assert len({s["experiment_id"] for s in result["seeds"]}) == 4
    assert result["mean_report"] == pytest.approx(
        statistics.mean(s["best"]["report"] for s in result["seeds"]))
    rc, out = search(capsys, tmp_path / "s.db", *bench_args(table), "--budget", "10",
                     "--strategy", "random", "--seed", "2", "--json")
    assert json.loads(out.out)["best"] == result["seeds"][2]["best"]


def test_text_output_and_space_file(table, tmp_path, capsys):
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"format": "nas-studio-space", "version": 1,
                                 "space": "nas-bench-201", "channels": 8}))
    rc, out = search(capsys, tmp_path / "s.db", *bench_args(table), "--space", str(space),
                     "--budget", "5", "--strategy", "reinforce")
    assert rc == 0, out.err
    assert "best: trial" in out.out and out.out.count("finished") >= 5


def test_unknown_strategy_exits_2_listing_the_registry(tmp_path, capsys):
    from engine.search.strategies import strategy_names

    with pytest.raises(SystemExit) as exit_info:
        search(capsys, tmp_path / "s.db", "--strategy", "annealing")
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "invalid choice: 'annealing'" in err
    assert all(f"'{name}'" in err for name in strategy_names())


@pytest.mark.parametrize("args,message", [
    (["--benchmark", "{table}"], "--benchmark needs --objective"),
    (["--benchmark", "{table}", "--objective", "nope"], "no objective column 'nope'"),
    (["--benchmark", "{table}", "--objective", "val_accuracy", "--space", "darts"],
     "--benchmark needs --space nas-bench-201"),
    (["--benchmark", "{table}", "--objective", "val_accuracy", "--strategy", "darts"],
     "strategy 'darts' trains a supernet: it needs a dataset, not a benchmark table; "
     "with a table use one of: random, evolution"),
    (["--space", "mbconv", "--strategy", "darts"],
     "strategy 'darts' searches the darts space only, not mbconv; for mbconv use one of: "
     "random, evolution, reinforce"),
    (["--space", "hexagons"], "unknown space 'hexagons'"),
    (["--benchmark", "{table}", "--objective", "val_accuracy", "--seeds", "3..1"],
     "1 < 3"),
    (["--benchmark", "{table}", "--objective", "val_accuracy", "--budget", "0"],
     "--budget must be at least 1, got 0"),
    (["--benchmark", "{table}", "--objective", "val_accuracy", "--max-params", "-1"],
     "max-params must be positive"),
    (["--benchmark", "{table}", "--objective", "val_accuracy", "--objectives", "params"],
     "first objective must be accuracy"),
    (["--resume", "42"], "unknown experiment id 42"),
    # a limit no design meets: an error, not exit 0 with "no trial finished"
    (["--benchmark", "{table}", "--objective", "val_accuracy", "--budget", "3",
      "--max-params", "0.01"], "no trial finished; all 1001 candidates broke --max-params 0.01"),
    # trial settings every trial would fail on are refused before the first trial
    (["--dataset", "digits", "--space", "nas-bench-201", "--subset", "0"],
     "--subset must be at least 1, got 0"),
    (["--benchmark", "{table}", "--objective", "val_accuracy", "--population", "0"],
     "--population must be at least 1, got 0"),
    (["--benchmark", "{table}", "--objective", "val_accuracy", "--workers", "0"],
     "--workers must be at least 1, got 0"),
    (["--space", "darts", "--channels", "0"], "--channels must be at least 1, got 0"),
    (["--dataset", "digits", "--space", "nas-bench-201", "--lr", "0"],
     "trial training: lr must be > 0"),
    (["--dataset", "/no/such/folder", "--space", "nas-bench-201"],
     "--dataset: dataset '/no/such/folder' is neither a known name"),
])
def test_bad_input_exits_2(table, tmp_path, capsys, args, message):
    args = [a.replace("{table}", table) for a in args]
    rc, out = search(capsys, tmp_path / "s.db", *args)
    assert rc == 2
    assert message in out.err
    if "--resume" not in args:  # refused before an experiment was recorded
        from engine.store import Store

        with Store(tmp_path / "s.db") as store:
            assert store.experiments() == [] or "candidates broke" in out.err
