"""Dataset containers: in-memory tensor splits, the split record, the error type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


class DatasetError(Exception):
    """A dataset could not be loaded; the message names the path and what was expected."""


@dataclass
class TensorSplit:
    """One split held in memory: images ``x`` (N, C, H, W) and integer labels ``y`` (N,).

    ``x`` is either float32 already normalized, or uint8 in [0, 255] that
    ``DatasetSplits.prepare`` converts per batch (keeps CIFAR-sized data small).
    """

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def subset(self, indices: torch.Tensor) -> TensorSplit:
        return TensorSplit(self.x[indices], self.y[indices])

    def to(self, device: torch.device | str) -> TensorSplit:
        return TensorSplit(self.x.to(device), self.y.to(device))


@dataclass
class Augment:
    """Batched train-time augmentation settings (applied by ``engine.data.augment``)."""

    crop_padding: int = 0
    flip: bool = False
    cutout: int = 0

    def active(self) -> bool:
        return bool(self.crop_padding or self.flip or self.cutout)


@dataclass
class DatasetSplits:
    """Train/validation/test splits plus what a builder needs to adapt a design."""

    train: TensorSplit
    val: TensorSplit
    test: TensorSplit
    classes: int
    input_shape: tuple[int, int, int]
    name: str
    mean: tuple[float, ...] | None = None   # per channel, applied after uint8 -> [0, 1]
    std: tuple[float, ...] | None = None
    augment: Augment = field(default_factory=Augment)
    class_names: list[str] = field(default_factory=list)
    spec: dict[str, Any] = field(default_factory=dict)  # how to load it again (for resume)
    # splits stored already normalized (digits): how raw pixels were turned into them,
    # {"scale": ..., "mean": [...], "std": [...]}; None: uint8 pixels, then mean/std above
    stored_normalization: dict[str, Any] | None = None
    skipped: list[str] = field(default_factory=list)  # "path: why" of files left out

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """A batch as normalized float32 (no-op for splits stored normalized)."""
        if x.dtype == torch.uint8:
            x = x.float().div_(255.0)
        if self.mean is not None and self.std is not None:
            mean = torch.tensor(self.mean, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
            std = torch.tensor(self.std, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
            x = (x - mean) / std
        return x

    def to(self, device: torch.device | str) -> DatasetSplits:
        """A copy with every split moved to ``device``."""
        return DatasetSplits(self.train.to(device), self.val.to(device), self.test.to(device),
                             self.classes, self.input_shape, self.name, self.mean, self.std,
                             self.augment, list(self.class_names), dict(self.spec),
                             self.stored_normalization, list(self.skipped))

    def preprocessing(self) -> dict[str, Any]:
        """How a raw image becomes this data's model input (recorded with exports):
        ``x = (pixel * scale - mean) / std`` per channel, NCHW, in ``channel_order``."""
        channels = self.input_shape[0]
        if self.stored_normalization:
            norm = dict(self.stored_normalization)
        else:
            norm = {"scale": 1 / 255, "mean": list(self.mean or [0.0] * channels),
                    "std": list(self.std or [1.0] * channels)}
        order = {1: "grayscale", 3: "RGB"}.get(channels, f"{channels} channels")
        return {"layout": "NCHW", "channel_order": order, "input_shape": list(self.input_shape),
                "scale": float(norm["scale"]), "mean": [float(v) for v in norm["mean"]],
                "std": [float(v) for v in norm["std"]],
                "formula": "x = (pixel * scale - mean) / std, per channel"}

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def stratified_split(y: torch.Tensor, seed: int, fractions: tuple[float, float, float]
                     = (0.70, 0.15, 0.15)) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Seeded, stratified index split into train/val/test (same seed -> same split)."""
    from sklearn.model_selection import train_test_split

    idx = torch.arange(len(y)).numpy()
    labels = y.numpy()
    rest = fractions[1] + fractions[2]
    train_idx, rest_idx = train_test_split(idx, test_size=rest, random_state=seed,
                                           stratify=labels)
    val_share = fractions[1] / rest
    val_idx, test_idx = train_test_split(rest_idx, train_size=val_share, random_state=seed,
                                         stratify=labels[rest_idx])
    return (torch.as_tensor(train_idx), torch.as_tensor(val_idx), torch.as_tensor(test_idx))


def resize_batch(x: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize of an (N, C, H, W) tensor to ``size`` x ``size``; keeps dtype."""
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    was_uint8 = x.dtype == torch.uint8
    out = torch.nn.functional.interpolate(x.float(), size=(size, size), mode="bilinear",
                                          align_corners=False)
    if was_uint8:
        out = out.round_().clamp_(0, 255).to(torch.uint8)
    return out
