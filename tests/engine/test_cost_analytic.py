"""The analytic cost path equals the FLOP-counter reference, exactly, row by row."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.arch.model import BlockStack, Cell, CellDesign, CellMacro, Edge, Stage
from engine.arch.nb201 import parse_nb201
from engine.arch.presets import B0_BLOCKS, NB201_BEST, preset_names
from engine.arch.sources import resolve_source
from engine.arch.validate import DesignError
from engine.builders import input_shape_of
from engine.cost import count_macs, count_params, layer_table, meta_model, summarize
from engine.cost.analytic import design_cost
from engine.ops import blocks, registry
from engine.ops.costs import ShapeError
from engine.ops.torch_blocks import norm_layer

DESIGNS = Path(__file__).resolve().parents[2] / "resources" / "designs"
GENOTYPE = ("Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1), "
            "('dil_conv_5x5', 2), ('avg_pool_3x3', 0)], normal_concat=[2, 3], "
            "reduce=[('max_pool_3x3', 0), ('sep_conv_5x5', 1), ('skip_connect', 2), "
            "('conv_7x1_1x7', 1)], reduce_concat=[2, 3])")
# the generalised NAS-Bench-201 form (other node counts; parse_nb201(any_size=True))
GENERALISED_NB201 = ("|none~0|", "|skip_connect~0|+|none~1|+|nor_conv_1x1~0|+|avg_pool_3x3~3|")
CODEC_EXAMPLES = [
    NB201_BEST, *GENERALISED_NB201,
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
    "skip_connect~2|",
    GENOTYPE, ", ".join(B0_BLOCKS), "ds_r1_k3_s1_e1_c16_nre, ir_r2_k5_s2_e3_c24_se0.5_nhs",
    *sorted(str(p) for p in DESIGNS.glob("*.json")),
]


def counted(design, **overrides):
    """(params, params with aux, MACs, table) from a meta-device build and torch's counter."""
    model = meta_model(design, **overrides)
    shape = tuple(overrides.get("input_shape") or input_shape_of(design))
    return (count_params(model), count_params(model, include_auxiliary=True),
            count_macs(model, shape), layer_table(model, shape))


def assert_same(design, **overrides):
    a = design_cost(design, classes=overrides.get("classes"),
                    input_shape=overrides.get("input_shape"))
    params, with_aux, macs, table = counted(design, **overrides)
    assert (a.params, a.params_with_auxiliary, a.macs) == (params, with_aux, macs)
    assert a.table() == table
    return a


@pytest.mark.parametrize("name", preset_names())
def test_every_preset(name):
    design = resolve_source(name)
    analytic, reference = summarize(design), summarize(design, method="counted")
    assert analytic["method"] == "analytic" and reference["method"] == "counted"
    assert analytic == {**reference, "method": "analytic"}  # params, MACs, every table row


@pytest.mark.parametrize("name", ["darts-v2", "pnas", "nasnet-a"])
def test_darts_presets_with_the_auxiliary_head_at_several_inputs(name):
    for shape in [(3, 32, 32), (1, 8, 8), (3, 17, 23)]:
        design = resolve_source(name, auxiliary=True, layers=8, channels=8)
        assert_same(design, input_shape=shape, classes=7)


@pytest.mark.parametrize("text", CODEC_EXAMPLES)
def test_every_codec_example(text):
    design = parse_nb201(text, any_size=True) if text in GENERALISED_NB201 else \
        resolve_source(text)
    if text.endswith(".json"):
        assert_same(design)
    else:
        assert_same(design, input_shape=(1, 20, 20), classes=3)


# -- every registered op and block type -------------------------------------------------------

def n_params(module):
    return sum(p.numel() for p in module.parameters())


def module_macs(module, shape):
    with torch.device("meta"):
        module = module.to("meta")
    return count_macs(module, shape)


