"""ONNX export (legacy TorchScript exporter first, dynamo as fallback), checked in onnxruntime."""

from __future__ import annotations

import io
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from engine.export.atomic import atomic_file
from engine.export.common import (
    TOLERANCE,
    ExportError,
    eval_mode,
    logits_of,
    offending_op,
    sample_input,
)

DEFAULT_OPSET = 17
Exporter = Literal["auto", "legacy", "dynamo"]


def _export(model: nn.Module, x: torch.Tensor, path: Path, opset: int, dynamo: bool) -> None:
    kwargs: dict[str, Any] = {"input_names": ["input"], "output_names": ["logits"],
                              "opset_version": opset, "dynamo": dynamo}
    if dynamo:
        kwargs["dynamic_shapes"] = ({0: torch.export.Dim("batch", min=1, max=4096)},)
        kwargs["opset_version"] = max(opset, 18)
    else:
        kwargs["dynamic_axes"] = {"input": {0: "batch"}, "logits": {0: "batch"}}
    chatter = io.StringIO()
    with warnings.catch_warnings(), redirect_stdout(chatter), redirect_stderr(chatter):
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), **kwargs)


def verify_onnx(path: str | Path, model: nn.Module, x: torch.Tensor) -> float:
    """Max |onnxruntime - PyTorch| on ``x`` (the model is run in eval mode)."""
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    except Exception as exc:  # noqa: BLE001 - runtime errors name the node
        raise ExportError(f"onnxruntime cannot run {path}: {exc}",
                          offending_op(str(exc))) from exc
    with torch.no_grad(), eval_mode(model):
        want = logits_of(model(x)).numpy()
    if got.shape != want.shape:
        raise ExportError(f"{path}: onnxruntime output shape {got.shape} != PyTorch {want.shape}")
    return float(np.max(np.abs(got - want))) if want.size else 0.0


def export_onnx(model: nn.Module, input_shape: tuple[int, int, int], path: str | Path, *,
                opset: int = DEFAULT_OPSET, exporter: Exporter = "auto", batch: int = 2,
                tolerance: float = TOLERANCE,
                metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """Export ``model`` (eval mode, dynamic batch) to ``path`` and verify in onnxruntime.

    ``metadata`` (run, design hash, preprocessing, class names) goes into the model's
    ``metadata_props`` (onnxruntime: ``session.get_modelmeta().custom_metadata_map``).

    Returns ``{verified, max_abs_diff, opset, exporter, path}``.  Raises ``ExportError``
    naming the unsupported operator when the exporter refuses the model.
    """
    path = Path(path)
    model = model.cpu()
    x = sample_input(input_shape, batch)
    order = {"auto": (False, True), "legacy": (False,), "dynamo": (True,)}[exporter]
    errors: list[tuple[str, Exception]] = []
    used = None
    with atomic_file(path) as tmp:  # the previous file stays until this one is complete
        with eval_mode(model):
            for dynamo in order:
                try:
                    _export(model, x, tmp, opset, dynamo)
                    used = "dynamo" if dynamo else "legacy"
                    break
                except Exception as exc:  # noqa: BLE001 - collected and reported below
                    errors.append(("dynamo" if dynamo else "legacy", exc))
        if used is None:
            op = next((offending_op(str(e)) for _n, e in errors if offending_op(str(e))), None)
            first = str(errors[0][1]).strip().splitlines()[0] if str(errors[0][1]).strip() \
                else ""
            what = f"operator {op} is not supported" if op else first or \
                type(errors[0][1]).__name__
            tried = " and ".join(name for name, _e in errors)
            raise ExportError(f"ONNX export (opset {opset}, {tried} exporter) failed: {what}",
                              op)
        if metadata:
            from engine.export.inputs import add_onnx_metadata

            add_onnx_metadata(tmp, metadata)
        diff = verify_onnx(tmp, model, x)
    return {"verified": diff <= tolerance, "max_abs_diff": diff, "opset": opset,
            "exporter": used, "path": str(path), "tolerance": tolerance}
