"""Hostile design input: bounded before anything is built, refused with a located message.

Deep JSON, a Genotype with a billion-node concat or 30,000 nested brackets, cells above
the documented size limit, truncated NAS-Bench-201 strings; and cell graph operations
that visit the edges a constant number of times (no per-node scan of all edges).
"""

from __future__ import annotations

import json
import random

import networkx as nx
import pytest

from engine.arch import jsonio
from engine.arch.genotype import format_genotype, parse_genotype, stable_topological
from engine.arch.model import (
    MAX_CELL_EDGES,
    MAX_CELL_INPUTS,
    MAX_CELL_NODES,
    Cell,
    CellDesign,
    CellMacro,
    CellOrderError,
    Edge,
)
from engine.arch.nb201 import parse_nb201
from engine.arch.serialize import design_from_dict, design_to_dict, load_design
from engine.arch.sources import resolve_source
from engine.arch.space import SpaceError, load_space
from engine.arch.validate import DesignError, validate
from engine.cli import main

DEEP = 100_000


def chain_cell(n: int) -> Cell:
    """A DARTS-like cell of ``n`` nodes, each reading the two before it."""
    edges = []
    for k in range(2, 2 + n):
        edges += [Edge(k - 1, k, "skip_connect"), Edge(max(0, k - 2), k, "sep_conv_3x3")]
    return Cell(n_inputs=2, nodes=list(range(2, 2 + n)), edges=edges, concat=[n + 1])


def chain_design(n: int) -> CellDesign:
    return CellDesign(name=f"chain{n}", normal=chain_cell(n),
                      macro=CellMacro(channels=4, layers=1, reductions=[]))


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


# -- 1. deep JSON ------------------------------------------------------------------------

def test_design_json_nested_100000_deep_is_refused_with_its_line(tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text('{"format": "nas-studio-design",\n "name": ' + "[" * DEEP + "]" * DEEP
                    + "}")
    with pytest.raises(DesignError) as info:  # was RecursionError
        load_design(path)
    assert str(info.value) == ("file deep.json line 2: nested deeper than 64 levels: not a "
                               "design file")
    for command in (["inspect", str(path)], ["train", str(path), "--epochs", "1"]):
        code, err = run_cli(capsys, *command)
        assert code == 2 and "deep.json line 2: nested deeper than 64 levels" in err


def test_space_file_nested_deep_is_refused(tmp_path):
    path = tmp_path / "space.json"
    path.write_text('{"base": ' + "{" * DEEP + "}" * DEEP + "}")
    with pytest.raises(SpaceError, match="line 1: nested deeper than 64 levels"):
        load_space(path)


def test_depth_scan_ignores_brackets_in_strings_and_allows_real_files():
    text = '{"name": "' + "[" * 500 + '", "a": [[1], {"b": [2]}]}'
    assert jsonio.loads(text)["a"] == [[1], {"b": [2]}]
    assert jsonio.loads("[" * 64 + "]" * 64) is not None
    with pytest.raises(jsonio.JSONDepthError):
        jsonio.loads("[" * 65 + "]" * 65)
    d = chain_design(3)
    assert design_from_dict(jsonio.loads(json.dumps(design_to_dict(d)))) == d


# -- 2. Genotype bounds --------------------------------------------------------------------

PAIR = "('sep_conv_3x3', 0), ('sep_conv_3x3', 1)"


def test_genotype_billion_node_concat_is_refused_before_it_is_built():
    with pytest.raises(DesignError) as info:  # was a MemoryError after 46 s
        parse_genotype(f"Genotype(normal=[{PAIR}], normal_concat=range(0, 1000000000))")
    assert "range(0, 1000000000) lists 1,000,000,000 nodes; a cell has at most 1,000" \
        in str(info.value)
    assert str(info.value).startswith("Genotype text, column ")


@pytest.mark.parametrize("brackets", ["(", "[", "list("])
def test_genotype_30000_nested_brackets_are_refused(brackets):
    close = {"(": ")", "[": "]", "list(": ")"}[brackets]
    text = f"Genotype(normal={brackets * 30_000}{close * 30_000}, normal_concat=[2])"
    with pytest.raises(DesignError, match="Genotype text, column .*: nested deeper than 8 "):
        parse_genotype(text)  # was RecursionError


def test_genotype_huge_numbers_and_texts_are_refused():
    with pytest.raises(DesignError, match=r"\(5000 digits\) is too large"):
        parse_genotype(f"Genotype(normal=[{PAIR}], normal_concat=[{'9' * 5000}])")
    with pytest.raises(DesignError, match="a Genotype is at most 1,000,000"):
        parse_genotype("Genotype(" + " " * 1_000_001 + ")")
    many = ", ".join([PAIR] * (MAX_CELL_NODES + 1))
    with pytest.raises(DesignError, match="normal: 1,001 nodes; a cell has at most 1,000"):
        parse_genotype(f"Genotype(normal=[{many}], normal_concat=[2])")


def test_the_cli_refuses_hostile_genotypes_with_exit_2(capsys):
    code, err = run_cli(capsys, "inspect",
                        f"Genotype(normal=[{PAIR}], normal_concat=range(0, 1000000000))")
    assert code == 2 and "a cell has at most 1,000" in err
    code, err = run_cli(capsys, "inspect", "Genotype(normal=" + "[" * 30_000)
    assert code == 2 and "nested deeper than 8 levels" in err


# -- 3. cell size and linear graph operations ----------------------------------------------

def test_a_5000_node_cell_is_refused_naming_the_limit(tmp_path, capsys):
    d = chain_design(5000)
    problems = [str(p) for p in validate(d)]
    assert problems == ["normal cell: has 5,000 intermediate nodes; a cell has at most 1,000"]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(design_to_dict(d)))
    code, err = run_cli(capsys, "inspect", str(path))  # was over 300 s
    assert code == 2
    assert "big.json, normal cell: has 5,000 intermediate nodes; a cell has at most 1,000" \
        in err


