"""``nas-studio inspect``: presets, files, pasted genotypes and NB201 strings, errors."""

from __future__ import annotations

import json

import pytest

from engine.arch.presets import GENOTYPES, get_preset
from engine.arch.serialize import save_design
from engine.cli import main
from engine.cost import count_params

SMALL_GENOTYPE = ("Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1), "
                  "('dil_conv_5x5', 2), ('avg_pool_3x3', 0)], normal_concat=[2, 3], "
                  "reduce=[('max_pool_3x3', 0), ('sep_conv_5x5', 1), ('skip_connect', 2), "
                  "('max_pool_3x3', 1)], reduce_concat=[2, 3])")
ALL_SKIP_NB201 = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+" \
                 "|skip_connect~0|skip_connect~1|skip_connect~2|"


def inspect_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["inspect", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_efficientnet_b0_json(capsys: pytest.CaptureFixture[str]) -> None:
    out = inspect_json(capsys, "efficientnet-b0")
    assert out["params"] == 5_288_548 and out["macs"] == 385_814_752
    assert out["input"] == [3, 224, 224] and out["classes"] == 1000
    assert out["kind"] == "stack" and out["name"] == "efficientnet-b0"
    assert out["table"][0]["name"] == "stem" and out["memory"]["batch"] == 1


def test_cell_preset_table_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "darts-v2", "--layers", "5", "--channels", "8"]) == 0
    text = capsys.readouterr().out
    assert "torchvision way: conv + linear multiply-adds" in text
    assert "cell 1 (reduce)" in text and "cell 3 (reduce)" in text
    assert text.splitlines()[0].startswith("darts-v2: cell network (darts macro)")
    total = [ln for ln in text.splitlines() if ln.startswith("total")][0]
    design = get_preset("darts-v2")
    design.set_macro(layers=5, channels=8)
    assert f"{count_params(design):,}" in total


def test_pasted_genotype_with_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    out = inspect_json(capsys, SMALL_GENOTYPE, "--channels", "4", "--layers", "3",
                       "--classes", "3", "--input", "1x16x16", "--auxiliary")
    assert out["kind"] == "cell" and out["style"] == "darts"
    assert out["input"] == [1, 16, 16] and out["classes"] == 3
    assert out["channels"] == 4 and out["layers"] == 3 and out["auxiliary"] is True
    assert out["params_with_auxiliary"] > out["params"] > 0
    assert out["table"][-1]["name"].startswith("auxiliary head")


def test_nb201_string_uses_the_nb201_macro(capsys: pytest.CaptureFixture[str]) -> None:
    out = inspect_json(capsys, ALL_SKIP_NB201)
    assert out["style"] == "nb201" and out["channels"] == 16 and out["layers"] == 5
    assert out["params"] == 73_306  # stem, residual reductions, last BN, classifier
    assert sum(1 for r in out["table"] if r["name"] == "residual reduction") == 2
    assert out["auxiliary"] is False and "notes" not in out


def test_nb201_ignores_the_auxiliary_option_and_says_so(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", ALL_SKIP_NB201, "--auxiliary", "--layers", "1"]) == 0
    text = capsys.readouterr().out
    assert "note: the NAS-Bench-201 skeleton has no auxiliary head" in text


def test_design_file(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    design = get_preset("nasnet-a")
    design.set_macro(channels=4, layers=3)
    path = tmp_path / "nasnet.json"
    save_design(design, path)
    out = inspect_json(capsys, str(path))
    assert out["name"] == "nasnet-a" and out["params"] == count_params(design)


@pytest.mark.parametrize("argv, located", [
    (["no-such-preset"], "source: 'no-such-preset' is not a preset"),
    (["Genotype(normal=[('sep_conv_3x3', 0), ('bad_op', 1)], normal_concat=[2], "
      "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=[2])"],
     "normal cell, node 2: unknown op 'bad_op'"),
    (["darts-v2", "--input", "3x32"], "input shape"),
    (["efficientnet-b0", "--layers", "4"], "only apply to cell designs"),
    (["darts-v2", "--classes", "0"], "--classes must be a positive whole number"),
])
def test_invalid_source_exits_2_with_a_located_message(
        argv: list[str], located: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", *argv]) == 2
    captured = capsys.readouterr()
    assert located in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_every_cell_preset_inspects(capsys: pytest.CaptureFixture[str]) -> None:
    for name in GENOTYPES:
        out = inspect_json(capsys, name, "--layers", "3", "--channels", "4")
        assert out["name"] == name and out["macs"] > 0
