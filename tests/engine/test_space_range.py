"""Space size and params/MACs range: the per-choice bound is exact; ``nas-studio space``."""

from __future__ import annotations

import json

import pytest

from engine.arch.genotype import parse_genotype
from engine.arch.nb201 import parse_nb201
from engine.arch.presets import get_preset
from engine.arch.space import Choice, DartsSpace, MBConvSpace, NB201Space, PathSpace, get_space
from engine.arch.timm_blocks import parse_block_strings
from engine.cli import main
from engine.cost.analytic import design_cost
from engine.cost.space_range import enumerate_members, space_cost

SMALL_SPACES = {
    "nb201": lambda: NB201Space(ops=("none", "skip_connect", "nor_conv_3x3", "avg_pool_3x3"),
                                channels=4, layers=1, input_shape=(1, 8, 8)),
    "darts": lambda: DartsSpace(nodes=2, ops=("none", "skip_connect", "sep_conv_3x3"),
                                allow_none=False, channels=4, layers=3, input_shape=(1, 9, 7)),
    "darts-aux": lambda: DartsSpace(nodes=2, ops=("max_pool_3x3", "dil_conv_5x5"),
                                    channels=2, layers=4, auxiliary=True, input_shape=(3, 8, 8)),
    "mbconv": lambda: MBConvSpace(stages=(("ds", 1, 3, 1, 1, 8), ("ir", 2, 3, 2, 6, 16),
                                          ("ir", 1, 5, 2, 4, 24)),
                                  expansions=(6,), widths=(0.5, 1.25), depths=(1.0, 1.6), head_channels=64,
                                  resolution=16),
}


@pytest.mark.parametrize("name", list(SMALL_SPACES))
def test_the_per_choice_bound_equals_enumeration(name):
    space = SMALL_SPACES[name]()
    assert space.size() <= 20_000
    bound = space_cost(space, method="bound")
    every = space_cost(space, method="enumerate")
    assert bound.exact and every.exact and bound.method == "per-choice bound"
    assert (bound.params, bound.macs) == (every.params, every.macs)
    assert bound.evaluated < every.evaluated == space.size()
    for key, code in bound.extremes.items():  # each bound is a member's cost
        cost = design_cost(space.decode(code))
        assert getattr(cost, key.split("_")[0]) == bound.to_dict()[key.split("_")[0]][
            0 if key.endswith("min") else 1]


def test_nas_bench_201_range_over_all_15625_cells():
    space = get_space("nas-bench-201")
    result = space_cost(space)
    assert result.exact and result.size == 15_625 and result.method == "per-choice bound"
    rows = list(enumerate_members(space))
    assert len(rows) == 15_625
    assert result.params == (min(r["params"] for r in rows), max(r["params"] for r in rows))
    assert result.macs == (min(r["macs"] for r in rows), max(r["macs"] for r in rows))
    assert result.params == (73_306, 1_531_546)  # NAS-Bench-201's published 0.07M .. 1.53M
    best = next(r for r in rows if r["cellstr"] == get_space("nb201").cellstr(
        space.encode(get_preset("nas-bench-201-best"))))
    assert best["params"] == design_cost(get_preset("nas-bench-201-best")).params


def test_big_built_in_spaces_are_exact_and_fast():
    for name in ("darts", "mbconv"):
        result = space_cost(get_space(name))
        assert result.size > 10 ** 6 and result.exact
        assert result.params[0] < result.params[1] and result.macs[0] < result.macs[1]


def test_a_drawn_space_is_enumerated_up_to_the_limit_and_estimated_above():
    base = get_preset("nas-bench-201-best")
    base.macro.channels, base.macro.layers = 4, 1
    space = PathSpace(base, [Choice(f"normal.edges.{i}.op", ("none", "nor_conv_3x3",
                                                             "avg_pool_3x3"))
                             for i in range(6)] + [Choice("macro.channels", (4, 6))])
    exact = space_cost(space)
    assert exact.exact and exact.method == "enumerated" and exact.size == 3 ** 6 * 2
    guess = space_cost(space, exact_limit=100, samples=50)
    assert not guess.exact and guess.method.startswith("estimate")
    assert exact.params[0] <= guess.params[0] <= guess.params[1] <= exact.params[1]
    assert guess.params == exact.params  # the coordinate search reaches this easy optimum


def test_infeasible_budget_names_the_smallest_member():
    result = space_cost(get_space("mbconv"))
    message = result.infeasible(max_params=50_000)
    assert message == (f"no design under 50k params in this space; the smallest has "
                       f"{result.params[0]:,} ({result.params[0] / 1000:.3g}k)")
    assert result.infeasible(max_params=result.params[0]) is None
    assert result.infeasible(max_macs=result.macs[0] - 1).startswith("no design under")


def test_members_have_their_text_forms():
    nb = next(enumerate_members(get_space("nas-bench-201")))
    assert parse_nb201(nb["cellstr"]).normal.edges[0].op == "none"
    darts = get_space("darts")
    row = next(enumerate_members(darts, limit=1))
    design = parse_genotype(row["genotype"], **vars(darts.macro))
    assert design_cost(design).params == row["params"]
    row = next(enumerate_members(get_space("mbconv")))
    assert len(parse_block_strings(row["blocks"])) == 7 and row["width_mult"] == 0.25


# -- the command ------------------------------------------------------------------------------

def test_space_cli_json(capsys):
    assert main(["space", "nas-bench-201", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["size"] == 15_625 and out["params"] == [73_306, 1_531_546]
    assert len(out["macs"]) == 2 and len(out["choices"]) == 6 and out["exact"] is True
    assert main(["space", "darts"]) == 0
    text = capsys.readouterr().out
    assert "params " in text and "exact: per-choice bound" in text


def test_space_cli_enumerate(capsys):
    assert main(["space", "nb201", "--enumerate", "--limit", "3"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3 and {"cellstr", "params", "macs"} <= set(lines[0])
    assert main(["space", "mbconv", "--enumerate"]) == 2
    assert "more than 1,000,000" in capsys.readouterr().err


def test_space_cli_design_file_and_bad_input(capsys, tmp_path):
    assert main(["space", "resources/designs/efficientnet-b0.json", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["size"] == 1 and out["params"] == [5_288_548, 5_288_548]
    assert main(["space", "no-such-space"]) == 2
    assert "unknown space 'no-such-space'" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"space": "darts", "nodes": 0}')
    assert main(["space", str(bad)]) == 2
    assert "nodes" in capsys.readouterr().err
    bad.write_text("{oops")
    assert main(["space", str(bad)]) == 2
    assert "line 1: invalid JSON" in capsys.readouterr().err
