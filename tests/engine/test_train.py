"""engine.train: schedules, the trainer, TrainJob with the store, cancellation, checkpoints."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from engine.arch.presets import get_preset
from engine.data import load_dataset
from engine.events import EpochFinished, JobCancelled, JobFailed, JobFinished, JobStarted
from engine.jobs import Cancelled, CancelToken
from engine.store import Store
from engine.train import (
    CheckpointError,
    TrainConfig,
    Trainer,
    TrainJob,
    load_checkpoint,
    lr_at,
    save_checkpoint,
    train_design,
)
from engine.train.checkpoint import seed_everything

QUICK = dict(batch_size=64, lr=0.05, subset=320, eval_batch_size=512)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def tiny_cell(channels=4, layers=3, auxiliary=False):
    design = get_preset("darts-v2")
    design.set_macro(channels=channels, layers=layers, auxiliary=auxiliary, drop_path=0.1)
    return design


def mlp():
    seed_everything(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(32, 10))


def strip(history):
    return [{k: v for k, v in h.items() if k != "seconds"} for h in history]


def test_lr_schedules():
    cfg = TrainConfig(epochs=10, lr=0.1, warmup_epochs=1, schedule="cosine")
    assert lr_at(0, 10, cfg) == pytest.approx(0.01)
    assert lr_at(9, 10, cfg) == pytest.approx(0.1)
    assert lr_at(10, 10, cfg) == pytest.approx(0.1)
    assert lr_at(99, 10, cfg) < 0.001
    mid = lr_at(55, 10, cfg)
    assert mid == pytest.approx(0.05 * (1 + math.cos(math.pi * 45 / 90)))
    step = TrainConfig(epochs=30, lr=0.1, schedule="step", step_size=10, gamma=0.5)
    assert [lr_at(e * 5, 5, step) for e in (0, 9, 10, 25)] == pytest.approx(
        [0.1, 0.1, 0.05, 0.025])


def test_config_rejects_nonsense_and_round_trips():
    with pytest.raises(ValueError, match="epochs must be >= 1.*optimizer must be sgd or adamw"):
        TrainConfig(epochs=0, optimizer="rmsprop")
    for bad, message in (({"subset": 0}, "subset must be >= 1"),
                         ({"time_budget_s": 0.0}, "time_budget_s must be > 0"),
                         ({"weight_decay": -1.0}, "weight_decay must be >= 0"),
                         ({"warmup_epochs": float("nan")}, "warmup_epochs must be >= 0"),
                         ({"cutout": -3}, "cutout must be >= 0"),
                         ({"epochs": 1, "warmup_epochs": 5.0}, r"warmup_epochs \(5\) must be "
                                                                r"less than epochs \(1\)")):
        with pytest.raises(ValueError, match=message):  # were silently accepted
            TrainConfig(**bad)
    cfg = TrainConfig(epochs=3, optimizer="adamw", patience=2)
    assert TrainConfig.from_dict({**cfg.to_dict(), "from_the_future": 1}) == cfg


def test_cell_network_learns_digits_above_chance(digits):
    result = train_design(tiny_cell(channels=6), digits,
                          TrainConfig(epochs=2, **{**QUICK, "subset": None}))
    assert result["run_id"] is None and result["epochs"] == 2
    assert result["test_accuracy"] > 0.5, result  # chance is 0.1
    assert result["params"] > 0 and isinstance(result["model"], nn.Module)
    assert result["history"][1]["train_loss"] < result["history"][0]["train_loss"]


def test_same_seed_same_metrics_and_another_seed_differs(digits):
    cfg = TrainConfig(epochs=2, seed=3, **QUICK)
    a = Trainer(mlp(), digits, cfg).fit()
    b = Trainer(mlp(), digits, cfg).fit()
    assert strip(a["history"]) == strip(b["history"])
    assert a["test_accuracy"] == b["test_accuracy"]
    c = Trainer(mlp(), digits, TrainConfig(epochs=2, seed=4, **QUICK)).fit()
    assert strip(c["history"]) != strip(a["history"])


def test_adamw_step_schedule_label_smoothing_and_clipping(digits):
    cfg = TrainConfig(epochs=2, optimizer="adamw", lr=2e-2, schedule="step", step_size=1,
                      label_smoothing=0.1, grad_clip=0.5, warmup_epochs=0.5, batch_size=64,
                      subset=320)
    result = Trainer(mlp(), digits, cfg).fit()
    lrs = [h["lr"] for h in result["history"]]
    assert lrs == pytest.approx([2e-2, 2e-3])
    assert result["test_accuracy"] > 0.3


def test_early_stopping_and_best_weights(digits):
    cfg = TrainConfig(epochs=6, patience=1, min_delta=1.0, **QUICK)  # nothing improves by 1.0
    trainer = Trainer(mlp(), digits, cfg)
    result = trainer.fit()
    assert result["stop_reason"] == "early_stop" and result["epochs_done"] == 2
    assert result["best_epoch"] == 1
    best = trainer.best_state
    assert all(torch.equal(best[k], v) for k, v in trainer.model.state_dict().items())


def test_auxiliary_head_and_drop_path_schedule(digits):
    from engine.builders import build_model
    from engine.data import adapt_design

    design = adapt_design(tiny_cell(auxiliary=True), digits)
    seen = []

    class Spy(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = build_model(design)

        def forward(self, x):
            if self.training:
                seen.append(self.drop_path_prob)
            self.inner.drop_path_prob = self.drop_path_prob
            return self.inner(x)

    spy = Spy()
    spy.drop_path_prob = 0.0
    cfg = TrainConfig(epochs=2, batch_size=160, subset=160)
    losses = {}
    for weight in (0.0, 0.4):
        seed_everything(0)
        spy.inner = build_model(design)
        trainer = Trainer(spy, digits, cfg, drop_path=0.2, aux_weight=weight)
        assert isinstance(spy.inner.train()(digits.train.x[:2]), tuple)
        losses[weight] = trainer.fit()["history"][0]["train_loss"]
    assert sorted(set(seen)) == pytest.approx([0.0, 0.1])
    assert losses[0.4] > losses[0.0]  # the auxiliary loss is added


class CancelOnCheck(CancelToken):
    """Cancels itself at the n-th check (a deterministic mid-epoch cancel)."""

    def __init__(self, n):
        super().__init__()
        self.n = n

    def check(self):
        self.n -= 1
        if self.n <= 0:
            self.cancel()
        super().check()


def test_cancellation_mid_epoch(digits):
    cfg = TrainConfig(epochs=3, check_every=1, **QUICK)
    trainer = Trainer(mlp(), digits, cfg, token=CancelOnCheck(8))
    with pytest.raises(Cancelled):
        trainer.fit()
    assert trainer.epoch == 1 and trainer.step == 6  # epoch 1 (5 steps + 1 check) + 1 step


def test_train_job_records_everything_in_the_store(tmp_path, digits):
    store = Store(tmp_path / "s.db")
    events = []
    job = TrainJob(tiny_cell(), digits, TrainConfig(epochs=2, **QUICK), store)
    result = job.run(events.append)
    assert isinstance(events[0], JobStarted) and isinstance(events[-1], JobFinished)
    epochs = [e for e in events if isinstance(e, EpochFinished)]
    assert [e.epoch for e in epochs] == [1, 2] and epochs[0].run_id == result["run_id"]
    run = store.get_run(result["run_id"])
    assert run.status == "finished" and run.kind == "train"
    assert run.epochs_done == 2 and run.test_accuracy == result["test_accuracy"]
    assert run.best_val_accuracy == max(e.val_accuracy for e in epochs)
    assert run.params == result["params"] > 0
    assert run.config["dataset"]["name"] == "digits"
    rows = store.epochs(result["run_id"])
    assert [r["val_accuracy"] for r in rows] == [e.val_accuracy for e in epochs]
    state = load_checkpoint(run.checkpoint)
    assert state["epoch"] == 2 and "rng" in state and "optimizer" in state
    assert store.get_experiment(run.experiment_id).status == "finished"
    store.close()


def test_train_job_cancel_and_failure_are_recorded(tmp_path, digits, monkeypatch):
    store = Store(tmp_path / "s.db")
    events = []
    job = TrainJob(tiny_cell(), digits, TrainConfig(epochs=3, **QUICK), store)

    def cancel_after_first_epoch(event):
        events.append(event)
        if isinstance(event, EpochFinished):
            job.cancel()

    job.run(cancel_after_first_epoch)
    assert isinstance(events[-1], JobCancelled)
    run = store.get_run(job.run_id)
    assert run.status == "cancelled" and len(store.epochs(job.run_id)) == 1

    def explode(self):
        raise RuntimeError("out of memory (simulated)")

    monkeypatch.setattr(Trainer, "train_epoch", explode)
    events.clear()
    failing = TrainJob(tiny_cell(), digits, TrainConfig(epochs=1, **QUICK), store)
    failing.run(events.append)
    assert isinstance(events[-1], JobFailed) and "simulated" in events[-1].error
    run = store.get_run(failing.run_id)
    assert run.status == "failed" and "simulated" in run.error
    store.close()


def test_checkpoint_round_trip_and_corrupt_file(tmp_path):
    path = save_checkpoint({"epoch": 1, "w": torch.ones(2)}, tmp_path / "c.pt")
    assert load_checkpoint(path)["epoch"] == 1
    assert not list(tmp_path.glob(".*tmp"))
    path.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(CheckpointError, match=r"checkpoint .*c\.pt is corrupt or unreadable"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")
    torch.save({"format": "something-else"}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a NAS Studio checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


def test_time_budget_stops_after_the_epoch_that_passes_it(digits):
    result = Trainer(mlp(), digits, TrainConfig(epochs=5, time_budget_s=1e-6, **QUICK)).fit()
    assert result["stop_reason"] == "time_budget" and result["epochs_done"] == 1
    assert 0 <= result["test_accuracy"] <= 1


def test_train_job_loads_a_dataset_by_name(tmp_path):
    store = Store(tmp_path / "s.db")
    job = TrainJob(tiny_cell(), "digits", TrainConfig(epochs=1, **QUICK), store)
    assert job.describe() == "train darts-v2 on digits" and job.total() == 1
    result = job.execute(lambda event: None, job.token)
    assert result["dataset"] == "digits" and store.get_run(result["run_id"]).macs > 0
    store.close()
