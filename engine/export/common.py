"""Shared helpers: the error type, eval-mode context, sample inputs, file hashes."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

TOLERANCE = 1e-4


class ExportError(Exception):
    """An export failed; ``op`` names the offending operator when one is to blame."""

    def __init__(self, message: str, op: str | None = None) -> None:
        super().__init__(message)
        self.op = op


_OP_PATTERNS = (
    re.compile(r"operator '([\w:.]+)'"),
    re.compile(r"\b(aten[.:]{1,2}[\w.]+)"),
    re.compile(r"\b(prim::\w+|onnx::\w+)"),
)


def offending_op(message: str) -> str | None:
    """The operator an exporter error message blames, e.g. ``aten::cummax``."""
    for pattern in _OP_PATTERNS:
        match = pattern.search(message)
        if match:
            return match.group(1).removesuffix(".default")
    return None


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """``model`` in eval mode (single output, no dropout) restored afterwards."""
    was = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was)


def sample_input(input_shape: tuple[int, ...], batch: int = 2, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn((batch, *input_shape), generator=gen)


def logits_of(out: object) -> torch.Tensor:
    return out[0] if isinstance(out, (tuple, list)) else out  # type: ignore[index,return-value]


def file_digest(path: str | Path) -> tuple[str, int]:
    """(sha256, bytes) of a file, or of every file in a directory (sorted by name)."""
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest, total = hashlib.sha256(), 0
    for f in files:
        if path.is_dir():
            digest.update(str(f.relative_to(path)).encode() + b"\0")
        with f.open("rb") as fh:
            for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(chunk)
                total += len(chunk)
    return digest.hexdigest(), total
