"""Fine-tuning after pruning with the studio's ``engine.train.Trainer``.

A smaller learning rate, early stopping on validation accuracy (the Trainer keeps the
best-validation weights), and optional knowledge distillation from the parent:
``alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from engine.events import Event
from engine.jobs import CancelToken


@dataclass
class FinetuneConfig:
    """Settings for fine-tuning a compressed model."""

    epochs: int = 5
    lr: float = 0.01
    batch_size: int = 64
    weight_decay: float = 3e-4
    patience: int | None = 3
    distill: bool = False
    temperature: float = 4.0
    alpha: float = 0.5          # weight of the distillation term (1 - alpha on the labels)
    aux_weight: float = 0.4
    augment: bool = True
    seed: int = 0
    device: str = "auto"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def train_config(self) -> Any:
        """The equivalent ``engine.train.TrainConfig`` (no checkpoints, no drop path)."""
        from engine.train import TrainConfig

        return TrainConfig(epochs=self.epochs, lr=self.lr, batch_size=self.batch_size,
                           weight_decay=self.weight_decay, patience=self.patience,
                           schedule="cosine", seed=self.seed, device=self.device,
                           augment=self.augment, drop_path=0.0, aux_weight=self.aux_weight,
                           checkpoint=False, amp=False)


def pick_device(prefer: str | None = None) -> torch.device:
    """cuda > mps > cpu unless ``prefer`` names one (``engine.device.pick_device``)."""
    prefer = None if prefer in (None, "auto") else prefer
    try:
        from engine.device import pick_device as _pick
    except ImportError:
        _pick = None
    if _pick is not None:
        return _pick(prefer)
    if prefer:
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor,
                      temperature: float, alpha: float) -> torch.Tensor:
    """``alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE(student, labels)``."""
    t = temperature
    kd = F.kl_div(F.log_softmax(student / t, dim=1), F.softmax(teacher / t, dim=1),
                  reduction="batchmean") * (t * t)
    return alpha * kd + (1.0 - alpha) * F.cross_entropy(student, labels)


def _trainer_class() -> type:
    from engine.train import Trainer

    class DistillTrainer(Trainer):
        """A Trainer whose loss distills from a frozen teacher on the same batch."""

        def __init__(self, *args: Any, teacher: nn.Module, temperature: float, alpha: float,
                     **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.teacher = teacher.to(self.device).eval()
            for p in self.teacher.parameters():
                p.requires_grad_(False)
            self.temperature, self.alpha = temperature, alpha
            self._batch: torch.Tensor | None = None
            self._hook = self.model.register_forward_pre_hook(self._capture)

        def _capture(self, _module: nn.Module, args: tuple[Any, ...]) -> None:
            self._batch = args[0]

        def _loss(self, out: Any, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            logits, aux = (out[0], out[1]) if isinstance(out, tuple | list) else (out, None)
            with torch.no_grad():
                t_out = self.teacher(self._batch)
            t_logits = t_out[0] if isinstance(t_out, tuple | list) else t_out
            loss = distillation_loss(logits, t_logits, y, self.temperature, self.alpha)
            if aux is not None and self.aux_weight:
                loss = loss + self.aux_weight * F.cross_entropy(aux, y)
            return loss, logits

        def close(self) -> None:
            self._hook.remove()

    return DistillTrainer


def finetune(model: nn.Module, splits: Any, config: FinetuneConfig, *,
             teacher: nn.Module | None = None, emit: Callable[[Event], None] | None = None,
             token: CancelToken | None = None, job_id: str = "compress", run_id: int = 0,
             on_epoch: Callable[[Any], None] | None = None) -> dict[str, Any]:
    """Fine-tune ``model`` in place on ``splits`` (a ``DatasetSplits``).

    Returns the Trainer's result (best_val_accuracy, test_accuracy, epochs_done,
    stop_reason, history); the model ends with its best-validation weights, in eval mode.
    """
    from engine.train import Trainer

    if config.distill and teacher is None:
        raise ValueError("distillation needs the parent model as teacher")
    device = pick_device(config.device)
    kwargs: dict[str, Any] = dict(device=device, emit=emit, token=token, job_id=job_id,
                                  run_id=run_id, on_epoch=on_epoch,
                                  aux_weight=config.aux_weight)
    if config.distill:
        trainer = _trainer_class()(model, splits, config.train_config(), teacher=teacher,
                                   temperature=config.temperature, alpha=config.alpha,
                                   **kwargs)
    else:
        trainer = Trainer(model, splits, config.train_config(), **kwargs)
    try:
        result = trainer.fit()
    finally:
        if hasattr(trainer, "close"):
            trainer.close()
    model.eval()
    return result


def batches(splits: Any, which: str = "test", batch_size: int = 256
            ) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Prepared (normalized) CPU batches of one split of a ``DatasetSplits``."""
    from engine.data.loader import BatchIterator

    split = getattr(splits, which)
    return [(x.cpu().float(), y.cpu()) for x, y in BatchIterator(split, splits, batch_size)]


@torch.no_grad()
def evaluate(model: nn.Module, splits: Any, which: str = "test", *,
             batch_size: int = 256) -> float:
    """Top-1 accuracy (a fraction, as the Trainer reports it) on one split."""
    device = next(model.parameters()).device
    model.eval()
    correct = total = 0
    for x, y in batches(splits, which, batch_size):
        out = model(x.to(device))
        logits = out[0] if isinstance(out, tuple | list) else out
        correct += int((logits.argmax(1).cpu() == y).sum())
        total += len(y)
    return correct / max(1, total)
