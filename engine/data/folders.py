"""Image folders (one subfolder per class, torchvision ImageFolder layout) held in memory.

Either ``PATH/<class>/*.png`` (split 70/15/15, stratified, seeded) or
``PATH/train/<class>/...`` with ``val/`` and/or ``test/`` beside it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import torch

from engine.data.base import (
    Augment,
    DatasetError,
    DatasetSplits,
    TensorSplit,
    stratified_split,
)

MAX_BYTES = 2 * 1024**3  # uint8 pixels held in memory at most
DEFAULT_SIZE = 32
MIN_PER_CLASS = 7  # the smallest class count a stratified 70/15/15 split accepts


def _samples(folder: Path) -> tuple[list[str], list[tuple[str, int]]]:
    from torchvision.datasets.folder import IMG_EXTENSIONS, make_dataset

    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DatasetError(f"{folder}: no class subfolders (expected one folder per class, "
                           "e.g. cats/ and dogs/, holding images)")
    index = {c: i for i, c in enumerate(classes)}
    try:
        samples = make_dataset(str(folder), index, extensions=IMG_EXTENSIONS,
                               allow_empty=True)
    except (FileNotFoundError, OSError) as exc:
        raise DatasetError(f"{folder}: {exc}") from exc
    if not samples:
        raise DatasetError(f"{folder}: class folders hold no images "
                           f"(expected files ending in {', '.join(IMG_EXTENSIONS[:4])}...)")
    counts = Counter(label for _path, label in samples)
    empty = [c for c in classes if counts[index[c]] == 0]
    if empty:
        raise DatasetError(f"{folder / empty[0]}: class folder holds no images "
                           f"(every class subfolder needs images)")
    if len(classes) < 2:
        raise DatasetError(f"{folder}: only one class subfolder ({classes[0]!r}); a classifier "
                           "needs at least two, one folder per class")
    return classes, samples


def _check_splittable(folder: Path, classes: list[str], samples: list[tuple[str, int]],
                      minimum: int) -> None:
    """Every class needs ``minimum`` images to be split into train/val/test."""
    counts = Counter(label for _path, label in samples)
    small = min(range(len(classes)), key=lambda i: counts[i])
    if counts[small] < minimum:
        raise DatasetError(f"{folder / classes[small]}: {counts[small]} image(s); each class "
                           f"needs at least {minimum} to be split into train, validation and "
                           "test sets")


def _load_images(samples: list[tuple[str, int]], size: int,
                 channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    from PIL import Image

    if len(samples) * channels * size * size > MAX_BYTES:
        raise DatasetError(f"{len(samples)} images at {size}x{size} do not fit in memory; "
                           "pass a smaller size (--input CxHxW)")
    mode = "L" if channels == 1 else "RGB"
    x = np.empty((len(samples), size, size, channels), dtype=np.uint8)
    for i, (path, _label) in enumerate(samples):
        try:
            with Image.open(path) as img:
                img = img.convert(mode)
                if img.size != (size, size):
                    img = img.resize((size, size), Image.BILINEAR)
                x[i] = np.asarray(img, dtype=np.uint8).reshape(size, size, channels)
        except OSError as exc:
            raise DatasetError(f"{path}: not a readable image ({exc})") from exc
    y = torch.as_tensor([label for _p, label in samples], dtype=torch.long)
    return torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), y


def _probe(path: str) -> tuple[int, int]:
    """(channels, size) of the first image: grayscale stays 1 channel."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            return (1 if img.mode in ("L", "1", "I;16", "I") else 3), max(img.size)
    except OSError as exc:
        raise DatasetError(f"{path}: not a readable image ({exc})") from exc


def _stats(x: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    xf = x.float().div_(255.0)
    mean = xf.mean(dim=(0, 2, 3))
    std = xf.std(dim=(0, 2, 3)).clamp_min(1e-3)
    return tuple(float(v) for v in mean), tuple(float(v) for v in std)


def load_image_folder(path: str | Path, *, seed: int = 0,
                      image_size: int | None = None) -> DatasetSplits:
    """Images under ``path`` resized to ``image_size`` (default: first image, at most 32)."""
    root = Path(path).expanduser()
    if not root.exists():
        raise DatasetError(f"dataset path {root} does not exist (expected a folder with one "
                           "subfolder of images per class)")
    if not root.is_dir():
        raise DatasetError(f"dataset path {root} is a file (expected a folder with one "
                           "subfolder of images per class)")
    presplit = {s: root / s for s in ("train", "val", "test") if (root / s).is_dir()}
    if "train" in presplit and len(presplit) > 1:
        classes, train_samples = _samples(presplit["train"])
        if "val" not in presplit or "test" not in presplit:  # val/test held out of train
            _check_splittable(presplit["train"], classes, train_samples, 2)
        parts = {"train": train_samples}
        for s in ("val", "test"):
            if s in presplit:
                names, samples = _samples(presplit[s])
                if names != classes:
                    raise DatasetError(f"{presplit[s]}: classes {names} differ from train's "
                                       f"{classes}")
                parts[s] = samples
    else:
        classes, samples = _samples(root)
        _check_splittable(root, classes, samples, MIN_PER_CLASS)
        parts = {"all": samples}
    first = next(iter(parts.values()))[0][0]
    channels, probe_size = _probe(first)
    size = int(image_size or min(probe_size, DEFAULT_SIZE))
    tensors = {k: _load_images(v, size, channels) for k, v in parts.items()}
    if "all" in tensors:
        x, y = tensors.pop("all")
        try:
            tr, va, te = stratified_split(y, seed)
        except ValueError as exc:  # class sizes the stratified split cannot serve
            raise DatasetError(f"{root}: cannot split into train, validation and test sets "
                               f"({exc})") from exc
        tensors = {"train": (x[tr], y[tr]), "val": (x[va], y[va]), "test": (x[te], y[te])}
    else:
        x, y = tensors["train"]
        if "val" not in tensors or "test" not in tensors:
            from sklearn.model_selection import train_test_split

            try:
                tr, held = train_test_split(np.arange(len(y)), test_size=0.15,
                                            random_state=seed, stratify=y.numpy())
            except ValueError as exc:
                raise DatasetError(f"{presplit['train']}: too few images to hold out a "
                                   f"validation set ({exc})") from exc
            tensors["train"] = (x[tr], y[tr])
            tensors.setdefault("val", (x[held], y[held]))
            tensors.setdefault("test", (x[held], y[held]))
    mean, std = _stats(tensors["train"][0])
    return DatasetSplits(
        train=TensorSplit(*tensors["train"]), val=TensorSplit(*tensors["val"]),
        test=TensorSplit(*tensors["test"]), classes=len(classes),
        input_shape=(channels, size, size), name=root.name or str(root), mean=mean, std=std,
        augment=Augment(flip=channels == 3), class_names=classes,
        spec={"name": str(root), "seed": seed, "image_size": image_size},
    )
