"""The strategy registry: one list of names, what fits where, and the readers of the list."""

import argparse

import pytest

from engine.arch.space import DartsSpace, MBConvSpace, NB201Space
from engine.search import strategies
from engine.search.strategies import (
    StrategyError,
    StrategyInfo,
    check_strategy,
    default_strategy,
    make_strategy,
    strategy_names,
)


def test_every_registered_strategy_is_made_by_name_with_a_description():
    for name in strategy_names():
        info = strategies.get_strategy(name)
        assert info.description and len(info.description) < 90
        if info.trains:
            continue
        space = DartsSpace() if info.spaces == ("darts",) else NB201Space()
        objectives = 2 if info.objectives == "multi" else 1
        strategy = make_strategy(name, space, seed=1, budget=10, objectives=objectives)
        assert strategy.name == name
        assert strategy.ask() is not None
    assert default_strategy(1) in strategy_names() and default_strategy(2) in strategy_names()


def test_the_cli_and_the_dialog_read_the_registry():
    from engine.cli.search import add_parser

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    action = next(a for sub in parser._subparsers._group_actions
                  for a in sub.choices["search"]._actions if a.dest == "strategy")
    assert tuple(action.choices) == strategy_names()
    from app.jobs import factory

    assert factory.STRATEGIES == strategy_names()
    assert set(factory.STRATEGY_HELP) == set(strategy_names())


def test_what_does_not_fit_names_the_strategy_and_what_fits(monkeypatch):
    with pytest.raises(StrategyError, match="unknown strategy 'annealing'; known: random, "):
        check_strategy("annealing")
    with pytest.raises(StrategyError, match="'darts' searches the darts space only, not mbconv;"
                       " for mbconv use one of: random, evolution"):
        check_strategy("darts", MBConvSpace())
    with pytest.raises(StrategyError, match="'darts' trains a supernet: it needs a dataset"):
        check_strategy("darts", DartsSpace(), tabular=True)
    assert check_strategy("darts", DartsSpace()).name == "darts"
    monkeypatch.setitem(strategies.STRATEGIES, "pairs", StrategyInfo(
        "pairs", "test only", "engine.search.random_search:RandomSearch", objectives="multi"))
    with pytest.raises(StrategyError, match="'pairs' needs two or more objectives, got 1; for "
                       "1 objective use one of: random, evolution"):
        check_strategy("pairs", NB201Space(), 1)
    with pytest.raises(ValueError, match="already registered"):
        strategies.register(StrategyInfo("random", "again", "x:y"))
