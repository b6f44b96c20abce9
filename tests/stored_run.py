"""Test helpers: a finished run with a checkpoint in a store without training, and a
folder made read-only."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def tiny_cell_design(name: str = "tiny-cell") -> Any:
    from engine.arch.presets import get_preset

    design = get_preset("darts-v2")
    design.name = name
    design.set_macro(channels=4, layers=3, input_shape=(1, 8, 8), classes=10)
    return design


def add_stored_run(store: Any, design: Any = None, seed: int = 0,
                   config: dict | None = None) -> tuple[int, Path]:
    """``(run_id, checkpoint path)`` of a finished run holding random weights."""
    import torch

    from engine.builders import build_model
    from engine.train.checkpoint import run_checkpoint_dir, save_checkpoint

    design = design or tiny_cell_design()
    torch.manual_seed(seed)
    model = build_model(design)
    key = store.add_design(design)
    config = config or {"dataset": {"name": "digits", "seed": 0, "image_size": None}}
    exp = store.create_experiment("train", config, environment={"python": "test"})
    run_id = store.create_run(exp, key, config=config)
    ckpt = run_checkpoint_dir(run_id, store.path) / "last.pt"
    save_checkpoint({"model": model.state_dict()}, ckpt)
    store.update_run(run_id, status="finished", checkpoint=str(ckpt), test_accuracy=0.5,
                     best_val_accuracy=0.5, epochs_done=1)
    store.finish_experiment(exp)
    return run_id, ckpt


@contextlib.contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    """``folder`` made read-only for this process: a read-only bind mount (root), or
    permissions (other users)."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [folder, *folder.iterdir()]}
        for p in modes:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield folder
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    ok = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True)
    if ok.returncode != 0:
        pytest.skip(f"cannot make a read-only folder here: {ok.stderr.decode().strip()}")
    try:
        if subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)],
                          capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only here")
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)