def test_other_cell_limits_are_named():
    wide = Cell(n_inputs=MAX_CELL_INPUTS + 1, nodes=[100], edges=[Edge(0, 100, "skip_connect")],
                concat=[100])
    dense = Cell(n_inputs=2, nodes=[2], edges=[Edge(0, 2, "skip_connect")] *
                 (MAX_CELL_EDGES + 1), concat=[2])
    for cell, text in ((wide, "has 17 inputs; a cell has at most 16"),
                       (dense, "has 10,001 operations (edges); a cell has at most 10,000")):
        d = CellDesign(normal=cell, macro=CellMacro(style="darts", reductions=[]))
        assert f"normal cell: {text}" in [str(p) for p in validate(d)]
    with pytest.raises(DesignError, match="normal cell: has 17 inputs; a cell has at most 16"):
        design_from_dict({**design_to_dict(chain_design(2)),
                          "normal": {**design_to_dict(chain_design(2))["normal"],
                                     "n_inputs": 17}})


class CountingList(list):
    """A list that counts full passes over it."""

    passes = 0

    def __iter__(self):
        CountingList.passes += 1
        return super().__iter__()


@pytest.mark.parametrize("operation", ["topological", "stable", "validate", "serialize",
                                       "genotype", "build"])
def test_cell_graph_operations_pass_over_the_edges_a_constant_number_of_times(operation):
    d = chain_design(MAX_CELL_NODES)
    d.normal.edges = CountingList(d.normal.edges)
    CountingList.passes = 0
    if operation == "topological":
        assert d.normal.topological_nodes() == d.normal.nodes
    elif operation == "stable":
        assert stable_topological(d.normal) == d.normal.nodes
    elif operation == "validate":
        assert not [p for p in validate(d) if p.severity == "error"]
    elif operation == "serialize":
        assert design_from_dict(design_to_dict(d)) == d
    elif operation == "genotype":
        assert format_genotype(d).startswith("Genotype(normal=[('skip_connect', 1)")
    else:
        from engine.builders.cell_network import CellBody

        assert len(CellBody(d.normal, 2, False).ops) == 2 * MAX_CELL_NODES
    assert CountingList.passes <= 6, CountingList.passes  # was one pass per node (or more)


