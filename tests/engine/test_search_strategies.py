"""Strategies: ask/tell, determinism, exact resume from state_dict, aging evolution."""

import json
import random

import pytest

from engine.arch.space import NB201Space
from engine.search.base import Status
from engine.search.evolution import RegularizedEvolution, default_sizes
from engine.search.strategies import make_strategy


def score(code):
    return sum((i + 1) * v for i, v in enumerate(code)) + 0.01 * code[0]


def drive(strategy, n, fail_every=0):
    seen = []
    for k in range(n):
        cand = strategy.ask()
        seen.append((cand.trial, cand.code, cand.parent))
        value = None if fail_every and k % fail_every == 0 else score(cand.code)
        strategy.tell(cand.trial, value)
    return seen


@pytest.mark.parametrize("name", ["random", "evolution"])
def test_resume_from_state_dict_is_exact(name):
    space = NB201Space()
    full = drive(make_strategy(name, space, seed=7, budget=40), 40, fail_every=5)
    first = make_strategy(name, space, seed=7, budget=40)
    head = drive(first, 17, fail_every=5)
    state = json.loads(json.dumps(first.state_dict()))
    second = make_strategy(name, space, seed=7, budget=40)
    second.load_state_dict(state)
    tail = []
    for k in range(17, 40):
        cand = second.ask()
        tail.append((cand.trial, cand.code, cand.parent))
        second.tell(cand.trial, None if k % 5 == 0 else score(cand.code))
    assert head + tail == full
    assert make_strategy(name, space, seed=8, budget=40).ask().code != full[0][1] or \
        make_strategy(name, space, seed=9, budget=40).ask().code != full[0][1]


def test_random_search_does_not_repeat_and_finishes_small_spaces():
    space = NB201Space(ops=("none", "skip_connect"))
    strategy = make_strategy("random", space, seed=0)
    codes = [code for _, code, _ in drive(strategy, 64)]
    assert len(set(codes)) == 64
    assert strategy.status is Status.DONE and strategy.ask() is None


def test_evolution_ages_out_the_oldest_and_mutates_one_choice():
    space = NB201Space()
    evo = RegularizedEvolution(space, seed=0, population=5, sample=2)
    history = {}
    for _ in range(30):
        cand = evo.ask()
        history[cand.trial] = cand
        if cand.trial < 5:
            assert cand.parent is None
        else:
            parent = history[cand.parent]
            assert sum(a != b for a, b in zip(cand.code, parent.code, strict=True)) == 1
        evo.tell(cand.trial, score(cand.code))
        trials = [t for t, _, _ in evo.population]
        assert trials == sorted(trials)[-5:] and len(trials) <= 5
    # even the best model dies of old age
    assert [t for t, _, _ in evo.population] == [25, 26, 27, 28, 29]


def test_evolution_defaults_scale_with_budget():
    assert default_sizes(8) == (4, 2)
    assert default_sizes(100) == (25, 6)
    assert default_sizes(10_000) == (100, 25)
    assert default_sizes(None) == (100, 25)


def test_tell_errors_and_nan_counts_as_failure():
    evo = make_strategy("evolution", NB201Space(), seed=0, budget=8)
    cand = evo.ask()
    evo.tell(cand.trial, float("nan"))
    assert not evo.population
    with pytest.raises(ValueError, match="trial 0 was not asked or already told"):
        evo.tell(cand.trial, 1.0)
    with pytest.raises(ValueError, match="unknown strategy 'annealing'"):
        make_strategy("annealing", NB201Space())
    with pytest.raises(ValueError, match="state is for strategy 'evolution'"):
        make_strategy("random", NB201Space()).load_state_dict(evo.state_dict())


def test_parallel_asks_before_tells():
    evo = make_strategy("evolution", NB201Space(), seed=3, budget=16)
    batch = [evo.ask() for _ in range(4)]
    assert [c.trial for c in batch] == [0, 1, 2, 3]
    for c in batch:
        evo.tell(c.trial, score(c.code))
    rng = random.Random(0)
    for _ in range(10):
        batch = [evo.ask() for _ in range(rng.randint(1, 3))]
        for c in reversed(batch):
            evo.tell(c.trial, score(c.code))
    assert len(evo.population) == evo.population_size


def test_reinforce_resumes_exactly_and_learns():
    space = NB201Space()
    full = drive(make_strategy("reinforce", space, seed=4), 24)
    first = make_strategy("reinforce", space, seed=4)
    head = drive(first, 10)
    state = json.loads(json.dumps(first.state_dict()))
    second = make_strategy("reinforce", space, seed=4)
    second.load_state_dict(state)
    assert head + drive(second, 14) == full
    # rewarding the last option of every choice makes the policy prefer it
    strategy = make_strategy("reinforce", space, seed=0, lr=0.05)
    for _ in range(60):
        cand = strategy.ask()
        strategy.tell(cand.trial, float(sum(cand.code)))
    probs = strategy.probabilities()
    assert sum(p[-1] for p in probs) / len(probs) > 0.4   # uniform would be 0.2
