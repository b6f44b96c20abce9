"""Quantization-aware fine-tuning of weights, for ONNX Runtime int8 deployment.

While fine-tuning, every conv and linear weight is replaced (through
``torch.nn.utils.parametrize``) by its per-output-channel symmetric int8 fake-quantized
value (``torch.fake_quantize_per_channel_affine``, straight-through gradients), so the
network learns weights that survive int8 rounding.  Afterwards the parametrizations are
removed with the weights left on the int8 grid, and ONNX Runtime's static quantization
(the same per-channel symmetric scheme) quantizes them without further rounding error;
activations are calibrated as in post-training quantization.  This uses only core
tensor ops, not the deprecated ``torch.ao.quantization`` eager API (and torch 2.14 no
longer ships the PT2E flow).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize


class FakeQuantWeight(nn.Module):
    """Per-output-channel symmetric int8 fake quantization of a weight tensor."""

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        flat = w.detach().reshape(w.shape[0], -1)
        scale = (flat.abs().amax(dim=1) / 127.0).clamp_min(1e-12).float()
        zero = torch.zeros(w.shape[0], dtype=torch.int32, device=w.device)
        return torch.fake_quantize_per_channel_affine(w, scale, zero, 0, -127, 127)


def _targets(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules()
            if isinstance(m, nn.modules.conv._ConvNd | nn.Linear)
            and not parametrize.is_parametrized(m, "weight")]


def attach_fake_quant(model: nn.Module) -> int:
    """Fake-quantize every conv/linear weight; returns how many layers were wrapped."""
    layers = _targets(model)
    for m in layers:
        parametrize.register_parametrization(m, "weight", FakeQuantWeight())
    return len(layers)


def detach_fake_quant(model: nn.Module) -> int:
    """Remove the parametrizations, leaving the weights on the int8 grid."""
    count = 0
    for m in model.modules():
        if parametrize.is_parametrized(m, "weight"):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
            count += 1
    return count
