"""Closed-form cost of layers: parameters, MACs and output shape, in pure Python.

The figures are the ones ``engine.cost.counting`` gets from a built model: parameters
are ``numel`` of every weight and bias (batch norm has 2 per channel when affine; its
running statistics are buffers), MACs are the torchvision way (multiply-adds of
convolutions and linear layers: ``c_out * c_in / groups * kh * kw * h_out * w_out``;
biases, pooling, activations, batch norm and element-wise ops are free).

Shapes are ``(channels, height, width)`` without the batch.  A layer whose output would
be smaller than one pixel raises ``ShapeError`` (the builder's torch layers would fail
there too); composers add where it happened.

No torch import: this is the path the editor and the search's constraint checks use.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.arch.scaling import make_divisible

__all__ = ["Cost", "Shape", "ShapeError", "adaptive_pool", "batch_norm", "conv2d",
           "conv_out", "dil_conv", "factorized_reduce", "linear", "mbconv", "pool",
           "relu_conv_bn", "sep_conv", "squeeze_excite", "zero_op"]

Shape = tuple[int, int, int]


class ShapeError(ValueError):
    """Shapes that do not compose (an output below one pixel, a sum of unequal shapes)."""


@dataclass(frozen=True)
class Cost:
    """Parameters and MACs of a piece of network and the ``(C, H, W)`` it outputs."""

    params: int
    macs: int
    shape: Shape

    def then(self, other: Cost) -> Cost:
        """This piece followed by ``other`` (which already saw this one's output shape)."""
        return Cost(self.params + other.params, self.macs + other.macs, other.shape)


def conv_out(size: int, kernel: int, stride: int = 1, padding: int = 0,
             dilation: int = 1) -> int:
    """Output length of a convolution or pooling window along one axis (PyTorch's rule)."""
    out = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    if out < 1:
        raise ShapeError(f"a {kernel}-wide window (stride {stride}, padding {padding}"
                         f"{f', dilation {dilation}' if dilation != 1 else ''}) does not fit "
                         f"a feature map {size} pixels wide")
    return out


def conv2d(shape: Shape, c_out: int, kernel: int | tuple[int, int], stride: int | tuple[int, int] = 1,
           padding: int | tuple[int, int] = 0, dilation: int = 1, groups: int = 1,
           bias: bool = False) -> Cost:
    """``nn.Conv2d(shape[0], c_out, kernel, stride, padding, dilation, groups, bias)``."""
    c_in, h, w = shape
    kh, kw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    sh, sw = stride if isinstance(stride, tuple) else (stride, stride)
    ph, pw = padding if isinstance(padding, tuple) else (padding, padding)
    if c_in % groups or c_out % groups:
        raise ShapeError(f"{c_in} -> {c_out} channels do not divide into {groups} groups")
    ho, wo = conv_out(h, kh, sh, ph, dilation), conv_out(w, kw, sw, pw, dilation)
    weights = c_out * (c_in // groups) * kh * kw
    return Cost(weights + (c_out if bias else 0), weights * ho * wo, (c_out, ho, wo))


def batch_norm(shape: Shape, affine: bool = True) -> Cost:
    return Cost(2 * shape[0] if affine else 0, 0, shape)


def linear(features: int, out: int, bias: bool = True) -> Cost:
    """``nn.Linear`` on a flat vector of ``features`` (output shape written ``(out, 1, 1)``)."""
    return Cost(features * out + (out if bias else 0), features * out, (out, 1, 1))


def pool(shape: Shape, kernel: int, stride: int, padding: int = 0) -> Cost:
    """Max or average pooling: free, only the shape changes."""
    c, h, w = shape
    return Cost(0, 0, (c, conv_out(h, kernel, stride, padding), conv_out(w, kernel, stride, padding)))


def adaptive_pool(shape: Shape, size: int) -> Cost:
    return Cost(0, 0, (shape[0], size, size))


def zero_op(shape: Shape, stride: int) -> Cost:
    """``x[:, :, ::stride, ::stride] * 0``."""
    c, h, w = shape
    return Cost(0, 0, (c, -(-h // stride), -(-w // stride)))


def relu_conv_bn(shape: Shape, c_out: int, kernel: int, stride: int, padding: int,
                 affine: bool = True, bias: bool = False) -> Cost:
    """``ReLUConvBN`` (engine/ops/torch_ops.py)."""
    conv = conv2d(shape, c_out, kernel, stride, padding, bias=bias)
    return conv.then(batch_norm(conv.shape, affine))


def sep_conv(shape: Shape, c_out: int, kernel: int, stride: int, padding: int,
             affine: bool = True) -> Cost:
    """``SepConv``: (ReLU, depthwise, pointwise, BN) twice, only the first strides."""
    c = shape[0]
    out = conv2d(shape, c, kernel, stride, padding, groups=c)
    out = out.then(conv2d(out.shape, c, 1)).then(batch_norm((c, *out.shape[1:]), affine))
    out = out.then(conv2d(out.shape, c, kernel, 1, padding, groups=c))
    out = out.then(conv2d(out.shape, c_out, 1))
    return out.then(batch_norm(out.shape, affine))


def dil_conv(shape: Shape, c_out: int, kernel: int, stride: int, padding: int, dilation: int,
             affine: bool = True) -> Cost:
    """``DilConv``: ReLU, dilated depthwise conv, pointwise conv, BN."""
    c = shape[0]
    out = conv2d(shape, c, kernel, stride, padding, dilation, groups=c)
    out = out.then(conv2d(out.shape, c_out, 1))
    return out.then(batch_norm(out.shape, affine))


def factorized_reduce(shape: Shape, c_out: int, affine: bool = True) -> Cost:
    """``FactorizedReduce``: two offset stride-2 1x1 convs (odd sizes padded), concat, BN."""
    if c_out % 2:
        raise ShapeError(f"factorized reduce needs an even channel count, got {c_out}")
    half = conv2d(shape, c_out // 2, 1, 2)
    out = (c_out, half.shape[1], half.shape[2])
    return Cost(2 * half.params, 2 * half.macs, out).then(batch_norm(out, affine))


def squeeze_excite(shape: Shape, squeeze: int) -> Cost:
    """``SqueezeExcitation``: pool to 1x1, 1x1 conv down and up (with biases), gate."""
    c = shape[0]
    down = conv2d((c, 1, 1), squeeze, 1, bias=True)
    up = conv2d(down.shape, c, 1, bias=True)
    return Cost(down.params + up.params, down.macs + up.macs, shape)


def mbconv(shape: Shape, out_channels: int, *, kernel: int, stride: int, expansion: float,
           se: float) -> Cost:
    """``MBConv`` (engine/ops/torch_blocks.py): expand, depthwise, squeeze-excite, project."""
    c_in = shape[0]
    expanded = c_in if expansion == 1 else make_divisible(c_in * expansion, 8)
    out = Cost(0, 0, shape)
    if expanded != c_in:
        out = out.then(conv2d(shape, expanded, 1)).then(batch_norm((expanded, *shape[1:])))
    out = out.then(conv2d(out.shape, expanded, kernel, stride, (kernel - 1) // 2, groups=expanded))
    out = out.then(batch_norm(out.shape))
    if se > 0:
        out = out.then(squeeze_excite(out.shape, max(1, int(c_in * se))))
    out = out.then(conv2d(out.shape, out_channels, 1))
    return out.then(batch_norm(out.shape))
