"""Bundles refuse an edited design and a structure that sets anything but known layer
shapes; exports record the input preprocessing and class names (issues 11 and 18)."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest
import torch

from engine.export import ExportError, export_bundle, export_run, load_bundle
from engine.store import Store
from tests.stored_run import add_stored_run, tiny_cell_design


@pytest.fixture
def bundle(tmp_path):
    from engine.builders import build_model

    design = tiny_cell_design()
    torch.manual_seed(0)
    export_bundle(design, build_model(design).eval(), tmp_path / "b")
    return tmp_path / "b"


def _edit(path, name, fn):
    data = json.loads((path / name).read_text())
    fn(data)
    (path / name).write_text(json.dumps(data))


def test_an_edited_design_with_the_same_weight_shapes_is_refused(bundle):
    load_bundle(bundle)

    def pool(d):  # parameter-free op swapped: every weight still fits
        d["reduce"]["nodes"][0]["inputs"][0]["op"] = "avg_pool_3x3"

    _edit(bundle, "design.json", pool)
    with pytest.raises(ExportError, match="design.json was changed after the export"):
        load_bundle(bundle)


@pytest.mark.parametrize("structure, message", [
    ({"classifier": {"forward": 0}}, "structure sets 'forward' on layer 'classifier'"),
    ({"": {"__class__": 3}}, "structure sets '__class__' on layer ''"),
    ({"classifier": {"in_features": -5}}, "expected whole numbers from 1"),
    ({"classifier": {"in_features": 10**9}}, "expected whole numbers from 1"),
    ({"classifier": {"in_features": "64"}}, "expected whole numbers"),
    ({"stem.0": {"padding_mode": "circular"}}, "only in_channels, out_channels, groups"),
    ({"nope": {"in_features": 3}}, "names layer 'nope' that the design does not build"),
    (["classifier"], "structure must map layer names"),
])
def test_bundle_structure_sets_only_known_shape_attributes(bundle, structure, message):
    _edit(bundle, "metadata.json", lambda m: m.update(structure=structure))
    with pytest.raises(ExportError, match=message):
        load_bundle(bundle)


def test_exports_record_preprocessing_and_class_names(tmp_path):
    from sklearn.datasets import load_digits

    from engine.data import load_dataset
    from engine.train import TrainConfig, train_design

    db = tmp_path / "s.db"
    with Store(db) as store:
        result = train_design(tiny_cell_design(), load_dataset("digits"),
                              TrainConfig(epochs=1, batch_size=64, subset=64), store)
        run_id = result["run_id"]
        pre = store.get_run(run_id).config["preprocessing"]
        assert pre["channel_order"] == "grayscale" and pre["layout"] == "NCHW"
        assert pre["scale"] == pytest.approx(1 / 16)
        # the recorded recipe turns sklearn's raw 0..16 pixels into the training tensors
        raw = torch.as_tensor(load_digits().images, dtype=torch.float32).unsqueeze(1)
        fed = (raw * pre["scale"] - pre["mean"][0]) / pre["std"][0]
        train_x = load_dataset("digits").train.x[:5]
        for img in train_x:
            assert torch.isclose(fed, img, atol=1e-5).flatten(1).all(1).any()

        onnx = export_run(store, run_id, "onnx", tmp_path / "m.onnx")
        assert onnx["verified"]
        meta = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=[
            "CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
        assert json.loads(meta["mean"]) == pytest.approx(pre["mean"])
        assert json.loads(meta["std"]) == pytest.approx(pre["std"])
        assert meta["channel_order"] == "grayscale"
        assert json.loads(meta["class_names"]) == [str(i) for i in range(10)]
        assert json.loads(meta["preprocessing"]) == pre and meta["run_id"] == str(run_id)

        export_run(store, run_id, "bundle", tmp_path / "b")
        _d, _m, bmeta = load_bundle(tmp_path / "b")
        assert bmeta["preprocessing"] == pre and bmeta["class_names"][3] == "3"

        export_run(store, run_id, "torchscript", tmp_path / "m.pt")
        extra = {"nas_studio.json": ""}
        torch.jit.load(str(tmp_path / "m.pt"), _extra_files=extra)
        assert json.loads(extra["nas_studio.json"])["preprocessing"] == pre

        # a run recorded before preprocessing was: read from its dataset again
        old, _ckpt = add_stored_run(store)
        export_run(store, old, "bundle", tmp_path / "old")
        _d, _m, ometa = load_bundle(tmp_path / "old")
        assert ometa["preprocessing"]["scale"] == pytest.approx(1 / 16)
        assert ometa["class_names"] == [str(i) for i in range(10)]


def test_preprocessing_of_uint8_rgb_data():
    from engine.data.base import DatasetSplits, TensorSplit

    empty = TensorSplit(torch.zeros(0, 3, 4, 4, dtype=torch.uint8), torch.zeros(0))
    splits = DatasetSplits(empty, empty, empty, 2, (3, 4, 4), "pets",
                           mean=(0.5, 0.4, 0.3), std=(0.2, 0.2, 0.25), class_names=["a", "b"])
    pre = splits.preprocessing()
    assert pre["channel_order"] == "RGB" and pre["scale"] == pytest.approx(1 / 255)
    assert pre["mean"] == pytest.approx([0.5, 0.4, 0.3])
    pixels = np.full((1, 3, 4, 4), 200, dtype=np.uint8)
    x = (torch.from_numpy(pixels).float() * pre["scale"]
         - torch.tensor(pre["mean"]).view(1, 3, 1, 1)) / torch.tensor(pre["std"]).view(1, 3, 1, 1)
    assert torch.allclose(x, splits.prepare(torch.from_numpy(pixels)))
