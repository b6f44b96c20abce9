"""Starting points and text forms of designs (no Qt)."""

from __future__ import annotations

from engine.arch.model import BlockStack, Cell, CellDesign, Design, Edge, Stage


def empty_cell_design() -> CellDesign:
    """A new DARTS-style design: one node fed by both inputs, in each cell."""
    def cell() -> Cell:
        return Cell(2, [2], [Edge(0, 2, "sep_conv_3x3"), Edge(1, 2, "sep_conv_3x3")], [2])

    return CellDesign(name="untitled-cell", normal=cell(), reduce=cell())


def empty_stack_design() -> BlockStack:
    return BlockStack(name="untitled-stack", stages=[Stage("ds", 1, 3, 1, 1, 16),
                                                    Stage("ir", 2, 3, 2, 6, 24)])


def design_text(design: Design) -> str:
    """The design's shortest text form: Genotype, NB201 string or timm block strings."""
    if isinstance(design, BlockStack):
        from engine.arch.timm_blocks import format_block_string

        return "\n".join(format_block_string(s) for s in design.stages)
    if design.macro.style == "nb201":
        from engine.arch.nb201 import format_nb201

        return format_nb201(design)
    from engine.arch.genotype import format_genotype

    return format_genotype(design)
