"""A fast in-memory batch iterator: a shuffled index tensor and slicing."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from engine.data import augment as _augment
from engine.data.base import Augment, DatasetSplits, TensorSplit


class BatchIterator:
    """Yields ``(x, y)`` batches of a tensor split, prepared (normalized) and augmented.

    Shuffling and augmentation draw from ``generator`` only, so saving its state
    resumes the exact same batches.
    """

    def __init__(self, split: TensorSplit, splits: DatasetSplits, batch_size: int, *,
                 shuffle: bool = False, augment: Augment | None = None,
                 generator: torch.Generator | None = None, drop_last: bool = False) -> None:
        self.split, self.splits = split, splits
        self.batch_size = max(1, int(batch_size))
        self.shuffle, self.drop_last = shuffle, drop_last
        self.augment = augment if augment is not None and augment.active() else None
        self.generator = generator

    def __len__(self) -> int:
        n = len(self.split)
        full, rest = divmod(n, self.batch_size)
        # a lone trailing example would break batch norm on 1x1 maps in training
        drop = self.drop_last or (self.shuffle and rest == 1 and full > 0)
        return full if drop else full + (rest > 0)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.split)
        x_all, y_all = self.split.x, self.split.y
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator,
                                   device=self.generator.device if self.generator else "cpu")
            order = order.to(x_all.device)
        else:
            order = None
        for b in range(len(self)):
            lo, hi = b * self.batch_size, min(n, (b + 1) * self.batch_size)
            if order is None:
                xb, yb = x_all[lo:hi], y_all[lo:hi]
            else:
                idx = order[lo:hi]
                xb, yb = x_all.index_select(0, idx), y_all.index_select(0, idx)
            xb = self.splits.prepare(xb)
            if self.augment is not None:
                assert self.generator is not None, "augmentation needs a generator"
                xb = _augment.apply(xb, self.augment, self.generator)
            yield xb, yb
