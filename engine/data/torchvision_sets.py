"""CIFAR-10/100, MNIST and FashionMNIST read from a local folder into uint8 tensors.

Files are parsed directly (CIFAR binary or python batches through a restricted
unpickler that only rebuilds numpy arrays; MNIST idx files), so nothing in a user
folder can execute code.  ``download=True`` asks torchvision to fetch the files first.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.data.base import (
    Augment,
    DatasetError,
    DatasetSplits,
    TensorSplit,
    resize_batch,
)

CIFAR_MEAN = {"cifar10": (0.4914, 0.4822, 0.4465), "cifar100": (0.5071, 0.4865, 0.4409)}
CIFAR_STD = {"cifar10": (0.2470, 0.2435, 0.2616), "cifar100": (0.2673, 0.2564, 0.2762)}
MNIST_STATS = {"mnist": ((0.1307,), (0.3081,)), "fashion-mnist": ((0.2860,), (0.3530,))}
MNIST_DIRS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
VAL_FRACTION = 0.1
CLASS_NAMES = {  # torchvision's class order (recorded with exports)
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                "truck"],
    "mnist": [str(i) for i in range(10)],
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"],
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Rebuilds dicts, lists, bytes and numpy arrays; refuses every other global."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _read_cifar_python(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        with path.open("rb") as fh:
            entry = _NumpyOnlyUnpickler(fh, encoding="latin1").load()
        data = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(entry[label_key], dtype=np.int64)
    except Exception as exc:  # noqa: BLE001 - reported with the path
        raise DatasetError(f"{path}: not a readable CIFAR batch ({exc})") from exc
    return data, labels


def _read_cifar_binary(path: Path, label_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    raw = np.fromfile(path, dtype=np.uint8)
    record = label_bytes + 3072
    if raw.size == 0 or raw.size % record:
        raise DatasetError(f"{path}: size {raw.size} bytes is not a multiple of the "
                           f"{record}-byte CIFAR record")
    rows = raw.reshape(-1, record)
    return rows[:, label_bytes:].reshape(-1, 3, 32, 32), rows[:, label_bytes - 1].astype(np.int64)


def _cifar_files(name: str, root: Path) -> tuple[str, list[Path], list[Path]]:
    """(format, train files, test files) for the first layout found under ``root``."""
    if name == "cifar10":
        layouts = [("python", "cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)],
                    ["test_batch"]),
                   ("binary", "cifar-10-batches-bin",
                    [f"data_batch_{i}.bin" for i in range(1, 6)], ["test_batch.bin"])]
        expected = "cifar-10-batches-py/data_batch_1..5 and test_batch"
    else:
        layouts = [("python", "cifar-100-python", ["train"], ["test"]),
                   ("binary", "cifar-100-binary", ["train.bin"], ["test.bin"])]
        expected = "cifar-100-python/train and test"
    for fmt, folder, train, test in layouts:
        for base in (root / folder, root):
            files = [base / f for f in train], [base / f for f in test]
            if all(p.is_file() for p in files[0] + files[1]):
                return fmt, files[0], files[1]
    pretty = "CIFAR-10" if name == "cifar10" else "CIFAR-100"
    raise DatasetError(f"no {pretty} batches in {root} (expected {expected}); "
                       "pass --download or point --dataset at the folder")


def _load_cifar(name: str, root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    fmt, train_files, test_files = _cifar_files(name, root)

    def read(files: list[Path]) -> tuple[np.ndarray, np.ndarray]:
        parts = []
        for f in files:
            if fmt == "python":
                parts.append(_read_cifar_python(f, "labels" if name == "cifar10"
                                                else "fine_labels"))
            else:
                parts.append(_read_cifar_binary(f, 1 if name == "cifar10" else 2))
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    return (*read(train_files), *read(test_files))


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from exc
    if len(raw) < 8 or raw[0] != 0 or raw[1] != 0 or raw[2] != 8:
        raise DatasetError(f"{path}: not an idx file of unsigned bytes")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise DatasetError(f"{path}: header says {dims} but holds {data.size} values")
    return data.reshape(dims).copy()


def _mnist_file(name: str, root: Path, stem: str) -> Path:
    for base in (root / MNIST_DIRS[name] / "raw", root / "raw", root):
        for candidate in (base / stem, base / f"{stem}.gz"):
            if candidate.is_file():
                return candidate
    raise DatasetError(f"no {MNIST_DIRS[name]} files in {root} (expected "
                       f"{MNIST_DIRS[name]}/raw/{stem}[.gz]); pass --download or point "
                       "--dataset at the folder")


def _load_mnist(name: str, root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    out = []
    for prefix in ("train", "t10k"):
        images = _read_idx(_mnist_file(name, root, f"{prefix}-images-idx3-ubyte"))
        labels = _read_idx(_mnist_file(name, root, f"{prefix}-labels-idx1-ubyte"))
        if len(images) != len(labels):
            raise DatasetError(f"{root}: {len(images)} {prefix} images but {len(labels)} labels")
        out += [images[:, None, :, :], labels.astype(np.int64)]
    return out[0], out[1], out[2], out[3]


def _download(name: str, root: Path) -> None:
    import torchvision.datasets as tvd

    cls = {"cifar10": tvd.CIFAR10, "cifar100": tvd.CIFAR100, "mnist": tvd.MNIST,
           "fashion-mnist": tvd.FashionMNIST}[name]
    try:
        for train in (True, False):
            cls(str(root), train=train, download=True)
    except Exception as exc:  # noqa: BLE001 - network errors vary
        raise DatasetError(f"could not download {name} into {root}: {exc}") from exc


def load_torchvision(name: str, root: str | Path, *, download: bool = False, seed: int = 0,
                     image_size: int | None = None) -> DatasetSplits:
    """A torchvision dataset from ``root`` as uint8 tensors: train/val (90/10) + official test."""
    root = Path(root).expanduser()
    if download:
        root.mkdir(parents=True, exist_ok=True)
        _download(name, root)
    if not root.is_dir():
        raise DatasetError(f"dataset folder {root} does not exist; pass --download or point "
                           "--data-root at the folder")
    if name in ("cifar10", "cifar100"):
        xtr, ytr, xte, yte = _load_cifar(name, root)
        mean, std = CIFAR_MEAN[name], CIFAR_STD[name]
        augment = Augment(crop_padding=4, flip=True)
        classes = 10 if name == "cifar10" else 100
    else:
        xtr, ytr, xte, yte = _load_mnist(name, root)
        mean, std = MNIST_STATS[name]
        augment = Augment(crop_padding=2 if name == "mnist" else 0, flip=name != "mnist")
        classes = 10
    x_train, y_train = torch.from_numpy(np.ascontiguousarray(xtr)), torch.from_numpy(ytr)
    x_test, y_test = torch.from_numpy(np.ascontiguousarray(xte)), torch.from_numpy(yte)
    if int(y_train.max()) >= classes or int(y_train.min()) < 0:
        raise DatasetError(f"{root}: labels outside 0..{classes - 1}")
    if image_size:
        x_train, x_test = resize_batch(x_train, image_size), resize_batch(x_test, image_size)
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y_train))
    n_val = max(1, int(round(VAL_FRACTION * len(idx))))
    stratify = ytr if n_val >= len(np.unique(ytr)) else None  # tiny sets: plain split
    tr_idx, va_idx = train_test_split(idx, test_size=n_val, random_state=seed,
                                      stratify=stratify)
    tr, va = torch.as_tensor(np.sort(tr_idx)), torch.as_tensor(np.sort(va_idx))
    c, h, w = x_train.shape[1:]
    return DatasetSplits(
        train=TensorSplit(x_train[tr].contiguous(), y_train[tr]),
        val=TensorSplit(x_train[va].contiguous(), y_train[va]),
        test=TensorSplit(x_test, y_test), classes=classes, input_shape=(int(c), int(h), int(w)),
        name=name, mean=mean, std=std, augment=augment,
        class_names=list(CLASS_NAMES.get(name, [])),
        spec={"name": name, "root": str(root), "seed": seed, "image_size": image_size},
    )
