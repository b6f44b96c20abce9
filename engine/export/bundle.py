"""Bundles: design JSON + safetensors weights + metadata JSON, in a folder or a zip file."""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.export.atomic import atomic_file, atomic_folder
from engine.export.common import ExportError

FORMAT = "nas-studio-bundle"
VERSION = 1
DESIGN, WEIGHTS, METADATA = "design.json", "weights.safetensors", "metadata.json"


def export_bundle(design: Any, model: nn.Module, path: str | Path,
                  metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write a bundle to ``path`` (a ``.zip`` file, else a folder); returns its metadata.

    Models whose layer shapes differ from a fresh build of ``design`` (pruned) record
    their structure so ``load_bundle`` resizes the rebuilt layers first.
    """
    from safetensors.torch import save

    from engine.arch.serialize import design_hash, to_json
    from engine.builders import build_model

    path = Path(path)
    state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    fresh = build_model(design).state_dict()
    structure = None
    if set(fresh) != set(state) or any(fresh[k].shape != v.shape for k, v in state.items()):
        from engine.compress.checkpoint import structure_of

        structure = structure_of(model)
    meta = {**(metadata or {}), "format": FORMAT, "version": VERSION,
            "design_hash": design_hash(design), "torch": torch.__version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "structure": structure}
    files = {DESIGN: to_json(design).encode(), WEIGHTS: save(state),
             METADATA: json.dumps(meta, indent=2, default=str).encode()}
    if path.suffix.lower() == ".zip":
        with atomic_file(path) as tmp, \
                zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in files.items():
                zf.writestr(name, data)
    else:
        with atomic_folder(path) as tmp:  # built aside, then swapped in
            for name, data in files.items():
                (tmp / name).write_bytes(data)
    return meta


def _read(path: Path) -> dict[str, bytes]:
    names = (DESIGN, WEIGHTS, METADATA)
    if path.is_dir():
        missing = [n for n in names if not (path / n).is_file()]
        if missing:
            raise ExportError(f"bundle {path} lacks {', '.join(missing)}")
        return {n: (path / n).read_bytes() for n in names}
    if not path.is_file():
        raise ExportError(f"bundle {path} does not exist")
    try:
        with zipfile.ZipFile(path) as zf:
            missing = [n for n in names if n not in zf.namelist()]
            if missing:
                raise ExportError(f"bundle {path} lacks {', '.join(missing)}")
            return {n: zf.read(n) for n in names}
    except zipfile.BadZipFile as exc:
        raise ExportError(f"bundle {path} is not a zip file or folder: {exc}") from exc


def load_bundle(path: str | Path) -> tuple[Any, nn.Module, dict[str, Any]]:
    """``(design, model, metadata)``: the model rebuilt from the design, weights loaded
    strictly from safetensors, in eval mode.  Nothing in the bundle is executed."""
    from safetensors.torch import load

    from engine.arch.serialize import design_hash, from_json
    from engine.builders import build_model

    path = Path(path)
    files = _read(path)
    try:
        meta = json.loads(files[METADATA])
    except ValueError as exc:
        raise ExportError(f"bundle {path}: {METADATA} is not JSON ({exc})") from exc
    if meta.get("format") != FORMAT:
        raise ExportError(f"bundle {path}: not a NAS Studio bundle (format {meta.get('format')!r})")
    if int(meta.get("version", 0)) > VERSION:
        raise ExportError(f"bundle {path}: version {meta['version']} is newer than this "
                          f"NAS Studio understands ({VERSION})")
    from engine.arch.validate import DesignError

    try:
        design = from_json(files[DESIGN].decode())
    except (DesignError, ValueError) as exc:
        raise ExportError(f"bundle {path}: {DESIGN} is not a valid design ({exc})") from exc
    recorded = meta.get("design_hash")
    if recorded is not None and recorded != design_hash(design):
        raise ExportError(f"bundle {path}: {DESIGN} was changed after the export (its design "
                          f"hash is {design_hash(design)[:12]}, the bundle recorded "
                          f"{str(recorded)[:12]}); the weights belong to the recorded design")
    try:
        state = load(files[WEIGHTS])
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
        raise ExportError(f"bundle {path}: {WEIGHTS} is unreadable ({exc})") from exc
    model = build_model(design)
    try:
        if meta.get("structure"):
            from engine.compress.checkpoint import apply_structure

            apply_structure(model, meta["structure"], state)
        else:
            model.load_state_dict(state, strict=True)
    except (RuntimeError, ValueError, TypeError) as exc:
        raise ExportError(f"bundle {path}: weights do not fit the design ({exc})") from exc
    return design, model.eval(), meta


def read_design_bytes(path: str | Path) -> bytes:
    """The design JSON stored in a bundle (for inspection without torch)."""
    return _read(Path(path))[DESIGN]


__all__ = ["export_bundle", "load_bundle", "read_design_bytes"]
