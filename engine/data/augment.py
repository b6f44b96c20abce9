"""Train-time augmentation as batched tensor ops (no per-sample Python)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.data.base import Augment


def random_crop(x: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Zero-pad by ``padding`` and crop each image back to its size at a random offset."""
    if padding <= 0:
        return x
    n, c, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    gen_device = generator.device
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator, device=gen_device)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator, device=gen_device)
    dy, dx = dy.to(x.device), dx.to(x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device)[None, :])  # (n, h)
    cols = (dx[:, None] + torch.arange(w, device=x.device)[None, :])  # (n, w)
    rows = rows[:, None, :, None].expand(n, c, h, w + 2 * padding)
    out = padded.gather(2, rows)
    cols = cols[:, None, None, :].expand(n, c, h, w)
    return out.gather(3, cols)


def random_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror each image left-right with probability 1/2."""
    mask = torch.rand(x.shape[0], generator=generator, device=generator.device) < 0.5
    mask = mask.to(x.device)[:, None, None, None]
    return torch.where(mask, x.flip(3), x)


def cutout(x: torch.Tensor, length: int, generator: torch.Generator) -> torch.Tensor:
    """Zero one ``length`` x ``length`` square per image, centred at a random pixel."""
    if length <= 0:
        return x
    n, _c, h, w = x.shape
    cy = torch.randint(0, h, (n,), generator=generator, device=generator.device).to(x.device)
    cx = torch.randint(0, w, (n,), generator=generator, device=generator.device).to(x.device)
    ys = torch.arange(h, device=x.device)[None, :]
    xs = torch.arange(w, device=x.device)[None, :]
    half = length // 2
    in_y = ((ys >= (cy[:, None] - half)) & (ys < (cy[:, None] - half + length)))  # (n, h)
    in_x = ((xs >= (cx[:, None] - half)) & (xs < (cx[:, None] - half + length)))  # (n, w)
    hole = (in_y[:, :, None] & in_x[:, None, :])[:, None, :, :]
    return x.masked_fill(hole, 0)


def apply(x: torch.Tensor, aug: Augment, generator: torch.Generator) -> torch.Tensor:
    """All augmentations in ``aug`` on a normalized float batch."""
    if aug.crop_padding:
        x = random_crop(x, aug.crop_padding, generator)
    if aug.flip:
        x = random_flip(x, generator)
    if aug.cutout:
        x = cutout(x, aug.cutout, generator)
    return x
