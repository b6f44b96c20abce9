"""Turn a channel-pruned block stack back into a design the studio understands.

After structured pruning, a block stack's stem, stage, expansion, squeeze-excite and
head widths are read off the pruned layers and written into a new ``BlockStack``
(width and depth multipliers folded in).  The candidate is accepted only when building
it gives exactly the pruned network's tensor shapes; otherwise (cell networks, or
widths the builder's rounding cannot express) the run stays a pruned derivative of its
parent design.
"""

from __future__ import annotations

from typing import Any

from torch import nn


def _convs(module: nn.Module) -> list[nn.Conv2d]:
    return [m for m in module.modules() if isinstance(m, nn.Conv2d)]


def _block_widths(block: nn.Module) -> dict[str, int] | None:
    """in / expanded / squeeze / out widths of one MBConv-style block."""
    convs = _convs(block)
    if not convs:
        return None
    dw = next((c for c in convs if c.groups > 1 and c.groups == c.in_channels), None)
    if dw is None:
        return None
    se_convs = [c for c in convs if c.kernel_size == (1, 1) and c.bias is not None]
    return {"in": convs[0].in_channels, "expanded": dw.in_channels,
            "squeeze": se_convs[0].out_channels if se_convs else 0,
            "out": convs[-1].out_channels}


def derive_design(design: Any, model: nn.Module) -> Any | None:
    """A ``BlockStack`` whose build matches ``model``'s shapes exactly, or None."""
    from engine.arch.model import BlockStack, Stage

    if not isinstance(design, BlockStack):
        return None
    features = getattr(model, "features", None)
    if features is None or len(features) < 3:
        return None
    try:
        from engine.builders.stack_network import stages_of
        from engine.ops.torch_blocks import make_divisible
    except ImportError:
        return None
    built = stages_of(design)
    stage_mods = list(features)[1:-1]
    if len(stage_mods) != len(built):
        return None
    stem_convs, head_convs = _convs(features[0]), _convs(features[-1])
    if not stem_convs or not head_convs:  # a stack without a stem or head conv (VGG, ResNet)
        return None
    stem, head = stem_convs[0].out_channels, head_convs[0].out_channels
    stages = []
    for spec, mod in zip(built, stage_mods, strict=True):
        widths = [_block_widths(b) for b in mod]
        if not widths or any(w is None for w in widths):
            return None
        ref = widths[-1]  # later blocks take the stage width as input
        expansion = 1.0 if spec.block == "ds" else ref["expanded"] / ref["in"]
        if spec.block != "ds" and make_divisible(ref["in"] * spec.expansion) == ref["expanded"]:
            expansion = spec.expansion  # the original ratio still builds these widths
        se = 0.0
        if spec.se > 0 and ref["squeeze"]:
            se = spec.se if int(ref["in"] * spec.se) == ref["squeeze"] else \
                (ref["squeeze"] + 0.5) / ref["in"]
        stages.append(Stage(spec.block, len(widths), spec.kernel, spec.stride,
                            round(expansion, 6), ref["out"], round(se, 6), spec.act))
    derived = design.copy()
    derived.name = f"{design.name}-pruned"
    derived.stages = stages
    derived.stem_channels, derived.head_channels = stem, head
    derived.width_mult, derived.depth_mult = 1.0, 1.0
    return derived if _same_shapes(derived, model) else None


def _same_shapes(design: Any, model: nn.Module) -> bool:
    from engine.builders import build_model

    try:
        candidate = build_model(design)
    except (ValueError, TypeError):
        return False
    want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in candidate.state_dict().items()}
    return want == got
