"""PyTorch modules for the block types of ``engine.ops.blocks_classic``.

Layouts (submodule order, and names where it is simple) follow torchvision's ResNet,
SqueezeNet, VGG, GoogLeNet, DenseNet and MobileNetV3 and timm's MixNet, so a preset built
from these blocks has the reference's parameters in the reference's state-dict order.
Factories: ``factory(in_channels, out_channels, *, stride, drop_prob, norm, **settings)``;
each module's ``out_channels`` is what it outputs (a dense layer adds its growth rate to
its input).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch import nn

from engine.arch.scaling import make_divisible
from engine.ops.blocks_classic import (
    bottleneck_width,
    dense_width,
    inception_widths,
    mb3_squeeze,
    split_channels,
)
from engine.ops.torch_blocks import MBConv, SqueezeExcitation, StochasticDepth, activation_layer

__all__ = ["BasicBlock", "Bottleneck", "DenseLayer", "Fire", "Inception", "MixBlock",
           "MixedConv2d", "Transition", "basic_block", "bottleneck_block", "conv_block",
           "dense_layer", "fire_block", "inception_block", "mb3_block", "mix_block",
           "transition_block"]

Norm = Callable[..., nn.Module]


class MixedConv2d(nn.ModuleDict):
    """timm's ``MixedConv2d``: one conv per kernel size over equal splits of the channels.

    The split sizes are read from the convs at each call, so channel pruning that
    shrinks them keeps the module working."""

    def __init__(self, in_channels: int, out_channels: int, kernels: tuple[int, ...],
                 stride: int = 1, depthwise: bool = False) -> None:
        super().__init__()
        ins = split_channels(in_channels, len(kernels))
        outs = split_channels(out_channels, len(kernels))
        for i, (k, ci, co) in enumerate(zip(kernels, ins, outs, strict=True)):
            self.add_module(str(i), nn.Conv2d(ci, co, k, stride, (k - 1) // 2,
                                              groups=ci if depthwise else 1, bias=False))
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        convs = list(self.values())
        if len(convs) == 1:
            return convs[0](x)
        parts = torch.split(x, [c.in_channels for c in convs], 1)
        return torch.cat([c(p) for c, p in zip(convs, parts, strict=True)], 1)


def _mixed(in_channels: int, out_channels: int, kernels: tuple[int, ...], stride: int = 1,
           depthwise: bool = False) -> nn.Module:
    if len(kernels) == 1:
        k = kernels[0]
        return nn.Conv2d(in_channels, out_channels, k, stride, (k - 1) // 2,
                         groups=in_channels if depthwise else 1, bias=False)
    return MixedConv2d(in_channels, out_channels, tuple(kernels), stride, depthwise)


class MixBlock(nn.Module):
    """timm's MixNet ``InvertedResidual``: (mixed) 1x1 expansion, mixed depthwise conv,
    squeeze-excite (the block's activation inside), (mixed) 1x1 projection, residual."""

    def __init__(self, in_channels: int, out_channels: int, *, kernels: tuple[int, ...],
                 exp_kernels: tuple[int, ...] = (1,), pw_kernels: tuple[int, ...] = (1,),
                 stride: int = 1, expansion: float = 6, se: float = 0.0, act: str = "silu",
                 drop_prob: float = 0.0, norm: Norm = nn.BatchNorm2d) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        if not kernels or any(k < 1 or k % 2 == 0 for k in (*kernels, *exp_kernels,
                                                             *pw_kernels)):
            raise ValueError(f"kernel sizes must be odd, got {kernels}")
        act_layer = activation_layer(act)
        mid = in_channels if expansion == 1 else make_divisible(in_channels * expansion, 8)
        self.has_skip = stride == 1 and in_channels == out_channels
        self.conv_pw: nn.Module = nn.Identity()
        self.bn1: nn.Module = nn.Identity()
        if mid != in_channels:
            self.conv_pw = _mixed(in_channels, mid, exp_kernels)
            self.bn1 = nn.Sequential(norm(mid), act_layer(inplace=True))
        self.conv_dw = _mixed(mid, mid, kernels, stride, depthwise=True)
        self.bn2 = nn.Sequential(norm(mid), act_layer(inplace=True))
        self.se = (SqueezeExcitation(mid, max(1, int(in_channels * se)),
                                     activation=partial(act_layer, inplace=True))
                   if se > 0 else nn.Identity())
        self.conv_pwl = _mixed(mid, out_channels, pw_kernels)
        self.bn3 = norm(out_channels)
        self.drop_path = StochasticDepth(drop_prob, "row")
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn1(self.conv_pw(x))
        y = self.se(self.bn2(self.conv_dw(y)))
        y = self.bn3(self.conv_pwl(y))
        return self.drop_path(y) + x if self.has_skip else y


def mix_block(in_channels: int, out_channels: int, *, stride: int = 1, drop_prob: float = 0.0,
              norm: Norm = nn.BatchNorm2d, kernels: tuple[int, ...] = (3, 5, 7),
              exp_kernels: tuple[int, ...] = (1,), pw_kernels: tuple[int, ...] = (1,),
              expansion: float = 6, se: float = 0.0, act: str = "silu") -> nn.Module:
    """``mix``: MixConv inverted residual (MixNet)."""
    return MixBlock(in_channels, out_channels, kernels=tuple(kernels),
                    exp_kernels=tuple(exp_kernels), pw_kernels=tuple(pw_kernels),
                    stride=stride, expansion=expansion, se=se, act=act, drop_prob=drop_prob,
                    norm=norm)


def mb3_block(in_channels: int, out_channels: int, *, stride: int = 1, drop_prob: float = 0.0,
              norm: Norm = nn.BatchNorm2d, kernel: int = 3, expansion: float = 6,
              se: float = 0.25, act: str = "hswish") -> nn.Module:
    """``mb3``: torchvision's MobileNetV3 ``InvertedResidual`` (SE: ReLU, hard sigmoid, width
    from the expanded channels rounded to 8)."""
    mid = in_channels if expansion == 1 else make_divisible(in_channels * expansion, 8)
    return MBConv(in_channels, out_channels, kernel=kernel, stride=stride, expansion=expansion,
                  se=se, act=act, drop_prob=drop_prob, norm=norm,
                  se_squeeze=mb3_squeeze(mid, se) if se > 0 else None,
                  se_activation=nn.ReLU, se_gate=nn.Hardsigmoid)


class Fire(nn.Module):
    """torchvision's SqueezeNet ``Fire``: squeeze 1x1, expand 1x1 and 3x3, concatenated."""

    def __init__(self, in_channels: int, squeeze: int, out_channels: int, act: str) -> None:
        super().__init__()
        act_layer = activation_layer(act)
        half = out_channels // 2
        self.squeeze = nn.Conv2d(in_channels, squeeze, 1)
        self.squeeze_activation = act_layer(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze, half, 1)
        self.expand1x1_activation = act_layer(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze, half, 3, padding=1)
        self.expand3x3_activation = act_layer(inplace=True)
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat([self.expand1x1_activation(self.expand1x1(x)),
                          self.expand3x3_activation(self.expand3x3(x))], 1)


def _stride1(name: str, stride: int) -> None:
    if stride != 1:
        raise ValueError(f"a {name} block has stride 1 (downsample with the stage's pool), "
                         f"got {stride}")


def fire_block(in_channels: int, out_channels: int, *, stride: int = 1, drop_prob: float = 0.0,
               norm: Norm = nn.BatchNorm2d, squeeze: int = 16, act: str = "relu") -> nn.Module:
    """``fire``: SqueezeNet's fire module (biases, no batch norm)."""
    _stride1("fire", stride)
    if out_channels % 2:
        raise ValueError(f"a fire module needs an even output width, got {out_channels}")
    return Fire(in_channels, squeeze, out_channels, act)


def _downsample(in_channels: int, out_channels: int, stride: int, norm: Norm) -> nn.Module | None:
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                         norm(out_channels))


