"""The search dialog remembers the last settings, offers a new seed, and refuses a
search no design of the space can satisfy; the Jobs row's text agrees with its bar."""

from __future__ import annotations

import pytest

from app.jobs.panel import JobRow
from engine.events import JobStarted, Progress, TrialFinished
from engine.store.records import TrialRecord

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")   # offscreen dialogs


def test_the_second_search_dialog_shows_the_last_settings_with_a_new_seed(qtbot, studio):
    window, ui, store = studio
    first = ui.search_dialog()
    qtbot.addWidget(first)
    first.space.setCurrentText("nas-bench-201")
    first.strategy.setCurrentText("random")
    first.budget.setValue(3)
    first.seed.setValue(41)
    first.max_params.setText("250k")
    first.epochs.setValue(1)
    first.subset.setValue(32)
    first.exec = lambda: first.accept() or first.job is not None   # no modal loop
    assert ui.launch_search(first) is not None, first.error.text()
    ui.runner.cancel_all()
    second = ui.search_dialog()
    qtbot.addWidget(second)
    assert second.space.currentText() == "nas-bench-201"
    assert second.strategy.currentText() == "random" and second.budget.value() == 3
    assert second.max_params.text() == "250k"
    assert second.seed.value() == 42                     # not a repeat of the first
    second.new_seed.click()
    assert 1 <= second.seed.value() < 100_000


def test_an_infeasible_limit_is_refused_before_launch(qtbot, studio):
    window, ui, store = studio
    d = ui.search_dialog()
    qtbot.addWidget(d)
    d.space.setCurrentText("mbconv")
    d.max_params.setText("50k")
    d.accept()
    assert d.job is None and d.result() == 0
    assert "no design under 50k params" in d.error.text()
    assert "smallest" in d.error.text()
    d.max_params.setText("5M")
    d.accept()
    assert d.job is not None, d.error.text()


def test_a_search_row_says_the_same_count_as_its_bar(qtbot, runner_stub):
    row = runner_stub
    row.on_event(JobStarted("j", kind="search", description="s", total=8))
    for trial, status in ((0, "rejected"), (1, "rejected"), (2, "finished")):
        rec = TrialRecord.from_row({"experiment_id": 1, "trial": trial, "status": status,
                                    "metrics": {"accuracy": 0.5} if status == "finished"
                                    else {}}, ("accuracy",))
        row.on_event(TrialFinished("j", record=rec))
        done = 1 if status == "finished" else 0
        row.on_event(Progress("j", done=done, total=8, message=f"trial {trial} {status}"))
    assert row.bar.format() == "1 / 8"
    assert row.status.text() == "trial 2: accuracy 0.500 · 1 of 8 evaluated, 2 rejected"


@pytest.fixture
def runner_stub(qtbot):
    from app.workers import JobRunner
    from engine.jobs import Job

    class _Job(Job):
        kind = "search"

        def describe(self) -> str:
            return "search"

    runner = JobRunner()
    row = JobRow(_Job("j"), runner)
    qtbot.addWidget(row)
    yield row
    runner.shutdown(5000)
