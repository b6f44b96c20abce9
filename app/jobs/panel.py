"""The job panel: the queue of jobs with progress, elapsed/ETA, Cancel and failures."""

from __future__ import annotations

import json
import time
from html import escape

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.jobs.outcome import job_failure
from app.workers import JobRunner
from engine.events import (
    EpochFinished,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobStarted,
    LogMessage,
    Progress,
    TrialFinished,
)
from engine.jobs import Job


def format_seconds(seconds: float | None) -> str:
    """``73`` -> ``"1:13"``; None -> ``"—"``."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "—"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class JobRow(QFrame):
    """One job: title, status, progress bar, elapsed/ETA, Cancel, failure details."""

    def __init__(self, job: Job, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.runner = runner
        self.state = "queued"
        self.started: float | None = None
        self.ended: float | None = None
        self.done = 0.0
        self.total: float | None = job.total()
        self.error = ""
        self.details = ""
        self.result: dict = {}
        self.trial_counts: dict[str, int] = {}   # a search's trials by status
        self.last_trial = ""
        self.setFrameShape(QFrame.StyledPanel)
        self.title = QLabel(f"<b>{job.describe()}</b>")
        self.title.setTextFormat(Qt.RichText)
        self.status = QLabel("queued")
        self.status.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setTextVisible(True)
        self.bar.setFormat("waiting")
        self.timing = QLabel("")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop this job (takes effect within a second or two)")
        self.cancel_button.clicked.connect(self.cancel)
        self.details_button = QPushButton("Details…")
        self.details_button.setVisible(False)
        self.details_button.clicked.connect(self.show_details)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.cancel_button)
        top.addWidget(self.details_button)
        mid = QHBoxLayout()
        mid.addWidget(self.bar, 1)
        mid.addWidget(self.timing)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.addLayout(top)
        lay.addLayout(mid)
        lay.addWidget(self.status)

    def trial_status(self) -> str:
        """The last trial, and the same count the bar shows (evaluated of the budget)."""
        c = self.trial_counts
        text = f"{self.last_trial} · {int(self.done)} of {int(self.total or 0)} evaluated"
        extra = [f"{c[k]:,} {k}" for k in ("rejected", "failed") if c.get(k)]
        return text + (f", {', '.join(extra)}" if extra else "")

    def cancel(self) -> None:
        if self.state in ("queued", "running"):
            self.runner.cancel(self.job.job_id)
            self.status.setText("cancelling…")
            self.cancel_button.setEnabled(False)

    def details_box(self) -> QMessageBox:
        """The failure message box (error line, traceback under "Show Details")."""
        box = QMessageBox(QMessageBox.Critical, "Job failed",
                          f"{self.job.describe()} failed:\n{self.error}", QMessageBox.Ok, self)
        box.setDetailedText(self.details or "(no details)")
        return box

    def show_details(self) -> None:
        self._details_box = self.details_box()
        self._details_box.open()

    def eta(self) -> float | None:
        if self.started is None or not self.total or self.done <= 0 or self.state != "running":
            return None
        elapsed = time.monotonic() - self.started
        return elapsed / self.done * max(self.total - self.done, 0.0)

    def elapsed(self) -> float | None:
        if self.started is None:
            return None
        return (self.ended or time.monotonic()) - self.started

    def refresh_timing(self) -> None:
        text = f"elapsed {format_seconds(self.elapsed())}"
        if self.state == "running":
            text += f" · ETA {format_seconds(self.eta())}"
        self.timing.setText(text)

    def _set_progress(self, done: float, total: float | None, message: str = "") -> None:
        self.done = done
        if total:
            self.total = total
        if self.total:
            frac = min(max(self.done / self.total, 0.0), 1.0)
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(frac * 1000))
            whole = float(self.done).is_integer() and float(self.total).is_integer()
            self.bar.setFormat(f"{self.done:g} / {self.total:g}" if whole
                               else f"{frac * 100:.0f}%")
        else:
            self.bar.setRange(0, 0)  # busy indicator
        if message:
            self.status.setText(message)

    def on_event(self, ev: object) -> None:
        if isinstance(ev, JobStarted):
            self.state, self.started = "running", time.monotonic()
            self.total = ev.total or self.total
            self.status.setText(ev.description or "running")
            self._set_progress(0, self.total)
        elif isinstance(ev, Progress) and self.trial_counts:   # a search: bar and text agree
            self._set_progress(ev.done, ev.total)
            self.status.setText(self.trial_status())
        elif isinstance(ev, Progress):
            self._set_progress(ev.done, ev.total, ev.message)
        elif isinstance(ev, EpochFinished):
            self._set_progress(ev.epoch, ev.epochs or None,
                               f"epoch {ev.epoch}/{ev.epochs}: val accuracy "
                               f"{ev.val_accuracy:.3f}, train loss {ev.train_loss:.3f}")
        elif isinstance(ev, TrialFinished):   # progress itself comes from Progress events
            rec = ev.record
            value = rec.objective if rec is not None else None
            name = next(iter(rec.objectives), "objective") if rec is not None else ""
            tail = f"{name} {value:.3f}" if value is not None else ev.status
            self.trial_counts[rec.status if rec is not None else ev.status] = \
                self.trial_counts.get(rec.status if rec is not None else ev.status, 0) + 1
            where = f" on {rec.worker}" if rec is not None and rec.worker else ""
            self.last_trial = f"trial {ev.trial}: {tail}{where}"
            self.status.setText(self.trial_status())
        elif isinstance(ev, LogMessage) and ev.level != "info":
            self.status.setText(f"{ev.level}: {ev.message}")
        elif isinstance(ev, JobFinished) and job_failure(self.job, ev.result):
            self.result = dict(ev.result)   # e.g. every candidate broke the constraints
            self._failed(job_failure(self.job, ev.result) or "",
                         json.dumps(ev.result.get("counts", {}), indent=2))
        elif isinstance(ev, JobFinished):
            self._end("finished")
            self.result = dict(ev.result)
            self.bar.setRange(0, 1000)
            self.bar.setValue(1000)
            self.bar.setFormat("done")
            self.status.setText(_summary(ev.result) or "finished")
        elif isinstance(ev, JobCancelled):
            self._end("cancelled")
            self.bar.setFormat("cancelled")
            self.status.setText(ev.message or "cancelled")
        elif isinstance(ev, JobFailed):
            self._failed(ev.error, ev.details)
        self.refresh_timing()

    def _failed(self, error: str, details: str) -> None:
        self._end("failed")
        self.error, self.details = error, details
        self.bar.setFormat("failed")
        self.status.setText(f"<span style='color:#b00020'>Failed: {escape(error)}</span>")
        self.details_button.setVisible(True)

    def _end(self, state: str) -> None:
        self.state = state
        self.ended = time.monotonic()
        if self.started is None:
            self.started = self.ended
        self.cancel_button.setEnabled(False)
        self.cancel_button.setVisible(False)
        if self.bar.maximum() == 0:
            self.bar.setRange(0, 1000)


def _figure(v: object) -> str:
    if not isinstance(v, (int, float)):
        return "—"
    return f"{v / 1e3:.1f}k" if abs(v) >= 1e4 else f"{v:.4g}"


def _summary(result: dict) -> str:
    parts = []
    for key in ("run_id", "experiment_id", "test_accuracy", "val_accuracy", "params", "macs"):
        v = result.get(key)
        if v is None:
            continue
        parts.append(f"{key.replace('_', ' ')} {v:.4f}" if isinstance(v, float) else
                     f"{key.replace('_', ' ')} {v}")
    if isinstance(result.get("trials"), int):     # a search: how many, and the best one
        parts.append(f"{result['trials']} trials")
        best = result.get("best") or {}
        values = best.get("objectives") or {}
        if len(values) > 1:   # ranked by the reward: say so, and show what it names
            figures = ", ".join(f"{k} {_figure(v)}" for k, v in values.items())
            parts.append(f"best trial {best.get('trial')} by reward "
                         f"{_figure(best.get('score'))}: {figures}")
        elif isinstance(best.get("objective"), float):
            parts.append(f"best {result.get('objective') or 'objective'} "
                         f"{best['objective']:.4f} (trial {best.get('trial')})")
        if isinstance(result.get("pareto"), list):
            parts.append(f"{len(result['pareto'])} on the Pareto front")
    return "finished: " + ", ".join(parts) if parts else ""


class JobPanel(QWidget):
    """All jobs of this session, newest first, fed by a :class:`JobRunner`."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.rows: dict[str, JobRow] = {}
        self._list = QVBoxLayout()
        self._list.setContentsMargins(0, 0, 0, 0)
        self._list.addStretch(1)
        inner = QWidget()
        inner.setLayout(self._list)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        self.empty = QLabel("No jobs yet. Use the Run menu to train, search, compress or "
                            "export; jobs run one after another in the background.")
        self.empty.setWordWrap(True)
        clear = QPushButton("Clear finished")
        clear.clicked.connect(self.clear_finished)
        head = QHBoxLayout()
        head.addWidget(self.empty, 1)
        head.addWidget(clear)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(head)
        lay.addWidget(scroll, 1)
        runner.job_submitted.connect(self.add_job)
        runner.event_received.connect(self.on_event)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def add_job(self, job: Job) -> JobRow:
        row = JobRow(job, self.runner)
        self.rows[job.job_id] = row
        self._list.insertWidget(0, row)
        self.empty.setText(f"{len(self.rows)} job(s) this session.")
        return row

    def on_event(self, ev: object) -> None:
        row = self.rows.get(getattr(ev, "job_id", ""))
        if row is not None:
            row.on_event(ev)

    def clear_finished(self) -> None:
        for job_id, row in list(self.rows.items()):
            if row.state in ("finished", "cancelled", "failed"):
                self._list.removeWidget(row)
                row.deleteLater()
                del self.rows[job_id]

    def running_count(self) -> int:
        return sum(r.state in ("queued", "running") for r in self.rows.values())

    def _tick(self) -> None:
        for row in self.rows.values():
            if row.state == "running":
                row.refresh_timing()
