"""The strategy interface: ask for a candidate, tell its value, save and restore state.

Strategies work on *codes* (tuples of option indices, see ``engine.arch.space``) and a
scalar value to maximise; ``None`` means the candidate failed or was rejected.
Multi-objective strategies made with ``objectives=m`` (m >= 2) are told a tuple of m
values instead, each to maximise (the search negates costs).  Strategies are seeded and
deterministic: the same seed and the same told values give the same candidates, and
``load_state_dict(state_dict())`` continues exactly.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from engine.arch.space import Code, SearchSpace


class Status(StrEnum):
    """Where a strategy stands."""

    RUNNING = "running"   # ask() gives new candidates
    WAITING = "waiting"   # needs tell() for pending candidates before asking more
    DONE = "done"         # nothing more to propose (space exhausted, one-shot finished)


@dataclass(frozen=True)
class Candidate:
    """A proposed architecture: ``trial`` numbers asks from 0, ``parent`` is a trial number."""

    trial: int
    code: Code
    parent: int | None = None


def rng_state(rng: random.Random) -> list[Any]:
    """The Mersenne Twister state as [version, hex of the 625 words, gauss] (compact JSON)."""
    version, internal, gauss = rng.getstate()
    return [version, array("I", internal).tobytes().hex(), gauss]


def set_rng_state(rng: random.Random, state: list[Any]) -> None:
    words = array("I")
    words.frombytes(bytes.fromhex(state[1]))
    rng.setstate((state[0], tuple(words), state[2]))


Value = float | tuple[float, ...]


def clean_value(value: float | Sequence[float] | None) -> Value | None:
    """A told value as a float or a tuple of floats; None when missing or any part is NaN."""
    if value is None:
        return None
    if isinstance(value, Sequence):
        out = tuple(float(v) for v in value)
        return None if any(v != v for v in out) else out
    value = float(value)
    return None if value != value else value


class Strategy:
    """Base class.  Subclasses implement ``_propose()`` and may override ``_observe``;
    ``n_objectives`` is how many values ``tell`` expects (1: a scalar)."""

    name = "strategy"
    # set by the search job: a strategy that works inside ask() (a supernet) calls
    # ``token.check()`` and ``progress(done_fraction, message)`` as it goes
    token: Any = None
    progress: Callable[[float, str], None] | None = None
    n_objectives = 1

    def __init__(self, space: SearchSpace, *, seed: int = 0, budget: int | None = None) -> None:
        self.space = space
        self.seed = int(seed)
        self.budget = budget
        self.rng = random.Random(self.seed)
        self.asked = 0
        self.told = 0
        self.pending: dict[int, Candidate] = {}

    @property
    def status(self) -> Status:
        return Status.RUNNING

    def ask(self) -> Candidate | None:
        """The next candidate, or None when the strategy is waiting or done."""
        if self.status is not Status.RUNNING:
            return None
        proposal = self._propose()
        if proposal is None:
            return None
        code, parent = proposal
        code = self.space.check_code(code)
        if not self.space.allows(code):  # a restricted space (a partial table): the
            code = self.space.nearest_allowed(code, self.rng)  # nearest listed cell
        cand = Candidate(self.asked, code, parent)
        self.asked += 1
        self.pending[cand.trial] = cand
        return cand

    def tell(self, trial: int, value: float | Sequence[float] | None) -> None:
        """Report the value (higher is better; one per objective for multi-objective
        strategies) of an asked candidate; None if it failed.  NaN counts as a failure."""
        value = clean_value(value)
        expected = self.n_objectives
        if value is not None and (len(value) if isinstance(value, tuple) else 1) != expected:
            raise ValueError(f"{self.name}: expected {expected} value(s) for trial {trial}, "
                             f"got {value!r}")
        if expected == 1 and isinstance(value, tuple):
            value = value[0]
        try:
            cand = self.pending.pop(trial)
        except KeyError:
            raise ValueError(f"{self.name}: trial {trial} was not asked or already told") from None
        self.told += 1
        self._observe(cand, value)

    def _propose(self) -> tuple[Code, int | None] | None:
        raise NotImplementedError

    def _observe(self, cand: Candidate, value: Any) -> None:
        """``value``: a float (one objective), a tuple (several) or None (failed)."""

    # -- state ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state (plain lists and numbers)."""
        return {"strategy": self.name, "seed": self.seed, "asked": self.asked,
                "told": self.told, "rng": rng_state(self.rng),
                "pending": [[c.trial, list(c.code), c.parent] for c in self.pending.values()],
                **self._extra_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("strategy") != self.name:
            raise ValueError(f"state is for strategy {state.get('strategy')!r}, not {self.name!r}")
        self.seed = int(state["seed"])
        self.asked, self.told = int(state["asked"]), int(state["told"])
        set_rng_state(self.rng, state["rng"])
        self.pending = {t: Candidate(t, tuple(code), parent)
                        for t, code, parent in state["pending"]}
        self._load_extra(state)

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra(self, state: dict[str, Any]) -> None:
        pass
