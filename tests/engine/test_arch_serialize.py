"""Design JSON: exact round trips, stable hashes, located errors for malformed files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.arch.model import BlockStack, Edge
from engine.arch.presets import get_preset, preset_names
from engine.arch.serialize import (
    design_from_dict,
    design_hash,
    design_to_dict,
    from_json,
    load_design,
    save_design,
    to_json,
)
from engine.arch.validate import DesignError

DESIGNS = Path(__file__).resolve().parents[2] / "resources" / "designs"


def _msgs(exc: pytest.ExceptionInfo) -> list[str]:
    return [str(p) for p in exc.value.problems]


@pytest.mark.parametrize("name", preset_names())
def test_round_trip_every_preset(name, tmp_path):
    d = get_preset(name)
    assert design_from_dict(design_to_dict(d)) == d
    assert from_json(to_json(d)) == d
    save_design(d, tmp_path / "d.json")
    back = load_design(tmp_path / "d.json")
    assert back == d and design_hash(back) == design_hash(d)


def test_envelope():
    obj = design_to_dict(get_preset("darts-v2"))
    assert (obj["format"], obj["version"], obj["kind"]) == ("nas-studio-design", 1, "cell")
    assert obj["normal"]["nodes"][0] == {"id": 2, "inputs": [
        {"op": "sep_conv_3x3", "source": 0}, {"op": "sep_conv_3x3", "source": 1}]}
    stack = design_to_dict(get_preset("efficientnet-b0"))
    assert stack["kind"] == "stack" and stack["stages"][1]["channels"] == 24


def test_positions_round_trip_and_do_not_change_the_hash():
    d = get_preset("darts-v2")
    h = design_hash(d)
    d.set_position("normal", 0, (-10.0, 5.5))
    d.set_position("normal", 3, (120.25, 40.0))
    d.name = "renamed"
    obj = design_to_dict(d)
    assert obj["normal"]["input_nodes"][0] == {"id": 0, "pos": [-10.0, 5.5]}
    back = design_from_dict(json.loads(json.dumps(obj)))
    assert back == d and back.normal.positions == {0: (-10.0, 5.5), 3: (120.25, 40.0)}
    assert design_hash(back) == h


def test_hash_changes_with_architecture_and_ignores_number_spelling():
    a, b = get_preset("darts-v2"), get_preset("darts-v2")
    b.set_edge_op("normal", 0, "sep_conv_5x5")
    assert design_hash(a) != design_hash(b)
    s1, s2 = get_preset("efficientnet-b0"), get_preset("efficientnet-b0")
    s2.set_stage(1, expansion=6.0)
    s1.set_stage(1, expansion=6)
    assert design_hash(s1) == design_hash(s2)


def test_interleaved_edge_order_is_kept():
    d = get_preset("darts-v2")
    e = d.remove_edge("normal", 0)
    d.add_edge("normal", e.source, e.target, e.op)       # node 2's edge now comes last
    obj = design_to_dict(d)
    assert "edge" in obj["normal"]["nodes"][0]["inputs"][0]
    assert design_from_dict(obj) == d
    assert design_hash(d) != design_hash(get_preset("darts-v2"))


def test_loose_edges_survive_unvalidated_load():
    d = get_preset("darts-v2")
    d.normal.edges.append(Edge(0, 9, "skip_connect"))
    obj = design_to_dict(d)
    assert obj["normal"]["loose_edges"] == [{"op": "skip_connect", "source": 0, "target": 9}]
    assert design_from_dict(obj, validate=False) == d
    with pytest.raises(DesignError, match="target node 9 does not exist"):
        design_from_dict(obj)


def test_invalid_json_names_file_and_line(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{\n  "format": "nas-studio-design",\n  "version": 1,\n  "kind" "cell"\n}\n')
    with pytest.raises(DesignError) as info:
        load_design(path)
    assert _msgs(info)[0].startswith("file x.json line 4: invalid JSON")


def test_missing_file():
    with pytest.raises(DesignError, match="not found"):
        load_design("/nonexistent/nowhere.json")


@pytest.mark.parametrize("change,expect", [
    (lambda o: o.update(format="onnx"), "format: expected 'nas-studio-design', got 'onnx'"),
    (lambda o: o.pop("format"), "format: missing"),
    (lambda o: o.update(version=2), "version: version 2 is not supported"),
    (lambda o: o.update(version="1"), "version: expected a whole number"),
    (lambda o: o.update(kind="graph"), "kind: expected 'cell' or 'stack'"),
    (lambda o: o.pop("normal"), "design: missing field 'normal'"),
    (lambda o: o.update(colour="red"), "design: unknown field 'colour'"),
    (lambda o: o["macro"].update(chanels=16), "macro: unknown field 'chanels'"),
    (lambda o: o["macro"].update(auxiliary="yes"), "macro.auxiliary: expected true or false"),
    (lambda o: o["macro"].update(input_shape=[3, 32]), "macro.input_shape: expected [channels"),
    (lambda o: o["normal"]["nodes"][1]["inputs"][0].pop("op"),
     "normal cell, node 3, input 1: missing field 'op'"),
    (lambda o: o["normal"]["nodes"][1]["inputs"][1].update(source="a"),
     "normal cell, node 3, input 2.source: expected a whole number, got text 'a'"),
    (lambda o: o["reduce"]["nodes"][0].update(id=None), "reduce cell, nodes[0].id: expected"),
    (lambda o: o["reduce"]["nodes"][0].update(pos=[1]), "reduce cell, node 2.pos: expected [x, y]"),
    (lambda o: o["reduce"].update(concat="2345"), "reduce cell.concat: expected a list"),
    (lambda o: o["reduce"].pop("n_inputs"), "reduce cell: missing field 'n_inputs'"),
    (lambda o: o["normal"].update(nodes={}), "normal cell.nodes: expected a list, got an object"),
])
def test_malformed_cell_files(tmp_path, change, expect):
    obj = design_to_dict(get_preset("darts-v2"))
    change(obj)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(obj))
    with pytest.raises(DesignError) as info:
        load_design(path)
    assert any(m.startswith("file bad.json, ") and expect in m for m in _msgs(info)), _msgs(info)


@pytest.mark.parametrize("change,expect", [
    (lambda o: o["stages"][2].pop("kernel"), "stages[2]: missing field 'kernel'"),
    (lambda o: o["stages"][2].update(kernel=3.5), "stages[2].kernel: expected a whole number"),
    (lambda o: o["stages"][0].update(se="0.25"), "stages[0].se: expected a number"),
    (lambda o: o["stages"].append(7), "stages[7]: expected an object, got the number 7"),
    (lambda o: o.update(stages=None), "stages: expected a list, got null"),
    (lambda o: o.update(head_scales_with_width=1), "head_scales_with_width: expected true"),
    (lambda o: o["stages"][1].update(depth=2), "stages[1]: unknown field 'depth'"),
])
def test_malformed_stack_files(change, expect):
    obj = design_to_dict(get_preset("efficientnet-b0"))
    change(obj)
    with pytest.raises(DesignError) as info:
        from_json(json.dumps(obj))
    assert any(expect in m for m in _msgs(info)), _msgs(info)


def test_all_problems_reported_at_once():
    obj = design_to_dict(get_preset("efficientnet-b0"))
    obj["stages"][1]["kernel"] = "x"
    obj["stages"][3]["stride"] = None
    with pytest.raises(DesignError) as info:
        design_from_dict(obj)
    assert len(info.value.problems) == 2


def test_not_an_object():
    with pytest.raises(DesignError, match="expected a JSON object, got a list"):
        from_json("[1, 2]")


def test_stack_defaults_fill_optional_fields():
    obj = {"format": "nas-studio-design", "version": 1, "kind": "stack",
           "stages": [{"block": "ir", "repeats": 1, "kernel": 3, "stride": 2,
                       "expansion": 6, "channels": 24}]}
    d = design_from_dict(obj)
    assert isinstance(d, BlockStack) and d.stages[0].se == 0.0 and d.stages[0].act == "silu"


@pytest.mark.parametrize("name", ["darts-v2", "efficientnet-b0", "nb201-best", "digits-cell"])
def test_example_design_files(name):
    d = load_design(DESIGNS / f"{name}.json")
    preset = {"darts-v2": "darts-v2", "efficientnet-b0": "efficientnet-b0",
              "nb201-best": "nas-bench-201-best"}.get(name)
    if preset:
        assert design_hash(d) == design_hash(get_preset(preset))
    else:
        assert d.macro.input_shape == (1, 8, 8) and d.macro.channels == 8
