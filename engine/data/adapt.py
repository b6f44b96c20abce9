"""Fit a design's input and classifier to a dataset."""

from __future__ import annotations

from typing import Any

from engine.data.base import DatasetSplits


def adapt_design(design: Any, splits: DatasetSplits) -> Any:
    """A copy of ``design`` whose input shape and class count match ``splits``.

    Cell designs get ``macro.input_shape`` and ``macro.classes``; block stacks get
    ``in_channels``, ``resolution`` (the dataset's height) and ``classes``.
    """
    out = design.copy()
    c, h, _w = splits.input_shape
    if getattr(out, "kind", None) == "cell":
        out.macro.input_shape = (int(c), int(h), int(splits.input_shape[2]))
        out.macro.classes = int(splits.classes)
    elif getattr(out, "kind", None) == "stack":
        out.in_channels, out.resolution, out.classes = int(c), int(h), int(splits.classes)
    else:
        raise TypeError(f"cannot adapt {type(design).__name__} to a dataset")
    return out
