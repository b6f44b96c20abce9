"""Training: ``TrainConfig``, the ``Trainer`` loop, ``TrainJob``, ``train_design``, resume."""

from __future__ import annotations

from engine.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from engine.train.config import TrainConfig
from engine.train.job import (
    ResumeError,
    TrainJob,
    model_costs,
    resume_job,
    resume_run,
    train_design,
)
from engine.train.trainer import EpochRecord, Trainer, lr_at

__all__ = ["CheckpointError", "EpochRecord", "ResumeError", "TrainConfig", "TrainJob",
           "Trainer", "load_checkpoint", "lr_at", "model_costs", "resume_job", "resume_run",
           "save_checkpoint", "train_design"]