def _expected_orders(cell: Cell) -> tuple[list[int], list[int]] | list[int]:
    """networkx's answer: (by depth, then list order; first ready in list order), or the
    nodes that cannot be ordered (on or after a cycle or a missing source)."""
    position = {n: i for i, n in enumerate(cell.nodes)}
    g = nx.DiGraph()
    g.add_nodes_from(range(cell.n_inputs))
    g.add_nodes_from(cell.nodes)
    g.add_edges_from((e.source, e.target) for e in cell.edges if e.target in position)
    bad = {n for n in g if n not in position and n >= cell.n_inputs}
    bad |= {n for c in nx.strongly_connected_components(g) if len(c) > 1 for n in c}
    bad |= {n for n in cell.nodes if g.has_edge(n, n)}
    for n in list(bad):
        bad |= nx.descendants(g, n)
    if bad:
        return [n for n in cell.nodes if n in bad]
    g.remove_nodes_from(range(cell.n_inputs))
    # a generation: the nodes whose longest path from the inputs has the same length
    by_depth = [n for gen in nx.topological_generations(g)
                for n in sorted(gen, key=position.get)]
    stable = list(nx.lexicographical_topological_sort(g, key=position.get))
    return by_depth, stable


@pytest.mark.parametrize("seed", range(40))
def test_topological_orders_agree_with_networkx(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 30)
    ids = list(range(2, 2 + n))
    rng.shuffle(ids)
    rank = {node: i for i, node in enumerate(sorted(ids, key=lambda _: rng.random()))}
    edges = []
    for t in ids:
        earlier = [0, 1] + [s for s in ids if rank[s] < rank[t]]
        for s in rng.sample(earlier, min(len(earlier), rng.randint(1, 3))):
            edges.append(Edge(s, t, "skip_connect"))
    if seed % 4 == 3:  # a cycle or a missing source
        t, s = rng.sample(ids, 2) if n > 1 else (ids[0], ids[0])
        edges.append(Edge(s if seed % 8 == 3 else 99, t, "skip_connect"))
    cell = Cell(n_inputs=2, nodes=ids, edges=edges, concat=[ids[-1]])
    expected = _expected_orders(cell)
    if isinstance(expected, tuple):
        assert (cell.topological_nodes(), cell.stable_topological_nodes()) == expected
    else:
        for order in (cell.topological_nodes, cell.stable_topological_nodes):
            with pytest.raises(CellOrderError) as info:
                order()
            assert info.value.pending == expected


# -- 4. NAS-Bench-201 strings have 3 node groups ----------------------------------------

def test_truncated_nb201_string_is_refused_naming_the_missing_node(capsys):
    two = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
    with pytest.raises(DesignError) as info:  # was accepted as a 2-node cell
        parse_nb201(two)
    assert str(info.value) == ("NAS-Bench-201 string: has 2 '+'-separated node group(s); a "
                               "NAS-Bench-201 cell has 3: node 3 (|op~0|...|op~2|) missing")
    with pytest.raises(DesignError, match=r"node 2 \(\|op~0\|...\|op~1\|\), node 3"):
        parse_nb201("|nor_conv_3x3~0|")
    with pytest.raises(DesignError, match="1 group"):
        parse_nb201(two + "+|none~0|none~1|none~2|+|none~0|none~1|none~2|none~3|")
    code, err = run_cli(capsys, "inspect", two)
    assert code == 2 and "node 3 (|op~0|...|op~2|) missing" in err
    with pytest.raises(DesignError, match="has 2 '\\+'-separated"):
        resolve_source(two)


def test_nb201_group_missing_an_input_is_refused_naming_it():
    text = "|nor_conv_3x3~0|+|nor_conv_3x3~0|+|none~0|none~1|none~2|"
    with pytest.raises(DesignError) as info:
        parse_nb201(text)
    assert str(info.value) == ("NAS-Bench-201 string, column 18: node 2: input(s) 1 missing: "
                               "node 2 lists every input 0..1 (none~i for no edge)")
    assert parse_nb201(text, any_size=True).normal.nodes == [1, 2, 3]
