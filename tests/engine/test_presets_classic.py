"""MnasNet, MixNet, MobileNetV3, SqueezeNet, ResNet, VGG, GoogLeNet and DenseNet presets:
exactly the reference's size (params, torchvision-way MACs at 224x224, 1000 classes) with
its parameters in the same state-dict order, drawn as stacks of registry blocks."""

from __future__ import annotations

import json

import pytest
import torch

from engine.arch.presets import get_preset, preset_groups, preset_names
from engine.arch.presets_classic import CLASSIC_PRESETS, MIXNET_M, MIXNET_S, REFERENCES
from engine.arch.serialize import design_from_dict, design_hash, design_to_dict, to_json
from engine.arch.timm_blocks import format_block_strings, parse_block_strings
from engine.arch.validate import validate
from engine.builders import build_model
from engine.cost import count_macs
from engine.cost.analytic import design_cost
from engine.ops import stack_parts

TORCHVISION = [n for n, ref in REFERENCES.items() if ref.startswith("torchvision:")]


def reference_model(name: str) -> torch.nn.Module:
    """The reference network on the meta device (shapes only, no init cost)."""
    library, _, builder = REFERENCES[name].partition(":")
    with torch.device("meta"):
        if library == "timm":
            timm = pytest.importorskip("timm")
            return timm.create_model(builder, pretrained=False)
        import torchvision.models as tvm

        kwargs = {"aux_logits": False, "init_weights": False} if builder == "googlenet" else {}
        return getattr(tvm, builder)(weights=None, **kwargs)


def leaf_shapes(model: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(k.rsplit(".", 1)[-1], tuple(v.shape)) for k, v in model.state_dict().items()]


@pytest.mark.parametrize("name", TORCHVISION)
def test_preset_is_exactly_the_torchvision_model(name):
    ref = reference_model(name)
    cost = design_cost(get_preset(name))
    assert cost.params == sum(p.numel() for p in ref.parameters())
    assert cost.macs == count_macs(ref, (3, 224, 224))
    with torch.device("meta"):
        ours = build_model(get_preset(name))
    assert leaf_shapes(ours) == leaf_shapes(ref)  # the same tensors in the same order


def test_mixnet_presets_are_the_published_sizes():
    assert design_cost(get_preset("mixnet-s")).params == 4_134_606
    assert design_cost(get_preset("mixnet-m")).params == 5_014_382


@pytest.mark.parametrize("name", ["mixnet-s", "mixnet-m"])
def test_mixnet_is_exactly_the_timm_model(name):
    ref = reference_model(name)  # skipped without timm
    cost = design_cost(get_preset(name))
    assert cost.params == sum(p.numel() for p in ref.parameters())
    assert cost.macs == count_macs(ref, (3, 224, 224))
    with torch.device("meta"):
        ours = build_model(get_preset(name))
    assert leaf_shapes(ours) == leaf_shapes(ref)


def test_mixnet_stages_are_timms_block_strings():
    assert format_block_strings(get_preset("mixnet-s").stages, default_act="relu") == \
        list(MIXNET_S)
    assert format_block_strings(get_preset("mixnet-m").stages, default_act="relu") == \
        list(MIXNET_M)
    mix = get_preset("mixnet-s").stages[3]
    assert (mix.block, mix.kernels, mix.se, mix.act) == ("mix", (3, 5, 7), 0.5, "silu")


@pytest.mark.parametrize("name", list(CLASSIC_PRESETS))
def test_classic_presets_round_trip_and_validate(name):
    design = get_preset(name)
    assert [p for p in validate(design) if p.severity == "error"] == []
    assert design_from_dict(json.loads(to_json(design))) == design
    texts = format_block_strings(design.stages, default_act=design.act)
    assert parse_block_strings(texts, default_act=design.act) == design.stages
    assert design.name == name


def test_designs_without_the_new_fields_are_written_as_before():
    # hashes computed before stem/head/classifier variants and block-type fields existed
    assert design_hash(get_preset("efficientnet-b0")) == \
        "4fc2d98c9b833f7350cdaef6ef2f6a14c16af76c7346027079595b1c028faca2"
    assert design_hash(get_preset("darts-v2")) == \
        "d15f9bff600a45a4b836beea74af2efed0736c2050f6e920449cfc16d0bce084"
    text = to_json(get_preset("mobilenet-v2"))
    assert not any(f in text for f in ("kernels", "stem_pool", "hidden", "dropblock"))
    resnet = design_to_dict(get_preset("resnet-50"))
    assert (resnet["stem_kernel"], resnet["stem_pool"], resnet["head"]) == (7, "max3p", "none")


def test_presets_are_grouped_for_the_menu():
    groups = preset_groups()
    assert sorted(n for names in groups.values() for n in names) == sorted(preset_names())
    assert "resnet-50" in groups["Classic baselines"]
    assert "mixnet-s" in groups["MobileNet, MnasNet, MixNet"]


@pytest.mark.parametrize("name", list(stack_parts.POOLS))
def test_pool_shapes_are_pytorchs(name):
    from engine.builders.stack_network import make_pool
    from engine.ops.costs import ShapeError

    module = make_pool(name) or torch.nn.Identity()
    for size in range(1, 12):
        x = torch.zeros(1, 1, size, size + 1)
        try:
            want = tuple(module(x).shape[2:])
        except RuntimeError:
            with pytest.raises(ShapeError):
                stack_parts.pool_cost((1, size, size + 1), name)
            continue
        assert stack_parts.pool_cost((1, size, size + 1), name).shape[1:] == want


@pytest.mark.parametrize("stage,field,expect", [
    ("fire_r1_c127_sq16", "channels", "must be even"),
    ("incep_r1_c100_b64.96.128.16.32", "branches", "leave none of the 100 outputs"),
    ("ir_r1_k3.4_s1_e6_c16", "kernels", "must be odd"),
    ("bot_r1_s1_c250", "expansion", "whole width"),
    ("conv_r1_k3_s1_c8_poolmax9", None, "pool"),
])
def test_block_type_rules_are_located_problems(stage, field, expect):
    from engine.arch.validate import DesignError

    design = get_preset("resnet-18")
    try:
        design.stages[1] = parse_block_strings(stage)[0]
    except DesignError as exc:
        assert field is None and expect in str(exc)
        return
    problems = [str(p) for p in validate(design) if p.severity == "error"]
    assert any(p.startswith(f"stages[1].{field}:") and expect in p for p in problems), problems


def test_stack_variants_are_checked():
    design = get_preset("squeezenet-1.1")
    design.hidden = (64,)
    design.stem = "convx"
    problems = [str(p) for p in validate(design)]
    assert any(p.startswith("stem: unknown stem 'convx'") for p in problems)
    assert any(p.startswith("classifier: a conv classifier") for p in problems)


def test_width_scaling_scales_every_channel_count_of_a_block():
    design = get_preset("googlenet")
    design.width_mult = 0.5
    from engine.arch.scaling import scaled_stages

    incep = scaled_stages(design)[2]
    assert (incep.channels, incep.branches) == (128, (32, 48, 64, 8, 16))
    squeeze = get_preset("squeezenet-1.1")
    squeeze.width_mult = 0.5
    assert scaled_stages(squeeze)[0].squeeze == 8
