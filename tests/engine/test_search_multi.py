"""Optuna strategies and multi-objective evolution: exact resume, NSGA-II survival."""

import json

import pytest

from engine.arch.space import NB201Space
from engine.search.pareto import pareto_front
from engine.search.strategies import make_strategy
from engine.search.survival import crowding_distance, nsga_rank, worst


def values(code, m):
    acc = sum((i + 1) * v for i, v in enumerate(code)) + 0.01 * code[0]
    return acc if m == 1 else (acc, -float(sum(code)))


def drive(strategy, start, stop, m, fail_every=5):
    seen = []
    for k in range(start, stop):
        cand = strategy.ask()
        seen.append((cand.trial, cand.code, cand.parent))
        strategy.tell(cand.trial, None if k % fail_every == 0 else values(cand.code, m))
    return seen


@pytest.mark.parametrize("name,m,n,options", [
    ("tpe", 1, 30, {}), ("tpe", 2, 30, {}), ("nsga2", 2, 40, {}), ("nsga3", 2, 40, {}),
    ("gp", 1, 7, {"n_startup_trials": 3}), ("evolution", 2, 40, {}),
    ("predictor", 1, 30, {}), ("predictor", 2, 30, {})])
def test_resume_from_state_dict_is_exact(name, m, n, options):
    space = NB201Space()

    def make():
        return make_strategy(name, space, seed=7, budget=n, objectives=m, **options)

    full = drive(make(), 0, n, m)
    first = make()
    head = drive(first, 0, n // 2 + 1, m)
    pending = first.ask()   # asked before the kill, told after the resume
    state = json.loads(json.dumps(first.state_dict()))
    second = make()
    second.load_state_dict(state)
    assert pending.trial in second.pending
    second.tell(pending.trial, None if pending.trial % 5 == 0 else values(pending.code, m))
    rest = drive(second, n // 2 + 2, n, m)
    assert head + [(pending.trial, pending.code, pending.parent)] + rest == full
    assert len({c for _, c, _ in full}) > n // 3      # it explores, not one code again


def test_told_values_must_match_the_objectives():
    tpe = make_strategy("tpe", NB201Space(), seed=0, objectives=2)
    cand = tpe.ask()
    with pytest.raises(ValueError, match="expected 2 value"):
        tpe.tell(cand.trial, 1.0)
    tpe.tell(cand.trial, (1.0, float("nan")))   # NaN anywhere: a failed trial
    assert tpe.study.trials[0].state.name == "FAIL"
    evo = make_strategy("evolution", NB201Space(), seed=0)
    assert evo.n_objectives == 1
    cand = evo.ask()
    evo.tell(cand.trial, (2.0,))
    assert evo.population[0][2] == 2.0


def test_crowding_and_rank():
    pts = [(0.0, 3.0), (1.0, 2.0), (1.5, 1.9), (3.0, 0.0), (0.5, 0.5)]
    crowd = crowding_distance(pts[:4])
    assert crowd[0] == crowd[3] == float("inf") and crowd[2] > crowd[1]
    ranks = nsga_rank(pts)
    assert [r[0] for r in ranks] == [0, 0, 0, 0, 1]
    assert worst(pts) == 4                 # the dominated point dies first
    assert worst(pts[:4]) == 1             # then the most crowded one on the front


def test_multi_objective_evolution_keeps_the_front_instead_of_the_youngest():
    space = NB201Space()
    evo = make_strategy("evolution", space, seed=0, population=8, sample=3, objectives=2)
    told = {}
    for _ in range(80):
        cand = evo.ask()
        told[cand.trial] = values(cand.code, 2)
        evo.tell(cand.trial, told[cand.trial])
    # every point of the search's front (if not crowded out) survives: the population
    # is mostly non-dominated, and old members stay if they are on it
    pop = [v for _, _, v in evo.population]
    assert len(pop) == 8
    assert len(pareto_front(pop, [True, True])) >= 6
    assert min(t for t, _, _ in evo.population) < 72   # aging would keep only 72..79
    everything = list(told.values())
    front = {everything[i] for i in pareto_front(everything, [True, True])}
    assert any(v in front for v in pop)


def _all(space):
    import itertools

    return itertools.product(*(range(n) for n in space.sizes()))


@pytest.mark.parametrize("space", ["darts", "mbconv", "custom"])
def test_predictor_works_on_any_space_and_never_repeats(space):
    from engine.arch.space import get_space, space_from_spec

    if space == "custom":   # a space drawn on the diagram: choices at paths of a design
        ops = ["sep_conv_3x3", "max_pool_3x3", "skip_connect", "dil_conv_5x5"]
        sp = space_from_spec({"base": "darts-v2", "choices": [
            *({"path": f"normal.edges.{i}.op", "options": ops} for i in range(3)),
            {"path": "macro.channels", "options": [8, 16, 24]}]})
    else:
        sp = get_space(space)
    pred = make_strategy("predictor", sp, seed=3, budget=30, initial=6)
    seen = []
    for _ in range(min(30, sp.size())):
        cand = pred.ask()
        seen.append(cand.code)
        pred.tell(cand.trial, values(cand.code, 1))
        assert sp.decode(cand.code) is not None
    assert len(set(seen)) == len(seen)
    # the model-based asks (after 6 random ones) find better codes than the random ones
    top = max(values(c, 1) for c in seen[:6])
    best = max(values(c, 1) for c in seen[6:])
    # (unless a random one already was the best code of the space: never asked twice)
    assert best > top or (sp.size() < 1000 and top == max(values(c, 1) for c in _all(sp)))


def test_predictor_finds_better_designs_than_evolution_and_tpe(tmp_path):
    from engine.search.evaluators import TabularBenchmark
    from engine.search.job import SearchConfig, SearchJob
    from engine.search.synthetic import write_synthetic_table

    bench = TabularBenchmark(write_synthetic_table(tmp_path / "t.csv", seed=1),
                             "val_accuracy", "test_accuracy")
    means = {}
    for name in ("evolution", "tpe", "predictor"):
        bests = []
        for seed in range(4):
            cfg = SearchConfig(space=NB201Space().spec(), evaluator=bench.spec(),
                               strategy=name, budget=50, seed=seed)
            bests.append(SearchJob(cfg, None, evaluator=bench).run(
                lambda e: None)["best"]["objective"])
        means[name] = sum(bests) / len(bests)
    assert means["predictor"] > max(means["evolution"], means["tpe"]) + 0.3, means
