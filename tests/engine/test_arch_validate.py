"""Validator: every error kind, from a malformed design file, names its location."""

from __future__ import annotations

import copy
import json

import pytest

from engine.arch.model import BlockStack, Cell, CellDesign, CellMacro, Edge, Stage
from engine.arch.presets import get_preset, preset_names
from engine.arch.serialize import design_to_dict, load_design
from engine.arch.validate import DesignError, Problem, check, validate


def _darts_dict() -> dict:
    return design_to_dict(get_preset("darts-v2"))


def _stack_dict() -> dict:
    return design_to_dict(get_preset("efficientnet-b0"))


def _load_errors(tmp_path, obj: dict) -> list[str]:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(obj, indent=2))
    with pytest.raises(DesignError) as info:
        load_design(path)
    return [str(p) for p in info.value.problems]


def _node(obj: dict, cell: str, node_id: int) -> dict:
    return next(n for n in obj[cell]["nodes"] if n["id"] == node_id)


def _has(messages: list[str], *parts: str) -> bool:
    return any(all(p in m for p in parts) for m in messages)


@pytest.mark.parametrize("name", preset_names())
def test_presets_are_valid(name):
    problems = validate(get_preset(name))
    assert [p for p in problems if p.severity == "error"] == []


def test_problem_str_and_error():
    p = Problem("reduce cell, node 3", "input 5 does not exist")
    assert str(p) == "reduce cell, node 3: input 5 does not exist"
    err = DesignError([p, Problem("x", "y", "warning")])
    assert err.problems[0] is p and "reduce cell, node 3" in str(err)
    assert err.errors() == [p]


def test_unknown_op(tmp_path):
    obj = _darts_dict()
    _node(obj, "normal", 3)["inputs"][1]["op"] = "sep_conv_9x9"
    msgs = _load_errors(tmp_path, obj)
    assert _has(msgs, "file bad.json, normal cell, node 3", "unknown op 'sep_conv_9x9'")


def test_block_op_in_cell(tmp_path):
    obj = _darts_dict()
    _node(obj, "reduce", 2)["inputs"][0]["op"] = "ir"
    msgs = _load_errors(tmp_path, obj)
    assert _has(msgs, "reduce cell, node 2", "'ir' is a block, not a cell op")


def test_input_does_not_exist(tmp_path):
    obj = _darts_dict()
    _node(obj, "reduce", 3)["inputs"][0]["source"] = 9
    msgs = _load_errors(tmp_path, obj)
    assert _has(msgs, "reduce cell, node 3: input 9 does not exist")


def test_self_loop(tmp_path):
    obj = _darts_dict()
    _node(obj, "normal", 4)["inputs"][0]["source"] = 4
    msgs = _load_errors(tmp_path, obj)
    assert _has(msgs, "normal cell, node 4", "self-loop")


def test_cycle_names_its_nodes(tmp_path):
    obj = _darts_dict()
    _node(obj, "normal", 2)["inputs"][0]["source"] = 5   # 5 already reads 2
    msgs = _load_errors(tmp_path, obj)
    assert _has(msgs, "normal cell, nodes 2, 5", "cycle")
    assert _has(msgs, "2 -> 5 -> 2") or _has(msgs, "5 -> 2 -> 5")


def test_node_without_inputs(tmp_path):
    obj = _darts_dict()
    _node(obj, "normal", 5)["inputs"] = []
    msgs = _load_errors(tmp_path, obj)
    assert _has(msgs, "normal cell, node 5: has no inputs")


def test_unused_node_output(tmp_path):
    obj = _darts_dict()
    obj["normal"]["concat"] = [2, 3, 4]   # 5 feeds nothing
    msgs = _load_errors(tmp_path, obj)
    assert _has(msgs, "normal cell, node 5", "output is never used")


def test_empty_concat_and_missing_concat_node(tmp_path):
    obj = _darts_dict()
    obj["normal"]["concat"] = []
    obj["reduce"]["concat"] = [2, 3, 4, 5, 8]
    msgs = _load_errors(tmp_path, obj)
    assert _has(msgs, "normal cell.concat: is empty")
    assert _has(msgs, "reduce cell.concat: node 8 does not exist")


def test_reduce_cell_cannot_output_an_input(tmp_path):
    obj = _darts_dict()
    obj["reduce"]["concat"] = [0, 2, 3, 4, 5]
    msgs = _load_errors(tmp_path, obj)
    assert _has(msgs, "reduce cell.concat", "cell input 0")


def test_edge_to_missing_node():
    d = get_preset("darts-v2")
    d.normal.edges.append(Edge(0, 9, "skip_connect"))
    with pytest.raises(DesignError) as info:
        check(d)
    assert _has([str(p) for p in info.value.problems], "normal cell, edge 9",
                "target node 9 does not exist")


@pytest.mark.parametrize("field,value,expect", [
    ("channels", 0, "macro.channels: must be positive"),
    ("layers", -3, "macro.layers: must be positive"),
    ("classes", 0, "macro.classes: must be positive"),
    ("input_shape", [3, 0, 32], "macro.input_shape height: must be positive"),
    ("reductions", [2, 25], "macro.reductions[1]: position 25 is out of range"),
    ("drop_path", 1.5, "macro.drop_path: must be in [0, 1)"),
])
def test_macro_sizes(tmp_path, field, value, expect):
    obj = _darts_dict()
    obj["macro"][field] = value
    assert _has(_load_errors(tmp_path, obj), expect)


