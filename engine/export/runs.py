"""Export a stored run: rebuild its model from the store and checkpoint, export, record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.compress.runs import LoadedRun, RunLoadError, load_run
from engine.export.common import ExportError, file_digest
from engine.export.destination import check_output
from engine.export.formats import format_names

Format = str   # a name in engine.export.formats
FORMATS = format_names()


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

        details = export_onnx(model, shape, path, metadata=metadata, **options)
    elif fmt == "torchscript":
        from engine.export.torchscript import export_torchscript

        details = export_torchscript(model, shape, path, metadata=metadata, **options)
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
               loaded: LoadedRun | None = None, *,
               force: bool = False, **options: Any) -> dict[str, Any]:
    """Export run ``run_id`` and record the artifact (sha256, bytes, verified) in the store.

    ``loaded`` is ``engine.compress.runs.load_run(store, run_id)`` when the caller already
    has it; ``force`` replaces an existing output (the store and checkpoints never).
    Raises ``ExportError`` for a run without loadable weights.
    """
    from engine.arch.serialize import design_hash
    from engine.builders import input_shape_of
    from engine.export.inputs import run_inputs

    if loaded is None:
        try:
            loaded = load_run(store, run_id)
        except RunLoadError as exc:
            raise ExportError(str(exc)) from exc
    design, model, run = loaded
    metadata = {"run_id": run_id, "design_hash": design_hash(design),
                "params": run.params, "macs": run.macs,
                "test_accuracy": run.test_accuracy,
                "best_val_accuracy": run.best_val_accuracy,
                "dataset": run.config.get("dataset"),
                "input_shape": list(input_shape_of(design)), **run_inputs(store, run)}
    details = export_model(design, model, fmt, path, metadata=metadata, store=store,
                           force=force, **options)
    details["artifact_id"] = store.add_artifact(
        run_id, fmt, str(Path(path).resolve()), sha256=details["sha256"],
        bytes=details["bytes"], verified=details["verified"],
        details={k: v for k, v in details.items() if k not in ("sha256", "bytes")})
    details["run_id"] = run_id
    return details
