"""Search spaces: codes round-trip to ordinary designs, mutation changes one choice."""

import json
import random
import subprocess
import sys

import pytest

from engine.arch.model import BlockStack, CellDesign
from engine.arch.space import (
    DartsSpace,
    MBConvSpace,
    NB201Space,
    SpaceError,
    get_space,
    load_space,
    space_from_spec,
)


@pytest.mark.parametrize("space", [DartsSpace(), NB201Space(), MBConvSpace()],
                         ids=lambda s: s.name)
def test_sample_encode_decode_mutate(space):
    rng = random.Random(1)
    for _ in range(20):
        design = space.sample(rng)
        code = space.encode(design)
        assert space.decode(code) == design
        child = space.mutate(design, rng)
        assert sum(a != b for a, b in zip(space.encode(child), code, strict=True)) == 1
    assert space_from_spec(json.loads(json.dumps(space.spec()))).choices() == space.choices()


def test_darts_space_shape():
    space = DartsSpace()
    design = space.decode([0] * len(space.choices()))
    assert isinstance(design, CellDesign) and design.reduce is not None
    assert design.macro.channels == 8 and design.macro.layers == 5
    for cell in design.cells().values():
        assert cell.nodes == [2, 3, 4, 5] and cell.concat == [2, 3, 4, 5]
        for node in cell.nodes:
            srcs = [e.source for e in cell.inputs_of(node)]
            assert len(set(srcs)) == 2 and max(srcs) < node
            assert all(e.op != "none" for e in cell.inputs_of(node))
    # 4 nodes: pairs C(2,2)*C(3,2)*C(4,2)*C(5,2) = 180, ops 7^8, both cells
    assert space.size() == (180 * 7**8) ** 2
    assert "none" in DartsSpace(allow_none=True).choices()[1].options


def test_darts_encode_rejects_outside_designs():
    from engine.arch.presets import get_preset

    space = DartsSpace()
    v2 = get_preset("darts-v2")
    assert space.decode(space.encode(v2)).normal.edges[0].op == "sep_conv_3x3"
    with pytest.raises(SpaceError, match="normal cell, node 5"):
        space.encode(_repeat_input(v2))
    with pytest.raises(SpaceError, match="nodes"):
        space.encode(get_preset("nasnet-a"))


def _repeat_input(design):
    d = design.copy()
    for e in d.normal.inputs_of(5):
        e.source = 0
    return d


def test_nb201_cellstr_round_trip_and_errors():
    space = NB201Space()
    best = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
            "|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    code = space.code_of_cellstr(best)
    assert space.cellstr(code) == best
    design = space.decode(code)
    assert design.macro.style == "nb201" and design.reduce is None
    assert len(design.normal.edges) == 6 and space.size() == 15625
    with pytest.raises(SpaceError, match="unknown op 'conv_9x9'"):
        space.code_of_cellstr(best.replace("skip_connect", "conv_9x9"))
    with pytest.raises(SpaceError, match="3 '\\+'-separated"):
        space.code_of_cellstr("|none~0|")


def test_mbconv_choices():
    space = MBConvSpace()
    names = [c.name for c in space.choices()]
    assert "stages.0.expansion" not in names and "stages.1.expansion" in names
    assert names[-2:] == ["width_mult", "depth_mult"]
    design = space.sample(random.Random(3))
    assert isinstance(design, BlockStack) and len(design.stages) == 7
    assert all(s.kernel in (3, 5) and s.se in (0.0, 0.25) for s in design.stages)
    assert {c.name: c.options for c in space.choices()}["stages.5.repeats"] == (3, 4, 5)


def test_space_files(tmp_path):
    builtin = tmp_path / "nb.json"
    builtin.write_text(json.dumps({"format": "nas-studio-space", "version": 1,
                                   "space": "nas-bench-201", "channels": 4, "layers": 1}))
    space = load_space(builtin)
    assert isinstance(space, NB201Space) and space.macro.channels == 4
    custom = tmp_path / "custom.json"
    custom.write_text(json.dumps({
        "format": "nas-studio-space", "version": 1, "base": "darts-v2", "name": "v2-edges",
        "choices": [{"path": "normal.edges.0.op", "options": ["sep_conv_3x3", "max_pool_3x3"]},
                    {"path": "macro.channels", "options": [8, 16, 24]}]}))
    space = get_space(str(custom))
    assert space.size() == 6
    d = space.decode((1, 2))
    assert d.normal.edges[0].op == "max_pool_3x3" and d.macro.channels == 24
    assert space.encode(d) == (1, 2)
    assert space.mutate(d, random.Random(0)) != d
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"base": "darts-v2", "choices": [
        {"path": "normal.edges.99.op", "options": ["skip_connect"]}]}))
    with pytest.raises(SpaceError, match=r"bad.json: .*normal.edges.99.op: no such place"):
        load_space(bad)
    bad.write_text(json.dumps({"base": "darts-v2", "choices": [
        {"path": "normal.edges.0.op", "options": ["warp_conv"]}]}))
    with pytest.raises(SpaceError, match="unknown ops"):
        load_space(bad)
    bad.write_text("{not json")
    with pytest.raises(SpaceError, match="line 1: invalid JSON"):
        load_space(bad)
    with pytest.raises(SpaceError, match="unknown space 'dots'"):
        get_space("dots")


def test_space_does_not_import_torch():
    code = ("import sys, random, engine.arch.space as s; "
            "[sp.sample(random.Random(0)) for sp in (s.DartsSpace(), s.NB201Space(), "
            "s.MBConvSpace())]; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_nb201_designs_match_the_shared_codec():
    from engine.arch.nb201 import format_nb201, parse_nb201

    space = NB201Space()
    rng = random.Random(5)
    for _ in range(10):
        code = space.sample_code(rng)
        assert _same_cell(space.decode(code), parse_nb201(space.cellstr(code)))
        assert format_nb201(space.decode(code)) == space.cellstr(code)


def _same_cell(a, b):
    return a.normal == b.normal and a.macro == b.macro and a.reduce == b.reduce
