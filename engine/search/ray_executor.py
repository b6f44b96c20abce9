"""Trials as Ray tasks, on a local Ray or an existing cluster.

Without an address the executor starts a local Ray sized for the search (``workers``
trials at ``cpus_per_trial`` each; no dashboard, a small object store) and shuts it
down at the end; with ``"auto"`` or ``HOST:PORT`` it joins that cluster and only
disconnects.  A Ray that is already running in this process (a notebook, the test
session) is used as it is and left running.

A task whose worker process dies (killed, out of memory, node lost) is retried once by
Ray; a second death makes it a failed trial with the reason and the search goes on.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import math
from typing import Any

from engine.search.evaluators import TrialOutcome
from engine.search.executors import (
    RAY_INSTALL,
    Executor,
    ExecutorError,
    ExecutorSettings,
    TrialResult,
    TrialTask,
)

RETRIES = 1                          # a dead worker's task runs at most twice
OBJECT_STORE_BYTES = 128 * 1024**2   # a local Ray's object store (results are small)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ExecutorError(f"the ray executor needs Ray, which is not installed: "
                            f"{RAY_INSTALL}") from None
    return ray


def ray_trial(task: TrialTask) -> TrialResult:
    """The Ray task: evaluate ``task`` on whichever node Ray picked."""
    import ray

    from engine.search.remote import run_task

    return run_task(task, node=ray.get_runtime_context().get_node_id()[:12])


def died(exc: BaseException) -> str:
    """The failed trial's reason for a Ray error."""
    first = (str(exc).strip().splitlines() or [""])[0]
    kind = type(exc).__name__
    if kind in ("WorkerCrashedError", "NodeDiedError", "OutOfMemoryError", "ObjectLostError",
                "OwnerDiedError", "ActorDiedError"):
        return (f"worker died while running the trial ({kind}; retried {RETRIES} time"
                f"{'s' if RETRIES != 1 else ''}): {first}")
    return f"on the Ray cluster: {kind}: {first}"


class RayExecutor(Executor):
    """Each trial a Ray task with ``cpus_per_trial`` CPUs and ``gpus_per_trial`` GPUs."""

    name = "ray"

    def __init__(self, workers: int, settings: ExecutorSettings | None = None) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1 (got {workers})")
        ray = _ray()
        self.workers = workers
        self.settings = settings = settings or ExecutorSettings("ray")
        self._ray = ray
        self._owned = False
        self._refs: dict[Any, cf.Future[TrialResult]] = {}
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                   "logging_level": logging.WARNING}
        if not ray.is_initialized():
            try:
                if settings.address:
                    ray.init(address=settings.address, **options)
                else:
                    ray.init(num_cpus=max(1, math.ceil(workers * settings.cpus_per_trial)),
                             object_store_memory=OBJECT_STORE_BYTES, **options)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = f"--address {settings.address}" if settings.address else "local Ray"
                raise ExecutorError(f"{where}: cannot start or reach Ray: "
                                    f"{(str(exc).splitlines() or [''])[0]}") from None
            self._owned = True
        # a trial without GPUs sees none (Ray leaves CUDA_VISIBLE_DEVICES alone by default),
        # so "auto" picks the CPU there; a GPU trial sees the GPUs Ray gave it
        env = {"RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO": "1"}
        self._task = ray.remote(ray_trial).options(
            num_cpus=settings.cpus_per_trial, num_gpus=settings.gpus_per_trial,
            max_retries=RETRIES, retry_exceptions=False, runtime_env={"env_vars": env})

    def submit(self, task: TrialTask, context: dict[str, Any] | None = None
               ) -> cf.Future[TrialResult]:
        ref = self._task.remote(task)
        outer: cf.Future[TrialResult] = cf.Future()
        self._refs[ref] = outer
        errors = self._ray.exceptions

        def done(inner: cf.Future[Any]) -> None:
            self._refs.pop(ref, None)
            if outer.done():
                return
            try:
                outer.set_result(inner.result())
            except errors.TaskCancelledError as exc:
                outer.set_exception(exc)
            except errors.RayError as exc:   # the worker died twice: a failed trial
                outer.set_result(TrialResult(TrialOutcome("failed", {}, died(exc))))
            except BaseException as exc:  # noqa: BLE001 - the driver sees it in result()
                outer.set_exception(exc)

        ref.future().add_done_callback(done)
        return outer

    def shutdown(self) -> None:
        for ref, fut in list(self._refs.items()):   # cancelled or failed search
            try:
                self._ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - already finished or gone
                pass
            fut.cancel()
        self._refs.clear()
        if self._owned and self._ray.is_initialized():
            self._ray.shutdown()
        self._owned = False
