"""The built-in dataset: scikit-learn's bundled 8x8 handwritten digits (no download)."""

from __future__ import annotations

import torch

from engine.data.base import DatasetSplits, TensorSplit, resize_batch, stratified_split


def load_digits(seed: int = 0, image_size: int | None = None) -> DatasetSplits:
    """1,797 images, 1x8x8 (or upsampled to ``image_size``), 10 classes, 70/15/15 split.

    Pixels are scaled to [0, 1] and normalized with the training split's mean and std.
    """
    from sklearn.datasets import load_digits as _sk_digits

    bunch = _sk_digits()
    x = torch.as_tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.as_tensor(bunch.target, dtype=torch.long)
    if image_size:
        x = resize_batch(x, int(image_size))
    train_idx, val_idx, test_idx = stratified_split(y, seed)
    mean, std = x[train_idx].mean(), x[train_idx].std()
    x = (x - mean) / std
    size = x.shape[-1]
    return DatasetSplits(
        train=TensorSplit(x[train_idx].contiguous(), y[train_idx]),
        val=TensorSplit(x[val_idx].contiguous(), y[val_idx]),
        test=TensorSplit(x[test_idx].contiguous(), y[test_idx]),
        classes=10, input_shape=(1, size, size), name="digits",
        class_names=[str(i) for i in range(10)],
        spec={"name": "digits", "seed": seed, "image_size": image_size},
        stored_normalization={"scale": 1 / 16, "mean": [float(mean)], "std": [float(std)]},
    )
