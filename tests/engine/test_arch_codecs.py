"""Text codecs: NAS-Bench-201 strings, DARTS genotypes, timm block strings."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.arch.genotype import format_genotype, parse_genotype
from engine.arch.model import CellDesign
from engine.arch.nb201 import format_nb201, parse_nb201
from engine.arch.presets import B0_BLOCKS, NB201_BEST, darts_design, get_preset, preset_names
from engine.arch.scaling import (
    compound_scale,
    make_divisible,
    nearest_efficientnet,
    scaled_head_channels,
    scaled_stages,
    scaled_stem_channels,
    with_compound_scale,
)
from engine.arch.serialize import design_from_dict, to_json
from engine.arch.timm_blocks import (
    format_block_string,
    format_block_strings,
    parse_block_string,
    parse_block_strings,
)
from engine.arch.validate import DesignError, validate
from engine.ops.registry import DARTS_OPS

NB201_EXAMPLE = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+"
                 "|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")


# -- NAS-Bench-201 -----------------------------------------------------------------------

def test_nb201_parse_structure_and_macro():
    d = parse_nb201(NB201_EXAMPLE)
    m = d.macro
    assert (m.style, m.channels, m.layers, m.classes, m.input_shape) == (
        "nb201", 16, 5, 10, (3, 32, 32))
    assert d.reduce is None and d.normal.n_inputs == 1
    assert d.normal.nodes == [1, 2, 3] and d.normal.concat == [3]
    assert [(e.source, e.target, e.op) for e in d.normal.inputs_of(2)] == [
        (0, 2, "nor_conv_3x3"), (1, 2, "avg_pool_3x3")]
    assert not [p for p in validate(d) if p.severity == "error"]


@pytest.mark.parametrize("text,any_size", [
    (NB201_EXAMPLE, False), (NB201_BEST, False),
    # the generalised form format_nb201 writes for edited cells (read with any_size)
    ("|none~0|", True), ("|skip_connect~0|+|none~1|+|nor_conv_1x1~0|+|avg_pool_3x3~3|", True)])
def test_nb201_round_trip(text, any_size):
    d = parse_nb201(text, any_size=any_size)
    assert format_nb201(d) == text
    assert parse_nb201(format_nb201(d), any_size=any_size) == d


def test_nb201_preset_round_trip():
    d = get_preset("nas-bench-201-best")
    assert parse_nb201(format_nb201(d), name=d.name) == d


def test_nb201_macro_overrides():
    d = parse_nb201(NB201_EXAMPLE, channels=8, classes=100, input_shape=(1, 16, 16))
    assert (d.macro.channels, d.macro.classes, d.macro.input_shape) == (8, 100, (1, 16, 16))
    with pytest.raises(DesignError, match="macro: unknown macro setting"):
        parse_nb201(NB201_EXAMPLE, chanels=8)


@pytest.mark.parametrize("text,expect", [
    ("", "is empty"),
    ("|nor_conv_3x3~0|+nor_conv_3x3~0|", "column 18: node 2: expected '|op~i|...|'"),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~2|", "column 19: node 2: input 2 is not an earlier node"),
    ("|nor_conv_3x3-0|", "column 2: node 1: expected 'op~i'"),
    ("|nor_conv_3x3~x|", "column 2: node 1: input 'x' is not a node number"),
    ("|nor_conv_3x3~0|+|none~0|none~0|", "column 26: node 2: input 0 appears twice"),
    ("|nor_conv_3x3~0|+||", "node 2: expected 'op~i', got ''"),
])
def test_nb201_errors_are_located(text, expect):
    with pytest.raises(DesignError) as info:
        parse_nb201(text)
    assert expect in str(info.value)
    assert str(info.value).startswith("NAS-Bench-201 string")


def test_format_nb201_rejects_darts_cells():
    with pytest.raises(DesignError, match="1 input"):
        format_nb201(get_preset("darts-v2"))


# -- DARTS Genotype text -----------------------------------------------------------------

DARTS_V2_TEXT = (  # as printed in shared/reference/NUMBERS.md (quark0/darts genotypes.py)
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])")

CELL_PRESETS = [n for n in preset_names()
                if isinstance(get_preset(n), CellDesign) and get_preset(n).macro.style == "darts"]


def test_darts_v2_text_is_the_preset():
    assert parse_genotype(DARTS_V2_TEXT, name="darts-v2") == get_preset("darts-v2")
    assert format_genotype(get_preset("darts-v2")) == DARTS_V2_TEXT


@pytest.mark.parametrize("name", CELL_PRESETS)
def test_genotype_round_trip_presets(name):
    d = get_preset(name)
    text = format_genotype(d)
    assert parse_genotype(text, name=name) == d
    assert format_genotype(parse_genotype(text)) == text


def test_genotype_messy_text_formats_canonically():
    messy = '''DARTS_V2 = genotypes.Genotype(
        normal=[("sep_conv_3x3", 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0),
                ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0),
                ('skip_connect', 0), ('dil_conv_3x3', 2),],
        normal_concat=range(2, 6),
        reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1),
                ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)],
        reduce_concat=list(range(2, 6)),
    )'''
    assert format_genotype(parse_genotype(messy)) == DARTS_V2_TEXT


def test_genotype_nested_and_positional_forms():
    nested = ("Genotype([[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)], [('skip_connect', 0), "
              "('dil_conv_3x3', 2)]], range(2, 4))")
    d = parse_genotype(nested)
    assert d.reduce is None and d.normal.nodes == [2, 3] and d.normal.concat == [2, 3]
    assert format_genotype(d) == ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
                                  "('skip_connect', 0), ('dil_conv_3x3', 2)], "
                                  "normal_concat=[2, 3])")


def test_genotype_macro_defaults_and_overrides():
    d = parse_genotype(DARTS_V2_TEXT)
    assert (d.macro.style, d.macro.channels, d.macro.layers, d.macro.classes,
            d.macro.input_shape, d.macro.auxiliary) == ("darts", 36, 20, 10, (3, 32, 32), False)
    d = parse_genotype(DARTS_V2_TEXT, channels=16, layers=8, auxiliary=True)
    assert (d.macro.channels, d.macro.layers, d.macro.auxiliary) == (16, 8, True)


def test_format_relabels_nodes_topologically():
    d = get_preset("darts-v2")
    cell = d.normal
    for e in cell.edges:  # rename node 2 -> 9: the genotype still calls it node 2
        e.source, e.target = (9 if e.source == 2 else e.source), (9 if e.target == 2 else e.target)
    cell.nodes = [9, 3, 4, 5]
    cell.concat = [9, 3, 4, 5]
    assert format_genotype(d) == DARTS_V2_TEXT
    cell.nodes = [5, 4, 3, 9]  # 5 reads 9: stable topological order is 4, 3, 9, 5
    back = parse_genotype(format_genotype(d)).normal
    assert [[(e.op, e.source) for e in back.inputs_of(n)] for n in back.nodes] == [
        [(e.op, e.source) for e in cell.inputs_of(n)] for n in (4, 3, 9, 5)][:3] + [
        [("skip_connect", 0), ("dil_conv_3x3", 4)]]
    assert back.concat == [4, 3, 2, 5]


def test_format_requires_two_inputs_per_node():
    d = get_preset("darts-v2")
    d.add_edge("normal", 0, 4, "skip_connect")
    with pytest.raises(DesignError, match="normal cell, node 4: a DARTS genotype needs exactly 2"):
        format_genotype(d)


@pytest.mark.parametrize("text,expect", [
    ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)], normal_concat=[2]",
     "Genotype text, column 78: expected ',' or ')', got end of text"),
    ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)] normal_concat=[2])",
     "Genotype text, column 60: expected ',' or ')', got 'normal_concat'"),
    ("Genotype(normal=[('a', 0), ('b', 1), ('c', 0), ('d', 6)], normal_concat=[2, 3])",
     "normal, node 3: input 6 is not an earlier node (use 0..2; Genotype text, column 48)"),
    ("Genotype(normal=[('a', 0), ('b', 1)], normal_concat=[2, 7])",
     "normal_concat: node 7 does not exist"),
    ("Genotype(normal=[('a', 0), ('b', 1), ('c', 0)], normal_concat=[2])",
     "normal: a DARTS genotype lists 2 (op, input) pairs per node, got 3 pairs"),
    ("Genotype(normal=[('a', 0), ('b', 1)])", "missing normal_concat"),
    ("Genotype(normal=[('a', 0), ('b', 1)], normal_concat=[2], colour=1)",
     "column 58: unknown field 'colour'"),
    ("Genotype(normal=[('a', 0), ('b, 1)], normal_concat=[2])", "unterminated string"),
    ("Genotype(normal=[('a', 0), ('b', 1)], normal_concat=[2]) + 1", "column 58: unexpected character '+'"),
    ("Genotype(normal=[('a', 0.5), ('b', 1)], normal_concat=[2])", "column 25: expected ',' or ')', got '.'"),
    ("eval('x')", "expected 'Genotype(', got 'eval'"),
    ("Genotype(normal=[('a', 0), ('b', 1)], normal_concat=[2], normal=[])",
     "field 'normal' given twice"),
    ("Genotype(normal=[('a', 0), ('b', 1)], normal_concat=range(1, 2, 3))",
     "range() takes one or two whole numbers"),
    ("", "Genotype text: is empty"),
    ("Genotype(\n  normal=[('a', 0), ('b', 1)],\n  normal_concat=[2] x)",
     "Genotype text, line 3, column 21: expected ',' or ')'"),
])
def test_genotype_errors_are_located(text, expect):
    with pytest.raises(DesignError) as info:
        parse_genotype(text)
    assert expect in str(info.value)


# -- timm block strings ------------------------------------------------------------------

def test_b0_block_strings_are_the_b0_stages():
    assert parse_block_strings(list(B0_BLOCKS)) == get_preset("efficientnet-b0").stages
    assert format_block_strings(get_preset("efficientnet-b0").stages) == list(B0_BLOCKS)


@pytest.mark.parametrize("name", [n for n in preset_names() if n.startswith(("eff", "mob"))])
def test_block_strings_round_trip_stack_presets(name):
    stages = get_preset(name).stages
    texts = format_block_strings(stages)
    assert parse_block_strings(texts) == stages
    assert parse_block_strings("\n".join(texts)) == stages


def test_block_string_options():
    s = parse_block_string("ir_r2_k5_s2_e4.5_c40_nre")
    assert (s.block, s.repeats, s.kernel, s.stride, s.expansion, s.channels, s.se, s.act) == (
        "ir", 2, 5, 2, 4.5, 40, 0.0, "relu")
    assert format_block_string(s) == "ir_r2_k5_s2_e4.5_c40_nre"
    assert parse_block_string("ds_r1_k3_s1_c16_nswish").act == "silu"
    assert parse_block_string("ds_r1_k3_s1_c16").expansion == 1
    assert format_block_string(get_preset("mobilenet-v2").stages[1]) == "ir_r2_k3_s2_e6_c24_nr6"
    assert parse_block_string("ir_r1_k3_s1_e6_c8", default_act="relu6").act == "relu6"


def test_block_strings_text_forms():
    text = """# timm arch_def
    [['ds_r1_k3_s1_e1_c16_se0.25'], ['ir_r2_k3_s2_e6_c24_se0.25'],
     ['ir_r2_k5_s2_e6_c40_se0.25']]"""
    assert len(parse_block_strings(text)) == 3
    nested = [["ds_r1_k3_s1_e1_c16_se0.25"], ["ir_r2_k3_s2_e6_c24_se0.25", "ir_r1_k3_s1_e6_c24"]]
    assert [s.channels for s in parse_block_strings(nested)] == [16, 24, 24]


@pytest.mark.parametrize("text,expect", [
    ("er_r1_k3_s1_e1_c16", "block string 'er_r1_k3_s1_e1_c16': part 1 'er': block type"),
    ("ir_r1_k3_s1_e6_c16_q2", "part 7 'q2': unknown option"),
    ("ir_r1_kx_s1_e6_c16", "part 3 'kx': kernel must be a number"),
    ("ir_r1.5_k3_s1_e6_c16", "part 2 'r1.5': repeats must be a whole number"),
    ("ir_r1_k3_e6_c16", "missing s (stride)"),
    ("ir_r1_k3_s1_e6_c16_ngelu", "part 7 'ngelu': unknown activation 'gelu'"),
    ("ir_r1_k3_s1_s2_c16", "part 5 's2': option 's' given twice"),
])
def test_block_string_errors_are_located(text, expect):
    with pytest.raises(DesignError) as info:
        parse_block_string(text)
    assert expect in str(info.value)


def test_block_strings_list_errors_name_the_line():
    with pytest.raises(DesignError) as info:
        parse_block_strings("ds_r1_k3_s1_e1_c16\nir_r2_k3_s2_e6_c24, ir_r2_k9_sX_c40")
    assert str(info.value).startswith("block strings, line 2, item 2 'ir_r2_k9_sX_c40': part 4")
    with pytest.raises(DesignError, match="no block strings"):
        parse_block_strings(" \n# nothing\n")
    # as typed on a command line: spaces separate the strings too
    spaced = parse_block_strings("ds_r1_k3_s1_e1_c16 ir_r2_k3_s2_e6_c24  ['ir_r1_k5_s2_e6_c40']")
    assert [(s.block, s.repeats, s.channels) for s in spaced] == [
        ("ds", 1, 16), ("ir", 2, 24), ("ir", 1, 40)]
    with pytest.raises(DesignError, match=r"^block strings, line 1, item 2 'ir_r1_k3_sX_c8'"):
        parse_block_strings("ds_r1_k3_s1_e1_c16 ir_r1_k3_sX_c8")


# -- compound scaling --------------------------------------------------------------------

def test_make_divisible_matches_the_rule():
    assert make_divisible(32 * 1.1) == 32 and make_divisible(16 * 1.2) == 24
    assert make_divisible(3) == 8 and make_divisible(60, 8) == 64 and make_divisible(8.9) == 16
    assert make_divisible(100, 8, min_value=128) == 128
    for v in range(1, 400):
        out = make_divisible(v * 0.73)
        assert out % 8 == 0 and out >= 0.9 * v * 0.73


def test_compound_scale():
    w, d, r = compound_scale(0)
    assert (w, d, r) == (1.0, 1.0, 224)
    w, d, r = compound_scale(2)
    assert w == pytest.approx(1.21) and d == pytest.approx(1.44) and r == round(224 * 1.15 ** 2)
    assert nearest_efficientnet(*compound_scale(0)) == "efficientnet-b0"
    assert nearest_efficientnet(1.8, 2.6, 528) == "efficientnet-b6"
    assert nearest_efficientnet(1.19, 1.45, 296) == "efficientnet-b3"
    scaled = with_compound_scale(get_preset("efficientnet-b0"), 1)
    assert scaled.resolution == 258 and scaled.width_mult == pytest.approx(1.1)


B_VARIANTS = [f"efficientnet-b{i}" for i in range(8)]


@pytest.mark.parametrize("name", B_VARIANTS)
def test_scaled_stages_match_torchvision_config(name):
    tv = pytest.importorskip("torchvision.models.efficientnet")
    stack = get_preset(name)
    confs, last = tv._efficientnet_conf("efficientnet_b0", width_mult=stack.width_mult,
                                        depth_mult=stack.depth_mult)
    assert [(s.channels, s.repeats, s.kernel, s.stride, s.expansion) for s in
            scaled_stages(stack)] == [(c.out_channels, c.num_layers, c.kernel, c.stride,
                                       c.expand_ratio) for c in confs]
    assert scaled_stem_channels(stack) == confs[0].input_channels
    assert last is None and scaled_head_channels(stack) == 4 * confs[-1].out_channels
    assert tv._make_divisible(1280 * stack.width_mult, 8) == scaled_head_channels(stack)


def test_head_channels_without_width_scaling():
    s = get_preset("efficientnet-b4")
    s.head_scales_with_width = False
    assert scaled_head_channels(s) == 1280


# -- hypothesis: random valid genotypes --------------------------------------------------

@st.composite
def genotype_cells(draw):
    n = draw(st.integers(2, 6))
    pairs = []
    for i in range(n):
        node = 2 + i
        for _ in range(2):
            pairs.append((draw(st.sampled_from(DARTS_OPS)), draw(st.integers(0, node - 1))))
    used = {src for _, src in pairs}
    unused = [2 + i for i in range(n) if 2 + i not in used]
    extra = draw(st.lists(st.sampled_from([2 + i for i in range(n)]), unique=True, max_size=n))
    concat = sorted(set(unused) | set(extra))
    if draw(st.booleans()):
        concat.reverse()
    return pairs, concat


@settings(max_examples=60, deadline=None)
@given(genotype_cells(), genotype_cells())
def test_random_genotypes_round_trip(normal, reduce):
    d = darts_design("random", normal[0], normal[1], reduce[0], reduce[1])
    assert not [p for p in validate(d) if p.severity == "error"]
    text = format_genotype(d)
    assert parse_genotype(text, name="random") == d
    assert design_from_dict(json.loads(to_json(d))) == d
