"""What a finished job really achieved: a search that found no design has failed.

The engine's search returns normally when every candidate broke the constraints (the
store marks the experiment failed); the Jobs panel and the log say so, with the reason.
"""

from __future__ import annotations

from typing import Any


def _amount(v: float) -> str:
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:g}"


def search_failure(result: dict[str, Any], constraints: dict[str, float] | None = None
                   ) -> str | None:
    """Why a finished search has no result (None: it found a design, or is no search)."""
    if not isinstance(result.get("trials"), int) or result.get("best") is not None:
        return None
    counts = result.get("counts") or {}
    n = result["trials"]
    rejected = counts.get("rejected", 0)
    if rejected and rejected == n:
        limits = ", ".join(f"{k.replace('_', ' ')} {_amount(v)}"
                           for k, v in sorted((constraints or {}).items())) or "the constraints"
        return (f"no design in this space met {limits}: all {rejected:,} candidates were "
                "rejected before training; loosen the limit")
    detail = ", ".join(f"{c:,} {status}" for status, c in sorted(counts.items()))
    return f"no trial finished ({detail or 'no trials'})"


def job_failure(job: Any, result: dict[str, Any]) -> str | None:
    """``search_failure`` for a job's result, reading its constraints from its config."""
    constraints = getattr(getattr(job, "config", None), "constraints", None)
    return search_failure(result, constraints if isinstance(constraints, dict) else None)