class BasicBlock(nn.Module):
    """torchvision's ResNet ``BasicBlock`` (stochastic depth on the residual branch)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, act: str,
                 drop_prob: float, norm: Norm) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = norm(out_channels)
        self.relu = activation_layer(act)(inplace=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = norm(out_channels)
        self.downsample = _downsample(in_channels, out_channels, stride, norm)
        self.drop_path = StochasticDepth(drop_prob, "row")
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        short = x if self.downsample is None else self.downsample(x)
        return self.relu(self.drop_path(y) + short)


class Bottleneck(nn.Module):
    """torchvision's ResNet ``Bottleneck`` (v1.5: the 3x3 conv strides)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expansion: float,
                 act: str, drop_prob: float, norm: Norm) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        width = bottleneck_width(out_channels, expansion)
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = norm(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = norm(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = norm(out_channels)
        self.relu = activation_layer(act)(inplace=True)
        self.downsample = _downsample(in_channels, out_channels, stride, norm)
        self.drop_path = StochasticDepth(drop_prob, "row")
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        short = x if self.downsample is None else self.downsample(x)
        return self.relu(self.drop_path(y) + short)


def basic_block(in_channels: int, out_channels: int, *, stride: int = 1,
                drop_prob: float = 0.0, norm: Norm = nn.BatchNorm2d,
                act: str = "relu") -> nn.Module:
    """``basic``: ResNet basic block."""
    return BasicBlock(in_channels, out_channels, stride, act, drop_prob, norm)


def bottleneck_block(in_channels: int, out_channels: int, *, stride: int = 1,
                     drop_prob: float = 0.0, norm: Norm = nn.BatchNorm2d,
                     expansion: float = 4.0, act: str = "relu") -> nn.Module:
    """``bottleneck``: ResNet bottleneck block."""
    return Bottleneck(in_channels, out_channels, stride, expansion, act, drop_prob, norm)


class ConvLayer(nn.Sequential):
    """Conv ("same" padding; a bias when there is no batch norm), BN, activation."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int,
                 bn: bool, act: str, norm: Norm) -> None:
        layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, kernel, stride,
                                             (kernel - 1) // 2, bias=not bn)]
        if bn:
            layers.append(norm(out_channels))
        layers.append(activation_layer(act)(inplace=True))
        super().__init__(*layers)
        self.out_channels = out_channels


def conv_block(in_channels: int, out_channels: int, *, stride: int = 1, drop_prob: float = 0.0,
               norm: Norm = nn.BatchNorm2d, kernel: int = 3, bn: bool = True,
               act: str = "relu") -> nn.Module:
    """``conv``: one conv layer of a VGG group."""
    if stride not in (1, 2):
        raise ValueError(f"stride must be 1 or 2, got {stride}")
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"kernel must be a positive odd size, got {kernel}")
    return ConvLayer(in_channels, out_channels, kernel, stride, bn, act, norm)


class _BasicConv(nn.Module):
    """torchvision GoogLeNet's ``BasicConv2d``: conv (no bias), BN, activation."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, act: str,
                 norm: Norm) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, padding=(kernel - 1) // 2,
                              bias=False)
        self.bn = norm(out_channels)
        self.act = activation_layer(act)(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class Inception(nn.Module):
    """torchvision's GoogLeNet ``Inception``: four branches, concatenated."""

    def __init__(self, in_channels: int, out_channels: int, branches: tuple[int, ...],
                 kernel: int, act: str, norm: Norm) -> None:
        super().__init__()
        b1, r3, b3, r5, b5, proj = inception_widths(out_channels, tuple(branches))
        self.branch1 = _BasicConv(in_channels, b1, 1, act, norm)
        self.branch2 = nn.Sequential(_BasicConv(in_channels, r3, 1, act, norm),
                                     _BasicConv(r3, b3, 3, act, norm))
        self.branch3 = nn.Sequential(_BasicConv(in_channels, r5, 1, act, norm),
                                     _BasicConv(r5, b5, kernel, act, norm))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True),
                                     _BasicConv(in_channels, proj, 1, act, norm))
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x),
                          self.branch4(x)], 1)


