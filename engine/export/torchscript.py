"""TorchScript export (trace, falling back to script), checked by reloading it."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

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


class _LogitsOnly(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        return out[0] if isinstance(out, (tuple, list)) else out


def export_torchscript(model: nn.Module, input_shape: tuple[int, int, int], path: str | Path, *,
                       batch: int = 2, tolerance: float = TOLERANCE,
                       metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """Save a TorchScript module to ``path``; returns ``{verified, max_abs_diff, method}``.

    ``metadata`` is stored in the archive as ``nas_studio.json`` (read it with
    ``torch.jit.load(path, _extra_files={"nas_studio.json": ""})``).
    """
    import json

    from engine.export.inputs import METADATA_FILE

    extra = {METADATA_FILE: json.dumps(metadata, default=str)} if metadata else {}
    path = Path(path)
    model = model.cpu()
    x = sample_input(input_shape, batch)
    with eval_mode(model), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit is deprecated in favour of torch.export
        try:
            scripted = torch.jit.trace(_LogitsOnly(model).eval(), x, check_trace=False)
            method = "trace"
        except Exception as trace_exc:  # noqa: BLE001 - try scripting before giving up
            try:
                scripted = torch.jit.script(_LogitsOnly(model).eval())
                method = "script"
            except Exception as exc:  # noqa: BLE001
                raise ExportError(f"TorchScript export failed: {trace_exc}",
                                  offending_op(str(trace_exc)) or offending_op(str(exc))) \
                    from exc
        with atomic_file(path) as tmp:  # the previous file stays until this one is complete
            scripted.save(str(tmp), _extra_files=extra)
            reloaded = torch.jit.load(str(tmp), map_location="cpu")
            y = sample_input(input_shape, batch + 1, seed=1)  # another batch size than traced
            diff = float((reloaded(y) - logits_of(model(y))).abs().max())
    return {"verified": diff <= tolerance, "max_abs_diff": diff, "method": method,
            "path": str(path), "tolerance": tolerance}
