"""Training settings as one plain dataclass (stored as JSON with each run)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal


@dataclass
class TrainConfig:
    """What and how to train.  Every field is JSON-serializable."""

    epochs: int = 20
    batch_size: int = 64
    lr: float = 0.05
    optimizer: Literal["sgd", "adamw"] = "sgd"
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 3e-4
    schedule: Literal["cosine", "step", "constant"] = "cosine"
    step_size: int = 10          # epochs between decays for ``schedule="step"``
    gamma: float = 0.1
    warmup_epochs: float = 0.0
    min_lr: float = 0.0
    label_smoothing: float = 0.0
    grad_clip: float | None = 5.0
    patience: int | None = None  # epochs without val improvement before stopping
    min_delta: float = 0.0
    time_budget_s: float | None = None
    seed: int = 0
    amp: bool = True             # used only where the device supports it (cuda)
    device: str = "auto"
    subset: int | None = None    # train on this many (seeded) training images
    augment: bool = True         # the dataset's standard augmentation
    cutout: int = 0
    drop_path: float | None = None   # None: the design's macro.drop_path
    aux_weight: float | None = None  # None: the design's macro.auxiliary_weight
    eval_batch_size: int = 256
    check_every: int = 4         # batches between cancellation checks / progress events
    checkpoint: bool = True

    def __post_init__(self) -> None:
        problems = []
        if self.epochs < 1:
            problems.append(f"epochs must be >= 1 (got {self.epochs})")
        if self.batch_size < 1:
            problems.append(f"batch_size must be >= 1 (got {self.batch_size})")
        if not self.lr > 0:
            problems.append(f"lr must be > 0 (got {self.lr})")
        if self.optimizer not in ("sgd", "adamw"):
            problems.append(f"optimizer must be sgd or adamw (got {self.optimizer!r})")
        if self.schedule not in ("cosine", "step", "constant"):
            problems.append(f"schedule must be cosine, step or constant (got {self.schedule!r})")
        if not 0 <= self.label_smoothing < 1:
            problems.append(f"label_smoothing must be in [0, 1) (got {self.label_smoothing})")
        if self.patience is not None and self.patience < 1:
            problems.append(f"patience must be >= 1 (got {self.patience})")
        if self.subset is not None and self.subset < 1:
            problems.append(f"subset must be >= 1 image (got {self.subset})")
        if self.time_budget_s is not None and not self.time_budget_s > 0:
            problems.append(f"time_budget_s must be > 0 seconds (got {self.time_budget_s})")
        if self.warmup_epochs >= self.epochs >= 1:
            problems.append(f"warmup_epochs ({self.warmup_epochs:g}) must be less than epochs "
                            f"({self.epochs}): the learning rate would never reach its peak")
        for name in ("weight_decay", "warmup_epochs", "cutout"):
            value = getattr(self, name)
            if not value >= 0:  # also refuses NaN
                problems.append(f"{name} must be >= 0 (got {value})")
        if problems:
            raise ValueError("; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> TrainConfig:
        """Build from a dict, ignoring unknown keys (configs from older versions)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in obj.items() if k in names})
