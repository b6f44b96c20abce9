"""A Gaussian process on codes for the model-based strategy (numpy + scipy only).

A code is a tuple of option indices, one per choice of the space, so any space (cells,
stacks, spaces drawn on the diagram) is encoded the same way: the distance between two
codes is the number of choices on which they differ (the Hamming distance of their
one-hot encodings).  The kernel adds an additive (linear in the one-hot features) part
to an exponential one, ``a * exp(-d / l) + (1 - a) * (1 - d / C)``: the first captures
interactions between choices, the second the per-choice effects that dominate NAS
tables.  The mix ``a``, the length ``l`` and the noise are picked on a small grid by
marginal likelihood (the signal variance in closed form), on standardised values.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from itertools import product
from typing import Any

import numpy as np

MIX = (0.1, 0.4, 0.8)
LENGTH = (1.0, 2.5, 6.0)
NOISE = (0.01, 0.05, 0.2)


_CONTROLLER: list[Any] = []


@contextlib.contextmanager
def blas_threads(n: int) -> Iterator[None]:
    """Limit BLAS threads (threadpoolctl, a scikit-learn dependency) inside the block."""
    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - scikit-learn brings it
            _CONTROLLER.append(None)
        else:
            _CONTROLLER.append(ThreadpoolController())
    if _CONTROLLER[0] is None:  # pragma: no cover
        yield
        return
    with _CONTROLLER[0].limit(limits=n, user_api="blas"):
        yield


def one_hot(codes: Sequence[Sequence[int]], sizes: Sequence[int]) -> np.ndarray:
    """(n, sum(sizes)) float32 matrix of 0/1."""
    offsets = np.cumsum([0, *sizes[:-1]])
    out = np.zeros((len(codes), int(sum(sizes))), dtype=np.float32)
    if len(codes):
        idx = np.asarray(codes, dtype=np.int64) + offsets
        out[np.arange(len(codes))[:, None], idx] = 1.0
    return out


class CodeGP:
    """GP regression on one-hot codes; ``fit`` picks hyper-parameters, ``condition`` only
    re-solves for new values with the current ones."""

    def __init__(self, n_choices: int, hyper: Sequence[float] | None = None) -> None:
        self.C = max(1, int(n_choices))
        self.hyper = tuple(hyper) if hyper else (MIX[1], LENGTH[1], NOISE[1])

    def _kernel(self, A: np.ndarray, B: np.ndarray, mix: float, length: float) -> np.ndarray:
        d = self.C - A @ B.T            # differing choices
        return mix * np.exp(-d / length) + (1.0 - mix) * (1.0 - d / self.C)

    def _factor(self, X: np.ndarray, hyper: Sequence[float]) -> np.ndarray | None:
        mix, length, noise = hyper
        K = self._kernel(X, X, mix, length).astype(np.float64)  # float32 -> 64 to factor
        K[np.diag_indices_from(K)] += noise + 1e-8
        try:
            return np.linalg.cholesky(K)
        except np.linalg.LinAlgError:
            return None

    def fit(self, X: np.ndarray, y: np.ndarray) -> tuple[float, ...]:
        """Pick (mix, length, noise) by profiled marginal likelihood; returns them."""
        from scipy.linalg import solve_triangular

        z = self._standardise(y)
        best, best_ll = self.hyper, -math.inf
        for hyper in product(MIX, LENGTH, NOISE):
            L = self._factor(X, hyper)
            if L is None:
                continue
            w = solve_triangular(L, z, lower=True)
            scale = max(float(w @ w) / len(z), 1e-12)
            ll = -0.5 * len(z) * math.log(scale) - float(np.log(np.diag(L)).sum())
            if ll > best_ll + 1e-9:
                best, best_ll = hyper, ll
        self.hyper = tuple(float(h) for h in best)
        return self.hyper

    def _standardise(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        self.mean = float(y.mean())
        self.std = float(y.std()) or 1.0
        return (y - self.mean) / self.std

    def condition(self, X: np.ndarray, y: np.ndarray) -> None:
        """Posterior given the observations under the current hyper-parameters."""
        from scipy.linalg import cho_solve, solve_triangular

        z = self._standardise(y)
        L = self._factor(X, self.hyper)
        if L is None:  # numerically singular: more noise
            self.hyper = (self.hyper[0], self.hyper[1], self.hyper[2] * 10)
            L = self._factor(X, self.hyper)
        self.X, self.L = X, L
        self.alpha = cho_solve((L, True), z).astype(np.float32)
        self.L_inv = solve_triangular(L, np.eye(len(z)), lower=True).astype(np.float32)
        w = solve_triangular(L, z, lower=True)
        self.scale = max(float(w @ w) / len(z), 1e-12)

    def predict(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation (original units) at ``Xs``."""
        mix, length, _ = self.hyper
        Ks = self._kernel(Xs, self.X, np.float32(mix), np.float32(length))
        mu = (Ks @ self.alpha).astype(np.float64)
        v = self.L_inv @ Ks.T
        var = np.maximum(1.0 - (v * v).sum(axis=0, dtype=np.float64), 1e-12) * self.scale
        return self.mean + self.std * mu, self.std * np.sqrt(var)


def expected_improvement(mu: np.ndarray, sd: np.ndarray, best: float) -> np.ndarray:
    """EI of maximisation over ``best``."""
    from scipy.special import ndtr

    z = (mu - best) / sd
    return sd * (z * ndtr(z) + np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi))
