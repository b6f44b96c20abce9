"""What a finished job really achieved: a search that found no design has failed.

The engine's search returns normally when every candidate broke the constraints (the
store marks the experiment failed); the Jobs panel and the log say so, with the reason.
"""

from __future__ import annotations

import json
from typing import Any

from app.panels.plot_style import short_number


def search_failure(result: dict[str, Any], constraints: dict[str, float] | None = None
                   ) -> str | None:
    """Why a finished search has no result (None: it found a design, or is no search)."""
    if not isinstance(result.get("trials"), int) or result.get("best") is not None:
        return None
    counts = result.get("counts") or {}
    n = result["trials"]
    rejected = counts.get("rejected", 0)
    if rejected and rejected == n:
        limits = ", ".join(f"{k.replace('_', ' ')} {short_number(v)}"
                           for k, v in sorted((constraints or {}).items())) or "the constraints"
        return (f"no design in this space met {limits}: all {rejected:,} candidates were "
                "rejected before training; loosen the limit")
    detail = ", ".join(f"{c:,} {status}" for status, c in sorted(counts.items()))
    return f"no trial finished ({detail or 'no trials'})"


def job_failure(job: Any, result: dict[str, Any]) -> str | None:
    """``search_failure`` for a job's result, reading its constraints from its config, and
    the space's smallest member when no design of the space could meet them."""
    config = getattr(job, "config", None)
    constraints = getattr(config, "constraints", None)
    constraints = constraints if isinstance(constraints, dict) else None
    why = search_failure(result, constraints)
    if why and constraints and "rejected" in why and \
            (getattr(config, "evaluator", None) or {}).get("kind") != "tabular":
        try:
            floor = infeasible(config.space, constraints)
        except Exception:  # noqa: BLE001 - the reason above stands on its own
            floor = None
        if floor:
            why = f"{floor}; {why}"
    return why


_FLOORS: dict[str, Any] = {}


def infeasible(space_spec: dict[str, Any], constraints: dict[str, float]) -> str | None:
    """Why no member of the space can meet the params/MACs limits (the space's exact cost
    range, ``engine.cost.space_range``; computed once per space)."""
    if not constraints.get("max_params") and not constraints.get("max_macs"):
        return None
    from engine.arch.space import space_from_spec
    from engine.cost.space_range import space_cost

    key = json.dumps(space_spec, sort_keys=True)
    if key not in _FLOORS:
        _FLOORS[key] = space_cost(space_from_spec(space_spec))
    return _FLOORS[key].infeasible(max_params=constraints.get("max_params"),
                                   max_macs=constraints.get("max_macs"))
