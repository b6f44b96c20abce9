"""The job runner, the job panel and the job dialogs (pytest-qt, offscreen)."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt

from app.jobs.panel import JobPanel, format_seconds
from app.workers import JobRunner
from engine.events import (
    EpochFinished,
    JobCancelled,
    JobFailed,
    JobFinished,
    Progress,
    TrialFinished,
)
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



# -- the studio: jobs launched from the main window's Run menu ---------------------------------

@pytest.fixture
def studio(studio):
    """The conftest studio with a small cell open (keeps the cost worker cheap)."""
    from engine.arch.presets import get_preset

    window, ui, store = studio
    small = get_preset("darts-v2")
    small.set_macro(channels=8, layers=3)
    window.open_design(small)
    return window, ui, store


def _drive(dialog_setup):
    """Fill and accept the modal dialog the next action opens (as a user would)."""
    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, dialog_setup)


def _wait_end(qtbot, ui, timeout=120000):
    ended = []
    ui.runner.job_ended.connect(ended.append)
    qtbot.waitUntil(lambda: bool(ended), timeout=timeout)
    return ended[0]


# a modal dialog is shown: the offscreen platform cannot apply its size constraints (harmless)
SHOWS_DIALOG = pytest.mark.qt_log_ignore("propagateSizeHints")


@SHOWS_DIALOG
def test_train_from_the_run_menu_shows_curves_and_the_run(qtbot, studio):
    window, ui, store = studio

    def fill():
        d = ui.dialog
        d.channels.setValue(8)
        d.layers.setValue(3)
        d.epochs.setValue(2)
        d.subset.setValue(200)
        d.batch_size.setValue(32)
        d.accept()

    _drive(fill)
    ui.actions["train"].trigger()
    end = _wait_end(qtbot, ui)
    assert isinstance(end, JobFinished), getattr(end, "details", end)
    run_id = end.result["run_id"]
    curve = ui.curves.curves["train_loss"]
    qtbot.waitUntil(lambda: len(curve.getData()[0]) == 2, timeout=10000)   # drawn by timer
    assert ui.curves.run_id == run_id
    assert len(ui.curves.points("val_accuracy")) == 2
    x, y = curve.getData()
    assert list(x) == [1, 2] and all(v > 0 for v in y)
    qtbot.waitUntil(lambda: any(r["run"] == run_id and r["status"] == "finished"
                                for r in ui.browser.visible_records()), timeout=10000)
    rec = [r for r in ui.browser.visible_records() if r["run"] == run_id][0]
    assert rec["dataset"] == "digits"
    assert any(p.run_id == run_id for p in ui.pareto.points)
    row = next(iter(ui.panel.rows.values()))
    assert row.state == "finished" and "run id" in row.status.text()


@SHOWS_DIALOG
def test_search_from_the_run_menu_fills_the_pareto_plot(qtbot, studio, tmp_path):
    from engine.search.synthetic import write_synthetic_table

    window, ui, store = studio
    table = write_synthetic_table(tmp_path / "bench.csv")

    def fill():
        d = ui.dialog
        d.evaluator.setCurrentText("tabular")
        d.benchmark.setText(str(table))
        d.budget.setValue(30)
        d.strategy.setCurrentText("evolution")
        d.max_params.setText("0.15")
        d.accept()

    _drive(fill)
    ui.actions["search"].trigger()
    end = _wait_end(qtbot, ui, 60000)
    assert isinstance(end, JobFinished), getattr(end, "details", end)
    qtbot.waitUntil(lambda: len(ui.pareto.points) >= 30 and bool(ui.pareto.front_indices),
                    timeout=10000)
    assert all(p.costs["params"] <= 0.15 for p in ui.pareto.points)
    assert ui.pareto.band.isVisible()
    assert any(g.endswith("evolution") for g in ui.pareto._groups)


def test_search_dialog_reports_bad_settings_and_stays_open(qtbot, studio):
    window, ui, store = studio
    d = ui.search_dialog()
    qtbot.addWidget(d)
    d.evaluator.setCurrentText("tabular")
    d.benchmark.setText("/nonexistent/table.csv")
    d.accept()
    assert d.job is None and "not found" in d.error.text()
    d.evaluator.setCurrentText("train")
    d.max_params.setText("many")
    d.accept()
    assert d.job is None and "not a number" in d.error.text()


def test_cancel_a_training_job_then_resume_it_from_the_browser(qtbot, studio):
    window, ui, store = studio
    d = ui.train_dialog()
    qtbot.addWidget(d)
    d.channels.setValue(8)
    d.layers.setValue(3)
    d.epochs.setValue(6)
    d.batch_size.setValue(16)
    d.subset.setValue(400)
    d.accept()
    job = d.job
    ui.submit(job)
    row = ui.panel.rows[job.job_id]
    qtbot.waitUntil(lambda: len(ui.curves.points("train_loss")) >= 1, timeout=120000)
    qtbot.mouseClick(row.cancel_button, Qt.LeftButton)
    end = _wait_end(qtbot, ui)
    assert isinstance(end, JobCancelled), end
    run_id = job.run_id
    assert store.get_run(run_id).status == "cancelled"
    ui.browser.refresh()
    assert ui.browser.select(ui.browser.selected_record() and 0 or
                             store.get_run(run_id).experiment_id, run_id)
    assert ui.browser.resume_button.isEnabled()
    ui.browser.resume_selected()
    end = _wait_end(qtbot, ui)
    assert isinstance(end, JobFinished), getattr(end, "details", end)
    assert end.result["run_id"] == run_id
    assert [e["epoch"] for e in store.epochs(run_id)] == [1, 2, 3, 4, 5, 6]


def test_double_click_opens_read_only_and_fork_makes_an_editable_copy(qtbot, studio):
    from engine.arch.serialize import design_to_dict
    from engine.arch.space import NB201Space
    from engine.store.records import TrialRecord

    window, ui, store = studio
    arch = design_to_dict(NB201Space().decode([3, 3, 1, 2, 0, 4]))
    ui.pareto.add_trial(TrialFinished("j", record=TrialRecord.from_row(
        {"experiment_id": 7, "trial": 0, "arch": arch,
         "metrics": {"accuracy": 0.8, "params": 1000.0}}, ("accuracy", "params"))))
    ui.pareto.redraw()
    n = len(window.documents)
    ui.pareto.request_design(0)          # what a double-click on the point calls
    doc = window.documents[-1]
    assert len(window.documents) == n + 1 and doc.read_only
    assert design_to_dict(doc.design)["normal"] == arch["normal"]
    ui.actions["fork"].trigger()
    fork = window.documents[-1]
    assert len(window.documents) == n + 2 and not fork.read_only
    assert design_to_dict(fork.design)["normal"] == arch["normal"]


def test_close_with_running_jobs_asks_first(qtbot, studio, monkeypatch):
    window, ui, store = studio
    asked = []
    monkeypatch.setattr(ui, "confirm_close", lambda: asked.append(1) or False)
    ui.submit(CountingJob(steps=10_000, delay=0.01))
    qtbot.waitUntil(ui.runner.is_busy, timeout=10000)
    assert not window.close() and asked == [1]
    ui.runner.cancel_all()
    qtbot.waitUntil(lambda: not ui.runner.is_busy(), timeout=20000)


def test_export_a_run_to_onnx_from_the_dialog(qtbot, studio, tmp_path):
    from engine.arch.presets import get_preset
    from engine.train import TrainConfig, TrainJob

    window, ui, store = studio
    design = get_preset("darts-v2")
    design.set_macro(channels=8, layers=3)
    ui.submit(TrainJob(design, "digits", TrainConfig(epochs=1, subset=100), store))
    end = _wait_end(qtbot, ui)
    assert isinstance(end, JobFinished), getattr(end, "details", end)
    run_id = end.result["run_id"]
    dialog = ui.export_dialog(run_id, show=False)
    qtbot.addWidget(dialog)
    assert dialog.run.currentData() == run_id and dialog.fmt() == "onnx"
    target = tmp_path / "model.onnx"
    dialog.path.setText(str(target))
    with qtbot.waitSignal(dialog.export_finished, timeout=120000) as sig:
        qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    assert isinstance(sig.args[0], JobFinished), getattr(sig.args[0], "details", sig.args[0])
    assert target.is_file() and target.stat().st_size > 1000
    assert dialog.result["verified"] is True
    assert "Verified" in dialog.status.text()
    art = store.artifacts(run_id)
    assert art and art[-1]["path"] == str(target) and art[-1]["verified"]
    # the same run is offered for compression, with the recipe the dialog shows
    compress = ui.compress_dialog(run_id, show=False)
    qtbot.addWidget(compress)
    assert compress.run.currentData() == run_id
    compress.quantize.setCurrentText("int8")
    compress.accept()
    assert compress.job is not None and compress.job.run_id == run_id
    assert compress.job.options.prune == 0.5 and compress.job.options.quantize == "int8"
    compress.prune_on.setChecked(False)
    compress.quantize.setCurrentText("none")
    compress.accept()
    assert "nothing to do" in compress.error.text()
