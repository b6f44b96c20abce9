"""Optuna's samplers (TPE, GP, NSGA-II, NSGA-III) behind our ask/tell.

Each choice of the space is a categorical parameter ``c<i>`` over its option indices.
Optuna runs in memory; the experiment store stays the record.  ``state_dict`` holds
what the sampler's next proposal depends on: every trial of the in-memory study (code,
state, values, system attributes: NSGA's generations, relative samples), the study's
system attributes (NSGA's parent population), the state of every random generator
inside the sampler and the GP sampler's cached kernel parameters.  ``load_state_dict``
rebuilds the study from them, so a resumed search proposes exactly what an
uninterrupted one would.  Optuna is imported when a strategy is made.
"""

from __future__ import annotations

import warnings
from typing import Any

from engine.arch.space import Code, SearchSpace
from engine.search.base import Candidate, Strategy

_STATES = ("RUNNING", "COMPLETE", "PRUNED", "FAIL", "WAITING")


def _optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _random_states(obj: Any, found: dict[int, Any], depth: int = 0) -> dict[int, Any]:
    """Every ``LazyRandomState`` reachable from a sampler through optuna objects, in a
    fixed (attribute-name) order."""
    from optuna.samplers._lazy_random_state import LazyRandomState

    if depth > 4:
        return found
    for key in sorted(vars(obj)):
        value = vars(obj)[key]
        if isinstance(value, LazyRandomState):
            found.setdefault(id(value), value)
        elif type(value).__module__.startswith("optuna") and hasattr(value, "__dict__"):
            _random_states(value, found, depth + 1)
    return found


def _rng_to_plain(rng: Any) -> list[Any]:
    name, keys, pos, has_gauss, gauss = rng.get_state()
    return [name, keys.tobytes().hex(), int(pos), int(has_gauss), float(gauss)]


def _rng_from_plain(rng: Any, state: list[Any]) -> None:
    import numpy as np

    keys = np.frombuffer(bytes.fromhex(state[1]), dtype=np.uint32).copy()
    rng.set_state((state[0], keys, state[2], state[3], state[4]))