@pytest.mark.parametrize("op", [s.name for s in registry.all_ops("cell")])
def test_every_cell_op_has_an_exact_cost_function(op):
    spec = registry.get(op)
    assert spec.cost is not None, f"op {op!r} has no cost function"
    for shape in [(4, 8, 8), (6, 7, 5), (2, 1, 1), (8, 3, 10)]:
        for stride in (1, 2):
            for affine in (True, False):
                module = spec.resolve()(shape[0], stride, affine).eval()
                cost = spec.cost(shape, stride, affine)
                out = module(torch.zeros(1, *shape))
                assert cost.shape == tuple(out.shape[1:]), (op, shape, stride)
                assert cost.params == n_params(module), (op, shape, stride, affine)
                assert cost.macs == module_macs(module, shape), (op, shape, stride)


BLOCK_EXAMPLES = {
    "ds": [dict(kernel=3, se=0.25), dict(kernel=5, se=0.0), dict(kernel=7, se=0.5),
           dict(kernel=1, se=0.02)],
    "ir": [dict(kernel=3, expansion=6, se=0.25), dict(kernel=5, expansion=1, se=0.0),
           dict(kernel=7, expansion=3.7, se=0.5), dict(kernel=1, expansion=1.01, se=0.02)],
    "mix": [dict(kernels=(3, 5, 7), expansion=6, se=0.25),
            dict(kernels=(3,), exp_kernels=(1, 1), pw_kernels=(1, 1), expansion=3, se=0.0),
            dict(kernels=(3, 5), expansion=1, se=0.5),
            dict(kernels=(3, 5, 7, 9, 11), pw_kernels=(1, 1), expansion=2.5, se=0.0)],
    "mb3": [dict(kernel=3, expansion=4, se=0.25), dict(kernel=5, expansion=1, se=0.25),
            dict(kernel=3, expansion=2.3, se=0.0)],
    "fire": [dict(squeeze=4), dict(squeeze=1)],
    "basic": [dict()],
    "bottleneck": [dict(expansion=4), dict(expansion=2)],
    "conv": [dict(kernel=3, bn=True), dict(kernel=1, bn=False), dict(kernel=5, bn=True)],
    "inception": [dict(branches=(2, 3, 4, 1, 2), kernel=3),
                  dict(branches=(1, 1, 1, 1, 1), kernel=5)],
    "dense": [dict(expansion=4), dict(expansion=1.5)],
    "transition": [dict()],
}


def test_every_block_type_has_examples():
    assert set(BLOCK_EXAMPLES) == set(blocks.block_names())


def _refuses(fn):
    try:
        fn()
    except (ValueError, RuntimeError):
        return True
    return False


@pytest.mark.parametrize("block", blocks.block_names())
def test_every_block_type_has_an_exact_cost_function(block):
    """Cost, parameters, MACs and shape equal the built module's, and settings the module
    refuses (a stride-1 block given stride 2, an odd fire width) the cost refuses too."""
    spec = blocks.get_block(block)
    assert spec.cost is not None, f"block type {block!r} has no cost function"
    refused = 0
    for settings_ in BLOCK_EXAMPLES[block]:
        for shape, c_out, stride in [((16, 9, 9), 24, 2), ((8, 4, 6), 8, 1), ((5, 1, 1), 7, 2),
                                     ((6, 5, 5), 10, 1)]:
            stage = Stage(block=block, channels=c_out, stride=stride, act="relu", **settings_)
            kwargs = spec.settings(stage)

            def build(shape=shape, c_out=c_out, stride=stride, kwargs=kwargs):
                module = spec.resolve()(shape[0], c_out, stride=stride, drop_prob=0.0,
                                        norm=norm_layer(), **kwargs).eval()
                return module, module(torch.zeros(1, *shape))

            if _refuses(build):
                refused += 1
                with pytest.raises(ShapeError):
                    spec.cost(shape, c_out, stride=stride, **kwargs)
                continue
            module, out = build()
            cost = spec.cost(shape, c_out, stride=stride, **kwargs)
            assert cost.shape == tuple(out.shape[1:])
            assert cost.params == n_params(module), (block, settings_, shape)
            assert cost.macs == module_macs(module, shape), (block, settings_, shape)
            assert getattr(module, "out_channels", c_out) == cost.shape[0]
    assert refused < 4 * len(BLOCK_EXAMPLES[block])


