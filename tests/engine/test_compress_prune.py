"""Pruning on real built networks (no training): MAC cuts, reload, sparsity, refusals."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from engine.arch.model import BlockStack, Stage
from engine.arch.presets import get_preset
from engine.builders import build_model
from engine.compress.checkpoint import load_pruned, save_pruned, structure_of
from engine.compress.derive import derive_design
from engine.compress.prune import (
    CompressError,
    count_macs,
    head_layers,
    prune_structured,
    prune_unstructured,
    unsupported_layers,
)

SHAPE = (1, 8, 8)


def cell_design():
    d = get_preset("darts-v2")
    d.set_macro(channels=8, layers=3, auxiliary=True, drop_path=0.0, input_shape=SHAPE,
                classes=10)
    return d


def nasnet_design():
    d = get_preset("nasnet-a")  # sep 5x5/7x7, avg pools, factorized reduce
    d.set_macro(channels=8, layers=3, auxiliary=False, drop_path=0.0, input_shape=SHAPE,
                classes=10)
    return d


def stack_design():
    return BlockStack(name="tiny-stack", stages=[
        Stage("ds", 1, 3, 1, 1, 16, 0.25), Stage("ir", 2, 3, 2, 6, 32, 0.25),
        Stage("ir", 2, 5, 1, 6, 48, 0.25)], stem_channels=32, head_channels=128,
        resolution=8, in_channels=1, classes=10, dropout=0.1, stochastic_depth=0.1)


def _batch(n: int = 4):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, *SHAPE, generator=g), torch.randint(0, 10, (n,), generator=g)


@pytest.mark.parametrize("make", [cell_design, nasnet_design, stack_design])
@pytest.mark.parametrize("criterion", ["magnitude", "bn", "taylor"])
def test_structured_half_ratio_cuts_macs(make, criterion):
    torch.manual_seed(0)
    model = build_model(make()).eval()
    x, y = _batch()
    before = count_macs(model, SHAPE)
    report = prune_structured(model, x, 0.5, criterion=criterion, steps=2,
                              calibration=[(x, y)])
    assert report.macs_before == before
    assert report.macs_after == count_macs(model, SHAPE)
    assert report.mac_reduction >= 0.40, report.as_dict()
    assert report.params_after < report.params_before
    model.eval()
    with torch.no_grad():
        assert model(x).shape == (4, 10)


@pytest.mark.parametrize("preset", ["nas-bench-201-best", "amoebanet-a"])
def test_other_cell_spaces_prune(preset):
    """NAS-Bench-201 (residual reduction blocks) and conv 7x1-1x7 ops prune too."""
    d = get_preset(preset)
    d.set_macro(channels=8, layers=1 if preset.startswith("nas-bench") else 3,
                input_shape=SHAPE, classes=10)
    model = build_model(d).eval()
    report = prune_structured(model, _batch()[0], 0.5)
    assert report.mac_reduction >= 0.40


def test_auxiliary_head_and_classifier_are_kept():
    model = build_model(cell_design()).eval()
    x, _ = _batch()
    heads = head_layers(model, x)
    assert any(h.startswith("auxiliary_head") for h in heads) and "classifier" in heads
    prune_structured(model, x, 0.5)
    model.train()
    logits, aux = model(x)
    assert logits.shape == aux.shape == (4, 10)
    assert model.classifier.out_features == 10


def test_pruned_model_reloads_into_fresh_parent(tmp_path):
    design = stack_design()
    model = build_model(design).eval()
    x, _ = _batch()
    prune_structured(model, x, 0.5)
    path = tmp_path / "pruned.safetensors"
    save_pruned(model, path, {"note": "test"})
    again = load_pruned(build_model(design), path).eval()
    assert structure_of(again) == structure_of(model)
    with torch.no_grad():
        assert torch.equal(again(x), model(x))


def test_load_rejects_foreign_file(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(ValueError, match="not a NAS Studio pruned checkpoint"):
        load_pruned(build_model(stack_design()), path)


def test_pruned_stack_becomes_a_design():
    design = stack_design()
    model = build_model(design).eval()
    prune_structured(model, _batch()[0], 0.5)
    derived = derive_design(design, model)
    assert derived is not None
    assert [s.channels for s in derived.stages] == [8, 16, 24]
    built = build_model(derived)
    assert {k: v.shape for k, v in built.state_dict().items()} == \
        {k: v.shape for k, v in model.state_dict().items()}
    assert derive_design(cell_design(), build_model(cell_design())) is None


@pytest.mark.parametrize("scope", ["global", "layer"])
def test_unstructured_sparsity_is_measured_and_permanent(scope):
    model = build_model(stack_design())
    report = prune_unstructured(model, 0.6, scope=scope, input_shape=SHAPE)
    assert report.sparsity == pytest.approx(0.6, abs=0.01)
    assert not any(k.endswith("_orig") or k.endswith("_mask") for k in model.state_dict())
    assert report.macs_after == report.macs_before


class Scaled(nn.Module):
    """A layer with a raw per-channel parameter Torch-Pruning cannot resize."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.gain = nn.Parameter(torch.ones(1, c, 1, 1))

    def forward(self, x):
        return x * self.gain


class Odd(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.scale = Scaled(8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        return self.fc(self.pool(self.scale(self.conv(x))).flatten(1))


def test_unsupported_layer_is_named_and_model_untouched():
    model = Odd()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert unsupported_layers(model) == ["scale (Scaled: parameter gain)"]
    with pytest.raises(CompressError, match=r"scale \(Scaled: parameter gain\)"):
        prune_structured(model, _batch()[0], 0.5)
    after = model.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_bad_ratio_and_criterion_are_refused():
    model = build_model(stack_design())
    x, _ = _batch()
    with pytest.raises(CompressError, match="between 0 and 1"):
        prune_structured(model, x, 1.5)
    with pytest.raises(CompressError, match="unknown criterion"):
        prune_structured(model, x, 0.5, criterion="random")
    with pytest.raises(CompressError, match="calibration"):
        prune_structured(model, x, 0.5, criterion="taylor")


def test_a_ratio_that_removes_nothing_is_refused():
    # 0.99 would empty every layer, so Torch-Pruning skipped them all and the "pruned" run
    # was the parent again, reported as a success
    torch.manual_seed(0)
    model = build_model(cell_design()).eval()
    with pytest.raises(CompressError, match=r"--prune 0\.99 removed no channels"):
        prune_structured(model, _batch()[0], 0.99)
