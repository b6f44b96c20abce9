"""The size of a search space and the range of its members' parameters and MACs.

``space_cost(space)`` gives the exact minimum and maximum of params and MACs over all
members whenever it can, without building any network (``engine.cost.analytic``):

* *per-choice bound* for the built-in spaces, whose cost is a sum of independent parts
  once the global choices are fixed: per edge (``nas-bench-201``), per cell node
  (``darts``: inputs and both ops), per stage (``mbconv``, for each width and depth
  multiplier).  The minimum is the base cost plus the smallest change of each part;
  tests/engine/test_space_range.py proves it equal to enumeration on spaces small
  enough to enumerate, and every result is checked by costing the member it names;
* *enumeration* of every member for other spaces up to ``exact_limit`` members;
* above that an *estimate* (random members plus a coordinate search from the extremes
  found), marked ``exact=False``.

``enumerate_members`` lists members with their text form (NAS-Bench-201 cell string,
DARTS genotype or block strings), params and MACs.  Pure Python: no torch.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.arch.model import BlockStack, CellDesign, Design
from engine.arch.space import Code, DartsSpace, MBConvSpace, NB201Space, SearchSpace
from engine.arch.validate import DesignError
from engine.cost.analytic import design_cost

__all__ = ["EXACT_LIMIT", "SpaceCost", "enumerate_members", "log10_size", "member_cost",
           "member_text", "space_cost"]

EXACT_LIMIT = 10 ** 6
METRICS = ("params", "macs")


@dataclass
class SpaceCost:
    """Size, choices and the params/MACs range of a space (``exact`` or an estimate)."""

    space: str
    size: int
    params: tuple[int, int]
    macs: tuple[int, int]
    exact: bool
    method: str
    choices: list[dict[str, Any]] = field(default_factory=list)
    extremes: dict[str, Code] = field(default_factory=dict)
    """The code of a member at each bound: ``params_min``, ``params_max``, ``macs_min``..."""
    evaluated: int = 0
    invalid: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"space": self.space, "size": self.size, "params": list(self.params),
                "macs": list(self.macs), "exact": self.exact, "method": self.method,
                "choices": self.choices,
                "extremes": {k: list(v) for k, v in self.extremes.items()},
                "evaluated": self.evaluated, "invalid": self.invalid}

    def infeasible(self, *, max_params: float | None = None,
                   max_macs: float | None = None) -> str | None:
        """Why no member can meet the limits (``None`` when some may): the smallest member
        of the space is over a limit."""
        for name, limit, (lo, _hi) in (("params", max_params, self.params),
                                       ("MACs", max_macs, self.macs)):
            if limit is not None and lo > limit:
                about = "" if self.exact else "about "
                return (f"no design under {_si(limit)} {name} in this space; the smallest has "
                        f"{about}{lo:,} ({_si(lo)})")
        return None


def _si(v: float) -> str:
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:g}"


def member_cost(design: Design) -> tuple[int, int]:
    """(params, MACs) of one member (analytic; ``DesignError`` when it cannot be built)."""
    cost = design_cost(design)
    return cost.params, cost.macs


def member_text(design: Design) -> dict[str, Any]:
    """The text form of a member: ``cellstr``, ``genotype`` or ``blocks`` (+ multipliers)."""
    if isinstance(design, BlockStack):
        from engine.arch.timm_blocks import format_block_strings

        return {"blocks": format_block_strings(design.stages, default_act=design.act),
                "width_mult": design.width_mult, "depth_mult": design.depth_mult,
                "resolution": design.resolution}
    if isinstance(design, CellDesign):
        try:
            if design.macro.style == "nb201":
                from engine.arch.nb201 import format_nb201

                return {"cellstr": format_nb201(design)}
            from engine.arch.genotype import format_genotype

            return {"genotype": format_genotype(design)}
        except DesignError:
            pass
    from engine.arch.serialize import design_to_dict

    return {"design": design_to_dict(design, positions=False)}


def _choices(space: SearchSpace) -> list[dict[str, Any]]:
    return [{"name": c.name, "options": [list(o) if isinstance(o, tuple) else o
                                         for o in c.options]} for c in space.choices()]


# -- additive decomposition of the built-in spaces ------------------------------------------

def _groups(space: SearchSpace) -> tuple[list[int], list[list[int]]] | None:
    """(global choice indices, independent groups of choice indices) when the space's cost
    is a sum over the groups for fixed global choices; ``None`` when not known."""
    n = len(space.sizes())
    if type(space) is NB201Space:
        # every node has the cell's shape whatever the ops ("none" outputs zeros of it)
        return [], [[i] for i in range(n)]
    if type(space) is DartsSpace:
        # a node's inputs and two ops; its output shape and the concat are fixed
        return [], [[i, i + 1, i + 2] for i in range(0, n, 3)]
    if type(space) is MBConvSpace:
        names = [c.name for c in space.choices()]
        glob = [names.index("width_mult"), names.index("depth_mult")]
        by_stage: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            if name.startswith("stages."):
                by_stage.setdefault(name.split(".")[1], []).append(i)
        # with width and depth fixed each stage's input shape is fixed (channels and strides
        # are not choices), so its kernel/expansion/SE/repeats change only its own cost
        return glob, list(by_stage.values())
    return None


def _bound(space: SearchSpace, cost_of: Callable[[Code], tuple[int, int]],
           glob: list[int], groups: list[list[int]]) -> SpaceCost:
    sizes = space.sizes()
    best: dict[str, tuple[int, Code]] = {}
    evaluated = 0
    for g in itertools.product(*(range(sizes[i]) for i in glob)):
        base = [0] * len(sizes)
        for i, v in zip(glob, g, strict=True):
            base[i] = v
        base_cost = cost_of(tuple(base))
        evaluated += 1
        totals = {f"{m}_{side}": [base_cost[k], list(base)] for k, m in enumerate(METRICS)
                  for side in ("min", "max")}
        for grp in groups:
            deltas: dict[str, tuple[int, tuple[int, ...]]] = {}
            for opt in itertools.product(*(range(sizes[i]) for i in grp)):
                code = list(base)
                for i, v in zip(grp, opt, strict=True):
                    code[i] = v
                c = base_cost if all(base[i] == v for i, v in zip(grp, opt, strict=True)) \
                    else cost_of(tuple(code))
                evaluated += 1
                for k, m in enumerate(METRICS):
                    d = c[k] - base_cost[k]
                    for side, better in (("min", d.__lt__), ("max", d.__gt__)):
                        key = f"{m}_{side}"
                        if key not in deltas or better(deltas[key][0]):
                            deltas[key] = (d, opt)
            for key, (d, opt) in deltas.items():
                totals[key][0] += d
                for i, v in zip(grp, opt, strict=True):
                    totals[key][1][i] = v
        for key, (value, code) in totals.items():
            side = key.endswith("min")
            if key not in best or (value < best[key][0] if side else value > best[key][0]):
                best[key] = (value, tuple(code))
    # the check that the decomposition held: each bound is the cost of the member it names
    for key, (value, code) in best.items():
        k = METRICS.index(key.split("_")[0])
        if cost_of(code)[k] != value:
            raise ArithmeticError(f"{space.name}: the per-choice bound {key} is not additive")
    return SpaceCost(space.name, space.size(),
                     (best["params_min"][0], best["params_max"][0]),
                     (best["macs_min"][0], best["macs_max"][0]), True, "per-choice bound",
                     _choices(space), {k: v[1] for k, v in best.items()}, evaluated)


# -- enumeration and estimates ----------------------------------------------------------------

class _Tracker:
    def __init__(self) -> None:
        self.best: dict[str, tuple[int, Code]] = {}
        self.evaluated = self.invalid = 0

    def add(self, code: Code, cost: tuple[int, int] | None) -> None:
        self.evaluated += 1
        if cost is None:
            self.invalid += 1
            return
        for k, m in enumerate(METRICS):
            for side in ("min", "max"):
                key = f"{m}_{side}"
                old = self.best.get(key)
                if old is None or (cost[k] < old[0] if side == "min" else cost[k] > old[0]):
                    self.best[key] = (cost[k], code)

    def result(self, space: SearchSpace, exact: bool, method: str) -> SpaceCost:
        if not self.best:
            raise DesignError(f"space {space.name!r}: none of the {self.evaluated} members "
                              "evaluated can be built", "space")
        b = self.best
        return SpaceCost(space.name, space.size(), (b["params_min"][0], b["params_max"][0]),
                         (b["macs_min"][0], b["macs_max"][0]), exact, method, _choices(space),
                         {k: v[1] for k, v in b.items()}, self.evaluated, self.invalid)


def _safe_cost(space: SearchSpace, code: Code) -> tuple[int, int] | None:
    try:
        return member_cost(space.decode(code))
    except (DesignError, ValueError, LookupError):
        return None


def _estimate(space: SearchSpace, samples: int, seed: int) -> SpaceCost:
    rng = random.Random(seed)
    track = _Tracker()
    for _ in range(samples):
        code = space.sample_code(rng)
        track.add(code, _safe_cost(space, code))
    sizes = space.sizes()
    for key in list(track.best):  # coordinate search from each extreme found
        k, side = METRICS.index(key.split("_")[0]), key.split("_")[1]
        value, code = track.best[key]
        improved = True
        while improved:
            improved = False
            for i, n in enumerate(sizes):
                for v in range(n):
                    if v == code[i]:
                        continue
                    cand = (*code[:i], v, *code[i + 1:])
                    c = _safe_cost(space, cand)
                    track.add(cand, c)
                    if c is not None and (c[k] < value if side == "min" else c[k] > value):
                        value, code, improved = c[k], cand, True
    return track.result(space, False, f"estimate ({track.evaluated:,} of {space.size():,} "
                                      "members costed)")


def space_cost(space: SearchSpace, *, exact_limit: int = EXACT_LIMIT, samples: int = 2000,
               seed: int = 0, method: str = "auto") -> SpaceCost:
    """Size and params/MACs range of ``space`` (see the module docstring for how).

    ``method``: ``"auto"`` (bound, else enumeration up to ``exact_limit`` members, else an
    estimate), or force ``"bound"``, ``"enumerate"`` or ``"estimate"``.
    """
    if method not in ("auto", "bound", "enumerate", "estimate"):
        raise ValueError(f"unknown method {method!r}")
    cost_of = _cached(space)
    decomposition = _groups(space) if method in ("auto", "bound") else None
    if decomposition is not None:
        try:
            return _bound(space, cost_of, *decomposition)
        except (DesignError, ValueError, LookupError, ArithmeticError):
            if method == "bound":
                raise
    elif method == "bound":
        raise ValueError(f"space {space.name!r} has no known per-choice decomposition")
    if method == "enumerate" or (method == "auto" and space.size() <= exact_limit):
        track = _Tracker()
        for code in itertools.product(*(range(n) for n in space.sizes())):
            track.add(code, _safe_cost(space, code))
        return track.result(space, True, "enumerated")
    return _estimate(space, samples, seed)


def _cached(space: SearchSpace) -> Callable[[Code], tuple[int, int]]:
    memo: dict[Code, tuple[int, int]] = {}

    def cost_of(code: Code) -> tuple[int, int]:
        if code not in memo:
            memo[code] = member_cost(space.decode(code))
        return memo[code]

    return cost_of


def enumerate_members(space: SearchSpace, limit: int | None = None
                      ) -> Iterator[dict[str, Any]]:
    """Every member (the first ``limit``) in code order: ``code``, its text form, ``params``,
    ``macs`` (``error`` instead for a member that cannot be built)."""
    codes: Sequence[Code] | Iterator[Code] = itertools.product(
        *(range(n) for n in space.sizes()))
    if limit is not None:
        codes = itertools.islice(codes, max(0, int(limit)))
    text = _nb201_text if type(space) is NB201Space else None
    for code in codes:
        design = space.decode(code)
        row: dict[str, Any] = {"code": list(code)}
        row.update(text(space, code) if text else member_text(design))
        try:
            row["params"], row["macs"] = member_cost(design)
        except DesignError as exc:
            row["error"] = str(exc)
        yield row


def _nb201_text(space: SearchSpace, code: Code) -> dict[str, Any]:
    return {"cellstr": space.cellstr(code)}  # type: ignore[attr-defined]


def log10_size(space: SearchSpace) -> float:
    """``log10`` of the number of members (for display of very large spaces)."""
    return sum(math.log10(n) for n in space.sizes())
