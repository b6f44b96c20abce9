"""The strategy registry: every search strategy's name, one-line description and fit.

This is the one list of strategy names: the CLI's ``--strategy`` choices, the studio's
search dialog and ``make_strategy`` read it.  Adding a strategy is one ``register`` call
here, its module, and tests.  Strategy modules are imported only when one is made, so
reading the list costs nothing (no torch, no optuna).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.arch.space import SearchSpace
    from engine.search.base import Strategy


class StrategyError(ValueError):
    """A strategy that does not exist or does not fit the search; the message says what fits."""


@dataclass(frozen=True)
class StrategyInfo:
    """One strategy.  ``target`` is ``"module:Class"``; ``objectives`` is ``"single"``,
    ``"multi"`` (needs two or more) or ``"any"``; ``multi_objective`` strategies are told
    one value per objective (all to maximise) instead of a scalarized value; ``spaces``
    names the built-in spaces it fits (empty: any space); ``trains`` strategies train a
    supernet themselves and so need a dataset, not a benchmark table."""

    name: str
    description: str
    target: str
    objectives: str = "any"
    multi_objective: bool = False
    spaces: tuple[str, ...] = ()
    trains: bool = False

    def load(self) -> type[Strategy]:
        module, _, cls = self.target.partition(":")
        return getattr(importlib.import_module(module), cls)

    def fits_objectives(self, n: int) -> bool:
        return {"single": n == 1, "multi": n >= 2}.get(self.objectives, n >= 1)

    def fits_space(self, space: SearchSpace) -> bool:
        if not self.spaces:
            return True
        from engine.arch.space import BUILTIN_SPACES

        return any(space.name == s and isinstance(space, BUILTIN_SPACES[s])
                   for s in self.spaces)


STRATEGIES: dict[str, StrategyInfo] = {}


def register(info: StrategyInfo) -> StrategyInfo:
    if info.name in STRATEGIES:
        raise ValueError(f"strategy {info.name!r} is already registered")
    if info.objectives not in ("single", "multi", "any"):
        raise ValueError(f"strategy {info.name!r}: objectives must be single, multi or any")
    STRATEGIES[info.name] = info
    return info


register(StrategyInfo(
    "random", "uniform random samples without repeats (the baseline)",
    "engine.search.random_search:RandomSearch"))
register(StrategyInfo(
    "evolution", "regularized evolution; with several objectives NSGA-II rank and crowding",
    "engine.search.evolution:RegularizedEvolution", multi_objective=True))
register(StrategyInfo(
    "reinforce", "an LSTM controller trained by policy gradient (NASNet/ENAS style)",
    "engine.search.reinforce:Reinforce"))
register(StrategyInfo(
    "tpe", "Optuna's tree-structured Parzen estimator (multi-objective: MOTPE)",
    "engine.search.optuna_samplers:TPE", multi_objective=True))
register(StrategyInfo(
    "gp", "Optuna's Gaussian-process Bayesian optimisation (slow past a few hundred trials)",
    "engine.search.optuna_samplers:GP", multi_objective=True))
register(StrategyInfo(
    "nsga2", "Optuna's NSGA-II genetic algorithm, for two or more objectives",
    "engine.search.optuna_samplers:NSGA2", objectives="multi", multi_objective=True))
register(StrategyInfo(
    "nsga3", "Optuna's NSGA-III (reference directions), for three or more objectives too",
    "engine.search.optuna_samplers:NSGA3", objectives="multi", multi_objective=True))
register(StrategyInfo(
    "predictor", "predictor-guided evolution: a GP on the codes picks the next mutation",
    "engine.search.predictor:PredictorEvolution", multi_objective=True))
register(StrategyInfo(
    "darts", "DARTS one-shot: trains a supernet once and derives one cell (darts space)",
    "engine.search.darts_oneshot:DartsOneShot", spaces=("darts",),
    trains=True))


def strategy_names() -> tuple[str, ...]:
    """Every registered strategy, in registration order."""
    return tuple(STRATEGIES)


def describe_strategies() -> dict[str, str]:
    """``{name: one-line description}`` for menus and help texts."""
    return {name: info.description for name, info in STRATEGIES.items()}


def get_strategy(name: str) -> StrategyInfo:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise StrategyError(f"unknown strategy {name!r}; known: "
                            f"{', '.join(STRATEGIES)}") from None


def default_strategy(objectives: int = 1) -> str:
    """The strategy a search uses when none is named: the best measured one, with one
    objective and with several (bench/bench_strategies.py)."""
    return "predictor"


def _fitting(pred: Any) -> str:
    names = [n for n, info in STRATEGIES.items() if pred(info)]
    return ", ".join(names) if names else "none"


def check_strategy(name: str, space: SearchSpace | None = None, objectives: int = 1,
                   tabular: bool = False) -> StrategyInfo:
    """The strategy's entry if it fits the search; ``StrategyError`` naming the strategy
    and the ones that fit otherwise."""
    info = get_strategy(name)
    if not info.fits_objectives(objectives):
        if info.objectives == "multi":
            need = f"needs two or more objectives, got {objectives}"
        else:
            need = f"optimises one objective, got {objectives}"
        raise StrategyError(f"strategy {name!r} {need}; for {objectives} objective"
                            f"{'s' if objectives != 1 else ''} use one of: "
                            f"{_fitting(lambda i: i.fits_objectives(objectives))}")
    if tabular and info.trains:
        raise StrategyError(
            f"strategy {name!r} trains a supernet: it needs a dataset, not a benchmark table; "
            f"with a table use one of: "
            f"{_fitting(lambda i: not i.trains and i.fits_objectives(objectives))}")
    if space is not None and not info.fits_space(space):
        raise StrategyError(
            f"strategy {name!r} searches the {' or '.join(info.spaces)} space only, not "
            f"{space.name}; for {space.name} use one of: "
            f"{_fitting(lambda i: i.fits_space(space) and i.fits_objectives(objectives))}")
    return info


def make_strategy(name: str, space: SearchSpace, *, seed: int = 0, budget: int | None = None,
                  objectives: int = 1, **options: Any) -> Strategy:
    """A strategy by name.  ``objectives`` (the number of objectives) is passed to
    multi-objective strategies; DARTS one-shot needs ``evaluator`` or ``splits``."""
    info = get_strategy(name)
    cls = info.load()
    if info.multi_objective:
        options["objectives"] = objectives
    return cls(space, seed=seed, budget=budget, **options)
