"""The registry of export formats: name, title, file suffix (the CLI's ``--format``
choices and the export dialog read it), and ``can_export``: may a run be exported.

Pure Python (no torch): the GUI asks it before offering a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.compress.runs import Verdict, loadable


@dataclass(frozen=True)
class ExportFormat:
    name: str
    title: str          # what the dialog shows
    suffix: str         # default file suffix ("" for a folder)
    description: str = ""


_FORMATS: dict[str, ExportFormat] = {}


def register_format(name: str, title: str, suffix: str, description: str = "") -> ExportFormat:
    if name in _FORMATS:
        raise ValueError(f"export format {name!r} registered twice")
    fmt = _FORMATS[name] = ExportFormat(name, title, suffix, description)
    return fmt


def get_format(name: str) -> ExportFormat:
    try:
        return _FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown export format {name!r}; use one of "
                         f"{', '.join(_FORMATS)}") from None


def format_names() -> tuple[str, ...]:
    return tuple(_FORMATS)


def all_formats() -> list[ExportFormat]:
    return list(_FORMATS.values())


def can_export(run: Any, fmt: str) -> Verdict:
    """A known format and a run with PyTorch weights to export (an int8 ONNX run's
    model is its ONNX file already)."""
    if fmt not in _FORMATS:
        return Verdict(False, f"unknown export format {fmt!r}; use one of "
                       f"{', '.join(_FORMATS)}")
    return loadable(run)


def default_export_path(run_id: int, fmt: str) -> Path:
    """``<data dir>/exports/run-<id><suffix>``."""
    from engine.paths import data_dir

    return data_dir() / "exports" / f"run-{run_id}{get_format(fmt).suffix}"


register_format("onnx", "ONNX (verified with onnxruntime)", ".onnx",
                "ONNX graph, checked against PyTorch in onnxruntime")
register_format("torchscript", "TorchScript", ".pt", "TorchScript module, checked by reloading")
register_format("bundle", "Bundle (design JSON + weights + metadata)", ".nasbundle",
                "folder (or .zip): design JSON, safetensors weights and metadata")
