"""Hard constraints on costs, checked from the cost model before any training.

A candidate that violates one is recorded with status "rejected" and never trained.
Params and MACs come from the analytic cost model (``engine.cost.analytic``, pure Python,
no network built), so a rejected candidate costs microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.arch.space import SearchSpace

LIMITS = {"max_params": "params", "max_macs": "macs", "max_latency_ms": "latency_ms"}


@dataclass(frozen=True)
class Constraints:
    max_params: float | None = None
    max_macs: float | None = None
    max_latency_ms: float | None = None

    def __post_init__(self) -> None:
        for name in LIMITS:
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name.replace('_', '-')} must be positive (got {value})")

    @classmethod
    def from_dict(cls, obj: dict[str, Any] | None) -> Constraints:
        obj = obj or {}
        unknown = set(obj) - set(LIMITS)
        if unknown:
            raise ValueError(f"unknown constraints {sorted(unknown)}; known: {list(LIMITS)}")
        return cls(**obj)

    def to_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in LIMITS if getattr(self, k) is not None}

    def needed(self) -> tuple[str, ...]:
        """The cost metrics the active constraints need."""
        return tuple(metric for name, metric in LIMITS.items() if getattr(self, name) is not None)

    def violations(self, costs: dict[str, float]) -> list[str]:
        """Readable violations, e.g. ``params 1,234,567 > max 1,000,000``."""
        out = []
        for name, metric in LIMITS.items():
            limit = getattr(self, name)
            if limit is None:
                continue
            value = costs.get(metric)
            if value is None:
                out.append(f"{metric} unknown (needed for {name})")
            elif value > limit:
                out.append(f"{metric} {value:,.6g} > max {limit:,.6g}")
        return out

    def infeasible(self, space: SearchSpace) -> str | None:
        """Why no member of ``space`` can meet the params/MACs limits, or ``None``.

        Uses the space's exact cost range (``engine.cost.space_range``), in the analytic
        model's units: for evaluators whose costs come from ``design_costs`` (not a
        benchmark table's own columns).
        """
        if self.max_params is None and self.max_macs is None:
            return None
        from engine.cost.space_range import space_cost

        return space_cost(space).infeasible(max_params=self.max_params, max_macs=self.max_macs)
