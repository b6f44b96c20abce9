"""JSON for TEXT columns: strict JSON (non-finite floats become null), None stays NULL."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import PurePath
from typing import Any


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def _default(obj: Any) -> Any:
    if isinstance(obj, PurePath):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _clean(dataclasses.asdict(obj))
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if hasattr(obj, "tolist"):  # numpy / torch scalars and arrays
        return _clean(obj.tolist())
    raise TypeError(f"cannot store a {type(obj).__name__} as JSON: {obj!r:.80}")


def dumps(obj: Any) -> str | None:
    """JSON text for a column, or None (SQL NULL) for None."""
    if obj is None:
        return None
    return json.dumps(_clean(obj), default=_default, allow_nan=False, sort_keys=True)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)
