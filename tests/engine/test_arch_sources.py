"""resolve_source: presets, files, pasted genotypes / NB201 / block strings, overrides."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.arch.genotype import format_genotype
from engine.arch.model import BlockStack, CellDesign
from engine.arch.presets import B0_BLOCKS, NB201_BEST, get_preset, preset_names
from engine.arch.serialize import design_hash, design_to_dict, save_design
from engine.arch.sources import parse_input_shape, resolve_source
from engine.arch.validate import DesignError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_resolves_case_insensitively(name):
    assert resolve_source(name.upper()) == get_preset(name)


def test_design_file(tmp_path):
    path = tmp_path / "mine.json"
    save_design(get_preset("pnas"), path)
    assert resolve_source(str(path)) == get_preset("pnas")
    # a file's validator problems name the file (they did not; JSON errors did)
    data = design_to_dict(get_preset("pnas"))
    data["normal"]["nodes"][0]["inputs"][0]["op"] = "sep_conv_9x9"
    (tmp_path / "broken.design").write_text(json.dumps(data))
    with pytest.raises(DesignError, match=r"^file broken\.design, normal cell, node 2: "
                                          r"unknown op 'sep_conv_9x9'"):
        resolve_source(str(tmp_path / "broken.design"))
    with pytest.raises(DesignError, match=r"^input shape: "):  # a bad option is not the file's
        resolve_source(str(path), input_shape="3x7")
    assert resolve_source(f"  {path}\n", classes=7).macro.classes == 7


def test_genotype_literal_gets_darts_cifar_macro():
    d = resolve_source(format_genotype(get_preset("darts-v1")))
    assert isinstance(d, CellDesign) and d.macro == get_preset("darts-v1").macro
    assert design_hash(d) == design_hash(get_preset("darts-v1"))


def test_nb201_string_gets_nb201_macro():
    d = resolve_source(NB201_BEST, classes=100)
    assert (d.macro.style, d.macro.channels, d.macro.layers, d.macro.classes) == (
        "nb201", 16, 5, 100)


def test_block_strings_make_a_stack():
    d = resolve_source(", ".join(B0_BLOCKS), input_shape=(1, 64, 64), classes=5)
    assert isinstance(d, BlockStack) and d.stages == get_preset("efficientnet-b0").stages
    assert (d.in_channels, d.resolution, d.classes) == (1, 64, 5)


def test_cell_overrides():
    d = resolve_source("darts-v2", input_shape="1x28x28", classes=10, layers=8, channels=16,
                       auxiliary=True)
    m = d.macro
    assert (m.input_shape, m.layers, m.channels, m.auxiliary) == ((1, 28, 28), 8, 16, True)


def test_stack_overrides():
    d = resolve_source("efficientnet-b0", input_shape=(3, 96, 96), classes=10)
    assert (d.in_channels, d.resolution, d.classes) == (3, 96, 10)
    with pytest.raises(DesignError, match="input shape: a block stack takes square inputs"):
        resolve_source("efficientnet-b0", input_shape=(3, 96, 64))
    with pytest.raises(DesignError, match=r"options: option\(s\) layers, channels only apply"):
        resolve_source("mobilenet-v2", layers=3, channels=8)


def test_unknown_source_lists_presets():
    with pytest.raises(DesignError) as info:
        resolve_source("resnet-101")
    msg = str(info.value)
    assert msg.startswith("source: 'resnet-101' is not a preset, a design file, a Genotype(...)")
    assert "darts-v2" in msg and "efficientnet-b7" in msg


def test_missing_json_file():
    with pytest.raises(DesignError, match="file nowhere/x.json: not found"):
        resolve_source("nowhere/x.json")


def test_invalid_results_are_rejected_with_locations(tmp_path):
    with pytest.raises(DesignError, match="macro.classes: must be positive"):
        resolve_source("darts-v2", classes=0)
    with pytest.raises(DesignError, match="reduction block 2 receives a 7x7"):
        resolve_source(NB201_BEST, input_shape=(3, 14, 14))   # 14 -> 7 at the 2nd reduction
    obj = design_to_dict(get_preset("darts-v2"))
    obj["normal"]["nodes"][0]["inputs"][0]["source"] = 7
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(obj))
    with pytest.raises(DesignError, match="normal cell, node 2: input 7 does not exist"):
        resolve_source(str(path))
    with pytest.raises(DesignError, match="Genotype text, column"):
        resolve_source("Genotype(normal=[('sep_conv_3x3', 0)")
    with pytest.raises(DesignError, match="NAS-Bench-201 string, column 2"):
        resolve_source("|nor_conv_3x3-0|")


def test_parse_input_shape():
    assert parse_input_shape("3x32x32") == (3, 32, 32) == parse_input_shape([3, 32, 32])
    for bad in ("3x32", "0x8x8", (3, 8.0, 8), "axbxc"):
        with pytest.raises(DesignError, match="input shape"):
            parse_input_shape(bad)


def test_engine_arch_imports_without_torch():
    code = ("import sys, engine.arch as a, engine.arch.sources, engine.arch.serialize, "
            "engine.arch.genotype, engine.arch.nb201, engine.arch.timm_blocks, "
            "engine.arch.scaling, engine.arch.validate\n"
            "a.resolve_source('darts-v2'); a.load_design; a.format_genotype\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
