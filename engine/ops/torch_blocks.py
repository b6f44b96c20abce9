"""PyTorch modules for the stack blocks named in ``engine.ops.registry`` (``ds``, ``ir``).

An MBConv as torchvision's ``efficientnet.py`` builds it: optional 1x1 expansion
(conv-BN-act), depthwise kxk conv-BN-act, optional squeeze-excite (SiLU inside,
sigmoid gate, squeeze width from the block's *input* channels), 1x1 projection
conv-BN, and a residual with stochastic depth when the shape is unchanged.
Submodule names match torchvision's so its state dicts load into these blocks
(torchvision itself is not imported: it pulls in ``torch._dynamo``, seconds of start-up).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch import nn

from engine.arch.scaling import make_divisible

__all__ = ["ACTIVATIONS", "Conv2dNormActivation", "MBConv", "SqueezeExcitation",
           "StochasticDepth", "activation_layer", "ds_block", "ir_block",
           "make_divisible", "norm_layer"]

ACTIVATIONS: dict[str, Callable[..., nn.Module]] = {
    "silu": nn.SiLU, "relu6": nn.ReLU6, "relu": nn.ReLU, "hswish": nn.Hardswish,
}


def activation_layer(name: str) -> Callable[..., nn.Module]:
    """The activation class for a registry activation name."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}") from None


def norm_layer(eps: float = 1e-5, momentum: float = 0.1) -> Callable[..., nn.Module]:
    """A BatchNorm2d factory with the given settings."""
    if eps == 1e-5 and momentum == 0.1:
        return nn.BatchNorm2d
    return partial(nn.BatchNorm2d, eps=eps, momentum=momentum)


class Conv2dNormActivation(nn.Sequential):
    """Conv (no bias, "same" padding), norm, optional activation (torchvision layout)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1, groups: int = 1,
                 norm_layer: Callable[..., nn.Module] = nn.BatchNorm2d,
                 activation_layer: Callable[..., nn.Module] | None = nn.ReLU) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2,
                      groups=groups, bias=False),
            norm_layer(out_channels)]
        if activation_layer is not None:
            layers.append(activation_layer(inplace=True))
        super().__init__(*layers)
        self.out_channels = out_channels


class SqueezeExcitation(nn.Module):
    """Global pool, 1x1 conv down, activation, 1x1 conv up, sigmoid gate on the input."""

    def __init__(self, input_channels: int, squeeze_channels: int,
                 activation: Callable[..., nn.Module] = nn.ReLU,
                 scale_activation: Callable[..., nn.Module] = nn.Sigmoid) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.fc2(self.activation(self.fc1(self.avgpool(x))))
        return self.scale_activation(scale) * x


class StochasticDepth(nn.Module):
    """Drops the residual branch per sample with probability ``p`` in training ("row")."""

    def __init__(self, p: float, mode: str = "row") -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"drop probability must be in [0, 1], got {p}")
        if mode not in ("row", "batch"):
            raise ValueError(f"mode must be 'row' or 'batch', got {mode!r}")
        self.p = p
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        shape = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(survival)
        if survival > 0.0:
            noise.div_(survival)
        return x * noise


class MBConv(nn.Module):
    """Mobile inverted bottleneck (MBConv); expansion 1 gives the depthwise-separable block.

    ``se_squeeze``, ``se_activation`` and ``se_gate`` override the squeeze-excite's width
    (default: ``se`` of the input channels), inner activation and gate (MobileNetV3: ReLU,
    hard sigmoid)."""

    def __init__(self, in_channels: int, out_channels: int, *, kernel: int = 3, stride: int = 1,
                 expansion: float = 6, se: float = 0.25, act: str = "silu",
                 drop_prob: float = 0.0,
                 norm: Callable[..., nn.Module] = nn.BatchNorm2d, se_squeeze: int | None = None,
                 se_activation: Callable[..., nn.Module] = partial(nn.SiLU, inplace=True),
                 se_gate: Callable[..., nn.Module] = nn.Sigmoid) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        if kernel < 1 or kernel % 2 == 0:
            raise ValueError(f"kernel must be a positive odd size, got {kernel}")
        act_layer = activation_layer(act)
        self.use_res_connect = stride == 1 and in_channels == out_channels
        expanded = (in_channels if expansion == 1
                    else make_divisible(in_channels * expansion, 8))
        layers: list[nn.Module] = []
        if expanded != in_channels:
            layers.append(Conv2dNormActivation(in_channels, expanded, kernel_size=1,
                                               norm_layer=norm, activation_layer=act_layer))
        layers.append(Conv2dNormActivation(expanded, expanded, kernel_size=kernel, stride=stride,
                                           groups=expanded, norm_layer=norm,
                                           activation_layer=act_layer))
        if se > 0:
            squeeze = max(1, int(in_channels * se)) if se_squeeze is None else se_squeeze
            layers.append(SqueezeExcitation(expanded, squeeze, activation=se_activation,
                                            scale_activation=se_gate))
        layers.append(Conv2dNormActivation(expanded, out_channels, kernel_size=1,
                                           norm_layer=norm, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(drop_prob, "row")
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result = self.block(x)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result = result + x
        return result


def ir_block(in_channels: int, out_channels: int, *, kernel: int = 3, stride: int = 1,
             expansion: float = 6, se: float = 0.25, act: str = "silu", drop_prob: float = 0.0,
             norm: Callable[..., nn.Module] = nn.BatchNorm2d) -> nn.Module:
    """``ir``: inverted residual (MBConv) block."""
    return MBConv(in_channels, out_channels, kernel=kernel, stride=stride, expansion=expansion,
                  se=se, act=act, drop_prob=drop_prob, norm=norm)


def ds_block(in_channels: int, out_channels: int, *, kernel: int = 3, stride: int = 1,
             expansion: float = 1, se: float = 0.25, act: str = "silu", drop_prob: float = 0.0,
             norm: Callable[..., nn.Module] = nn.BatchNorm2d) -> nn.Module:
    """``ds``: depthwise-separable block (MBConv without expansion; ``expansion`` ignored)."""
    return MBConv(in_channels, out_channels, kernel=kernel, stride=stride, expansion=1,
                  se=se, act=act, drop_prob=drop_prob, norm=norm)