def test_non_integer_size_is_a_located_type_error(tmp_path):
    obj = _darts_dict()
    obj["macro"]["channels"] = 16.5
    assert _has(_load_errors(tmp_path, obj), "macro.channels: expected a whole number")


def test_nb201_odd_feature_map_at_reduction(tmp_path):
    obj = design_to_dict(get_preset("nas-bench-201-best"))
    obj["macro"]["input_shape"] = [3, 30, 30]    # 30 -> 15: the second reduction gets 15x15
    msgs = _load_errors(tmp_path, obj)
    assert _has(msgs, "file bad.json, macro.input_shape: reduction block 2 receives a 15x15",
                "even")


def test_darts_accepts_odd_feature_maps():
    d = get_preset("darts-v2")
    d.macro.input_shape = (3, 28, 28)
    d.macro.reductions = [3, 6, 9]               # 28 -> 14 -> 7 -> 4: the ops pad odd sizes
    assert validate(d) == []


def test_missing_reduce_cell_is_a_warning(tmp_path):
    d = get_preset("darts-v2")
    d.reduce = None
    problems = validate(d)
    assert [p.severity for p in problems] == ["warning"]
    assert str(problems[0]).startswith("reduce cell: none: the normal cell is used")
    obj = design_to_dict(d)
    obj["normal"]["concat"] = [1, 2, 3, 4, 5]    # now the normal cell also reduces
    assert _has(_load_errors(tmp_path, obj), "normal cell.concat: cell input 1 cannot be an "
                "output of a cell used for reduction")


def test_node_id_problems():
    d = get_preset("darts-v1")
    d.normal.nodes = [2, 3, 3, 4, 5]
    d.reduce.nodes = [1, 2, 3, 4, 5]
    d.reduce.concat = [2, 3, 4, 5, 5]
    msgs = [str(p) for p in validate(d)]
    assert _has(msgs, "normal cell, node 3: listed twice")
    assert _has(msgs, "reduce cell, node 1: id clashes with cell input 1")
    assert _has(msgs, "reduce cell.concat: node 5 is listed twice")


def test_wrong_number_of_cell_inputs():
    d = get_preset("darts-v2")
    d.normal.n_inputs = 3
    assert _has([str(p) for p in validate(d)], "normal cell: DARTS-style cells take 2 input")


def test_nb201_warnings_not_errors():
    d = CellDesign(normal=Cell(1, [1, 2], [Edge(0, 1, "nor_conv_3x3"), Edge(0, 2, "skip_connect")],
                               [2]), macro=CellMacro(style="nb201"))
    problems = validate(d)
    assert all(p.severity == "warning" for p in problems)
    assert _has([str(p) for p in problems], "normal cell, node 1", "never used")


@pytest.mark.parametrize("field,value,expect", [
    ("stride", 3, "stages[2].stride: must be 1 or 2, got 3"),
    ("kernel", 4, "stages[2].kernel: must be odd"),
    ("kernel", 0, "stages[2].kernel: must be positive"),
    ("repeats", 0, "stages[2].repeats: must be positive"),
    ("channels", -8, "stages[2].channels: must be positive"),
    ("expansion", 0, "stages[2].expansion: must be a positive number"),
    ("se", 1.0, "stages[2].se: must be in [0, 1)"),
    ("act", "gelu", "stages[2].act: unknown activation 'gelu'"),
    ("block", "sep_conv_3x3", "stages[2].block: unknown block 'sep_conv_3x3' (a cell op)"),
])
def test_stage_fields(tmp_path, field, value, expect):
    obj = _stack_dict()
    obj["stages"][2][field] = value
    assert _has(_load_errors(tmp_path, obj), expect)


def test_stage_kernel_wrong_type(tmp_path):
    obj = _stack_dict()
    obj["stages"][2]["kernel"] = "3"
    assert _has(_load_errors(tmp_path, obj), "stages[2].kernel: expected a whole number")


@pytest.mark.parametrize("field,value,expect", [
    ("resolution", 0, "resolution: must be positive"),
    ("width_mult", 0, "width_mult: must be a positive number"),
    ("classes", 0, "classes: must be positive"),
    ("dropout", 1.0, "dropout: must be in [0, 1)"),
    ("act", "tanh", "act: unknown activation 'tanh'"),
    ("stages", [], "stages: the stack has no stages"),
])
def test_stack_fields(tmp_path, field, value, expect):
    obj = _stack_dict()
    obj[field] = value
    assert _has(_load_errors(tmp_path, obj), expect)


def test_ds_expansion_is_a_warning():
    s = BlockStack(stages=[Stage("ds", 1, 3, 1, 6, 16)])
    problems = validate(s)
    assert [p.severity for p in problems] == ["warning"]
    assert str(problems[0]).startswith("stages[0].expansion:")
    assert check(s) == problems


def test_validate_in_memory_types():
    d = get_preset("darts-v1")
    d.set_macro(channels=12.5)
    with pytest.raises(DesignError, match="macro.channels: must be a whole number"):
        check(d)


def test_errors_come_before_warnings():
    d = copy.deepcopy(get_preset("darts-v2"))
    d.normal.edges = [e for e in d.normal.edges if e.source != 1]   # input 1 unused: warning
    d.macro.classes = 0
    problems = validate(d)
    sev = [p.severity for p in problems]
    assert sev == sorted(sev, key=lambda s: s != "error") and "warning" in sev
