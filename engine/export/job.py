"""``ExportJob``: export a stored run as a job (the studio runs it in the background)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from engine.export.formats import get_format
from engine.jobs import CancelToken, EventSink, Job


class ExportJob(Job):
    """Export a stored run to ONNX / TorchScript / a bundle, verify, record the artifact."""

    kind = "export"

    def __init__(self, store: Any, run_id: int, fmt: str, path: str | Path, *,
                 force: bool = False) -> None:
        super().__init__()
        get_format(fmt)  # ValueError naming the known formats
        self.store, self.run_id, self.fmt, self.path = store, int(run_id), fmt, Path(path)
        self.force = force  # replace an existing output (the user said so)

    def describe(self) -> str:
        return f"export run {self.run_id} as {self.fmt} to {self.path.name}"

    def total(self) -> int:
        return 1

    def execute(self, emit: EventSink, token: CancelToken) -> dict[str, Any]:
        from engine.export.runs import export_run

        token.check()
        result = dict(export_run(self.store, self.run_id, self.fmt, self.path,
                                 force=self.force))
        return {k: v for k, v in result.items() if not (isinstance(v, float) and math.isnan(v))}
