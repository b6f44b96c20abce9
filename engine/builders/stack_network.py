"""EfficientNet/MobileNet-style networks from block stacks (torchvision layout).

``features[0]`` is the stem (by default conv3x3 stride 2, BN, act), ``features[1..n]``
the stages (their blocks, then the stage's DropBlock and pool if any), ``features[-1]``
the head (by default conv1x1, BN, act); then average pooling, hidden layers, dropout
and a linear classifier (``engine.ops.stack_parts`` lists the other stems, heads and
classifiers).  Module names and weight initialisation follow
torchvision's ``EfficientNet``, so its state dicts load into the built networks.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from engine.arch.model import BlockStack, Stage
from engine.arch.scaling import scaled_head_channels, scaled_stages, scaled_stem_channels
from engine.ops import blocks
from engine.ops.dropblock import DropBlock2d
from engine.ops.stack_parts import CLASSIFIERS, HEADS, POOLS, STEMS
from engine.ops.torch_blocks import activation_layer, norm_layer

__all__ = ["StackNetwork", "batchnorm_settings", "build_stack_network", "make_pool",
           "stem_head_channels", "stages_of"]

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


def make_pool(name: str) -> nn.Module | None:
    """The module of a ``stack_parts.POOLS`` entry (None for ``"none"``)."""
    if name not in POOLS:
        raise ValueError(f"unknown pool {name!r}; known: {', '.join(POOLS)}")
    p = POOLS[name]
    if p.kind == "max":
        return nn.MaxPool2d(p.kernel, p.stride, p.padding, ceil_mode=p.ceil)
    if p.kind == "avg":
        return nn.AvgPool2d(p.kernel, p.stride, p.padding, ceil_mode=p.ceil)
    return None


def _kind(value: str, known: dict[str, str], where: str) -> str:
    if value not in known:
        raise ValueError(f"{where}: unknown kind {value!r}; known: {', '.join(known)}")
    return value


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
        stem, c_in = _stem(stack, in_channels, stem_c, norm, act)
        layers: list[nn.Module] = [stem]
        self.stage_labels: list[str] = []
        total = sum(s.repeats for s in stages)
        block_id = 0
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
                    block = factory(c_in, s.channels, stride=s.stride if r == 0 else 1,
                                    drop_prob=sd_prob, norm=norm, **settings)
                except ValueError as exc:
                    raise ValueError(f"{where}: {exc}") from None
                stage_blocks.append(block)
                c_in = int(getattr(block, "out_channels", s.channels))
                block_id += 1
            if s.dropblock:
                stage_blocks.append(DropBlock2d(s.dropblock))
            stage_blocks += _pool(s.pool, where)
            layers.append(nn.Sequential(*stage_blocks))
            self.stage_labels.append(blocks.stage_label(i, s))
        head = _kind(stack.head, HEADS, "head")
        if head == "conv":
            layers.append(nn.Sequential(nn.Conv2d(c_in, head_c, 1, bias=False), norm(head_c),
                                        act(inplace=True)))
            c_in = head_c
        elif head == "bn":
            layers.append(nn.Sequential(norm(c_in), act(inplace=True)))
        else:
            layers.append(nn.Sequential())
        self.features = nn.Sequential(*layers)
        self.conv_classifier = _kind(stack.classifier, CLASSIFIERS, "classifier") == "conv"
        if self.conv_classifier:  # SqueezeNet: the pool comes after the 1x1 conv
            self.avgpool: nn.Module = nn.Identity()
            self.classifier = nn.Sequential(nn.Dropout(p=stack.dropout),
                                            nn.Conv2d(c_in, classes, 1), nn.ReLU(inplace=True),
                                            nn.AdaptiveAvgPool2d(1), nn.Flatten(1))
        else:
            size = int(stack.pool_size)
            self.avgpool = nn.AdaptiveAvgPool2d(size)
            features = c_in * size * size
            head_layers: list[nn.Module] = []
            for width in stack.hidden:
                head_layers += [nn.Linear(features, int(width)), act(inplace=True),
                                nn.Dropout(p=stack.dropout, inplace=True)]
                features = int(width)
            if not stack.hidden:
                head_layers.append(nn.Dropout(p=stack.dropout, inplace=True))
            head_layers.append(nn.Linear(features, classes))
            self.classifier = nn.Sequential(*head_layers)
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
        x = self.avgpool(self.features(x))
        return self.classifier(x if self.conv_classifier else x.flatten(1))

    def parts(self) -> list[tuple[str, nn.Module]]:
        """The network's top-level pieces in forward order (for per-stage cost tables)."""
        feats = list(self.features)
        out: list[tuple[str, nn.Module]] = [("stem", feats[0])]
        out += list(zip(self.stage_labels, feats[1:-1], strict=True))
        out += [("head", feats[-1]), ("global pool", self.avgpool),
                ("classifier", self.classifier)]
        return out


def _stem(stack: BlockStack, in_channels: int, stem_c: int, norm: Callable[..., nn.Module],
          act: Callable[..., nn.Module]) -> tuple[nn.Module, int]:
    """``features[0]`` and the channels it outputs."""
    kind = _kind(stack.stem, STEMS, "stem")
    k, stride = int(stack.stem_kernel), int(stack.stem_stride)
    layers: list[nn.Module] = []
    c_out = in_channels
    if kind == "conv":
        layers = [nn.Conv2d(in_channels, stem_c, k, stride, (k - 1) // 2, bias=False),
                  norm(stem_c), act(inplace=True)]
        c_out = stem_c
    elif kind == "conv_bias":
        layers = [nn.Conv2d(in_channels, stem_c, k, stride), act(inplace=True)]
        c_out = stem_c
    return nn.Sequential(*layers, *_pool(stack.stem_pool, "stem")), c_out


def _pool(name: str, where: str) -> list[nn.Module]:
    try:
        pool = make_pool(name)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return [] if pool is None else [pool]


def build_stack_network(stack: BlockStack, *, classes: int | None = None,
                        input_shape: tuple[int, int, int] | None = None) -> nn.Module:
    """The ``nn.Module`` for a block stack; ``classes``/``input_shape`` override its own."""
    classes = int(classes if classes is not None else stack.classes)
    in_channels = int(input_shape[0] if input_shape is not None else stack.in_channels)
    return StackNetwork(stack, classes, in_channels)
