"""Regularized (aging) evolution, Real et al. 2019.

Keep a population of the ``population`` most recent models.  Each cycle samples
``sample`` members, mutates the best one (one choice changed) and adds the child;
the *oldest* member dies.  The first ``population`` candidates are random.

With several objectives (``objectives=m``, told m values to maximise) "best" and "dies"
follow NSGA-II instead of one scalar: the parent is the sampled member with the lowest
non-dominated rank (then the largest crowding distance), and the member that dies is
the one on the last front with the least crowding distance (the oldest on a tie).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from engine.arch.space import Code, SearchSpace
from engine.search.base import Strategy
from engine.search.survival import nsga_rank, worst


def default_sizes(budget: int | None) -> tuple[int, int]:
    """(population, sample) scaled to the budget: the paper's P=100, S=25 for large ones."""
    population = 100 if budget is None else min(100, max(4, budget // 4))
    return population, max(2, population // 4)


class RegularizedEvolution(Strategy):
    name = "evolution"

    def __init__(self, space: SearchSpace, *, seed: int = 0, budget: int | None = None,
                 population: int | None = None, sample: int | None = None,
                 objectives: int = 1) -> None:
        super().__init__(space, seed=seed, budget=budget)
        self.n_objectives = int(objectives)
        p, s = default_sizes(budget)
        self.population_size = int(population or p)
        self.sample_size = min(int(sample or s), self.population_size)
        if self.population_size < 1 or self.sample_size < 1:
            raise ValueError("evolution: population and sample must be at least 1")
        # (trial, code, value), oldest first; value is a tuple with several objectives
        self.population: deque[tuple[int, Code, Any]] = deque()

    def _pending_random(self) -> int:
        return sum(1 for c in self.pending.values() if c.parent is None)

    def _propose(self) -> tuple[Code, int | None]:
        if not self.population or \
                len(self.population) + self._pending_random() < self.population_size:
            return self.space.sample_code(self.rng), None
        k = min(self.sample_size, len(self.population))
        contenders = self.rng.sample(range(len(self.population)), k)
        if self.n_objectives > 1:
            keys = nsga_rank([v for _, _, v in self.population])
            best = min(contenders, key=lambda i: (keys[i], contenders.index(i)))
        else:
            best = max(contenders, key=lambda i: self.population[i][2])
        trial, code, _ = self.population[best]
        return self.space.mutate_code(code, self.rng), trial

    def _observe(self, cand, value: float | None) -> None:
        if value is None:
            return
        self.population.append((cand.trial, cand.code, value))
        while len(self.population) > self.population_size:
            if self.n_objectives > 1:
                del self.population[worst([v for _, _, v in self.population])]
            else:
                self.population.popleft()

    def _extra_state(self) -> dict[str, Any]:
        return {"population_size": self.population_size, "sample_size": self.sample_size,
                "objectives": self.n_objectives,
                "population": [[t, list(c), list(v) if isinstance(v, tuple) else v]
                               for t, c, v in self.population]}

    def _load_extra(self, state: dict[str, Any]) -> None:
        self.population_size = int(state["population_size"])
        self.sample_size = int(state["sample_size"])
        self.n_objectives = int(state.get("objectives", 1))
        self.population = deque((t, tuple(c), tuple(v) if isinstance(v, list) else v)
                                for t, c, v in state["population"])
