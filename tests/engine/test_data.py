"""engine.data: digits, torchvision folders, image folders, batched augmentation, iterator."""

from __future__ import annotations

import gzip
import pickle

import numpy as np
import pytest
import torch

from engine.arch.model import BlockStack
from engine.arch.presets import get_preset
from engine.data import Augment, DatasetError, adapt_design, load_dataset
from engine.data.augment import cutout, random_crop, random_flip
from engine.data.loader import BatchIterator


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_digits_split_is_stratified_and_normalized(digits):
    assert digits.sizes() == {"train": 1257, "val": 270, "test": 270}
    assert digits.input_shape == (1, 8, 8) and digits.classes == 10
    assert abs(float(digits.train.x.mean())) < 1e-4
    assert abs(float(digits.train.x.std()) - 1.0) < 1e-3
    for split in (digits.val, digits.test):
        counts = torch.bincount(split.y, minlength=10)
        assert int(counts.min()) >= 25 and int(counts.max()) <= 29  # ~27 per class


def test_digits_split_depends_only_on_seed(digits):
    again = load_dataset("digits")
    other = load_dataset("digits", seed=1)
    assert torch.equal(again.test.x, digits.test.x) and torch.equal(again.test.y, digits.test.y)
    assert not torch.equal(other.test.y, digits.test.y)


def test_digits_upsampled():
    big = load_dataset("digits", image_size=16)
    assert big.input_shape == (1, 16, 16)
    assert big.train.x.shape[1:] == (1, 16, 16)


def test_random_crop_is_a_shift_of_the_padded_image():
    x = torch.arange(2 * 3 * 5 * 5, dtype=torch.float32).view(2, 3, 5, 5)
    gen = torch.Generator().manual_seed(0)
    out = random_crop(x, 2, gen)
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(2):
        matches = [(dy, dx) for dy in range(5) for dx in range(5)
                   if torch.equal(padded[i, :, dy:dy + 5, dx:dx + 5], out[i])]
        assert matches, "each crop must be a window of the padded image"


def test_flip_and_cutout():
    x = torch.randn(64, 1, 6, 6)
    flipped = random_flip(x, torch.Generator().manual_seed(1))
    same = [torch.equal(flipped[i], x[i]) for i in range(64)]
    mirrored = [torch.equal(flipped[i], x[i].flip(2)) for i in range(64)]
    assert all(s or m for s, m in zip(same, mirrored, strict=True))
    assert 10 < sum(mirrored) < 54
    holes = cutout(torch.ones(8, 2, 10, 10), 4, torch.Generator().manual_seed(2))
    zeros = (holes == 0).sum(dim=(1, 2, 3))
    assert bool((zeros > 0).all()) and bool((zeros <= 2 * 16).all())


def test_batch_iterator_visits_each_example_once_and_is_reproducible(digits):
    def order(seed):
        it = BatchIterator(digits.val, digits, 64, shuffle=True,
                           generator=torch.Generator().manual_seed(seed))
        return torch.cat([y for _x, y in it]), [x.shape[0] for x, _y in it]

    labels, sizes = order(0)
    assert sizes == [64, 64, 64, 64, 14]
    assert torch.equal(torch.bincount(labels), torch.bincount(digits.val.y))
    assert torch.equal(order(0)[0], labels)
    odd = BatchIterator(digits.train, digits, 1256, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    assert len(odd) == 1 and [x.shape[0] for x, _y in odd] == [1256]  # no batch of one
    assert len(BatchIterator(digits.train, digits, 1256)) == 2  # evaluation keeps every image
    aug = BatchIterator(digits.train, digits, 32, shuffle=True, augment=Augment(1, False, 2),
                        generator=torch.Generator().manual_seed(0))
    x, _y = next(iter(aug))
    assert x.shape == (32, 1, 8, 8)


def _write_cifar_bin(folder, n_per_batch):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        labels = np.arange(n_per_batch, dtype=np.uint8) % 10
        pixels = rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
        np.concatenate([labels[:, None], pixels], axis=1).tofile(folder / name)


def test_cifar10_binary_batches(tmp_path):
    _write_cifar_bin(tmp_path / "cifar-10-batches-bin", 20)
    splits = load_dataset("cifar10", root=tmp_path)
    assert splits.input_shape == (3, 32, 32) and splits.classes == 10
    assert splits.sizes() == {"train": 90, "val": 10, "test": 20}
    assert splits.train.x.dtype == torch.uint8
    assert splits.augment.crop_padding == 4 and splits.augment.flip
    batch = splits.prepare(splits.train.x[:4])
    assert batch.dtype == torch.float32 and abs(float(batch.mean())) < 1.0
    # the folder itself also works as --dataset PATH
    assert load_dataset(str(tmp_path)).name == "cifar10"


def test_cifar10_python_batches_and_refusal_of_foreign_pickles(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        entry = {"data": rng.integers(0, 256, (20, 3072), dtype=np.uint8),
                 "labels": [i % 10 for i in range(20)]}
        (folder / name).write_bytes(pickle.dumps(entry))
    assert load_dataset("cifar10", root=tmp_path).sizes()["train"] == 90

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (folder / "test_batch").write_bytes(pickle.dumps({"data": Evil(), "labels": []}))
    with pytest.raises(DatasetError, match=r"test_batch: not a readable CIFAR batch.*refusing"):
        load_dataset("cifar10", root=tmp_path)


def test_mnist_idx_files(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 50), ("t10k", 10)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        header = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (n, 28, 28))
        with gzip.open(raw / f"{prefix}-images-idx3-ubyte.gz", "wb") as fh:
            fh.write(header + images.tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
            bytes([0, 0, 8, 1]) + n.to_bytes(4, "big") + labels.tobytes())
    splits = load_dataset("mnist", root=tmp_path, image_size=14)
    assert splits.input_shape == (1, 14, 14)
    assert splits.sizes() == {"train": 45, "val": 5, "test": 10}


def test_missing_dataset_folders_name_the_path(tmp_path):
    with pytest.raises(DatasetError, match=r"no CIFAR-10 batches in .*expected "
                                           r"cifar-10-batches-py/data_batch_1\.\.5.*--download"):
        load_dataset("cifar10", root=tmp_path)
    with pytest.raises(DatasetError, match=r"does not exist"):
        load_dataset("mnist", root=tmp_path / "nowhere")
    with pytest.raises(DatasetError, match=r"'/no/such/dir' is neither a known name"):
        load_dataset("/no/such/dir")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"empty: no class subfolders"):
        load_dataset(str(tmp_path / "empty"))
    (tmp_path / "empty" / "cats").mkdir()
    with pytest.raises(DatasetError, match=r"class folders hold no images"):
        load_dataset(str(tmp_path / "empty"))


