"""Export: ONNX (verified in onnxruntime), TorchScript, and reloadable bundles.

The names below load on first use; ``engine.export.formats`` (the format registry and
``can_export``) is importable without torch.
"""

from __future__ import annotations

from engine.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("export_bundle", "load_bundle"), "bundle"),
    **dict.fromkeys(("ExportError", "file_digest", "offending_op"), "common"),
    **dict.fromkeys(("DestinationError", "DestinationExists", "check_output"), "destination"),
    **dict.fromkeys(("export_onnx", "verify_onnx"), "onnx_export"),
    **dict.fromkeys(("FORMATS", "export_model", "export_run"), "runs"),
    "export_torchscript": "torchscript",
    **dict.fromkeys(("ExportFormat", "all_formats", "can_export", "default_export_path",
                     "format_names", "get_format"), "formats"),
    "ExportJob": "job",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