class OptunaStrategy(Strategy):
    """Base of the Optuna strategies; subclasses build the sampler in ``_sampler()``."""

    name = "optuna"

    def __init__(self, space: SearchSpace, *, seed: int = 0, budget: int | None = None,
                 objectives: int = 1, **options: Any) -> None:
        super().__init__(space, seed=seed, budget=budget)
        self.n_objectives = int(objectives)
        self.options = options
        optuna = _optuna()
        self._dists = {f"c{i}": optuna.distributions.CategoricalDistribution(tuple(range(n)))
                       for i, n in enumerate(space.sizes())}
        self.study = self._new_study()

    def _sampler(self) -> Any:
        raise NotImplementedError

    def _sampler_seed(self) -> int:
        return self.seed % 2**32

    def _new_study(self) -> Any:
        optuna = _optuna()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = self._sampler()
        return optuna.create_study(storage=optuna.storages.InMemoryStorage(), sampler=sampler,
                                   directions=["maximize"] * self.n_objectives)

    def _propose(self) -> tuple[Code, None]:
        optuna = _optuna()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            warnings.simplefilter("ignore", UserWarning)
            trial = self.study.ask(self._dists)
        if trial.number != self.asked:
            raise RuntimeError(f"{self.name}: optuna trial {trial.number} for trial {self.asked}")
        return tuple(trial.params[k] for k in self._dists), None

    def _observe(self, cand: Candidate, value: Any) -> None:
        optuna = _optuna()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            if value is None:
                self.study.tell(cand.trial, state=optuna.trial.TrialState.FAIL)
            else:
                self.study.tell(cand.trial, list(value) if isinstance(value, tuple) else value)

    # -- state ------------------------------------------------------------------------------
    def _extra_state(self) -> dict[str, Any]:
        study = self.study
        trials = [[t.number, t.state.name, t.values, [t.params[k] for k in self._dists],
                   t.system_attrs] for t in study.get_trials(deepcopy=False)]
        sampler = study.sampler
        state = {"objectives": self.n_objectives, "options": self.options, "trials": trials,
                 "study_attrs": study._storage.get_study_system_attrs(study._study_id),
                 "rngs": [_rng_to_plain(r.rng) for r in _random_states(sampler, {}).values()]}
        gp = self._gp_cache(sampler)
        if gp is not None:
            state["gp_cache"] = gp
        return state

    def _load_extra(self, state: dict[str, Any]) -> None:
        optuna = _optuna()
        self.n_objectives = int(state["objectives"])
        self.options = dict(state.get("options") or {})
        self.study = self._new_study()
        for number, st, values, code, attrs in state["trials"]:
            trial_state = optuna.trial.TrialState[st]
            frozen = optuna.trial.create_trial(
                state=trial_state, values=values if trial_state.name == "COMPLETE" else None,
                params={k: int(v) for k, v in zip(self._dists, code, strict=True)},
                distributions=self._dists, system_attrs=attrs)
            self.study.add_trial(frozen)
            if self.study.trials[-1].number != number:
                raise ValueError(f"{self.name}: stored trials are not numbered from 0")
        storage, sid = self.study._storage, self.study._study_id
        for key, value in (state.get("study_attrs") or {}).items():
            storage.set_study_system_attr(sid, key, value)
        rngs = list(_random_states(self.study.sampler, {}).values())
        if len(rngs) != len(state["rngs"]):
            raise ValueError(f"{self.name}: the stored state has {len(state['rngs'])} random "
                             f"generators, this optuna's sampler {len(rngs)}")
        for r, plain in zip(rngs, state["rngs"], strict=True):
            _rng_from_plain(r.rng, plain)
        if "gp_cache" in state:
            try:
                self._set_gp_cache(self.study.sampler, state["gp_cache"])
            except (ImportError, TypeError, AttributeError):  # another optuna's internals:
                pass  # the cache only seeds the next kernel fit

    @staticmethod
    def _gp_cache(sampler: Any) -> dict[str, Any] | None:
        if not hasattr(sampler, "_gprs_cache_list"):
            return None

        def plain(gprs: Any) -> Any:
            if gprs is None:
                return None
            return [{"is_categorical": g._is_categorical.tolist(),
                     "lengthscales": g.inverse_squared_lengthscales.tolist(),
                     "scale": float(g.kernel_scale), "noise": float(g.noise_var)}
                    for g in gprs]

        return {"objectives": plain(sampler._gprs_cache_list),
                "constraints": plain(sampler._constraints_gprs_cache_list)}

    @staticmethod
    def _set_gp_cache(sampler: Any, cache: dict[str, Any]) -> None:
        import torch
        from optuna._gp.gp import GPRegressor

        def build(items: Any) -> Any:
            if items is None:
                return None
            out = []
            for g in items:
                dim = len(g["lengthscales"])
                # a cache only seeds the next kernel fit: the training data is refilled then
                out.append(GPRegressor(
                    is_categorical=torch.tensor(g["is_categorical"], dtype=torch.bool),
                    X_train=torch.zeros((1, dim), dtype=torch.float64),
                    y_train=torch.zeros(1, dtype=torch.float64),
                    inverse_squared_lengthscales=torch.tensor(g["lengthscales"],
                                                              dtype=torch.float64),
                    kernel_scale=torch.tensor(g["scale"], dtype=torch.float64),
                    noise_var=torch.tensor(g["noise"], dtype=torch.float64)))
            return out

        sampler._gprs_cache_list = build(cache.get("objectives"))
        sampler._constraints_gprs_cache_list = build(cache.get("constraints"))


def _population(budget: int | None, given: Any) -> int:
    """NSGA population: as asked, else a quarter of the budget within 4..50."""
    if given:
        return int(given)
    return 50 if budget is None else min(50, max(4, budget // 4))


class TPE(OptunaStrategy):
    name = "tpe"

    def _sampler(self) -> Any:
        return _optuna().samplers.TPESampler(seed=self._sampler_seed(), **self.options)


class GP(OptunaStrategy):
    name = "gp"

    def _sampler(self) -> Any:
        return _optuna().samplers.GPSampler(seed=self._sampler_seed(), **self.options)


class NSGA2(OptunaStrategy):
    name = "nsga2"

    def _sampler(self) -> Any:
        opts = dict(self.options)
        opts["population_size"] = _population(self.budget, opts.get("population_size"))
        return _optuna().samplers.NSGAIISampler(seed=self._sampler_seed(), **opts)


class NSGA3(OptunaStrategy):
    name = "nsga3"

    def _sampler(self) -> Any:
        opts = dict(self.options)
        opts["population_size"] = _population(self.budget, opts.get("population_size"))
        return _optuna().samplers.NSGAIIISampler(seed=self._sampler_seed(), **opts)
