"""Datasets: the built-in digits, torchvision sets from a local folder, image folders.

``load_dataset(name_or_path)`` returns ``DatasetSplits`` with in-memory tensor splits;
``BatchIterator`` walks them; ``adapt_design`` fits a design to a dataset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.data.adapt import adapt_design
from engine.data.base import Augment, DatasetError, DatasetSplits, TensorSplit

BUILTIN = ("digits",)
TORCHVISION = ("cifar10", "cifar100", "mnist", "fashion-mnist")
ALIASES = {"cifar-10": "cifar10", "cifar-100": "cifar100", "fashion_mnist": "fashion-mnist",
           "fashionmnist": "fashion-mnist"}
DATASET_NAMES = BUILTIN + TORCHVISION

__all__ = ["Augment", "BatchIterator", "DATASET_NAMES", "DatasetError", "DatasetSplits",
           "TensorSplit", "adapt_design", "default_root", "load_dataset", "load_spec",
           "skipped_note"]


def default_root() -> Path:
    """Where torchvision datasets live unless ``root`` says otherwise."""
    from engine.paths import data_dir

    return data_dir() / "datasets"


def _detect(path: Path) -> str | None:
    """The torchvision dataset a folder holds, if any (else it is an image folder)."""
    marks = {"cifar10": ("cifar-10-batches-py", "cifar-10-batches-bin"),
             "cifar100": ("cifar-100-python", "cifar-100-binary"),
             "mnist": ("MNIST",), "fashion-mnist": ("FashionMNIST",)}
    for name, folders in marks.items():
        if path.name in folders or any((path / f).is_dir() for f in folders):
            return name
    return None


def load_dataset(name_or_path: str, *, root: str | Path | None = None, download: bool = False,
                 seed: int = 0, image_size: int | None = None,
                 skip_bad_images: bool = False) -> DatasetSplits:
    """Load a dataset by name (``digits``, ``cifar10``, ...) or from a folder path.

    Raises ``DatasetError`` naming the path and what was expected when files are missing;
    an image folder's unreadable files are all named, or left out with
    ``skip_bad_images`` (``DatasetSplits.skipped`` lists them).
    """
    key = ALIASES.get(name_or_path.lower(), name_or_path.lower())
    if key == "digits":
        from engine.data.digits import load_digits

        return load_digits(seed=seed, image_size=image_size)
    if key in TORCHVISION:
        from engine.data.torchvision_sets import load_torchvision

        return load_torchvision(key, root if root is not None else default_root(),
                                download=download, seed=seed, image_size=image_size)
    path = Path(name_or_path).expanduser()
    if not path.exists():
        raise DatasetError(f"dataset {name_or_path!r} is neither a known name "
                           f"({', '.join(DATASET_NAMES)}) nor an existing folder")
    detected = _detect(path)
    if detected is not None:
        from engine.data.torchvision_sets import load_torchvision

        base = path.parent if path.name in ("cifar-10-batches-py", "cifar-10-batches-bin",
                                            "cifar-100-python", "cifar-100-binary") else path
        return load_torchvision(detected, base, download=False, seed=seed,
                                image_size=image_size)
    from engine.data.folders import load_image_folder

    return load_image_folder(path, seed=seed, image_size=image_size,
                             skip_bad_images=skip_bad_images)


def skipped_note(splits: DatasetSplits, listed: int = 10) -> str | None:
    """What ``skip_bad_images`` left out, for the log (None when nothing was)."""
    if not splits.skipped:
        return None
    lines = [f"  {line}" for line in splits.skipped[:listed]]
    if len(splits.skipped) > listed:
        lines.append(f"  ... and {len(splits.skipped) - listed} more")
    return (f"{splits.name}: left out {len(splits.skipped)} unreadable image(s) "
            f"(--skip-bad-images):\n" + "\n".join(lines))


def load_spec(spec: dict[str, Any]) -> DatasetSplits:
    """Reload a dataset from the ``spec`` a previous ``load_dataset`` recorded."""
    return load_dataset(spec["name"], root=spec.get("root"), seed=int(spec.get("seed", 0)),
                        image_size=spec.get("image_size"),
                        skip_bad_images=bool(spec.get("skip_bad_images", False)))


def __getattr__(name: str) -> Any:
    if name == "BatchIterator":
        from engine.data.loader import BatchIterator

        return BatchIterator
    raise AttributeError(name)
