"""Cost figures: parameters, MACs the torchvision way, tables, memory, latency, device."""

from __future__ import annotations

import pytest
import torch
import torchvision

from engine.arch.model import BlockStack, Stage
from engine.arch.presets import get_preset
from engine.builders import build_model
from engine.cost import (
    count_macs,
    count_params,
    estimate_memory,
    layer_table,
    measure_latency,
    meta_model,
    summarize,
)
from engine.device import amp_supported, available_devices, pick_device


def tiny_stack() -> BlockStack:
    return BlockStack(name="tiny", stages=[Stage("ds", 1, 3, 1, 1, 8, 0.25, "relu"),
                                           Stage("ir", 1, 3, 2, 2, 16, 0.25, "silu")],
                      stem_channels=8, head_channels=32, resolution=16, classes=3)


def tiny_cells():
    design = get_preset("darts-v2")
    design.set_macro(channels=4, layers=3, input_shape=(3, 8, 8), classes=4)
    return design


def test_efficientnet_b0_macs_are_torchvision_exact() -> None:
    assert count_macs(meta_model(get_preset("efficientnet-b0")), (3, 224, 224)) == 385_814_752
    with torch.device("meta"):
        theirs = torchvision.models.efficientnet_b0(weights=None)
    assert count_macs(theirs, (3, 224, 224)) == 385_814_752


def test_mobilenet_v2_macs_match_torchvision() -> None:
    with torch.device("meta"):
        theirs = torchvision.models.mobilenet_v2(weights=None)
    ours = count_macs(meta_model(get_preset("mobilenet-v2")), (3, 224, 224))
    assert ours == count_macs(theirs, (3, 224, 224)) == 300_774_272


def test_meta_and_real_models_count_the_same() -> None:
    for design, shape in ((tiny_stack(), (3, 16, 16)), (tiny_cells(), (3, 8, 8))):
        real = build_model(design)
        meta = meta_model(design)
        assert count_macs(real, shape) == count_macs(meta, shape) > 0
        assert count_params(real) == count_params(meta) == count_params(design)
        assert real.training  # counting leaves the mode alone


def test_macs_scale_with_batch_and_count_linear_layers() -> None:
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 5))
    assert count_macs(model, (3, 2, 2)) == 60
    assert count_macs(model, (3, 2, 2), batch=3) == 180
    conv = torch.nn.Conv2d(2, 4, 3, padding=1, bias=True)
    assert count_macs(conv, (2, 5, 5)) == 4 * 2 * 9 * 25


def test_darts_params_exclude_the_auxiliary_head_unless_asked() -> None:
    design = get_preset("darts-v2")
    design.set_macro(auxiliary=True)
    model = meta_model(design)
    assert count_params(model) == 3_349_342
    assert count_params(model, include_auxiliary=True) == 3_349_342 + sum(
        p.numel() for p in model.auxiliary_head.parameters())


@pytest.mark.parametrize("which", ["stack", "cells"])
def test_layer_table_adds_up(which: str) -> None:
    design = tiny_stack() if which == "stack" else tiny_cells()
    shape = (3, 16, 16) if which == "stack" else (3, 8, 8)
    model = meta_model(design)
    rows = layer_table(model, shape)
    assert sum(r["params"] for r in rows) == count_params(model)
    assert sum(r["macs"] for r in rows) == count_macs(model, shape)
    assert rows[0]["name"] == "stem" and rows[-1]["output"] == [design_classes(design)]
    assert all(r["macs"] >= 0 and isinstance(r["output"], list) for r in rows)


def design_classes(design) -> int:
    return design.classes if isinstance(design, BlockStack) else design.macro.classes


def test_layer_table_shapes_for_b0() -> None:
    rows = layer_table(meta_model(get_preset("efficientnet-b0")), (3, 224, 224))
    outputs = {r["name"].split(" (")[0]: r["output"] for r in rows}
    assert outputs["stem"] == [32, 112, 112]
    assert outputs["stage 6"] == [192, 7, 7]
    assert outputs["head"] == [1280, 7, 7]


