"""Events that jobs emit.  Frozen dataclasses; the CLI prints them, the GUI relays them.

Every event carries ``job_id`` (the job that emitted it).  Add new event types here,
never callbacks into views.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.store.records import TrialRecord


@dataclass(frozen=True)
class Event:
    job_id: str
    time: float = field(default_factory=time.time, compare=False)


@dataclass(frozen=True)
class JobStarted(Event):
    kind: str = ""            # "train" | "search" | "compress" | "export"
    description: str = ""
    total: int | None = None  # epochs or trials expected, when known


@dataclass(frozen=True)
class Progress(Event):
    done: float = 0.0         # units of ``total`` finished (fractions allowed)
    total: float | None = None
    message: str = ""


@dataclass(frozen=True)
class EpochFinished(Event):
    run_id: int = 0
    epoch: int = 0            # 1-based
    epochs: int = 0
    train_loss: float = float("nan")
    train_accuracy: float = float("nan")
    val_loss: float = float("nan")
    val_accuracy: float = float("nan")
    lr: float = 0.0
    seconds: float = 0.0


@dataclass(frozen=True)
class TrialFinished(Event):
    """A trial was recorded: ``record`` is the same ``TrialRecord`` the store returns
    (status "finished" | "failed" | "rejected", the evaluated design, its objectives)."""

    record: TrialRecord | None = None

    @property
    def experiment_id(self) -> int:
        return self.record.experiment_id if self.record is not None else 0

    @property
    def trial(self) -> int:
        return self.record.trial if self.record is not None else 0

    @property
    def run_id(self) -> int | None:
        return self.record.run_id if self.record is not None else None

    @property
    def status(self) -> str:
        return self.record.status if self.record is not None else "failed"

    @property
    def error(self) -> str | None:
        return self.record.error if self.record is not None else None


@dataclass(frozen=True)
class LogMessage(Event):
    level: str = "info"       # "info" | "warning" | "error"
    message: str = ""


@dataclass(frozen=True)
class JobFinished(Event):
    result: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobCancelled(Event):
    message: str = "cancelled"


@dataclass(frozen=True)
class JobFailed(Event):
    error: str = ""           # one line the user can read
    details: str = ""         # traceback or context, shown on demand