def test_the_block_registry_describes_each_block_type():
    for spec in blocks.all_blocks():
        assert spec.title and spec.description and spec.prefix
        assert registry.get(spec.name).kind == "block"  # the palette lists it
        names = spec.field_names()
        assert {"repeats", "channels", "stride"} <= set(names)
        assert set(spec.defaults()) == set(names)
        assert all(f.title and f.kind for f in spec.fields)
        assert {"pool", "dropblock"} <= set(names)  # every stage can pool and drop blocks
    assert blocks.get_block("ir").field("expansion").key == "e"
    assert blocks.get_block("ds").field("expansion").choices == (1.0,)  # written e1, fixed
    assert blocks.by_prefix("ir") is blocks.get_block("ir")
    with pytest.raises(ValueError, match="registered twice"):
        blocks.register_block("ir", "again", fields=blocks.COMMON_FIELDS, factory="x:y",
                              cost=None)


# -- missing cost functions and shapes that do not compose ---------------------------------

def test_an_op_without_a_cost_function_is_a_located_problem(monkeypatch):
    spec = registry.get("sep_conv_3x3")
    monkeypatch.setitem(registry._REGISTRY, "sep_conv_3x3",
                        type(spec)(**{**spec.__dict__, "cost": None}))
    design = resolve_source("darts-v2")
    with pytest.raises(DesignError) as err:
        design_cost(design)
    assert str(err.value) == ("normal cell, node 2: op 'sep_conv_3x3' has no cost function")


def test_a_block_type_without_a_cost_function_is_a_located_problem(monkeypatch):
    spec = blocks.get_block("ir")
    monkeypatch.setitem(blocks._BLOCKS, "ir", type(spec)(**{**spec.__dict__, "cost": None}))
    with pytest.raises(DesignError, match=r"^stages\[1\].block: block type 'ir' has no cost"):
        design_cost(resolve_source("efficientnet-b0"))


def nb201_at(shape, channels=16):
    design = resolve_source(NB201_BEST, channels=channels)
    design.macro.input_shape = shape  # past the validator: the cost path must refuse it itself
    return design


def test_a_stride_below_one_pixel_is_a_located_problem():
    design = nb201_at((3, 2, 2))
    with pytest.raises(DesignError) as err:
        design_cost(design)
    assert err.value.problems[0].location == "residual reduction 2"
    assert "does not fit a feature map 1 pixels wide" in err.value.problems[0].message
    with pytest.raises(RuntimeError):  # the builder's network fails there too
        meta_model(design).eval()(torch.zeros(1, 3, 2, 2, device="meta"))
    with pytest.raises(ShapeError):
        registry.get("nor_conv_3x3").cost((4, 0, 3), 1)


def test_odd_sizes_into_the_nb201_reduction_are_located():
    with pytest.raises(DesignError, match="residual reduction 1: adds a 16x3x3 branch to a "
                                          "16x2x2 shortcut"):
        design_cost(nb201_at((3, 5, 5), channels=8))


def test_the_analytic_path_imports_no_torch():
    import subprocess

    code = ("import sys; from engine.cost import summarize; from engine.arch.presets import "
            "get_preset; [summarize(get_preset(n)) for n in ('darts-v2', 'efficientnet-b7')]; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


# -- generated cells and stacks ---------------------------------------------------------------

CELL_OPS = [s.name for s in registry.all_ops("cell")]


@st.composite
def cells(draw, n_inputs):
    n_nodes = draw(st.integers(1, 4))
    nodes = list(range(n_inputs, n_inputs + n_nodes))
    edges = []
    for node in nodes:
        sources = draw(st.lists(st.integers(0, node - 1), min_size=1, max_size=3))
        edges += [Edge(s, node, draw(st.sampled_from(CELL_OPS))) for s in sources]
    concat = draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=n_nodes, unique=True))
    return Cell(n_inputs=n_inputs, nodes=nodes, edges=edges, concat=sorted(concat))


