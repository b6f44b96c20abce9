"""Block-stack networks against torchvision's EfficientNet and MobileNetV2."""

from __future__ import annotations

import pytest
import torch
import torchvision

from engine.arch.model import BlockStack, Stage
from engine.arch.presets import get_preset
from engine.builders import build_model, input_shape_of
from engine.builders.stack_network import batchnorm_settings, stages_of
from engine.ops.torch_blocks import ds_block, ir_block, make_divisible

EFFICIENTNET_PARAMS = {
    "b0": 5_288_548, "b1": 7_794_184, "b2": 9_109_994, "b3": 12_233_232,
    "b4": 19_341_616, "b5": 30_389_784, "b6": 43_040_704, "b7": 66_347_960,
}


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("variant", list(EFFICIENTNET_PARAMS))
def test_efficientnet_presets_have_torchvision_parameter_counts(variant: str) -> None:
    with torch.device("meta"):  # shapes only: no weight init, no memory
        model = build_model(get_preset(f"efficientnet-{variant}"))
    assert n_params(model) == EFFICIENTNET_PARAMS[variant]


@pytest.mark.parametrize("variant", ["b0", "b1", "b5"])
def test_efficientnet_matches_torchvision_layer_for_layer(variant: str) -> None:
    with torch.device("meta"):
        ours = build_model(get_preset(f"efficientnet-{variant}"))
        theirs = getattr(torchvision.models, f"efficientnet_{variant}")(weights=None)
    assert n_params(ours) == n_params(theirs)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    assert all(ours_sd[k].shape == theirs_sd[k].shape for k in ours_sd)
    bn_ours = [m for m in ours.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    bn_theirs = [m for m in theirs.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert [(m.eps, m.momentum) for m in bn_ours] == [(m.eps, m.momentum) for m in bn_theirs]
    sd_ours = [m.p for m in ours.modules() if m.__class__.__name__ == "StochasticDepth"]
    sd_theirs = [m.p for m in theirs.modules() if m.__class__.__name__ == "StochasticDepth"]
    assert sd_ours == pytest.approx(sd_theirs)


def test_efficientnet_b0_computes_what_torchvision_computes() -> None:
    torch.manual_seed(0)
    theirs = torchvision.models.efficientnet_b0(weights=None).eval()
    ours = build_model(get_preset("efficientnet-b0")).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x))


def test_mobilenet_v2_has_torchvision_parameter_count() -> None:
    with torch.device("meta"):
        ours = build_model(get_preset("mobilenet-v2"))
        theirs = torchvision.models.mobilenet_v2(weights=None)
    assert n_params(ours) == n_params(theirs) == 3_504_872
    shapes = sorted(tuple(p.shape) for p in ours.parameters())
    assert shapes == sorted(tuple(p.shape) for p in theirs.parameters())
    acts = {type(m) for m in ours.modules()} & {torch.nn.SiLU, torch.nn.ReLU6}
    assert acts == {torch.nn.ReLU6}


def test_small_stack_forward_with_overrides() -> None:
    stack = BlockStack(name="tiny", stages=[Stage("ds", 1, 3, 1, 1, 8, 0.25, "relu"),
                                            Stage("ir", 2, 5, 2, 4, 16, 0.0, "hswish"),
                                            Stage("ir", 1, 3, 2, 3, 24, 0.5, "silu")],
                       stem_channels=8, head_channels=64, resolution=32, classes=5)
    assert input_shape_of(stack) == (3, 32, 32)
    model = build_model(stack, classes=7, input_shape=(1, 28, 28))
    x = torch.randn(3, 1, 28, 28)
    out = model.train()(x)
    assert out.shape == (3, 7)
    out.sum().backward()
    with torch.no_grad():
        assert model.eval()(x).shape == (3, 7)
    names = [name for name, _ in model.parts()]
    assert names[0] == "stem" and names[-1] == "classifier" and len(names) == 1 + 3 + 3


def test_depth_and_width_multipliers() -> None:
    stack = get_preset("efficientnet-b4")
    built = stages_of(stack)
    assert [s.repeats for s in built] == [2, 4, 4, 6, 6, 8, 2]
    assert [s.channels for s in built] == [24, 32, 56, 112, 160, 272, 448]
    assert batchnorm_settings(stack) == (1e-5, 0.1)
    assert batchnorm_settings(get_preset("efficientnet-b7")) == (1e-3, 0.01)
    assert make_divisible(1280 * 1.1) == 1408 and make_divisible(10) == 16


def test_blocks_follow_torchvision_mbconv() -> None:
    block = ir_block(16, 24, kernel=5, stride=2, expansion=6, se=0.25, act="silu")
    se = block.block[2]
    assert se.fc1.out_channels == 4 and se.fc1.in_channels == 96  # squeeze from input width
    assert not block.use_res_connect
    ds = ds_block(32, 32, kernel=3, stride=1, se=0.0, act="relu6")
    assert len(ds.block) == 2 and ds.use_res_connect  # depthwise + project, no SE
    assert ds(torch.randn(1, 32, 8, 8)).shape == (1, 32, 8, 8)


def test_stochastic_depth_is_training_only() -> None:
    block = ir_block(8, 8, kernel=3, stride=1, expansion=2, se=0.0, drop_prob=0.99).eval()
    x = torch.randn(4, 8, 6, 6)
    with torch.no_grad():
        assert torch.equal(block(x), block(x))


def test_bad_stage_is_located() -> None:
    stack = BlockStack(stages=[Stage("ds", 1, 3, 1, 1, 16), Stage("ir", 1, 4, 2, 6, 24)])
    with pytest.raises(ValueError, match="stage 2: kernel must be a positive odd size"):
        build_model(stack)
    stack = BlockStack(stages=[Stage("xx", 1, 3, 1, 1, 16)])
    with pytest.raises(ValueError, match="stage 1: unknown block type 'xx'"):
        build_model(stack)
    stack = BlockStack(stages=[Stage("ir", 1, 3, 1, 6, 16, act="gelu")])
    with pytest.raises(ValueError, match="stage 1: unknown activation 'gelu'"):
        build_model(stack)
