"""Training as a job: store rows, checkpoints, resume, and ``train_design`` for in-process use."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from engine.data import DatasetSplits, adapt_design, load_dataset, load_spec, skipped_note
from engine.events import Event, LogMessage
from engine.jobs import Cancelled, CancelToken, EventSink, Job
from engine.train.checkpoint import load_checkpoint, run_checkpoint_dir, seed_everything
from engine.train.config import TrainConfig
from engine.train.trainer import EpochRecord, Trainer

RESUMABLE = ("interrupted", "failed", "cancelled")


class ResumeError(Exception):
    """A run cannot be resumed (unknown, finished, still running, no checkpoint...)."""


def pick_device(prefer: str | None) -> torch.device:
    """The training device via ``engine.device.pick_device`` (cuda > mps > cpu);
    ValueError names the devices available when ``prefer`` is not one of them."""
    from engine.device import pick_device as _pick

    return _pick(None if prefer in (None, "auto") else prefer)


def model_costs(model: torch.nn.Module, input_shape: tuple[int, int, int]) -> tuple[int, int]:
    """(parameters, MACs) of ``model`` the way ``engine.cost`` counts them."""
    from engine.cost import count_macs, count_params

    was_training = model.training
    model.eval()
    try:
        return int(count_params(model)), int(count_macs(model, input_shape))
    finally:
        model.train(was_training)


def _macro_value(design: Any, field: str, default: float) -> float:
    macro = getattr(design, "macro", None)
    return float(getattr(macro, field, default)) if macro is not None else default


class TrainJob(Job):
    """Train ``design`` on ``dataset`` (``DatasetSplits`` or a name/path) with ``config``.

    With a ``store``: creates (or reuses ``run_id``) a "train" run, writes every
    epoch as it finishes, checkpoints each epoch under ``checkpoints_dir()/run-<id>/``
    and records the outcome.  ``resume=True`` continues ``run_id`` from its checkpoint.
    After ``execute`` the trained model (best-validation weights) is ``self.model``.
    """

    kind = "train"

    def __init__(self, design: Any, dataset: DatasetSplits | str, config: TrainConfig,
                 store: Any = None, run_id: int | None = None,
                 experiment_id: int | None = None, parent_id: int | None = None, *,
                 resume: bool = False, data_root: str | None = None, download: bool = False,
                 checkpoint_path: str | Path | None = None, job_id: str | None = None,
                 name: str | None = None, skip_bad_images: bool = False) -> None:
        super().__init__(job_id)
        self.design, self.dataset, self.config = design, dataset, config
        self.store, self.run_id = store, run_id
        self.experiment_id, self.parent_id = experiment_id, parent_id
        self.resume, self.data_root, self.download = resume, data_root, download
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        self.name = name
        self.skip_bad_images = skip_bad_images
        self.model: torch.nn.Module | None = None
        self._own_experiment = False

    def describe(self) -> str:
        what = getattr(self.design, "name", "design")
        data = self.dataset if isinstance(self.dataset, str) else self.dataset.name
        return f"train {what} on {data}"

    def total(self) -> int | None:
        return self.config.epochs

    def _splits(self) -> DatasetSplits:
        if isinstance(self.dataset, DatasetSplits):
            return self.dataset
        return load_dataset(self.dataset, root=self.data_root, download=self.download,
                            seed=self.config.seed, skip_bad_images=self.skip_bad_images)

    def _open_rows(self, design: Any, splits: DatasetSplits, device: torch.device) -> None:
        store, cfg = self.store, self.config
        run_config = {"train": cfg.to_dict(), "dataset": dict(splits.spec),
                      "dataset_name": splits.name, "device": str(device),
                      "preprocessing": splits.preprocessing(),
                      "class_names": list(splits.class_names)}
        design_hash = store.add_design(design)
        if self.run_id is None:
            if self.experiment_id is None:
                self.experiment_id = store.create_experiment(
                    "train", config=run_config, seed=cfg.seed, name=self.name)
                self._own_experiment = True
            self.run_id = store.create_run(self.experiment_id, design_hash, kind="train",
                                           parent_id=self.parent_id, config=run_config)
        elif not self.resume:
            store.update_run(self.run_id, design_hash=design_hash, config=run_config,
                             status="running")

    def _record_epoch(self, record: EpochRecord, trainer: Trainer) -> None:
        if self.store is None or self.run_id is None:
            return
        metrics = {k: v for k, v in record.__dict__.items() if k != "epoch"}
        self.store.add_epoch(self.run_id, record.epoch, **metrics)
        self.store.update_run(self.run_id, epochs_done=record.epoch,
                              best_val_accuracy=trainer.best_val)

    def execute(self, emit: EventSink, token: CancelToken) -> dict[str, Any]:
        cfg = self.config
        start = time.perf_counter()
        seed_everything(cfg.seed)
        splits = self._splits()
        note = skipped_note(splits)
        if note:
            emit(LogMessage(self.job_id, level="warning", message=note))
        design = adapt_design(self.design, splits)
        from engine.builders import build_model

        model = build_model(design)
        device = pick_device(cfg.device)
        params, macs = model_costs(model, splits.input_shape)
        if self.store is not None:
            self._open_rows(design, splits, device)
            if self.checkpoint_path is None and cfg.checkpoint:
                self.checkpoint_path = run_checkpoint_dir(self.run_id,
                                                          getattr(self.store, "path", None))
                self.checkpoint_path = self.checkpoint_path / "last.pt"
            self.store.update_run(self.run_id, params=params, macs=macs, status="running",
                                  checkpoint=str(self.checkpoint_path)
                                  if self.checkpoint_path else None)
        trainer = Trainer(model, splits, cfg, device=device,
                          drop_path=_macro_value(design, "drop_path", 0.0),
                          aux_weight=_macro_value(design, "auxiliary_weight", 0.4),
                          emit=emit, token=token, job_id=self.job_id, run_id=self.run_id or 0,
                          checkpoint_path=self.checkpoint_path,
                          on_epoch=lambda rec: self._record_epoch(rec, trainer))
        if self.resume:
            self._restore(trainer, emit)
        self.model = trainer.model
        try:
            result = trainer.fit()
        except Cancelled:
            self._close("cancelled", None)
            raise
        except KeyboardInterrupt:
            self._close("interrupted", "interrupted by the user")
            raise
        except Exception as exc:
            self._close("failed", f"{type(exc).__name__}: {exc}")
            raise
        result.update(run_id=self.run_id, experiment_id=self.experiment_id, params=params,
                      macs=macs, epochs=result["epochs_done"], dataset=splits.name,
                      device=str(device), wall_seconds=time.perf_counter() - start,
                      checkpoint=str(self.checkpoint_path) if self.checkpoint_path else None)
        if self.store is not None:
            self.store.update_run(self.run_id, status="finished",
                                  best_val_accuracy=result["best_val_accuracy"],
                                  test_accuracy=result["test_accuracy"],
                                  epochs_done=result["epochs_done"])
            if self._own_experiment:
                self.store.finish_experiment(self.experiment_id, "finished")
        return result

    def _restore(self, trainer: Trainer, emit: EventSink) -> None:
        if self.checkpoint_path is None or not self.checkpoint_path.is_file():
            raise ResumeError(f"run {self.run_id} has no checkpoint to resume from "
                              f"({self.checkpoint_path})")
        trainer.load_state_dict(load_checkpoint(self.checkpoint_path,
                                                map_location=trainer.device))
        if self.store is not None:
            stored = {row["epoch"] for row in self.store.epochs(self.run_id)}
            missing = [r for r in trainer.history if r.epoch not in stored]
            for rec in missing:  # killed after the checkpoint, before the store write
                self._record_epoch(rec, trainer)
            self.store.update_run(self.run_id, epochs_done=trainer.epoch, status="running")
            if self._own_experiment and self.experiment_id is not None:
                self.store.set_experiment_status(self.experiment_id, "running")
        emit(LogMessage(self.job_id, message=f"resuming run {self.run_id} after epoch "
                                             f"{trainer.epoch}"))

    def _close(self, status: str, error: str | None) -> None:
        if self.store is None or self.run_id is None:
            return
        fields: dict[str, Any] = {"status": status}
        if error:
            fields["error"] = error
        self.store.update_run(self.run_id, **fields)
        if self._own_experiment and self.experiment_id is not None:
            self.store.finish_experiment(self.experiment_id, status)


def train_design(design: Any, dataset_splits: DatasetSplits | str, config: TrainConfig,
                 store: Any = None, *, emit: EventSink | None = None,
                 token: CancelToken | None = None, experiment_id: int | None = None,
                 parent_id: int | None = None, run_id: int | None = None,
                 checkpoint_path: str | Path | None = None) -> dict[str, Any]:
    """Train in this thread and return the result dict; errors and ``Cancelled`` propagate.

    Keys: run_id (None without a store), experiment_id, val_accuracy (= best),
    test_accuracy, params, macs, epochs, seconds, stop_reason, history, and ``model``
    (the trained module with its best-validation weights).
    """
    job = TrainJob(design, dataset_splits, config, store, run_id=run_id,
                   experiment_id=experiment_id, parent_id=parent_id,
                   checkpoint_path=checkpoint_path)
    if token is not None:
        job.token = token
    sink: EventSink = emit or _ignore
    result = job.execute(sink, job.token)
    result["model"] = job.model
    return result


def _ignore(event: Event) -> None:
    return None


def resume_job(store: Any, run_id: int) -> TrainJob:
    """A ``TrainJob`` that continues ``run_id`` from its last checkpoint.

    Raises ``ResumeError`` when the run cannot be resumed (message says why).
    """
    from engine.store import StoreError

    try:
        run = store.get_run(run_id)
    except StoreError as exc:
        raise ResumeError(str(exc)) from exc
    if run.kind != "train":
        raise ResumeError(f"run {run_id} is a {run.kind!r} run; only training runs resume")
    if run.status == "running":
        store.mark_interrupted()
        run = store.get_run(run_id)
    if run.status == "finished":
        acc = run.test_accuracy
        acc_text = "" if acc is None else f", test accuracy {100 * acc:.2f}%"
        raise ResumeError(f"run {run_id} already finished ({run.epochs_done} "
                          f"epochs{acc_text}); there is nothing to resume")
    if run.status == "running":
        raise ResumeError(f"run {run_id} is still running in process {run.pid} "
                          f"on {run.host}; cancel it first")
    if run.status not in RESUMABLE:
        raise ResumeError(f"run {run_id} is {run.status}; only {', '.join(RESUMABLE)} "
                          "runs resume")
    config = run.config or {}
    if not config.get("dataset"):
        raise ResumeError(f"run {run_id} was trained on in-memory data with no recorded "
                          "source; it cannot be reloaded to resume")
    if not run.checkpoint:
        raise ResumeError(f"run {run_id} has no checkpoint to resume from")
    checkpoint = Path(run.checkpoint)
    load_checkpoint(checkpoint)  # fail early, naming the file, before touching the run
    design = store.get_design(run.design_hash)
    try:  # settings stored by an older version may fail today's checks
        train_config = TrainConfig.from_dict(config.get("train", {}))
    except ValueError as exc:
        raise ResumeError(f"run {run_id}: its stored training settings are invalid: "
                          f"{exc}") from exc
    splits = load_spec(config["dataset"])
    job = TrainJob(design, splits, train_config, store,
                   run_id=run_id, experiment_id=run.experiment_id, resume=True,
                   checkpoint_path=checkpoint)
    if run.experiment_id is not None:
        experiment = store.get_experiment(run.experiment_id)
        job._own_experiment = experiment.kind == "train"
    return job


def resume_run(store: Any, run_id: int, *, emit: EventSink | None = None,
               token: CancelToken | None = None) -> dict[str, Any]:
    """Continue a killed/cancelled run in this thread; returns the result dict."""
    job = resume_job(store, run_id)
    if token is not None:
        job.token = token
    result = job.execute(emit or _ignore, job.token)
    result["model"] = job.model
    return result
