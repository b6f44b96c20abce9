"""Benchmark tables as users write them: duplicates, NaN/inf, partial tables, a BOM.

Each used to go wrong silently: the last of duplicated rows kept, NaN accepted, a
313-row table failing 29 of 30 trials one by one, a spreadsheet's BOM file refused.
"""

from __future__ import annotations

import csv
import itertools
import json

import pytest

from engine.arch.space import NB201Space
from engine.cli import main
from engine.events import LogMessage
from engine.search.evaluators import EvaluatorError, TabularBenchmark, evaluator_from_spec
from engine.search.job import SearchConfig, SearchJob
from engine.search.strategies import STRATEGIES

SPACE = NB201Space()
HEADER = ["cellstr", "val_accuracy", "test_accuracy", "params"]


def rows(n: int, start: int = 0) -> list[list[str]]:
    codes = itertools.islice(itertools.product(range(5), repeat=6), start, start + n)
    return [[SPACE.cellstr(c), f"{50 + (i % 40)}", f"{49 + (i % 40)}", f"{0.1 + i / 1e4}"]
            for i, c in enumerate(codes)]


def write(path, body, header=HEADER, encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as handle:
        out = csv.writer(handle)
        out.writerow(header)
        out.writerows(body)
    return path


def test_duplicate_cells_are_refused_naming_both_lines(tmp_path):
    body = rows(5)
    body.append([body[1][0], "99", "99", "0.5"])  # line 7 repeats line 3's cell
    path = write(tmp_path / "dup.csv", body)
    with pytest.raises(EvaluatorError) as info:  # was: the last row silently kept
        TabularBenchmark(path, "val_accuracy")
    assert f"dup.csv: line 7: cell {body[1][0]} is already listed on line 3" in str(info.value)
    assert "--skip-bad-rows" in str(info.value)
    kept = TabularBenchmark(path, "val_accuracy", skip_bad_rows=True)
    assert kept.table[SPACE.code_of_cellstr(body[1][0])]["val_accuracy"] == 51.0  # the first
    assert kept.skipped == [f"line 7: cell {body[1][0]} is already listed on line 3"]
    assert "left out 1 row(s): line 7" in kept.notes()[-1]


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_non_finite_values_are_refused_naming_the_line(tmp_path, value):
    body = rows(4)
    body[2][2] = value
    path = write(tmp_path / "nan.csv", body)
    with pytest.raises(EvaluatorError, match=rf"nan.csv: line 4: column 'test_accuracy': "
                       rf"'{value}' is not a finite number"):
        TabularBenchmark(path, "val_accuracy")
    skipped = TabularBenchmark(path, "val_accuracy", skip_bad_rows=True)
    assert len(skipped.table) == 3 and SPACE.code_of_cellstr(body[2][0]) not in skipped.table
    with pytest.raises(EvaluatorError, match="no rows left after skipping 1"):
        TabularBenchmark(write(tmp_path / "one.csv", [body[2]]), "val_accuracy",
                         skip_bad_rows=True)


def test_a_utf8_bom_file_is_read(tmp_path):
    path = write(tmp_path / "bom.csv", rows(20), encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    bench = TabularBenchmark(path, "val_accuracy")  # was: "needs a 'cellstr' column"
    assert len(bench.table) == 20 and bench.columns == HEADER[1:]
    (tmp_path / "latin.csv").write_bytes(b"cellstr,val\n\xe9,1\n")
    with pytest.raises(EvaluatorError, match="latin.csv: not UTF-8 text"):
        TabularBenchmark(tmp_path / "latin.csv", "val")


@pytest.fixture
def partial(tmp_path):
    return write(tmp_path / "partial.csv", rows(313, start=4000))


def test_a_partial_table_says_its_coverage_and_restricts_the_space(partial):
    space = NB201Space()
    bench = TabularBenchmark(partial, "val_accuracy", space=space)
    assert bench.notes() == ["partial.csv lists 313 of the 15,625 nas-bench-201 cells (2.0%): "
                             "the search samples only listed cells"]
    assert space.size() == 313 and space.full_size() == 15_625
    listed = set(bench.table)
    import random

    rng = random.Random(0)
    assert all(space.sample_code(rng) in listed for _ in range(200))
    code = next(iter(listed))
    assert all(space.mutate_code(code, rng) in listed - {code} for _ in range(50))
    assert space.nearest_allowed(code, rng) == code
    assert space.nearest_allowed((0, 0, 0, 0, 0, 0), rng) in listed
    # the spec (stored with the experiment) rebuilds the same restriction
    again = NB201Space()
    evaluator_from_spec(bench.spec(), again)
    assert again.size() == 313


TABULAR = [n for n, info in STRATEGIES.items() if not info.trains]



@pytest.mark.parametrize("strategy", TABULAR)
def test_every_tabular_strategy_evaluates_only_listed_cells(partial, strategy):
    objectives = ["accuracy", "params"] if STRATEGIES[strategy].objectives == "multi" \
        else ["accuracy"]
    cfg = SearchConfig(space=NB201Space().spec(),
                       evaluator={"kind": "tabular", "path": str(partial),
                                  "objective": "val_accuracy"},
                       strategy=strategy, budget=12, seed=1, objectives=objectives)
    events = []
    result = SearchJob(cfg, None).run(events.append)
    listed = set(TabularBenchmark(partial, "val_accuracy").table)
    assert result is not None
    notes = [e.message for e in events if isinstance(e, LogMessage)]
    assert any("lists 313 of the 15,625" in m for m in notes)
    from engine.events import TrialFinished

    records = [e.record for e in events if isinstance(e, TrialFinished)]
    finished = [r for r in records if r.status == "finished"]
    assert len(finished) == 12, [(r.status, r.error) for r in records][:5]
    assert [r.status for r in records] == ["finished"] * 12  # was: 29 of 30 failed
    assert all(tuple(r.metrics["code"]) in listed for r in records)


def test_the_cli_refuses_a_duplicate_table_and_accepts_it_with_skip(tmp_path, capsys):
    body = rows(30)
    body.append(body[0])
    path = write(tmp_path / "t.csv", body)
    args = ["search", "--db", str(tmp_path / "s.db"), "--benchmark", str(path),
            "--objective", "val_accuracy", "--strategy", "random", "--budget", "3", "--json"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "t.csv: line 32: cell" in err and "already listed on line 2" in err
    assert "Traceback" not in err
    assert main([*args, "--skip-bad-rows"]) == 0
    out = capsys.readouterr()
    assert "lists 30 of the 15,625 nas-bench-201 cells (0.2%)" in out.err
    assert "left out 1 row(s): line 32" in out.err
    assert json.loads(out.out)["trials"] == 3
