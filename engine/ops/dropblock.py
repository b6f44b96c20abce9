"""DropBlock (Ghiasi, Lin & Le 2018): drop contiguous squares of a feature map in training.

``DropBlock2d(block_size)`` is the identity in eval mode and while its ``drop_prob`` is 0;
a trainer raises ``drop_prob`` (1 - keep probability) along the paper's linear schedule
with ``set_dropblock``.  Each sample and channel gets its own mask: seeds are drawn with
rate ``gamma`` where a whole block fits, every seed drops the ``block_size`` square below
and to its right, and the kept activations are rescaled by the kept fraction.  ``gamma``
is the paper's ``drop_prob / block_size^2 * feat^2 / (feat - block_size + 1)^2`` per axis.
No parameters or buffers: a network's state dict is the same with or without it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["DropBlock2d", "dropblock_modules", "dropblock_rate", "set_dropblock"]


class DropBlock2d(nn.Module):
    def __init__(self, block_size: int, drop_prob: float = 0.0) -> None:
        super().__init__()
        if int(block_size) < 1:
            raise ValueError(f"DropBlock block size must be at least 1, got {block_size}")
        self.block_size = int(block_size)
        self.drop_prob = float(drop_prob)

    def extra_repr(self) -> str:
        return f"block_size={self.block_size}, drop_prob={self.drop_prob:g}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.drop_prob <= 0.0:
            return x
        n, c, h, w = x.shape
        k = min(self.block_size, h, w)
        gamma = self.drop_prob / (k * k) * (h * w) / ((h - k + 1) * (w - k + 1))
        seeds = (torch.rand(n, c, h - k + 1, w - k + 1, device=x.device) < gamma).to(x.dtype)
        # a seed at (i, j) drops rows i..i+k-1 and columns j..j+k-1
        dropped = F.max_pool2d(F.pad(seeds, (k - 1, k - 1, k - 1, k - 1)), k, stride=1)
        keep = 1.0 - dropped
        return x * keep * (keep.numel() / keep.sum().clamp(min=1.0))


def dropblock_modules(model: nn.Module) -> list[DropBlock2d]:
    return [m for m in model.modules() if isinstance(m, DropBlock2d)]


def dropblock_rate(keep_prob: float, step: int, total_steps: int) -> float:
    """The drop probability at ``step`` of ``total_steps``: linear from 0 to ``1 - keep_prob``
    (the paper's schedule of the keep probability from 1 down to its target)."""
    if total_steps <= 1:
        return 1.0 - keep_prob
    return (1.0 - keep_prob) * min(1.0, step / (total_steps - 1))


def set_dropblock(model: nn.Module, drop_prob: float) -> int:
    """Set every DropBlock's drop probability; the number of DropBlock modules."""
    mods = dropblock_modules(model)
    for m in mods:
        m.drop_prob = float(drop_prob)
    return len(mods)
