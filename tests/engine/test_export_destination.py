"""Export destinations: never the store, its -wal/-shm, a checkpoint or a checkpoint
folder; an existing output is replaced only with --force (issue 11, data loss)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from engine.cli import main
from engine.store import Store
from tests.stored_run import add_stored_run


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def stored(tmp_path):
    db = tmp_path / "experiments.db"
    with Store(db) as store:
        run_id, ckpt = add_stored_run(store)
    return db, run_id, ckpt


def export(db: Path, run_id: int, fmt: str, out: Path, *extra: str) -> int:
    return main(["export", str(run_id), "--format", fmt, "-o", str(out), "--db", str(db),
                 *extra])


def test_the_store_and_its_wal_shm_are_refused(stored, capsys):
    db, run_id, ckpt = stored
    before = sha(db)
    for target in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        for extra in ((), ("--force",)):
            assert export(db, run_id, "onnx", target, *extra) == 2
            err = capsys.readouterr().err
            assert str(target) in err and "experiment store" in err and "Traceback" not in err
    assert sha(db) == before
    with Store(db) as store:  # every run is still there
        assert [r.id for r in store.runs()] == [run_id]


def test_a_relative_or_symlinked_path_to_the_store_is_refused(stored, capsys, monkeypatch):
    db, run_id, _ckpt = stored
    link = db.parent / "alias.onnx"
    link.symlink_to(db)
    before = sha(db)
    assert export(db, run_id, "onnx", link, "--force") == 2
    monkeypatch.chdir(db.parent)
    assert main(["export", str(run_id), "--format", "torchscript", "-o", "experiments.db",
                 "--db", str(db), "--force"]) == 2
    assert "experiment store" in capsys.readouterr().err
    assert sha(db) == before


def test_checkpoints_and_their_folder_are_refused(stored, capsys):
    db, run_id, ckpt = stored
    before = sha(ckpt)
    for fmt, target in (("onnx", ckpt), ("torchscript", ckpt),
                        ("onnx", ckpt.parent / "model.onnx"),
                        ("bundle", ckpt.parent / "bundle"),
                        ("bundle", ckpt.parent.parent / "b.zip")):
        assert export(db, run_id, fmt, target, "--force") == 2
        err = capsys.readouterr().err
        assert str(target) in err and "checkpoint" in err and "Traceback" not in err
    assert sha(ckpt) == before and sorted(p.name for p in ckpt.parent.iterdir()) == ["last.pt"]


def test_a_bundle_folder_holding_the_store_is_refused(stored, capsys):
    db, run_id, _ckpt = stored
    before = sha(db)
    assert export(db, run_id, "bundle", db.parent, "--force") == 2
    err = capsys.readouterr().err
    assert f"{db.parent}: holds the experiment store" in err
    assert sha(db) == before


def test_an_existing_output_is_replaced_only_with_force(stored, tmp_path, capsys):
    db, run_id, _ckpt = stored
    out = tmp_path / "out" / "model.onnx"
    out.parent.mkdir()
    out.write_bytes(b"precious")
    assert export(db, run_id, "onnx", out) == 2
    err = capsys.readouterr().err
    assert f"{out}: already exists; pass --force to replace it" in err
    assert out.read_bytes() == b"precious"
    assert export(db, run_id, "onnx", out, "--force") == 0
    assert out.read_bytes() != b"precious" and out.stat().st_size > 1000
    # a bundle folder: replaced with --force; a folder that is not a bundle: never
    bundle = tmp_path / "out" / "bundle"
    assert export(db, run_id, "bundle", bundle) == 0
    assert export(db, run_id, "bundle", bundle) == 2
    assert "a bundle already exists there; pass --force" in capsys.readouterr().err
    assert export(db, run_id, "bundle", bundle, "--force") == 0
    assert sorted(p.name for p in bundle.iterdir()) == ["design.json", "metadata.json",
                                                         "weights.safetensors"]
    other = tmp_path / "out" / "notes"
    other.mkdir()
    (other / "thesis.tex").write_text("years of work")
    assert export(db, run_id, "bundle", other, "--force") == 2
    assert "is a folder that is not a NAS Studio bundle" in capsys.readouterr().err
    assert (other / "thesis.tex").read_text() == "years of work"


def test_export_run_refuses_the_store_without_the_cli(stored):
    from engine.export import DestinationError, DestinationExists, export_run

    db, run_id, ckpt = stored
    with Store(db) as store:
        with pytest.raises(DestinationError, match="experiment store"):
            export_run(store, run_id, "onnx", db, force=True)
        with pytest.raises(DestinationError, match="checkpoint"):
            export_run(store, run_id, "torchscript", ckpt, force=True)
        (db.parent / "x.onnx").write_bytes(b"x")
        with pytest.raises(DestinationExists):
            export_run(store, run_id, "onnx", db.parent / "x.onnx")
        assert store.artifacts(run_id) == []
