"""PyTorch modules for the cell operations named in ``engine.ops.registry``.

Each factory has the signature ``factory(C, stride, affine=True) -> nn.Module`` and
maps ``C`` channels to ``C`` channels, halving the spatial size (rounding up) when
``stride == 2``.  The DARTS ops follow quark0/darts ``cnn/operations.py``; the
``nor_conv`` ops follow NAS-Bench-201 (ReLU, conv, BN).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "DilConv", "FactorizedReduce", "Identity", "ReLUConvBN", "SepConv", "Zero",
    "avg_pool_3x3", "conv_7x1_1x7", "dil_conv_3x3", "dil_conv_5x5", "max_pool_3x3",
    "nor_conv_1x1", "nor_conv_3x3", "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7", "skip",
    "zero",
]


class Identity(nn.Module):
    """Passes its input through (a distinct class so drop path can skip it)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class Zero(nn.Module):
    """Outputs zeros shaped like the (strided) input: the ``none`` op."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return x.mul(0.0)
        return x[:, :, :: self.stride, :: self.stride].mul(0.0)


class ReLUConvBN(nn.Sequential):
    """ReLU, convolution (bias only when ``bias``), batch norm."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int,
                 affine: bool = True, bias: bool = False) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=bias),
            nn.BatchNorm2d(c_out, affine=affine),
        )


class DilConv(nn.Sequential):
    """ReLU, dilated depthwise conv, pointwise conv, batch norm."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int,
                 dilation: int, affine: bool = True) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel, stride=stride, padding=padding, dilation=dilation,
                      groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, padding=0, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


class SepConv(nn.Sequential):
    """Two stacked (ReLU, depthwise conv, pointwise conv, BN); only the first strides."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int,
                 affine: bool = True) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel, stride=stride, padding=padding, groups=c_in,
                      bias=False),
            nn.Conv2d(c_in, c_in, 1, padding=0, bias=False),
            nn.BatchNorm2d(c_in, affine=affine),
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel, stride=1, padding=padding, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, padding=0, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


class FactorizedReduce(nn.Module):
    """Halves the spatial size with two offset stride-2 1x1 convs, concatenated.

    Odd sizes are padded on the bottom/right for the shifted branch so both halves
    have the same ``ceil(H/2) x ceil(W/2)`` shape (DARTS assumes even sizes).
    """

    def __init__(self, c_in: int, c_out: int, affine: bool = True) -> None:
        super().__init__()
        if c_out % 2:
            raise ValueError(f"factorized reduce needs an even channel count, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, padding=0, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, padding=0, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = x[:, :, 1:, 1:]
        h, w = x.shape[-2], x.shape[-1]
        if h % 2 or w % 2:
            shifted = F.pad(shifted, (0, w % 2, 0, h % 2))
        out = torch.cat([self.conv_1(x), self.conv_2(shifted)], dim=1)
        return self.bn(out)


def zero(C: int, stride: int, affine: bool = True) -> nn.Module:
    """``none``: zeros (strided when reducing)."""
    return Zero(stride)


def skip(C: int, stride: int, affine: bool = True) -> nn.Module:
    """``skip_connect``: identity, or factorized reduce at stride 2."""
    return Identity() if stride == 1 else FactorizedReduce(C, C, affine=affine)


def max_pool_3x3(C: int, stride: int, affine: bool = True) -> nn.Module:
    return nn.MaxPool2d(3, stride=stride, padding=1)


def avg_pool_3x3(C: int, stride: int, affine: bool = True) -> nn.Module:
    return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)


def sep_conv_3x3(C: int, stride: int, affine: bool = True) -> nn.Module:
    return SepConv(C, C, 3, stride, 1, affine=affine)


def sep_conv_5x5(C: int, stride: int, affine: bool = True) -> nn.Module:
    return SepConv(C, C, 5, stride, 2, affine=affine)


def sep_conv_7x7(C: int, stride: int, affine: bool = True) -> nn.Module:
    return SepConv(C, C, 7, stride, 3, affine=affine)


def dil_conv_3x3(C: int, stride: int, affine: bool = True) -> nn.Module:
    return DilConv(C, C, 3, stride, 2, 2, affine=affine)


def dil_conv_5x5(C: int, stride: int, affine: bool = True) -> nn.Module:
    return DilConv(C, C, 5, stride, 4, 2, affine=affine)


def conv_7x1_1x7(C: int, stride: int, affine: bool = True) -> nn.Module:
    """ReLU, 1x7 conv, 7x1 conv, BN (as written in the DARTS repo)."""
    return nn.Sequential(
        nn.ReLU(inplace=False),
        nn.Conv2d(C, C, (1, 7), stride=(1, stride), padding=(0, 3), bias=False),
        nn.Conv2d(C, C, (7, 1), stride=(stride, 1), padding=(3, 0), bias=False),
        nn.BatchNorm2d(C, affine=affine),
    )


def nor_conv_1x1(C: int, stride: int, affine: bool = True) -> nn.Module:
    """NAS-Bench-201 ReLU-Conv-BN 1x1 (the conv has a bias only without BN affine)."""
    return ReLUConvBN(C, C, 1, stride, 0, affine=affine, bias=not affine)


def nor_conv_3x3(C: int, stride: int, affine: bool = True) -> nn.Module:
    """NAS-Bench-201 ReLU-Conv-BN 3x3 (the conv has a bias only without BN affine)."""
    return ReLUConvBN(C, C, 3, stride, 1, affine=affine, bias=not affine)
