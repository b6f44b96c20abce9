"""engine.export: ONNX in onnxruntime, TorchScript, bundles, op-named errors, artifacts."""

from __future__ import annotations

import json
import zipfile

import onnxruntime as ort
import pytest
import torch
from torch import nn

from engine.arch.model import BlockStack, Stage
from engine.arch.presets import get_preset
from engine.builders import build_model
from engine.export import (
    ExportError,
    export_bundle,
    export_onnx,
    export_run,
    export_torchscript,
    file_digest,
    load_bundle,
)


def jitter(model, seed=0):
    """Random, non-trivial weights (fresh EfficientNet heads output ~0)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.1)
    return model.eval()


def cell_net():
    design = get_preset("darts-v2")
    design.set_macro(channels=4, layers=3, auxiliary=True, input_shape=(1, 8, 8), classes=10)
    return design, jitter(build_model(design))


def stack_net():
    design = BlockStack(name="tiny-effnet", stem_channels=8, head_channels=32, resolution=16,
                        in_channels=3, classes=5, stages=[
                            Stage("ds", 1, 3, 1, 1, 8, 0.25, "silu"),
                            Stage("ir", 2, 3, 2, 4, 16, 0.25, "silu"),
                            Stage("ir", 1, 5, 2, 4, 24, 0.25, "silu")])
    return design, jitter(build_model(design), seed=1)


@pytest.mark.parametrize("make", [cell_net, stack_net], ids=["cell", "stack"])
def test_onnx_runs_in_onnxruntime_and_matches(tmp_path, make):
    design, model = make()
    shape = (1, 8, 8) if design.kind == "cell" else (3, 16, 16)
    result = export_onnx(model, shape, tmp_path / "m.onnx")
    assert result["verified"] and result["max_abs_diff"] <= 1e-4
    assert result["exporter"] == "legacy"
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    x = torch.randn(5, *shape)  # another batch size than exported
    got = torch.from_numpy(session.run(None, {"input": x.numpy()})[0])
    with torch.no_grad():
        want = model(x)
    assert float(want.abs().max()) > 1e-3, "outputs must not be trivially zero"
    assert torch.allclose(got, want, atol=1e-4)


def test_torchscript_matches(tmp_path):
    design, model = cell_net()
    result = export_torchscript(model, (1, 8, 8), tmp_path / "m.pt")
    assert result["verified"] and result["max_abs_diff"] <= 1e-4
    loaded = torch.jit.load(str(tmp_path / "m.pt"))
    x = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(loaded(x), model(x), atol=1e-5)
    assert model.training is False


@pytest.mark.parametrize("name", ["bundle", "bundle.zip"])
@pytest.mark.parametrize("make", [cell_net, stack_net], ids=["cell", "stack"])
def test_bundle_reloads_identically(tmp_path, make, name):
    design, model = make()
    export_bundle(design, model, tmp_path / name, {"note": "hello"})
    design2, model2, meta = load_bundle(tmp_path / name)
    assert design2 == design and meta["note"] == "hello" and meta["format"] == "nas-studio-bundle"
    shape = (1, 8, 8) if design.kind == "cell" else (3, 16, 16)
    x = torch.randn(4, *shape)
    with torch.no_grad():
        assert torch.equal(model2(x), model(x))


def test_bad_bundles_are_named(tmp_path):
    design, model = cell_net()
    export_bundle(design, model, tmp_path / "b")
    meta = json.loads((tmp_path / "b" / "metadata.json").read_text())
    (tmp_path / "b" / "metadata.json").write_text(json.dumps({**meta, "format": "other"}))
    with pytest.raises(ExportError, match=r"b: not a NAS Studio bundle"):
        load_bundle(tmp_path / "b")
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as zf:
        zf.writestr("design.json", "{}")
    with pytest.raises(ExportError, match=r"x\.zip lacks weights\.safetensors, metadata\.json"):
        load_bundle(tmp_path / "x.zip")
    (tmp_path / "y.zip").write_bytes(b"nope")
    with pytest.raises(ExportError, match=r"y\.zip is not a zip file"):
        load_bundle(tmp_path / "y.zip")


def test_unsupported_op_is_named(tmp_path):
    class Cumulative(nn.Module):
        def forward(self, x):
            return torch.cummax(x.flatten(1), dim=1)[0]

    with pytest.raises(ExportError, match=r"operator aten::cummax is not supported") as info:
        export_onnx(Cumulative(), (1, 4, 4), tmp_path / "c.onnx", exporter="legacy")
    assert info.value.op == "aten::cummax"


def test_export_run_records_artifacts(tmp_path, capsys):
    from engine.cli import main
    from engine.data import load_dataset
    from engine.store import Store
    from engine.train import TrainConfig, train_design

    design = get_preset("darts-v2")
    design.set_macro(channels=4, layers=3)
    store = Store(tmp_path / "runs.db")
    result = train_design(design, load_dataset("digits"),
                          TrainConfig(epochs=1, batch_size=64, subset=128), store)
    run_id = result["run_id"]
    details = export_run(store, run_id, "onnx", tmp_path / "out" / "m.onnx")
    assert details["verified"]
    bundle = export_run(store, run_id, "bundle", tmp_path / "out" / "m.zip")
    _d, model, meta = load_bundle(tmp_path / "out" / "m.zip")
    assert meta["run_id"] == run_id and meta["test_accuracy"] == result["test_accuracy"]
    x = torch.randn(2, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(model(x), result["model"].eval()(x))  # the best-val weights
    artifacts = store.artifacts(run_id)
    assert [a["kind"] for a in artifacts] == ["onnx", "bundle"]
    assert artifacts[0]["sha256"] == file_digest(tmp_path / "out" / "m.onnx")[0]
    assert artifacts[1]["bytes"] == bundle["bytes"] and artifacts[1]["verified"] == 1
    store.close()
    out = tmp_path / "out" / "cli.pt"
    assert main(["export", str(run_id), "--format", "torchscript", "-o", str(out),
                 "--db", str(tmp_path / "runs.db"), "--json"]) == 0
    assert out.is_file()
    assert main(["export", "77", "--format", "onnx", "-o", str(out),
                 "--db", str(tmp_path / "runs.db")]) == 2
    # output paths that cannot be written: exit 2 naming the path (were tracebacks)
    (tmp_path / "afile").write_text("x")
    for fmt, target, message in (
            ("onnx", tmp_path / "afile" / "m.onnx", "cannot write there"),
            ("bundle", tmp_path / "afile" / "b", "cannot write there"),
            ("bundle", tmp_path / "out" / "m.onnx", "is a file; a bundle is written as a folder"),
            ("torchscript", tmp_path / "out", "is a folder; give a file path")):
        assert main(["export", str(run_id), "--format", fmt, "-o", str(target),
                     "--db", str(tmp_path / "runs.db")]) == 2
        err = capsys.readouterr().err
        assert f"{target}: {message}" in err and "Traceback" not in err


def test_bundle_of_a_pruned_stack_reloads_identically(tmp_path):
    from engine.compress.prune import prune_structured

    design, model = stack_net()
    x = torch.randn(2, 3, 16, 16)
    prune_structured(model, x, 0.25)
    before = sum(p.numel() for p in build_model(design).parameters())
    assert sum(p.numel() for p in model.parameters()) < before
    meta = export_bundle(design, model.eval(), tmp_path / "pruned.zip")
    assert meta["structure"], "a pruned model records its layer shapes"
    _d, again, _m = load_bundle(tmp_path / "pruned.zip")
    with torch.no_grad():
        assert torch.equal(again(x), model(x))
    onnx = export_onnx(model, (3, 16, 16), tmp_path / "pruned.onnx")
    assert onnx["verified"]
