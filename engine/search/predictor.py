"""Predictor-guided evolution: a Gaussian process on the codes picks the next mutation.

After ``initial`` random candidates (10; fewer for budgets under 50) (or the warm-start codes, e.g. the best of a
training-free ranking), every ask builds a pool of unseen codes: every one-choice
mutation of the ``parents`` best designs so far, two-choice mutations of the best few
and some random samples.  A GP on the one-hot codes (``engine.search.surrogate``)
scores the pool by expected improvement and the best-scoring code is asked; it never
asks a code twice.  The GP's hyper-parameters are re-picked as the data grows
(geometrically), and at most ``max_train`` observations (the best half and the latest
half) train it, which keeps an ask within a few milliseconds at 1,000 trials.  Mutation
pools on codes make it work on any space (BANANAS, White et al. 2021, and local search
are the references).

With several objectives (told one value each, all to maximise) each ask draws random
weights and scalarises the objectives, normalised to the values seen so far, with the
augmented Chebyshev function (ParEGO, Knowles 2006); the GP then models that scalar.
"""

from __future__ import annotations

from typing import Any

from engine.arch.space import Code, SearchSpace
from engine.search.base import Candidate, Status, Strategy


class PredictorEvolution(Strategy):
    name = "predictor"

    def __init__(self, space: SearchSpace, *, seed: int = 0, budget: int | None = None,
                 objectives: int = 1, initial: int | None = None, parents: int = 8,
                 random_pool: int = 128, max_train: int = 300,
                 warm_start: list[list[int]] | None = None) -> None:
        super().__init__(space, seed=seed, budget=budget)
        self.n_objectives = int(objectives)
        if initial is None:  # random designs before the model: 10, fewer for small budgets
            initial = 10 if budget is None else min(10, max(3, budget // 5))
        self.initial, self.parents = int(initial), int(parents)
        self.random_pool, self.max_train = int(random_pool), int(max_train)
        if min(self.initial, self.parents, self.max_train) < 1:
            raise ValueError("predictor: initial, parents and max_train must be at least 1")
        self.warm_start = [self.space.check_code(c) for c in (warm_start or [])]
        self.observed: list[tuple[int, Code, Any]] = []   # (trial, code, value)
        self.seen: set[Code] = set()
        self.hyper: tuple[float, ...] | None = None
        self.fitted_at = 0
        self._size = space.size()

    @property
    def status(self) -> Status:
        return Status.DONE if len(self.seen) >= self._size else Status.RUNNING

    # -- proposing --------------------------------------------------------------------------
    def _random_unseen(self) -> Code:
        code = self.space.sample_code(self.rng)
        while code in self.seen:
            code = self.space.sample_code(self.rng)
        return code

    def _scalar(self) -> list[float]:
        """One value per observation: the value itself, or (several objectives) this
        ask's random augmented-Chebyshev scalarisation of the normalised values."""
        values = [v for _, _, v in self.observed]
        if self.n_objectives == 1:
            return values
        m = self.n_objectives
        draws = [self.rng.gammavariate(1.0, 1.0) for _ in range(m)]
        weights = [d / sum(draws) for d in draws]
        lo = [min(v[j] for v in values) for j in range(m)]
        hi = [max(v[j] for v in values) for j in range(m)]
        out = []
        for v in values:
            gap = [w * (hi[j] - v[j]) / ((hi[j] - lo[j]) or 1.0)
                   for j, w in enumerate(weights)]
            out.append(-(max(gap) + 0.05 * sum(gap)))
        return out

    def _pool(self, ranked: list[int]) -> tuple[list[Code], list[int | None]]:
        """Unseen codes near the best ones (numpy; the generator is seeded from ``rng``)."""
        import numpy as np

        gen = np.random.default_rng(self.rng.getrandbits(64))
        sizes = np.asarray(self.space.sizes())
        C = len(sizes)
        parents = [self.observed[k] for k in ranked[:self.parents]]
        P = np.asarray([code for _, code, _ in parents], dtype=np.int64).reshape(-1, C)
        blocks, owners = [], []
        # every one-choice mutation of each parent
        choice = np.repeat(np.arange(C), sizes - 1)
        step = np.concatenate([np.arange(1, n) for n in sizes]) if (sizes > 1).any() else \
            np.zeros(0, dtype=np.int64)
        for p, row in enumerate(P):
            kids = np.repeat(row[None, :], len(choice), axis=0)
            kids[np.arange(len(choice)), choice] = (row[choice] + step) % sizes[choice]
            blocks.append(kids)
            owners += [parents[p][0]] * len(kids)
        # two-choice mutations of the best three
        free = np.flatnonzero(sizes > 1)
        for p, row in enumerate(P[:3]):
            if not len(free):
                break
            k = self.random_pool // 4
            kids = np.repeat(row[None, :], k, axis=0)
            for _ in range(2):
                at = free[gen.integers(0, len(free), k)]
                kids[np.arange(k), at] = (kids[np.arange(k), at]
                                          + gen.integers(1, sizes[at])) % sizes[at]
            blocks.append(kids)
            owners += [parents[p][0]] * k
        # random samples
        blocks.append((gen.random((self.random_pool, C)) * sizes).astype(np.int64))
        owners += [None] * self.random_pool
        codes: dict[Code, int | None] = {}
        for code, owner in zip(map(tuple, np.concatenate(blocks).tolist()), owners,
                               strict=True):
            if code not in self.seen and self.space.allows(code):  # a partial table's cells
                codes.setdefault(code, owner)
        return list(codes), list(codes.values())

    def _propose(self) -> tuple[Code, int | None]:
        if self.asked < len(self.warm_start) and self.warm_start[self.asked] not in self.seen:
            code = self.warm_start[self.asked]
        elif len(self.observed) < self.initial:
            code = self._random_unseen()
        else:
            from engine.search.surrogate import blas_threads

            with blas_threads(1):  # many small BLAS calls: threads only contend (12x slower)
                code, parent = self._model_based()
            self.seen.add(code)
            return code, parent
        self.seen.add(code)
        return code, None

    def _model_based(self) -> tuple[Code, int | None]:
        import numpy as np

        from engine.search.surrogate import CodeGP, expected_improvement, one_hot

        y = self._scalar()
        ranked = sorted(range(len(y)), key=lambda k: (-y[k], k))
        pool, parents = self._pool(ranked)
        if not pool:
            return self._random_unseen(), None
        train = self._training_set(ranked)
        sizes = self.space.sizes()
        X = one_hot([self.observed[k][1] for k in train], sizes)
        Y = np.asarray([y[k] for k in train])
        gp = CodeGP(len(sizes), self.hyper)
        n = len(self.observed)
        if self.hyper is None or n >= 1.25 * self.fitted_at or n - self.fitted_at >= 50:
            self.hyper = gp.fit(X, Y)
            self.fitted_at = n
        gp.condition(X, Y)
        mu, sd = gp.predict(one_hot(pool, sizes))
        best = int(np.argmax(expected_improvement(mu, sd, float(Y.max()))))
        return pool[best], parents[best]

    def _training_set(self, ranked: list[int]) -> list[int]:
        n = len(self.observed)
        if n <= self.max_train:
            return list(range(n))
        half = self.max_train // 2
        keep = set(ranked[:half])
        for k in range(n - 1, -1, -1):
            if len(keep) >= self.max_train:
                break
            keep.add(k)
        return sorted(keep)

    def _observe(self, cand: Candidate, value: Any) -> None:
        self.seen.add(cand.code)
        if value is not None:
            self.observed.append((cand.trial, cand.code, value))

    # -- state ------------------------------------------------------------------------------
    def _extra_state(self) -> dict[str, Any]:
        return {"objectives": self.n_objectives, "hyper": self.hyper,
                "fitted_at": self.fitted_at,
                "observed": [[t, list(c), list(v) if isinstance(v, tuple) else v]
                             for t, c, v in self.observed],
                "seen": sorted(list(c) for c in self.seen)}

    def _load_extra(self, state: dict[str, Any]) -> None:
        self.n_objectives = int(state["objectives"])
        self.hyper = tuple(state["hyper"]) if state.get("hyper") else None
        self.fitted_at = int(state["fitted_at"])
        self.observed = [(t, tuple(c), tuple(v) if isinstance(v, list) else v)
                         for t, c, v in state["observed"]]
        self.seen = {tuple(c) for c in state["seen"]}
