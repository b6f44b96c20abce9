"""Successive halving and Hyperband across training budgets (epochs).

A *bracket* evaluates ``n`` candidates at the smallest budget, keeps the best
``1/eta`` of them, evaluates those at ``eta`` times the budget, and so on up to the
largest budget (Jamieson & Talwalkar 2016).  Hyperband (Li et al. 2018) cycles through
brackets that trade the number of candidates against their starting budget.

Each trial keeps its per-rung objective values in ``metrics["rungs"]`` so a resumed
search replays a half-finished bracket exactly: stored values are reused, the rest
are evaluated again with the same seeds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from engine.search.evaluators import TrialOutcome

KINDS = ("none", "halving", "hyperband")


@dataclass(frozen=True)
class Schedule:
    kind: str = "none"
    min_budget: float = 1.0
    max_budget: float = 4.0
    eta: int = 2

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"schedule must be one of {', '.join(KINDS)} (got {self.kind!r})")
        if self.kind != "none":
            if self.eta < 2:
                raise ValueError(f"eta must be >= 2 (got {self.eta})")
            if not 0 < self.min_budget <= self.max_budget:
                raise ValueError("need 0 < min budget <= max budget "
                                 f"(got {self.min_budget}, {self.max_budget})")

    @classmethod
    def from_dict(cls, obj: dict[str, Any] | None) -> Schedule:
        return cls(**(obj or {}))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def s_max(self) -> int:
        return int(math.floor(math.log(self.max_budget / self.min_budget, self.eta) + 1e-9))

    def brackets(self) -> list[tuple[int, list[float]]]:
        """(candidates, rung budgets) per bracket, in the order they are run."""
        if self.kind == "none":
            return []
        s_max, eta, top = self.s_max, self.eta, self.max_budget
        if self.kind == "halving":
            rungs = [min(top, self.min_budget * eta**i) for i in range(s_max + 1)]
            return [(eta**s_max, rungs)]
        out = []
        for s in range(s_max, -1, -1):
            n = int(math.ceil((s_max + 1) / (s + 1) * eta**s))
            r0 = top * eta ** (-s)
            out.append((n, [min(top, r0 * eta**i) for i in range(s + 1)]))
        return out


def _value(outcome: TrialOutcome, objective: str) -> float:
    v = outcome.metrics.get(objective) if outcome.status == "finished" else None
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else float("-inf")


def run_bracket(trials: list[int], rungs: list[float], eta: int, objective: str,
                evaluate: Callable[[int, float], Any], known: dict[int, dict[str, float]],
                on_rung: Callable[[int, TrialOutcome, dict[str, float]], None] | None = None
                ) -> dict[int, TrialOutcome | None]:
    """Successive halving over ``trials``.

    ``evaluate(trial, budget)`` returns a future (or an outcome); ``known[trial]`` holds
    stored per-rung values (``{str(budget): value}``) that are reused instead of
    evaluating; ``on_rung(trial, outcome, history)`` is called after each evaluation (the
    search records it).  Returns each trial's final outcome (``None`` where the final
    rung's value came from ``known``: the caller rebuilds it from its stored record).
    """
    alive = list(trials)
    final: dict[int, TrialOutcome | None] = {}
    history: dict[int, dict[str, float]] = {t: {} for t in trials}
    last: dict[int, TrialOutcome | None] = {}
    for level, budget in enumerate(rungs):
        key = f"{budget:g}"
        pending = {}
        for t in alive:
            if key in known.get(t, {}):
                history[t][key] = known[t][key]
                last[t] = None
            else:
                pending[t] = evaluate(t, budget)
        for t, fut in pending.items():
            outcome = fut if isinstance(fut, TrialOutcome) else fut.result()
            value = _value(outcome, objective)
            history[t][key] = value if math.isfinite(value) else None
            outcome.metrics["budget"] = float(budget)
            last[t] = outcome
            if on_rung is not None:
                on_rung(t, outcome, dict(history[t]))
        if level == len(rungs) - 1:
            break
        ranked = sorted(alive, key=lambda t: (-(history[t][key] if history[t][key] is not None
                                                else float("-inf")), t))
        keep = max(1, len(ranked) // eta)
        for t in ranked[keep:]:
            final[t] = last[t]
        alive = ranked[:keep]
    for t in alive:
        final[t] = last[t]
    for t, outcome in final.items():
        if outcome is not None:
            outcome.metrics["rungs"] = history[t]
    return final
