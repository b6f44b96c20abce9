"""Jobs the GUI and the CLI both run: a cancel token, an event sink, a common run loop."""

from __future__ import annotations

import threading
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from engine.events import Event, JobCancelled, JobFailed, JobFinished, JobStarted

EventSink = Callable[[Event], None]


class Cancelled(Exception):
    """Raised inside a job when its cancel token is set."""


class CancelToken:
    """Cooperative cancellation: jobs call ``check()`` every few batches."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled()


class Job:
    """Base class: subclasses implement ``execute(emit, token) -> result dict``.

    ``run`` wraps it so that exactly one of JobFinished / JobCancelled / JobFailed is
    emitted last, whatever happens inside.
    """

    kind = "job"

    def __init__(self, job_id: str | None = None) -> None:
        self.job_id = job_id or f"{self.kind}-{uuid.uuid4().hex[:8]}"
        self.token = CancelToken()

    def describe(self) -> str:
        return self.kind

    def total(self) -> int | None:
        return None

    def execute(self, emit: EventSink, token: CancelToken) -> dict[str, Any]:
        raise NotImplementedError

    def cancel(self) -> None:
        self.token.cancel()

    def run(self, emit: EventSink) -> dict[str, Any] | None:
        emit(JobStarted(self.job_id, kind=self.kind, description=self.describe(),
                        total=self.total()))
        try:
            result = self.execute(emit, self.token)
        except Cancelled:
            emit(JobCancelled(self.job_id))
            return None
        except Exception as exc:  # noqa: BLE001 - reported to the user as an event
            emit(JobFailed(self.job_id, error=f"{type(exc).__name__}: {exc}",
                           details=traceback.format_exc()))
            return None
        emit(JobFinished(self.job_id, result=result or {}))
        return result
