"""The training loop: schedules, early stopping, budgets, checkpoints, events."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from engine.data.base import Augment, DatasetSplits, TensorSplit
from engine.data.loader import BatchIterator
from engine.events import EpochFinished, Event, Progress
from engine.jobs import CancelToken
from engine.train.checkpoint import capture_rng, load_checkpoint, restore_rng, save_checkpoint
from engine.train.config import TrainConfig

PROGRESS_INTERVAL_S = 0.25


@dataclass
class EpochRecord:
    """Metrics of one finished epoch (the row written to the store's epochs table)."""

    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    lr: float
    seconds: float


def lr_at(step: int, steps_per_epoch: int, config: TrainConfig) -> float:
    """Learning rate for optimizer step ``step`` (linear warm-up, then the schedule)."""
    total = max(1, config.epochs * steps_per_epoch)
    warm = int(round(config.warmup_epochs * steps_per_epoch))
    if warm and step < warm:
        return config.lr * (step + 1) / warm
    if config.schedule == "cosine":
        t = (step - warm) / max(1, total - warm)
        return config.min_lr + 0.5 * (config.lr - config.min_lr) * (1 + math.cos(math.pi * t))
    if config.schedule == "step":
        return config.lr * config.gamma ** ((step // steps_per_epoch) // max(1, config.step_size))
    return config.lr


def amp_settings(device: torch.device, enabled: bool) -> tuple[torch.dtype | None, bool]:
    """(autocast dtype or None, needs a grad scaler) for ``device``."""
    if not enabled or device.type != "cuda":
        return None, False
    if torch.cuda.is_bf16_supported():
        return torch.bfloat16, False
    return torch.float16, True


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """SGD (momentum, nesterov) or AdamW; no weight decay on biases and norm weights."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [{"params": decay, "weight_decay": config.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    if config.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=config.lr)
    nesterov = config.nesterov and config.momentum > 0
    return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, nesterov=nesterov)


def _subset(split: TensorSplit, count: int | None, seed: int) -> TensorSplit:
    if not count or count >= len(split):
        return split
    gen = torch.Generator().manual_seed(seed + 7919)
    idx = torch.randperm(len(split), generator=gen)[:count].sort().values
    return split.subset(idx.to(split.y.device))


class Trainer:
    """Trains ``model`` on ``splits``; state (incl. RNG) round-trips through checkpoints.

    ``on_epoch(record)`` is called after each epoch's checkpoint is written (the job
    writes the store there); events go to ``emit``.
    """

    def __init__(self, model: nn.Module, splits: DatasetSplits, config: TrainConfig, *,
                 device: torch.device | str | None = None, drop_path: float = 0.0,
                 aux_weight: float = 0.4, emit: Callable[[Event], None] | None = None,
                 token: CancelToken | None = None, job_id: str = "train", run_id: int = 0,
                 checkpoint_path: str | Path | None = None,
                 on_epoch: Callable[[EpochRecord], None] | None = None) -> None:
        self.config = config
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.model = model.to(self.device)
        self.splits = splits.to(self.device) if self.device.type != "cpu" else splits
        self.train_split = _subset(self.splits.train, config.subset, config.seed)
        self.drop_path = float(config.drop_path if config.drop_path is not None else drop_path)
        self.aux_weight = float(config.aux_weight if config.aux_weight is not None
                                else aux_weight)
        self.emit = emit or (lambda event: None)
        self.token = token or CancelToken()
        self.job_id, self.run_id = job_id, run_id
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        self.on_epoch = on_epoch
        self.generator = torch.Generator().manual_seed(config.seed)
        self.optimizer = make_optimizer(self.model, config)
        self.amp_dtype, use_scaler = amp_settings(self.device, config.amp)
        self.scaler = torch.amp.GradScaler("cuda") if use_scaler else None
        aug = splits.augment if config.augment else Augment()
        if config.cutout:
            aug = Augment(aug.crop_padding, aug.flip, config.cutout)
        self.batches = BatchIterator(self.train_split, self.splits, config.batch_size,
                                     shuffle=True, augment=aug, generator=self.generator)
        self.steps_per_epoch = len(self.batches)
        # progress state (all of it goes into checkpoints)
        self.epoch = 0
        self.step = 0
        self.elapsed = 0.0
        self.best_val = -1.0
        self.best_epoch = 0
        self.best_state: dict[str, torch.Tensor] | None = None
        self.bad_epochs = 0
        self.stop_reason: str | None = None
        self.history: list[EpochRecord] = []

    # -- state -----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch, "step": self.step, "elapsed": self.elapsed,
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler else None,
            "best": {"val_accuracy": self.best_val, "epoch": self.best_epoch,
                     "model": self.best_state},
            "early_stop": {"bad_epochs": self.bad_epochs, "stop_reason": self.stop_reason},
            "history": [asdict(r) for r in self.history],
            "rng": capture_rng(self.generator), "config": self.config.to_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        self.elapsed = float(state["elapsed"])
        best = state["best"]
        self.best_val, self.best_epoch = float(best["val_accuracy"]), int(best["epoch"])
        self.best_state = best["model"]
        self.bad_epochs = int(state["early_stop"]["bad_epochs"])
        self.stop_reason = state["early_stop"]["stop_reason"]
        self.history = [EpochRecord(**r) for r in state["history"]]
        restore_rng(state["rng"], self.generator)

    def load_checkpoint(self, path: str | Path) -> None:
        self.load_state_dict(load_checkpoint(path, map_location=self.device))

    # -- loop ------------------------------------------------------------------
    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def _loss(self, out: Any, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        smoothing = self.config.label_smoothing
        if isinstance(out, (tuple, list)):
            logits, aux = out[0], out[1]
            loss = F.cross_entropy(logits, y, label_smoothing=smoothing)
            if aux is not None and self.aux_weight:
                loss = loss + self.aux_weight * F.cross_entropy(aux, y,
                                                                label_smoothing=smoothing)
            return loss, logits
        return F.cross_entropy(out, y, label_smoothing=smoothing), out

    def train_epoch(self) -> tuple[float, float]:
        """One pass over the training split; returns (mean loss, accuracy)."""
        model, opt, cfg = self.model, self.optimizer, self.config
        model.train()
        if hasattr(model, "drop_path_prob"):
            model.drop_path_prob = self.drop_path * self.epoch / cfg.epochs
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        seen, last_progress = 0, time.monotonic()
        for i, (x, y) in enumerate(self.batches):
            lr = lr_at(self.step, self.steps_per_epoch, cfg)
            for group in opt.param_groups:
                group["lr"] = lr
            with self._autocast():
                loss, logits = self._loss(model(x), y)
            opt.zero_grad(set_to_none=True)
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
                self.scaler.unscale_(opt)
            else:
                loss.backward()
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            if self.scaler is not None:
                self.scaler.step(opt)
                self.scaler.update()
            else:
                opt.step()
            self.step += 1
            n = y.shape[0]
            seen += n
            loss_sum += loss.detach().float() * n
            correct += (logits.detach().argmax(1) == y).sum()
            if (i + 1) % cfg.check_every == 0:
                self.token.check()
                now = time.monotonic()
                if now - last_progress >= PROGRESS_INTERVAL_S:
                    last_progress = now
                    self.emit(Progress(self.job_id, done=self.epoch + (i + 1) / len(self.batches),
                                       total=cfg.epochs,
                                       message=f"epoch {self.epoch + 1}/{cfg.epochs}"))
        if seen == 0:
            return float("nan"), float("nan")
        return float(loss_sum) / seen, float(correct) / seen

    @torch.no_grad()
    def evaluate(self, split: TensorSplit) -> tuple[float, float]:
        """(mean loss, accuracy) on ``split`` in eval mode."""
        model = self.model
        model.eval()
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        it = BatchIterator(split, self.splits, self.config.eval_batch_size)
        for x, y in it:
            with self._autocast():
                out = model(x)
            logits = out[0] if isinstance(out, (tuple, list)) else out
            loss_sum += F.cross_entropy(logits.float(), y, reduction="sum")
            correct += (logits.argmax(1) == y).sum()
        n = max(1, len(split))
        return float(loss_sum) / n, float(correct) / n

    def _after_epoch(self, record: EpochRecord) -> None:
        cfg = self.config
        self.history.append(record)
        if record.val_accuracy > self.best_val + cfg.min_delta or self.best_state is None:
            self.best_val, self.best_epoch, self.bad_epochs = record.val_accuracy, self.epoch, 0
            self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        else:
            self.bad_epochs += 1
        if cfg.patience and self.bad_epochs >= cfg.patience and self.epoch < cfg.epochs:
            self.stop_reason = "early_stop"
        elif cfg.time_budget_s and self.elapsed >= cfg.time_budget_s and self.epoch < cfg.epochs:
            self.stop_reason = "time_budget"
        if self.checkpoint_path is not None and cfg.checkpoint:
            save_checkpoint(self.state_dict(), self.checkpoint_path)
        if self.on_epoch is not None:
            self.on_epoch(record)
        self.emit(EpochFinished(self.job_id, run_id=self.run_id, epoch=record.epoch,
                                epochs=cfg.epochs, train_loss=record.train_loss,
                                train_accuracy=record.train_accuracy, val_loss=record.val_loss,
                                val_accuracy=record.val_accuracy, lr=record.lr,
                                seconds=record.seconds))

    def fit(self) -> dict[str, Any]:
        """Train the remaining epochs, then test with the best-validation weights."""
        cfg = self.config
        while self.epoch < cfg.epochs and self.stop_reason is None:
            self.token.check()
            start = time.perf_counter()
            train_loss, train_acc = self.train_epoch()
            val_loss, val_acc = self.evaluate(self.splits.val)
            lr = self.optimizer.param_groups[0]["lr"]
            seconds = time.perf_counter() - start
            self.elapsed += seconds
            self.epoch += 1
            self._after_epoch(EpochRecord(self.epoch, train_loss, train_acc, val_loss, val_acc,
                                          lr, seconds))
        if self.best_state is not None:  # the model keeps the best-validation weights
            self.model.load_state_dict(self.best_state)
        test_loss, test_acc = self.evaluate(self.splits.test)
        return {
            "epochs_done": self.epoch, "best_epoch": self.best_epoch,
            "best_val_accuracy": self.best_val, "val_accuracy": self.best_val,
            "test_accuracy": test_acc, "test_loss": test_loss,
            "stop_reason": self.stop_reason or "completed", "seconds": self.elapsed,
            "history": [asdict(r) for r in self.history],
        }