def inception_block(in_channels: int, out_channels: int, *, stride: int = 1,
                    drop_prob: float = 0.0, norm: Norm = nn.BatchNorm2d,
                    branches: tuple[int, ...] = (64, 96, 128, 16, 32), kernel: int = 3,
                    act: str = "relu") -> nn.Module:
    """``inception``: GoogLeNet inception module."""
    _stride1("inception", stride)
    if kernel not in (3, 5):
        raise ValueError(f"the second branch's kernel must be 3 or 5, got {kernel}")
    return Inception(in_channels, out_channels, branches, kernel, act, norm)


class DenseLayer(nn.Module):
    """torchvision's DenseNet ``_DenseLayer``; outputs its input and its new channels."""

    def __init__(self, in_channels: int, growth: int, bn_size: float, act: str,
                 norm: Norm) -> None:
        super().__init__()
        act_layer = activation_layer(act)
        width = dense_width(growth, bn_size)
        self.norm1 = norm(in_channels)
        self.relu1 = act_layer(inplace=True)
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.norm2 = norm(width)
        self.relu2 = act_layer(inplace=True)
        self.conv2 = nn.Conv2d(width, growth, 3, padding=1, bias=False)
        self.out_channels = in_channels + growth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        new = self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))
        return torch.cat([x, new], 1)


def dense_layer(in_channels: int, out_channels: int, *, stride: int = 1,
                drop_prob: float = 0.0, norm: Norm = nn.BatchNorm2d, expansion: float = 4.0,
                act: str = "relu") -> nn.Module:
    """``dense``: one layer of a dense block (``out_channels`` is the growth rate)."""
    _stride1("dense", stride)
    return DenseLayer(in_channels, out_channels, expansion, act, norm)


class Transition(nn.Sequential):
    """torchvision's DenseNet ``_Transition``: BN, activation, 1x1 conv, 2x2 average pool."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, act: str,
                 norm: Norm) -> None:
        super().__init__()
        self.add_module("norm", norm(in_channels))
        self.add_module("relu", activation_layer(act)(inplace=True))
        self.add_module("conv", nn.Conv2d(in_channels, out_channels, 1, bias=False))
        self.add_module("pool", nn.AvgPool2d(2, 2) if stride == 2 else nn.Identity())
        self.out_channels = out_channels


def transition_block(in_channels: int, out_channels: int, *, stride: int = 2,
                     drop_prob: float = 0.0, norm: Norm = nn.BatchNorm2d,
                     act: str = "relu") -> nn.Module:
    """``transition``: DenseNet transition between dense blocks."""
    if stride not in (1, 2):
        raise ValueError(f"stride must be 1 or 2, got {stride}")
    return Transition(in_channels, out_channels, stride, act, norm)