def test_image_folder(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for c, name in enumerate(("circle", "square", "tri")):
        (tmp_path / "shapes" / name).mkdir(parents=True)
        for i in range(10):
            arr = rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)
            arr[..., c] = 255
            Image.fromarray(arr).save(tmp_path / "shapes" / name / f"{i}.png")
    splits = load_dataset(str(tmp_path / "shapes"), image_size=8)
    assert splits.classes == 3 and splits.class_names == ["circle", "square", "tri"]
    assert splits.input_shape == (3, 8, 8)
    assert sum(splits.sizes().values()) == 30
    (tmp_path / "shapes" / "tri" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DatasetError, match=r"broken\.png: not a readable image"):
        load_dataset(str(tmp_path / "shapes"))


def test_adapt_design_sets_input_and_classes(digits):
    cell = get_preset("darts-v2")
    adapted = adapt_design(cell, digits)
    assert adapted.macro.input_shape == (1, 8, 8) and adapted.macro.classes == 10
    assert cell.macro.input_shape == (3, 32, 32), "the original is untouched"
    stack = adapt_design(BlockStack(in_channels=3, resolution=224, classes=1000), digits)
    assert (stack.in_channels, stack.resolution, stack.classes) == (1, 8, 10)


def _write_class_images(folder, counts):
    from PIL import Image

    rng = np.random.default_rng(0)
    for name, n in counts.items():
        (folder / name).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)).save(
                folder / name / f"{i}.png")


def test_image_folders_a_classifier_cannot_use_are_refused(tmp_path):
    # one class: training would report a meaningless 100%
    _write_class_images(tmp_path / "one", {"cat": 8})
    with pytest.raises(DatasetError, match=r"one: only one class subfolder \('cat'\)"):
        load_dataset(str(tmp_path / "one"))
    # a class folder without images: an output the model can never learn
    _write_class_images(tmp_path / "half", {"a": 8, "b": 0})
    with pytest.raises(DatasetError, match=r"half/b: class folder holds no images"):
        load_dataset(str(tmp_path / "half"))
    # too few images to split per class: a DatasetError, not scikit-learn's ValueError
    _write_class_images(tmp_path / "tiny", {"a": 2, "b": 9})
    with pytest.raises(DatasetError, match=r"tiny/a: 2 image\(s\); each class needs at least"):
        load_dataset(str(tmp_path / "tiny"))
    _write_class_images(tmp_path / "pre" / "train", {"a": 1, "b": 3})
    _write_class_images(tmp_path / "pre" / "val", {"a": 1, "b": 1})
    with pytest.raises(DatasetError, match=r"pre/train/a: 1 image\(s\)"):
        load_dataset(str(tmp_path / "pre"))
    _write_class_images(tmp_path / "ok", {"a": 7, "b": 7})
    assert sum(load_dataset(str(tmp_path / "ok")).sizes().values()) == 14
