"""EfficientNet/MobileNet-style networks from block stacks (torchvision layout).

``features[0]`` is the stem (conv3x3 stride 2, BN, act), ``features[1..n]`` the
stages, ``features[-1]`` the head (conv1x1, BN, act); then global average pooling,
dropout and a linear classifier.  Module names and weight initialisation follow
torchvision's ``EfficientNet``, so its state dicts load into the built networks.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from engine.arch.model import BlockStack, Stage
from engine.arch.scaling import scaled_head_channels, scaled_stages, scaled_stem_channels
from engine.ops import blocks
from engine.ops.torch_blocks import activation_layer, norm_layer

__all__ = ["StackNetwork", "batchnorm_settings", "build_stack_network", "stem_head_channels",
           "stages_of"]

# torchvision builds efficientnet_b5..b7 with BatchNorm eps=1e-3, momentum=0.01 (settings of
# the ported TF weights); every other variant uses PyTorch's defaults.
_TF_BN_SCALINGS = {(1.6, 2.2), (1.8, 2.6), (2.0, 3.1)}


def stages_of(stack: BlockStack) -> list[Stage]:
    """The stages as built: width and depth multipliers applied (``engine.arch.scaling``)."""
    return scaled_stages(stack)


def stem_head_channels(stack: BlockStack) -> tuple[int, int]:
    """Stem and head widths as built."""
    return scaled_stem_channels(stack), scaled_head_channels(stack)


def batchnorm_settings(stack: BlockStack) -> tuple[float, float]:
    """(eps, momentum) of every BatchNorm, as torchvision uses for the same scaling."""
    if (round(stack.width_mult, 3), round(stack.depth_mult, 3)) in _TF_BN_SCALINGS:
        return 1e-3, 0.01
    return 1e-5, 0.1


class StackNetwork(nn.Module):
    """A stem, stages of registry blocks, a head, pooling, dropout and a classifier."""

    def __init__(self, stack: BlockStack, classes: int, in_channels: int) -> None:
        super().__init__()
        stages = stages_of(stack)
        if not stages:
            raise ValueError("stages: a block stack needs at least one stage")
        eps, momentum = batchnorm_settings(stack)
        norm = norm_layer(eps, momentum)
        try:
            act = activation_layer(stack.act)
        except ValueError as exc:
            raise ValueError(f"stack: {exc}") from None
        stem_c, head_c = stem_head_channels(stack)
        layers: list[nn.Module] = [
            nn.Sequential(nn.Conv2d(in_channels, stem_c, 3, 2, 1, bias=False), norm(stem_c),
                          act(inplace=True))]
        self.stage_labels: list[str] = []
        total = sum(s.repeats for s in stages)
        block_id = 0
        c_in = stem_c
        for i, s in enumerate(stages):
            where = f"stage {i + 1}"
            if s.repeats < 1:
                raise ValueError(f"{where}: repeats must be at least 1, got {s.repeats}")
            if not blocks.block_exists(s.block):
                raise ValueError(f"{where}: unknown block type {s.block!r}")
            spec = blocks.get_block(s.block)
            factory, settings = spec.resolve(), spec.settings(s)
            stage_blocks = []
            for r in range(s.repeats):
                sd_prob = stack.stochastic_depth * float(block_id) / total
                try:
                    stage_blocks.append(factory(c_in, s.channels,
                                                stride=s.stride if r == 0 else 1,
                                                drop_prob=sd_prob, norm=norm, **settings))
                except ValueError as exc:
                    raise ValueError(f"{where}: {exc}") from None
                c_in = s.channels
                block_id += 1
            layers.append(nn.Sequential(*stage_blocks))
            self.stage_labels.append(blocks.stage_label(i, s))
        layers.append(nn.Sequential(nn.Conv2d(c_in, head_c, 1, bias=False), norm(head_c),
                                    act(inplace=True)))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=stack.dropout, inplace=True),
                                        nn.Linear(head_c, classes))
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.classifier(self.avgpool(x).flatten(1))

    def parts(self) -> list[tuple[str, nn.Module]]:
        """The network's top-level pieces in forward order (for per-stage cost tables)."""
        feats = list(self.features)
        out: list[tuple[str, nn.Module]] = [("stem", feats[0])]
        out += list(zip(self.stage_labels, feats[1:-1], strict=True))
        out += [("head", feats[-1]), ("global pool", self.avgpool),
                ("classifier", self.classifier)]
        return out


def build_stack_network(stack: BlockStack, *, classes: int | None = None,
                        input_shape: tuple[int, int, int] | None = None) -> nn.Module:
    """The ``nn.Module`` for a block stack; ``classes``/``input_shape`` override its own."""
    classes = int(classes if classes is not None else stack.classes)
    in_channels = int(input_shape[0] if input_shape is not None else stack.in_channels)
    return StackNetwork(stack, classes, in_channels)
