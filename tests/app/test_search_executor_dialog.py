"""The search dialog's executor choice (read from the engine's registry) and the job
panel saying where a trial ran."""

from __future__ import annotations

import sys
import time

from app.jobs.dialogs import SearchDialog
from app.jobs.panel import JobPanel
from app.workers import JobRunner
from engine.events import TrialFinished
from engine.jobs import Job
from engine.search.executors import EXECUTORS
from engine.store import Store
from engine.store.records import TrialRecord


def test_dialog_offers_the_executors_and_builds_their_settings(qtbot, tmp_path):
    store = Store(tmp_path / "s.db")
    d = SearchDialog(store)
    qtbot.addWidget(d)
    names = [d.executor.itemData(i) for i in range(d.executor.count())]
    titles = [d.executor.itemText(i) for i in range(d.executor.count())]
    assert names == list(EXECUTORS) and titles == [k.title for k in EXECUTORS.values()]
    assert d.executor.currentData() == "local" and not d.address.isEnabled()
    d.executor.setCurrentIndex(names.index("ray"))
    assert d.address.isEnabled()
    d.workers.setValue(3)
    d.address.setText("10.0.0.5:6379")
    d.accept()
    assert d.job is not None, d.error.text()
    assert d.job.config.workers == 3
    assert d.job.config.executor["kind"] == "ray"
    assert d.job.config.executor["address"] == "10.0.0.5:6379"
    d.grab().save(str(tmp_path / "search_dialog.png"))
    again = SearchDialog(store, last=d.settings())     # the next search remembers them
    qtbot.addWidget(again)
    assert (again.executor.currentData(), again.workers.value(), again.address.text()) == \
        ("ray", 3, "10.0.0.5:6379")

    d2 = SearchDialog(store)
    qtbot.addWidget(d2)
    d2.executor.setCurrentIndex(names.index("ray"))
    d2.address.setText("no port here")
    d2.accept()
    assert d2.job is None and "HOST:PORT" in d2.error.text()
    d2.executor.setCurrentIndex(names.index("pool"))   # the address is Ray's only
    d2.accept()
    assert d2.job is not None and d2.job.config.executor == {
        **d2.job.config.executor, "kind": "pool", "address": None}
    store.close()


def test_dialog_says_how_to_install_ray(qtbot, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)     # as if Ray were not installed
    store = Store(tmp_path / "s.db")
    d = SearchDialog(store)
    qtbot.addWidget(d)
    d.executor.setCurrentIndex(list(EXECUTORS).index("ray"))
    d.accept()
    assert d.job is None and 'pip install "nas-studio[cluster]"' in d.error.text()
    store.close()


class _OneTrial(Job):
    kind = "search"

    def execute(self, emit, token):
        record = TrialRecord(experiment_id=1, trial=7, metrics={
            "val_accuracy": 0.5, "worker": {"host": "gpu-box", "node": "ab12cd", "pid": 42}},
            objectives={"val_accuracy": 0.5})
        emit(TrialFinished(self.job_id, record=record))
        while True:       # stays running (the trial's line stays shown) until cancelled
            token.check()
            time.sleep(0.01)


def test_panel_shows_where_a_trial_ran(qtbot):
    runner = JobRunner()
    panel = JobPanel(runner)
    qtbot.addWidget(panel)
    job = _OneTrial()
    runner.submit(job)
    row = panel.rows[job.job_id]
    qtbot.waitUntil(lambda: "trial 7" in row.status.text(), timeout=20000)
    assert "on gpu-box (node ab12cd, pid 42)" in row.status.text()
    with qtbot.waitSignal(runner.idle, timeout=20000):
        job.cancel()
