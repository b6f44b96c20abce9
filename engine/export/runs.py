"""Export a stored run: rebuild its model from the store and checkpoint, export, record."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from engine.export.common import ExportError, file_digest
from engine.export.destination import check_output

Format = Literal["onnx", "torchscript", "bundle"]
FORMATS = ("onnx", "torchscript", "bundle")


def load_run_model(store: Any, run_id: int) -> tuple[Any, nn.Module, dict[str, Any]]:
    """``(design, model, run row)`` with the run's best weights, in eval mode.

    Raises ``StoreError`` (unknown run), ``CheckpointError`` (bad checkpoint) or
    ``ExportError`` (no checkpoint, weights that do not fit the design).
    """
    from engine.builders import build_model
    from engine.train.checkpoint import load_checkpoint

    run = store.get_run(run_id)
    if (run.get("recipe") or {}).get("format") == "onnx-int8":
        raise ExportError(f"run {run_id} is already an int8 ONNX model "
                          f"({run.get('checkpoint')}); use that file, or export its parent "
                          f"run {run.get('parent_id')}")
    if not run.get("checkpoint"):
        raise ExportError(f"run {run_id} has no checkpoint (status {run['status']})")
    design = store.get_design(run["design_hash"])
    model = build_model(design)
    path = Path(run["checkpoint"])
    if run.get("kind") == "compress" or path.suffix == ".safetensors":  # pruned weights
        from engine.compress.checkpoint import load_pruned

        try:
            load_pruned(model, path)
        except (OSError, ValueError, RuntimeError) as exc:
            raise ExportError(f"run {run_id}: cannot load {path}: {exc}") from exc
        return design, model.eval(), run
    state = load_checkpoint(path)
    best = state.get("best") or {}
    weights = best.get("model") or state.get("model")
    if weights is None:
        raise ExportError(f"checkpoint {path} holds no model weights")
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        raise ExportError(f"checkpoint {path} does not fit run {run_id}'s design: "
                          f"{str(exc).splitlines()[0]}") from exc
    return design, model.eval(), run


def export_model(design: Any, model: nn.Module, fmt: Format, path: str | Path,
                 metadata: dict[str, Any] | None = None, *, store: Any = None,
                 force: bool = False, **options: Any) -> dict[str, Any]:
    """Export ``model`` in ``fmt`` to ``path``; returns details incl. sha256 and bytes.

    ``path`` is checked first (``check_output``): never the store or a checkpoint, and an
    existing output is replaced only with ``force``.
    """
    from engine.builders import input_shape_of

    shape = input_shape_of(design)
    path = check_output(path, fmt, store=store, force=force)
    if fmt == "onnx":
        from engine.export.onnx_export import export_onnx

        details = export_onnx(model, shape, path, **options)
    elif fmt == "torchscript":
        from engine.export.torchscript import export_torchscript

        details = export_torchscript(model, shape, path, **options)
    elif fmt == "bundle":
        from engine.export.bundle import export_bundle, load_bundle

        export_bundle(design, model, path, metadata)
        _d, again, _m = load_bundle(path)
        x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            was = model.training
            model.eval()
            diff = float((again(x) - model(x)).abs().max())
            model.train(was)
        details = {"verified": diff == 0.0, "max_abs_diff": diff, "path": str(path)}
    else:
        raise ExportError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    sha256, size = file_digest(path)
    details.update(sha256=sha256, bytes=size, format=fmt, input_shape=list(shape))
    return details


def export_run(store: Any, run_id: int, fmt: Format, path: str | Path,
               loaded: tuple[Any, nn.Module, dict[str, Any]] | None = None, *,
               force: bool = False, **options: Any) -> dict[str, Any]:
    """Export run ``run_id`` and record the artifact (sha256, bytes, verified) in the store.

    ``loaded`` is ``load_run_model(store, run_id)`` when the caller already has it;
    ``force`` replaces an existing output (the store and checkpoints never).
    """
    design, model, run = loaded if loaded is not None else load_run_model(store, run_id)
    metadata = {"run_id": run_id, "params": run.get("params"), "macs": run.get("macs"),
                "test_accuracy": run.get("test_accuracy"),
                "best_val_accuracy": run.get("best_val_accuracy"),
                "dataset": (run.get("config") or {}).get("dataset")}
    details = export_model(design, model, fmt, path, metadata=metadata, store=store,
                           force=force, **options)
    details["artifact_id"] = store.add_artifact(
        run_id, fmt, str(Path(path).resolve()), sha256=details["sha256"],
        bytes=details["bytes"], verified=details["verified"],
        details={k: v for k, v in details.items() if k not in ("sha256", "bytes")})
    details["run_id"] = run_id
    return details
