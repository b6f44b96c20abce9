"""ONNX int8 quantization helpers and quantization-aware weights (no training)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from engine.arch.model import BlockStack, Stage
from engine.builders import build_model
from engine.compress.qat import attach_fake_quant, detach_fake_quant
from engine.compress.quantize import (
    compact_onnx,
    export_fp32,
    ort_accuracy,
    ort_latency,
    ort_session,
    quantize_dynamic_int8,
    quantize_static_int8,
)

SHAPE = (1, 8, 8)


def small_stack() -> nn.Module:
    torch.manual_seed(0)
    design = BlockStack(name="q", stages=[Stage("ds", 1, 3, 1, 1, 16, 0.25),
                                          Stage("ir", 1, 3, 2, 4, 32, 0.25)],
                        stem_channels=16, head_channels=64, resolution=8, in_channels=1,
                        classes=10)
    return build_model(design).eval()


def _run(path, x: np.ndarray) -> np.ndarray:
    sess = ort_session(path)
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("quant")
    model = small_stack()
    raw = export_fp32(model, SHAPE, root / "raw.onnx", compact=False)
    return model, root, raw


def test_compaction_keeps_outputs_and_shrinks_file(exported, tmp_path):
    model, root, raw = exported
    x = np.random.default_rng(0).standard_normal((3, *SHAPE)).astype(np.float32)
    copy = tmp_path / "compact.onnx"
    copy.write_bytes(raw.read_bytes())
    compact_onnx(copy)
    assert copy.stat().st_size < raw.stat().st_size
    assert np.array_equal(_run(copy, x), _run(raw, x))
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    assert np.allclose(_run(copy, x), expected, atol=1e-4)


@pytest.mark.parametrize("fmt", ["qdq", "qoperator"])
def test_static_int8_runs_in_onnxruntime(exported, fmt):
    model, root, raw = exported
    rng = np.random.default_rng(1)
    calib = [rng.standard_normal((16, *SHAPE)).astype(np.float32) for _ in range(2)]
    out = quantize_static_int8(raw, root / f"int8-{fmt}.onnx", calib, quant_format=fmt)
    assert out.stat().st_size < raw.stat().st_size  # tiny model: scales weigh a lot
    x = calib[0][:4]
    got = _run(out, x)
    assert got.shape == (4, 10) and np.isfinite(got).all()
    lat = ort_latency(out, SHAPE, repeats=3, warmup=1)
    assert lat["median_ms"] > 0 and lat["threads"] == 1
    labels = torch.from_numpy(_run(raw, x).argmax(1))
    acc = ort_accuracy(out, [(torch.from_numpy(x), labels)])
    assert 0.0 <= acc <= 1.0


def test_static_int8_needs_calibration(exported, tmp_path):
    _model, _root, raw = exported
    with pytest.raises(ValueError, match="calibration"):
        quantize_static_int8(raw, tmp_path / "x.onnx", [])


def test_dynamic_int8_quantizes_linear_layers(exported):
    _model, root, raw = exported
    out = quantize_dynamic_int8(raw, root / "dyn.onnx")
    import onnx

    ops = {n.op_type for n in onnx.load(str(out)).graph.node}
    assert ops & {"MatMulInteger", "DynamicQuantizeLinear", "DynamicQuantizeMatMul"}
    assert _run(out, np.zeros((2, *SHAPE), np.float32)).shape == (2, 10)


def test_fake_quant_weights_land_on_int8_grid():
    model = small_stack()
    layers = attach_fake_quant(model)
    assert layers == sum(isinstance(m, nn.Conv2d | nn.Linear) for m in model.modules())
    model.train()
    out = model(torch.randn(4, *SHAPE))
    out.sum().backward()  # straight-through gradients reach the real weights
    conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    assert conv.parametrizations.weight.original.grad is not None
    assert detach_fake_quant(model) == layers
    for m in model.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            w = m.weight.detach().reshape(m.weight.shape[0], -1)
            scale = w.abs().amax(1, keepdim=True) / 127
            q = w / scale.clamp_min(1e-12)
            assert torch.allclose(q, q.round(), atol=1e-3)


class _ConcatBN(nn.Module):
    """A BatchNorm after a concat (as in DARTS' factorized reduce): it cannot fuse into a
    conv, so its 1-d scale reaches per-channel quantization."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Conv2d(1, 4, 1, bias=False), nn.Conv2d(1, 4, 1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn(torch.cat([self.a(x), self.b(x)], dim=1))
        return self.fc(y.mean(dim=(2, 3)))


def test_static_int8_does_not_leak_axis_warnings(tmp_path, caplog):
    torch.manual_seed(0)
    raw = export_fp32(_ConcatBN().eval(), SHAPE, tmp_path / "bn.onnx", compact=False)
    calib = [np.random.default_rng(0).standard_normal((4, *SHAPE)).astype(np.float32)]
    with caplog.at_level("WARNING"):
        quantize_static_int8(raw, tmp_path / "bn-int8.onnx", calib)
    assert not [r for r in caplog.records if "out-of-range" in r.getMessage()]
    assert (tmp_path / "bn-int8.onnx").is_file()