@st.composite
def cell_designs(draw):
    style = draw(st.sampled_from(["darts", "nb201"]))
    if style == "nb201":
        macro = CellMacro(style="nb201", channels=draw(st.integers(1, 6)),
                          layers=draw(st.integers(1, 2)),
                          input_shape=(draw(st.integers(1, 3)), *[draw(st.sampled_from(
                              [4, 8, 12])) for _ in range(2)]),
                          classes=draw(st.integers(1, 5)))
        return CellDesign("gen", normal=draw(cells(1)), macro=macro)
    layers = draw(st.integers(1, 5))
    reductions = draw(st.none() | st.lists(st.integers(0, layers - 1), max_size=3, unique=True))
    macro = CellMacro(style="darts", channels=2 * draw(st.integers(1, 3)), layers=layers,
                      stem_multiplier=draw(st.integers(1, 3)), reductions=reductions,
                      auxiliary=draw(st.booleans()),
                      input_shape=(draw(st.integers(1, 3)), draw(st.integers(5, 13)),
                                   draw(st.integers(5, 13))), classes=draw(st.integers(1, 5)))
    n_in = draw(st.sampled_from([1, 2]))
    reduce = draw(st.none() | cells(n_in))
    return CellDesign("gen", normal=draw(cells(n_in)), reduce=reduce, macro=macro)


def _agree(design):
    """Both paths give the same figures, or both refuse the design."""
    try:
        reference = counted(design)
    except (RuntimeError, ValueError):
        with pytest.raises(DesignError):
            design_cost(design)
        return
    a = design_cost(design)
    assert (a.params, a.params_with_auxiliary, a.macs, a.table()) == reference


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cell_designs())
def test_generated_cell_networks(design):
    _agree(design)


@st.composite
def stacks(draw):
    from engine.ops.stack_parts import CLASSIFIERS, HEADS, POOLS, STEMS

    stages = []
    for _ in range(draw(st.integers(1, 4))):
        block = draw(st.sampled_from(blocks.block_names()))
        spec = blocks.get_block(block)
        strides = spec.field("stride").choices or (1, 2)
        stages.append(Stage(block=block, repeats=draw(st.integers(1, 3)),
                            stride=draw(st.sampled_from(strides)),
                            channels=draw(st.integers(1, 40)),
                            act=draw(st.sampled_from(registry.ACTIVATIONS)),
                            pool=draw(st.sampled_from(list(POOLS))),
                            dropblock=draw(st.sampled_from([0, 0, 3])),
                            **draw(st.sampled_from(BLOCK_EXAMPLES[block]))))
    classifier = draw(st.sampled_from(list(CLASSIFIERS)))
    linear = classifier == "linear"
    return BlockStack("gen", stages=stages, stem_channels=draw(st.integers(1, 24)),
                      head_channels=draw(st.integers(1, 64)),
                      width_mult=draw(st.sampled_from([0.25, 0.5, 1.0, 1.1, 1.8, 2.0])),
                      depth_mult=draw(st.sampled_from([0.5, 1.0, 1.4, 3.1])),
                      resolution=draw(st.integers(1, 40)), in_channels=draw(st.integers(1, 4)),
                      classes=draw(st.integers(1, 12)),
                      head_scales_with_width=draw(st.booleans()),
                      stem=draw(st.sampled_from(list(STEMS))),
                      stem_kernel=draw(st.sampled_from([1, 3, 7])),
                      stem_stride=draw(st.sampled_from([1, 2])),
                      stem_pool=draw(st.sampled_from(list(POOLS))),
                      head=draw(st.sampled_from(list(HEADS))),
                      pool_size=draw(st.sampled_from([1, 2])) if linear else 1,
                      hidden=draw(st.sampled_from([(), (5,), (7, 3)])) if linear else (),
                      classifier=classifier)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks())
def test_generated_block_stacks(stack):
    _agree(stack)


def test_an_auxiliary_head_that_does_not_fit_a_wide_input_is_located():
    design = resolve_source("darts-v2", auxiliary=True, layers=6, channels=4)
    design.macro.input_shape = (3, 32, 64)
    with pytest.raises(DesignError, match=r"^macro.auxiliary: auxiliary head: its classifier "
                                          r"expects 768 features, the 64x8x16 input gives 2304"):
        design_cost(design)
    with pytest.raises(RuntimeError):  # the counted path fails there too
        counted(design)
