"""The job runner, the job panel and the job dialogs (pytest-qt, offscreen)."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt

from app.jobs.panel import JobPanel, format_seconds
from app.workers import JobRunner
from engine.events import EpochFinished, JobCancelled, JobFailed, JobFinished, Progress
from engine.jobs import Job


class CountingJob(Job):
    """Emits ``steps`` progress events, checking the cancel token between sleeps."""

    kind = "count"

    def __init__(self, steps: int = 5, delay: float = 0.01, fail_at: int | None = None):
        super().__init__()
        self.steps, self.delay, self.fail_at = steps, delay, fail_at

    def total(self) -> int:
        return self.steps

    def execute(self, emit, token):
        for i in range(self.steps):
            token.check()
            if self.fail_at == i:
                raise ValueError(f"step {i} exploded")
            time.sleep(self.delay)
            emit(Progress(self.job_id, done=i + 1, total=self.steps, message=f"step {i + 1}"))
            emit(EpochFinished(self.job_id, run_id=1, epoch=i + 1, epochs=self.steps,
                               train_loss=1.0 / (i + 1), val_accuracy=0.1 * i))
        return {"steps": self.steps}


@pytest.fixture
def runner(qtbot):
    r = JobRunner()
    yield r
    assert r.shutdown(20000), "the engine thread did not stop"


def test_runner_relays_events_in_order_and_runs_jobs_one_after_another(qtbot, runner):
    events = []
    runner.event_received.connect(events.append)
    a, b = CountingJob(3), CountingJob(2)
    runner.submit(a)
    runner.submit(b)
    with qtbot.waitSignal(runner.idle, timeout=20000):
        pass
    kinds = [(type(e).__name__, e.job_id) for e in events]
    assert kinds[0] == ("JobStarted", a.job_id)
    end_a = kinds.index(("JobFinished", a.job_id))
    assert kinds.index(("JobStarted", b.job_id)) > end_a
    assert kinds[-1] == ("JobFinished", b.job_id)
    epochs = [e.epoch for e in events if isinstance(e, EpochFinished) and e.job_id == a.job_id]
    assert epochs == [1, 2, 3]
    assert not runner.is_busy()


def test_cancel_running_job_takes_effect_quickly(qtbot, runner):
    job = CountingJob(steps=10_000, delay=0.01)
    ended = []
    runner.job_ended.connect(ended.append)
    with qtbot.waitSignal(runner.event_received, timeout=20000):
        runner.submit(job)
    qtbot.waitUntil(lambda: runner.active_jobs() == [job], timeout=20000)
    runner.cancel(job.job_id)
    qtbot.waitUntil(lambda: bool(ended), timeout=20000)
    assert isinstance(ended[0], JobCancelled)


def test_queued_job_cancelled_before_it_starts(qtbot, runner):
    first, second = CountingJob(steps=10_000, delay=0.01), CountingJob(3)
    ended = {}
    runner.job_ended.connect(lambda e: ended.__setitem__(e.job_id, e))
    runner.submit(first)
    runner.submit(second)
    runner.cancel(second.job_id)
    runner.cancel(first.job_id)
    qtbot.waitUntil(lambda: len(ended) == 2, timeout=20000)
    assert isinstance(ended[first.job_id], JobCancelled)
    assert isinstance(ended[second.job_id], JobCancelled)
    assert "before start" in ended[second.job_id].message


def test_panel_shows_progress_failure_details_and_cancel(qtbot, runner):
    panel = JobPanel(runner)
    qtbot.addWidget(panel)
    ok, bad = CountingJob(3), CountingJob(5, fail_at=2)
    runner.submit(ok)
    runner.submit(bad)
    with qtbot.waitSignal(runner.idle, timeout=20000):
        pass
    row_ok, row_bad = panel.rows[ok.job_id], panel.rows[bad.job_id]
    assert row_ok.state == "finished" and row_ok.bar.value() == 1000
    assert row_bad.state == "failed"
    assert "step 2 exploded" in row_bad.status.text()
    assert row_bad.details_button.isVisibleTo(panel)
    assert "ValueError" in row_bad.details and "Traceback" in row_bad.details
    box = row_bad.details_box()
    assert "step 2 exploded" in box.text()
    assert "Traceback" in box.detailedText()

    slow = CountingJob(steps=10_000, delay=0.01)
    runner.submit(slow)
    row = panel.rows[slow.job_id]
    qtbot.waitUntil(lambda: row.state == "running" and row.done > 0, timeout=20000)
    assert row.eta() is not None
    qtbot.mouseClick(row.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: row.state == "cancelled", timeout=20000)
    panel.clear_finished()
    assert panel.rows == {}


def test_format_seconds():
    assert format_seconds(73) == "1:13"
    assert format_seconds(3725) == "1:02:05"
    assert format_seconds(None) == "—"


def test_failed_job_reports_one_line_error(qtbot, runner):
    ended = []
    runner.job_ended.connect(ended.append)
    runner.submit(CountingJob(3, fail_at=0))
    qtbot.waitUntil(lambda: bool(ended), timeout=20000)
    assert isinstance(ended[0], JobFailed)
    assert ended[0].error == "ValueError: step 0 exploded"
    assert not isinstance(ended[0], JobFinished)

