"""Checkpoints: atomic writes, ``weights_only`` loads, RNG states as plain tensors."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

FORMAT = "nas-studio-checkpoint"
VERSION = 1


class CheckpointError(Exception):
    """A checkpoint is missing, unreadable or not ours; the message names the file."""


def checkpoints_root(db_path: str | Path | None = None) -> Path:
    """The folder holding every run folder of the store at ``db_path`` (not created):
    ``checkpoints_dir()`` for the default store, ``checkpoints_dir()/<db name>-<hash>``
    for another database file, so that equal run ids of different databases never
    share a checkpoint."""
    import hashlib

    from engine.paths import checkpoints_dir, default_db_path

    base = checkpoints_dir()
    if db_path is not None:
        db = Path(db_path).expanduser().resolve()
        if db != default_db_path().resolve():
            digest = hashlib.sha256(str(db).encode()).hexdigest()[:8]
            base = base / f"{db.stem}-{digest}"
    return base


def run_checkpoint_dir(run_id: int | str, db_path: str | Path | None = None) -> Path:
    """``checkpoints_root(db_path)/run-<id>/`` (created on demand)."""
    path = checkpoints_root(db_path) / f"run-{run_id}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_atomic(path: str | Path, write: Any) -> Path:
    """``write(file)`` into a temporary file next to ``path``, fsync, ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def save_checkpoint(state: dict[str, Any], path: str | Path) -> Path:
    """Write ``state`` to ``path`` atomically (temporary file, fsync, ``os.replace``)."""
    payload = {"format": FORMAT, "version": VERSION, **state}
    return _write_atomic(path, lambda fh: torch.save(payload, fh))


def save_checkpoint_bytes(data: bytes, path: str | Path) -> Path:
    """Write a checkpoint file's bytes (from a remote worker) to ``path`` atomically."""
    return _write_atomic(path, lambda fh: fh.write(data))


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; ``CheckpointError`` names a bad file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling/zip error means a bad file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"checkpoint {path} is corrupt or unreadable: {first}") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path} is not a NAS Studio checkpoint")
    if int(state.get("version", 0)) > VERSION:
        raise CheckpointError(f"checkpoint {path} has version {state.get('version')}, "
                              f"newer than this NAS Studio understands ({VERSION})")
    return state


def capture_rng(data_generator: torch.Generator | None = None) -> dict[str, Any]:
    """torch / cuda / numpy / python / data-order RNG states as tensors and plain types."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, py_state, gauss = random.getstate()
    out: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": str(kind), "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
                  "pos": int(pos), "has_gauss": int(has_gauss), "cached": float(cached)},
        "python": {"version": int(version), "state": [int(v) for v in py_state],
                   "gauss": None if gauss is None else float(gauss)},
    }
    if torch.cuda.is_available():
        out["cuda"] = list(torch.cuda.get_rng_state_all())
    if data_generator is not None:
        out["data"] = data_generator.get_state()
    return out


def restore_rng(state: dict[str, Any], data_generator: torch.Generator | None = None) -> None:
    """Inverse of ``capture_rng``."""
    torch.set_rng_state(state["torch"].cpu())
    np_state = state["numpy"]
    np.random.set_state((np_state["kind"], np_state["keys"].numpy().astype(np.uint32),
                         np_state["pos"], np_state["has_gauss"], np_state["cached"]))
    py = state["python"]
    random.setstate((py["version"], tuple(py["state"]), py["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([t.cpu() for t in state["cuda"]])
    if data_generator is not None and "data" in state:
        data_generator.set_state(state["data"].cpu())


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA), numpy and python's ``random``."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
