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
MAX_LISTED = 50    # unreadable files named one by one in the refusal


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


def _read(path: str, mode: str, size: int, channels: int) -> np.ndarray | str:
    """The image as (size, size, channels) uint8, or why it cannot be read."""
    from PIL import Image

    try:
        if Path(path).stat().st_size == 0:
            return "empty file (0 bytes)"
        with Image.open(path) as img:
            img = img.convert(mode)
            if img.size != (size, size):
                img = img.resize((size, size), Image.BILINEAR)
            return np.asarray(img, dtype=np.uint8).reshape(size, size, channels)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        return f"not a readable image ({exc})"


def _load_images(samples: list[tuple[str, int]], size: int, channels: int
                 ) -> tuple[torch.Tensor, torch.Tensor, list[tuple[str, str]]]:
    """Every readable image of ``samples`` and the (path, reason) of every other one."""
    if len(samples) * channels * size * size > MAX_BYTES:
        raise DatasetError(f"{len(samples)} images at {size}x{size} do not fit in memory; "
                           "pass a smaller size (--input CxHxW)")
    mode = "L" if channels == 1 else "RGB"
    x = np.empty((len(samples), size, size, channels), dtype=np.uint8)
    keep: list[int] = []
    bad: list[tuple[str, str]] = []
    for i, (path, _label) in enumerate(samples):
        got = _read(path, mode, size, channels)
        if isinstance(got, str):
            bad.append((path, got))
        else:
            x[i] = got
            keep.append(i)
    y = torch.as_tensor([samples[i][1] for i in keep], dtype=torch.long)
    return torch.from_numpy(x[keep]).permute(0, 3, 1, 2).contiguous(), y, bad


def _refuse_bad(root: Path, bad: list[tuple[str, str]]) -> DatasetError:
    shown = [f"  {path}: {why}" for path, why in bad[:MAX_LISTED]]
    if len(bad) > MAX_LISTED:
        shown.append(f"  ... and {len(bad) - MAX_LISTED} more")
    return DatasetError(f"{root}: {len(bad)} unreadable image(s) (leave them out with "
                        f"--skip-bad-images, or 'Skip unreadable images' in the studio):\n"
                        + "\n".join(shown))


def _probe(samples: list[tuple[str, int]]) -> tuple[int, int]:
    """(channels, size) of the first readable image: grayscale stays 1 channel."""
    from PIL import Image

    for path, _label in samples:
        try:
            with Image.open(path) as img:
                return (1 if img.mode in ("L", "1", "I;16", "I") else 3), max(img.size)
        except (OSError, ValueError):
            continue  # reported with every other unreadable file
    raise DatasetError(f"{Path(samples[0][0]).parent.parent}: none of the {len(samples)} "
                       f"image files is readable")


def _stats(x: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    xf = x.float().div_(255.0)
    mean = xf.mean(dim=(0, 2, 3))
    std = xf.std(dim=(0, 2, 3)).clamp_min(1e-3)
    return tuple(float(v) for v in mean), tuple(float(v) for v in std)


def _without_bad(parts: dict[str, list[tuple[str, int]]], bad: list[tuple[str, str]],
                 folders: dict[str, Path], classes: list[str]) -> None:
    """After skipping unreadable files, every class still needs a readable image and the
    split its images feed (the same minimums as before skipping)."""
    skipped = {path for path, _why in bad}
    for key, samples in parts.items():
        kept = [s for s in samples if s[0] not in skipped]
        counts = Counter(label for _p, label in kept)
        for i, name in enumerate(classes):
            if counts[i] == 0:
                raise DatasetError(f"{folders[key] / name}: no readable image left after "
                                   f"skipping {len(bad)} unreadable file(s)")
        minimum = {"all": MIN_PER_CLASS, "train": 2}.get(key, 1)
        if key != "train" or not {"val", "test"} <= set(parts):
            _check_splittable(folders[key], classes, kept, minimum)


def load_image_folder(path: str | Path, *, seed: int = 0, image_size: int | None = None,
                      skip_bad_images: bool = False) -> DatasetSplits:
    """Images under ``path`` resized to ``image_size`` (default: first image, at most 32).

    Unreadable or empty files are all reported together; ``skip_bad_images`` leaves them
    out instead (listed in ``DatasetSplits.skipped``)."""
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
    channels, probe_size = _probe([s for samples in parts.values() for s in samples])
    size = int(image_size or min(probe_size, DEFAULT_SIZE))
    loaded = {k: _load_images(v, size, channels) for k, v in parts.items()}
    bad = [b for _x, _y, part_bad in loaded.values() for b in part_bad]
    if bad and not skip_bad_images:
        raise _refuse_bad(root, bad)
    if bad:
        _without_bad(parts, bad, {"all": root, **presplit}, classes)
    tensors = {k: (x, y) for k, (x, y, _bad) in loaded.items()}
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
        spec={"name": str(root), "seed": seed, "image_size": image_size,
              **({"skip_bad_images": True} if skip_bad_images else {})},
        skipped=[f"{path}: {why}" for path, why in bad],
    )
