"""Image folders with corrupt or empty files: every bad file is named at once, and
``skip_bad_images`` (``--skip-bad-images``, the dialogs' checkbox) leaves them out."""

from __future__ import annotations

import numpy as np
import pytest

from engine.cli import main
from engine.data import DatasetError, load_dataset, load_spec, skipped_note
from engine.search.evaluators import TrainEvaluator, evaluator_from_spec


@pytest.fixture
def folder(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    root = tmp_path / "shapes"
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(10):
            Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)).save(
                root / name / f"{i}.png")
    (root / "a" / "corrupt.png").write_bytes(b"\x89PNG not really")
    (root / "b" / "empty.jpg").write_bytes(b"")
    (root / "b" / "0.png").write_bytes((root / "b" / "0.png").read_bytes()[:40])  # truncated
    return root


def test_every_bad_image_is_reported_at_once(folder):
    with pytest.raises(DatasetError) as info:  # was: only the first bad file
        load_dataset(str(folder))
    text = str(info.value)
    assert text.startswith(f"{folder}: 3 unreadable image(s) (leave them out with "
                           "--skip-bad-images")
    for name, why in (("a/corrupt.png", "not a readable image"),
                      ("b/empty.jpg", "empty file (0 bytes)"),
                      ("b/0.png", "not a readable image")):
        assert f"{folder / name}: {why}" in text


def test_skip_bad_images_leaves_them_out_and_says_so(folder):
    splits = load_dataset(str(folder), skip_bad_images=True)
    assert sum(splits.sizes().values()) == 19  # 21 files, corrupt/empty/truncated out
    assert sorted(line.split(":")[0] for line in splits.skipped) == sorted(
        str(folder / n) for n in ("a/corrupt.png", "b/empty.jpg", "b/0.png"))
    note = skipped_note(splits)
    assert note.startswith("shapes: left out 3 unreadable image(s)")
    assert splits.spec["skip_bad_images"] is True
    again = load_spec(splits.spec)  # a resumed run reloads the same images
    assert again.sizes() == splits.sizes()


def test_skipping_cannot_leave_a_class_without_images(tmp_path):
    from PIL import Image

    root = tmp_path / "d"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    for i in range(8):
        Image.fromarray(np.zeros((4, 4, 3), dtype=np.uint8)).save(root / "a" / f"{i}.png")
        (root / "b" / f"{i}.png").write_bytes(b"junk")
    with pytest.raises(DatasetError, match=r"d/b: no readable image left after skipping 8"):
        load_dataset(str(root), skip_bad_images=True)


def test_train_cli_lists_them_and_skips_on_request(folder, tmp_path, capsys):
    argv = ["train", "darts-v2", "--channels", "4", "--layers", "2", "--epochs", "1",
            "--dataset", str(folder), "--db", str(tmp_path / "t.db"), "--json"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "3 unreadable image(s)" in err and "empty.jpg: empty file" in err
    assert "Traceback" not in err
    assert main([*argv, "--skip-bad-images"]) == 0
    err = capsys.readouterr().err
    assert "note: shapes: left out 3 unreadable image(s) (--skip-bad-images)" in err


def test_search_evaluator_carries_the_option(folder, tmp_path, capsys):
    evaluator = TrainEvaluator(str(folder), epochs=1, skip_bad_images=True)
    assert evaluator.notes()[0].startswith("shapes: left out 3 unreadable image(s)")
    spec = evaluator.spec()
    assert spec["skip_bad_images"] is True
    assert evaluator_from_spec(spec, None).skip_bad_images is True
    argv = ["search", "--db", str(tmp_path / "s.db"), "--dataset", str(folder),
            "--budget", "1", "--epochs-per-trial", "1", "--strategy", "random"]
    assert main(argv) == 2
    assert "3 unreadable image(s)" in capsys.readouterr().err
