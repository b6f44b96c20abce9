"""Events that jobs emit.  Frozen dataclasses; the CLI prints them, the GUI relays them.

Every event carries ``job_id`` (the job that emitted it).  Add new event types here,
never callbacks into views.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


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
    experiment_id: int = 0
    run_id: int | None = None
    trial: int = 0
    status: str = "finished"  # "finished" | "failed" | "rejected"
    arch: dict[str, Any] | None = None   # design JSON
    metrics: dict[str, float] = field(default_factory=dict)  # accuracy, params, macs, ...
    error: str | None = None


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
