"""Text codecs: NAS-Bench-201 strings, DARTS genotypes, timm block strings."""

from __future__ import annotations

import pytest

from engine.arch.nb201 import format_nb201, parse_nb201
from engine.arch.presets import NB201_BEST, get_preset
from engine.arch.validate import DesignError, validate

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


@pytest.mark.parametrize("text", [NB201_EXAMPLE, NB201_BEST, "|none~0|",
                                  "|skip_connect~0|+|none~1|+|nor_conv_1x1~0|+|avg_pool_3x3~3|"])
def test_nb201_round_trip(text):
    d = parse_nb201(text)
    assert format_nb201(d) == text
    assert parse_nb201(format_nb201(d)) == d


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
