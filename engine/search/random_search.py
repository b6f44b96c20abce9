"""Random search: uniform samples, without repeats while the space has unseen codes."""

from __future__ import annotations

from typing import Any

from engine.arch.space import Code, SearchSpace
from engine.search.base import Status, Strategy


class RandomSearch(Strategy):
    name = "random"

    def __init__(self, space: SearchSpace, *, seed: int = 0, budget: int | None = None,
                 allow_repeats: bool = False) -> None:
        super().__init__(space, seed=seed, budget=budget)
        self.allow_repeats = allow_repeats
        self.seen: set[Code] = set()
        self._size = space.size()

    @property
    def status(self) -> Status:
        if not self.allow_repeats and len(self.seen) >= self._size:
            return Status.DONE
        return Status.RUNNING

    def _propose(self) -> tuple[Code, None]:
        code = self.space.sample_code(self.rng)
        if not self.allow_repeats:
            while code in self.seen:
                code = self.space.sample_code(self.rng)
            self.seen.add(code)
        return code, None

    def _extra_state(self) -> dict[str, Any]:
        return {"seen": sorted(list(c) for c in self.seen)}

    def _load_extra(self, state: dict[str, Any]) -> None:
        self.seen = {tuple(c) for c in state.get("seen", [])}
