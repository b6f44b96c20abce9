"""EfficientNet compound scaling and the channel/depth rounding torchvision uses.

``scaled_stages``, ``scaled_stem_channels`` and ``scaled_head_channels`` give the
sizes the builder actually uses: channels ``make_divisible(c * width, 8)`` (never
below 90% of the target) and repeats ``ceil(r * depth)``, exactly torchvision's
``_MBConvConfig.adjust_channels`` / ``MBConvConfig.adjust_depth``.  torchvision's
head is ``4 * last stage channels``; for a stack whose ``head_channels`` is 4x its
last stage (B0-B7: 1280 = 4 * 320) that equals ``make_divisible(head * width)``
for every B0-B7 width, and the latter is what is used here, so an edited head
stays what the user wrote.
"""

from __future__ import annotations

import math
from dataclasses import replace

from engine.arch.model import BlockStack, Stage

ALPHA, BETA, GAMMA = 1.2, 1.1, 1.15  # depth, width, resolution (Tan & Le 2019)
BASE_RESOLUTION = 224

# (width, depth, resolution) of the published variants (torchvision / Tan & Le 2019).
EFFICIENTNET_VARIANTS: dict[str, tuple[float, float, int]] = {
    "efficientnet-b0": (1.0, 1.0, 224), "efficientnet-b1": (1.0, 1.1, 240),
    "efficientnet-b2": (1.1, 1.2, 260), "efficientnet-b3": (1.2, 1.4, 300),
    "efficientnet-b4": (1.4, 1.8, 380), "efficientnet-b5": (1.6, 2.2, 456),
    "efficientnet-b6": (1.8, 2.6, 528), "efficientnet-b7": (2.0, 3.1, 600),
}


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round ``v`` to a multiple of ``divisor``, never below ``min_value`` or 90% of ``v``."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def compound_scale(phi: float) -> tuple[float, float, int]:
    """(width, depth, resolution) for coefficient ``phi``: beta^phi, alpha^phi, 224*gamma^phi."""
    return BETA ** phi, ALPHA ** phi, round(BASE_RESOLUTION * GAMMA ** phi)


def scale_channels(channels: int, width: float) -> int:
    return make_divisible(channels * width, 8)


def scale_depth(repeats: int, depth: float) -> int:
    return int(math.ceil(repeats * depth))


def _scaled_fields(stage: Stage, width: float) -> dict[str, object]:
    """Other channel counts of the stage's block type that the width scales (a fire
    module's squeeze, an inception module's branches)."""
    if width == 1.0:
        return {}
    from engine.ops.blocks import block_exists, get_block

    if not block_exists(stage.block):
        return {}
    out: dict[str, object] = {}
    for f in get_block(stage.block).fields:
        if f.scales and f.name != "channels":
            v = getattr(stage, f.name)
            out[f.name] = (tuple(scale_channels(x, width) for x in v)
                           if isinstance(v, tuple | list) else scale_channels(v, width))
    return out


def scaled_stages(stack: BlockStack) -> list[Stage]:
    """The stages as built: width and depth multipliers applied."""
    return [replace(s, channels=scale_channels(s.channels, stack.width_mult),
                    repeats=scale_depth(s.repeats, stack.depth_mult),
                    **_scaled_fields(s, stack.width_mult)) for s in stack.stages]


def scaled_stem_channels(stack: BlockStack) -> int:
    return scale_channels(stack.stem_channels, stack.width_mult)


def scaled_head_channels(stack: BlockStack) -> int:
    if stack.head_scales_with_width:
        return scale_channels(stack.head_channels, stack.width_mult)
    return stack.head_channels


def with_compound_scale(stack: BlockStack, phi: float) -> BlockStack:
    """A copy of ``stack`` with width, depth and resolution from ``compound_scale(phi)``."""
    width, depth, resolution = compound_scale(phi)
    out = stack.copy()
    out.width_mult, out.depth_mult, out.resolution = width, depth, resolution
    return out


def nearest_efficientnet(width: float, depth: float, resolution: int) -> str:
    """The published B-variant closest to these settings (log distance over all three)."""
    def distance(v: tuple[float, float, int]) -> float:
        return (abs(math.log(width / v[0])) + abs(math.log(depth / v[1]))
                + abs(math.log(resolution / v[2])))

    if min(width, depth, resolution) <= 0:
        raise ValueError("width, depth and resolution must be positive")
    return min(EFFICIENTNET_VARIANTS, key=lambda k: distance(EFFICIENTNET_VARIANTS[k]))
