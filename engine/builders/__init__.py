"""Builders from the design model to ``torch.nn.Module`` (imports torch)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.arch.model import BlockStack, CellDesign

if TYPE_CHECKING:
    from torch import nn

    from engine.arch.model import Design

__all__ = ["build_model", "input_shape_of"]


def input_shape_of(design: Design) -> tuple[int, int, int]:
    """The ``(C, H, W)`` input a design expects."""
    if isinstance(design, BlockStack):
        return (int(design.in_channels), int(design.resolution), int(design.resolution))
    if isinstance(design, CellDesign):
        c, h, w = design.macro.input_shape
        return (int(c), int(h), int(w))
    raise TypeError(f"not a design: {type(design).__name__}")


def build_model(design: Design, *, classes: int | None = None,
                input_shape: tuple[int, int, int] | None = None) -> nn.Module:
    """The network for ``design``; ``classes``/``input_shape`` override the design's own.

    Cell networks with an auxiliary head return ``(logits, aux_logits)`` in training
    mode and logits only in eval mode; their ``drop_path_prob`` attribute (initially
    the macro's ``drop_path``) may be rescheduled by a trainer.
    """
    if input_shape is not None:
        input_shape = tuple(int(v) for v in input_shape)  # type: ignore[assignment]
        if len(input_shape) != 3 or min(input_shape) < 1:
            raise ValueError(f"input shape must be three positive sizes (C, H, W), "
                             f"got {input_shape}")
    if classes is not None and int(classes) < 1:
        raise ValueError(f"classes must be positive, got {classes}")
    if isinstance(design, CellDesign):
        from engine.builders.cell_network import build_cell_network

        return build_cell_network(design, classes=classes, input_shape=input_shape)
    if isinstance(design, BlockStack):
        from engine.builders.stack_network import build_stack_network

        return build_stack_network(design, classes=classes, input_shape=input_shape)
    raise TypeError(f"not a design: {type(design).__name__}")