def test_layer_table_lists_the_auxiliary_head() -> None:
    design = tiny_cells()
    design.set_macro(auxiliary=True)
    model = meta_model(design)
    rows = layer_table(model, (3, 8, 8))
    aux = rows[-1]
    assert aux["name"].startswith("auxiliary head")
    assert aux["params"] == sum(p.numel() for p in model.auxiliary_head.parameters())
    assert aux["macs"] > 0 and aux["output"] == [4]


def test_memory_estimate_scales_with_batch() -> None:
    model = meta_model(tiny_stack())
    one = estimate_memory(model, (3, 16, 16), batch=1)
    four = estimate_memory(model, (3, 16, 16), batch=4)
    assert one["parameter_bytes"] == 4 * count_params(model) == four["parameter_bytes"]
    assert four["training_activation_bytes"] == 4 * one["training_activation_bytes"]
    assert four["inference_peak_activation_bytes"] == 4 * one["inference_peak_activation_bytes"]
    assert one["training_bytes"] > one["inference_bytes"] > one["parameter_bytes"]
    # The stem conv's input and output bound the inference peak from below.
    assert one["inference_peak_activation_bytes"] >= 4 * (3 * 16 * 16 + 8 * 8 * 8)
    with pytest.raises(ValueError, match="batch"):
        estimate_memory(model, (3, 16, 16), batch=0)


def test_latency_is_measured_and_the_model_restored() -> None:
    model = build_model(tiny_stack())
    result = measure_latency(model, (3, 16, 16), batch=2, device="cpu", repeats=3, warmup=1)
    assert result["min_ms"] <= result["median_ms"] <= result["max_ms"]
    assert result["repeats"] == 3 and result["batch"] == 2 and result["device"] == "cpu"
    assert result["throughput_per_s"] > 0
    assert model.training and next(model.parameters()).device.type == "cpu"
    with pytest.raises(ValueError, match="meta"):
        measure_latency(meta_model(tiny_stack()), (3, 16, 16), device="cpu")


def test_summarize_a_cell_design() -> None:
    design = tiny_cells()
    design.set_macro(auxiliary=True)
    s = summarize(design, latency=True, memory=True, repeats=2)
    assert s["kind"] == "cell" and s["name"] == "darts-v2" and s["style"] == "darts"
    assert s["input"] == [3, 8, 8] and s["classes"] == 4
    assert s["params"] == count_params(design)
    assert s["params_with_auxiliary"] > s["params"]
    assert s["macs"] == count_macs(build_model(design), (3, 8, 8))
    assert s["latency"]["median_ms"] > 0 and s["memory"]["batch"] == 1
    assert "torchvision" in s["macs_convention"]


def test_summarize_overrides_classes_and_input() -> None:
    s = summarize(get_preset("efficientnet-b0"), classes=10, input_shape=(1, 64, 64),
                  memory=False)
    assert s["classes"] == 10 and s["input"] == [1, 64, 64]
    assert s["params"] == 5_288_548 - 1_281_000 + 12_810 - 27 * 32 + 9 * 32
    assert s["table"][-1]["output"] == [10] and "memory" not in s


def test_pick_device_prefers_accelerators_and_checks_requests() -> None:
    assert available_devices()[-1] == "cpu"
    assert pick_device().type == available_devices()[0]
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("auto").type == available_devices()[0]
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        pick_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="not available"):
            pick_device("cuda")
    assert amp_supported("cpu") is False
    assert amp_supported("cuda") == torch.cuda.is_available()


def test_largest_nb201_cell_matches_the_benchmark_cost_table() -> None:
    from engine.arch.nb201 import parse_nb201

    design = parse_nb201("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
                         "|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    model = meta_model(design)
    # NAS-Bench-201's cost table for this cell: 1.531546 M params, about 220.12 M FLOPs
    # (its FLOPs are multiply-adds of conv and linear layers).
    assert count_params(model) == 1_531_546
    assert count_macs(model, (3, 32, 32)) == 220_119_680
