"""Export: ONNX (verified in onnxruntime), TorchScript, and reloadable bundles."""

from __future__ import annotations

from engine.export.bundle import export_bundle, load_bundle
from engine.export.common import ExportError, file_digest, offending_op
from engine.export.destination import (
    DestinationError,
    DestinationExists,
    check_output,
)
from engine.export.onnx_export import export_onnx, verify_onnx
from engine.export.runs import FORMATS, export_model, export_run, load_run_model
from engine.export.torchscript import export_torchscript

__all__ = ["FORMATS", "DestinationError", "DestinationExists", "ExportError", "check_output",
           "export_bundle", "export_model", "export_onnx", "export_run", "export_torchscript",
           "file_digest", "load_bundle", "load_run_model", "offending_op", "verify_onnx"]
