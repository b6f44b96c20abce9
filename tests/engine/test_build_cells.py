"""Cell networks: DARTS skeleton, NAS-Bench-201 skeleton, any valid cell DAG."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.arch.model import Cell, CellDesign, CellMacro, Edge
from engine.arch.presets import GENOTYPES, darts_design, get_preset
from engine.builders import build_model, input_shape_of
from engine.builders.cell_network import AuxiliaryHead, drop_path
from engine.ops import registry
from engine.ops.registry import DARTS_OPS

CELL_PRESETS = [*GENOTYPES, "nas-bench-201-best"]


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def nb201_design(ops: list[str], channels: int = 16, layers: int = 5) -> CellDesign:
    """A NAS-Bench-201 cell: edges (0->1), (0->2), (1->2), (0->3), (1->3), (2->3)."""
    pairs = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
    cell = Cell(n_inputs=1, nodes=[1, 2, 3],
                edges=[Edge(s, t, op) for (s, t), op in zip(pairs, ops, strict=True)],
                concat=[3])
    return CellDesign(name="nb201", normal=cell, reduce=None,
                      macro=CellMacro(style="nb201", channels=channels, layers=layers,
                                      drop_path=0.0))


@pytest.mark.parametrize("op", [s.name for s in registry.all_ops("cell")])
@pytest.mark.parametrize("stride", [1, 2])
def test_every_cell_op_keeps_channels_and_halves_on_stride_2(op: str, stride: int) -> None:
    module = registry.get(op).resolve()(6, stride, True)
    x = torch.randn(2, 6, 7, 8)
    y = module(x)
    assert y.shape == (2, 6, 4 if stride == 2 else 7, 4 if stride == 2 else 8)
    if stride == 1:  # skip_connect gains a factorized reduce at stride 2
        assert (n_params(module) > 0) == registry.get(op).has_weights


def test_darts_v2_has_the_published_parameter_count() -> None:
    model = build_model(get_preset("darts-v2"))
    assert n_params(model) == 3_349_342


def test_darts_v2_with_auxiliary_head_adds_only_the_head() -> None:
    design = get_preset("darts-v2")
    design.set_macro(auxiliary=True)
    model = build_model(design)
    head = n_params(model.auxiliary_head)
    assert n_params(model) - head == 3_349_342
    # DARTS AuxiliaryHeadCIFAR at C=36: input 576 channels after the 2nd reduction.
    assert head == 576 * 128 + 2 * 128 + 128 * 768 * 4 + 2 * 768 + 768 * 10 + 10


@pytest.mark.parametrize("name", CELL_PRESETS)
def test_every_cell_preset_runs_forward(name: str) -> None:
    design = get_preset(name)
    assert input_shape_of(design) == (3, 32, 32)
    if design.macro.style == "nb201":
        design.set_macro(channels=4, layers=1)
    else:
        design.set_macro(channels=8, layers=5)
    model = build_model(design).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10)
    assert torch.isfinite(out).all()


def test_auxiliary_head_returns_pair_in_training_only() -> None:
    design = get_preset("darts-v1")
    design.set_macro(channels=4, layers=3, auxiliary=True, classes=5, input_shape=(1, 8, 8))
    model = build_model(design)
    x = torch.randn(3, 1, 8, 8)
    logits, aux = model.train()(x)
    assert logits.shape == aux.shape == (3, 5)
    (logits.sum() + 0.4 * aux.sum()).backward()
    assert model.auxiliary_head.classifier.weight.grad is not None
    with torch.no_grad():
        assert model.eval()(x).shape == (3, 5)


def test_auxiliary_head_keeps_darts_pooling_at_8x8_and_adapts_elsewhere() -> None:
    assert isinstance(AuxiliaryHead(16, 10, 8).features[1], torch.nn.AvgPool2d)
    small = AuxiliaryHead(16, 10, 2)
    assert isinstance(small.features[1], torch.nn.AdaptiveAvgPool2d)
    assert small(torch.randn(2, 16, 2, 2)).shape == (2, 10)


def test_overrides_for_classes_and_input_channels() -> None:
    design = get_preset("darts-v2")
    design.set_macro(channels=4, layers=3)
    model = build_model(design, classes=3, input_shape=(1, 12, 12)).eval()
    assert model.stem[0].in_channels == 1
    with torch.no_grad():
        assert model(torch.randn(2, 1, 12, 12)).shape == (2, 3)


def test_channels_double_at_the_reductions() -> None:
    design = get_preset("darts-v2")
    design.set_macro(channels=6, layers=8, reductions=[2, 5])
    model = build_model(design)
    assert [c.reduction for c in model.cells] == [i in (2, 5) for i in range(8)]
    widths = [c.preprocess1[1].out_channels for c in model.cells]
    assert widths == [6, 6, 12, 12, 12, 24, 24, 24]


def test_nb201_skeleton_parameter_counts() -> None:
    # Stem, residual reductions, last BN and classifier only (all edges parameter-free).
    assert n_params(build_model(nb201_design(["skip_connect"] * 6))) == 73_306
    # The largest NAS-Bench-201 cell (all 3x3 convs): 1.531546 M parameters.
    assert n_params(build_model(nb201_design(["nor_conv_3x3"] * 6))) == 1_531_546


def test_nb201_forward_and_residual_blocks() -> None:
    design = nb201_design(["nor_conv_3x3", "avg_pool_3x3", "nor_conv_1x1", "none",
                           "skip_connect", "nor_conv_3x3"], channels=4, layers=2)
    model = build_model(design).eval()
    names = [name for name, _ in model.parts()]
    assert names.count("residual reduction") == 2 and names[0] == "stem"
    with torch.no_grad():
        assert model(torch.randn(2, 3, 16, 16)).shape == (2, 10)


def test_drop_path_zeroes_whole_samples_and_rescales() -> None:
    torch.manual_seed(0)
    x = torch.ones(64, 2, 3, 3)
    y = drop_path(x, 0.5)
    per_sample = y.flatten(1)
    kept = per_sample[:, 0] > 0
    assert 0 < int(kept.sum()) < 64
    assert torch.equal(per_sample[kept], torch.full_like(per_sample[kept], 2.0))
    assert torch.equal(per_sample[~kept], torch.zeros_like(per_sample[~kept]))
    assert drop_path(x, 0.0) is x


def test_drop_path_only_in_training() -> None:
    design = get_preset("darts-v2")
    design.set_macro(channels=4, layers=3, drop_path=0.9)
    model = build_model(design)
    x = torch.randn(4, 3, 8, 8)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x), model(x))


def test_a_reduction_cell_may_not_output_an_input() -> None:
    design = darts_design("bad", [("sep_conv_3x3", 0), ("skip_connect", 1)], [2],
                          [("max_pool_3x3", 0), ("max_pool_3x3", 1)], [1, 2],
                          channels=4, layers=3)
    with pytest.raises(ValueError, match="reduce cell, output: .*input 1"):
        build_model(design)


def test_unknown_op_is_located() -> None:
    design = darts_design("bad", [("sep_conv_3x3", 0), ("conv_9x9", 1)], [2],
                          [("max_pool_3x3", 0), ("max_pool_3x3", 1)], [2],
                          channels=4, layers=3)
    with pytest.raises(ValueError, match="normal cell, edge 1: unknown cell op 'conv_9x9'"):
        build_model(design)


@st.composite
def darts_genotypes(draw: st.DrawFn) -> tuple[list, list, list, list]:
    def cell() -> tuple[list[tuple[str, int]], list[int]]:
        steps = draw(st.integers(2, 5))
        pairs = []
        for i in range(steps):
            for _ in range(2):
                pairs.append((draw(st.sampled_from(DARTS_OPS)), draw(st.integers(0, i + 1))))
        used = {src for _, src in pairs}
        concat = [n for n in range(2, steps + 2) if n not in used] or [steps + 1]
        return pairs, concat

    normal, nc = cell()
    reduce, rc = cell()
    return normal, nc, reduce, rc


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(darts_genotypes())
def test_random_darts_genotypes_build_and_run(genotype: tuple[list, list, list, list]) -> None:
    normal, nc, reduce, rc = genotype
    design = darts_design("random", normal, nc, reduce, rc, channels=4, layers=3,
                          input_shape=(3, 8, 8), classes=4, auxiliary=True)
    model = build_model(design)
    x = torch.randn(2, 3, 8, 8)
    logits, aux = model.train()(x)
    assert logits.shape == aux.shape == (2, 4)
    assert len(model.cells[0].body.concat) == len(nc)
    with torch.no_grad():
        assert model.eval()(x).shape == (2, 4)
