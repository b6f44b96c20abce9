"""Turn dialog settings into engine jobs (lazy engine imports: torch loads only here).

Every function validates its settings and raises ``ValueError`` with a message the
dialog shows next to the buttons.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.jobs import Job
from engine.search.defaults import SMALL_DARTS_SPACE, TRAINED_TRIAL
from engine.search.strategies import default_strategy, describe_strategies, strategy_names

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10", "cifar100")
SPACES = ("darts", "nas-bench-201", "mbconv")
STRATEGIES = strategy_names()
STRATEGY_HELP = describe_strategies()



def train_defaults() -> dict[str, Any]:
    return {"dataset": "digits", "epochs": 5, "batch_size": 64, "lr": 0.05,
            "optimizer": "sgd", "subset": None, "seed": 0, "patience": None,
            "channels": 16, "layers": 5, "skip_bad_images": False}


def train_job(design: Any, settings: dict[str, Any], store: Any) -> Job:
    """A ``TrainJob`` for ``design`` (cell networks take channels/layers from settings)."""
    from engine.train import TrainConfig, TrainJob

    s = {**train_defaults(), **settings}
    if design is None:
        raise ValueError("no design to train: open or create a design first")
    design = design.copy()
    if getattr(design, "kind", "") == "cell":
        if int(s["channels"]) < 1 or int(s["layers"]) < 1:
            raise ValueError("channels and layers must be at least 1")
        design.set_macro(channels=int(s["channels"]), layers=int(s["layers"]))
    config = TrainConfig(epochs=int(s["epochs"]), batch_size=int(s["batch_size"]),
                         lr=float(s["lr"]), optimizer=s["optimizer"], seed=int(s["seed"]),
                         subset=int(s["subset"]) if s.get("subset") else None,
                         patience=int(s["patience"]) if s.get("patience") else None)
    dataset = str(s["dataset"]).strip()
    if not dataset:
        raise ValueError("choose a dataset (digits is built in)")
    return TrainJob(design, dataset, config, store, name=s.get("name") or None,
                    skip_bad_images=bool(s.get("skip_bad_images")))


def search_defaults() -> dict[str, Any]:
    # The trial training shared with `nas-studio search` (engine/search/defaults.py): two
    # epochs on the whole digits training split, ~0.9 validation accuracy.
    return {"space": "darts", "strategy": default_strategy(2), "budget": 8, "seed": 0,
            "evaluator": "train", "dataset": TRAINED_TRIAL["dataset"],
            "epochs_per_trial": TRAINED_TRIAL["epochs_per_trial"],
            "subset": TRAINED_TRIAL["subset"], "skip_bad_images": False,
            "benchmark": "", "skip_bad_rows": False,
            "objective": "val_accuracy", "report": "test_accuracy",
            "objectives": ["accuracy", "params"], "max_params": None, "max_macs": None,
            "executor": "local", "workers": 1, "address": ""}


def search_config(settings: dict[str, Any]) -> Any:
    """The ``SearchConfig`` for dialog settings."""
    from engine.search.job import SearchConfig

    s = {**search_defaults(), **settings}
    if s["space"] not in SPACES:
        raise ValueError(f"unknown search space {s['space']!r}; choose one of {', '.join(SPACES)}")
    if int(s["budget"]) < 1:
        raise ValueError("the budget must be at least 1 trial")
    space = dict(SMALL_DARTS_SPACE) if s["space"] == "darts" else {"space": s["space"]}
    from engine.arch.space import space_from_spec
    from engine.search.strategies import check_strategy

    check_strategy(s["strategy"], space_from_spec(space), max(1, len(s["objectives"])),
                   tabular=s["evaluator"] == "tabular")  # StrategyError is a ValueError
    if s["evaluator"] == "tabular":
        if not str(s["benchmark"] or "").strip():
            raise ValueError("choose a benchmark table: a CSV with a cellstr column "
                             "(Browse…), or evaluate by training")
        path = Path(str(s["benchmark"])).expanduser()
        if not path.is_file():
            raise ValueError(f"benchmark table not found: {path}")
        if s["space"] != "nas-bench-201":
            raise ValueError("a tabular benchmark holds nas-bench-201 cells: choose that space")
        evaluator = {"kind": "tabular", "path": str(path), "objective": s["objective"],
                     "report": s["report"] or s["objective"],
                     **({"skip_bad_rows": True} if s.get("skip_bad_rows") else {})}
    else:
        evaluator = {"kind": "train", "dataset": s["dataset"],
                     "epochs": int(s["epochs_per_trial"]),
                     "subset": int(s["subset"]) if s.get("subset") else None,
                     "batch_size": TRAINED_TRIAL["batch_size"], "lr": TRAINED_TRIAL["lr"],
                     **({"skip_bad_images": True} if s.get("skip_bad_images") else {})}
    constraints = {k: float(s[k]) for k in ("max_params", "max_macs") if s.get(k)}
    from engine.search.executors import ExecutorError, ExecutorSettings, executor_available

    address = str(s.get("address") or "").strip() or None
    if (why := executor_available(s["executor"])) is not None:
        raise ExecutorError(why)
    executor = ExecutorSettings(s["executor"], address if s["executor"] == "ray" else None)
    return SearchConfig(space=space, evaluator=evaluator, strategy=s["strategy"],
                        budget=int(s["budget"]), seed=int(s["seed"]),
                        objectives=list(s["objectives"]), constraints=constraints,
                        workers=max(1, int(s["workers"])), executor=executor.to_dict())


def search_job(settings: dict[str, Any], store: Any) -> Job:
    from engine.search.job import SearchJob

    return SearchJob(search_config(settings), store, name=settings.get("name") or None)


def compress_defaults() -> dict[str, Any]:
    return {"run_id": None, "prune": 0.5, "prune_kind": "structured",
            "criterion": "magnitude", "quantize": None, "finetune_epochs": 2}


def compress_job(settings: dict[str, Any], store: Any) -> Job:
    from engine.compress.job import CompressJob
    from engine.compress.recipe import CompressOptions

    s = {**compress_defaults(), **settings}
    if s.get("run_id") is None:
        raise ValueError("choose the run to compress (a finished training run)")
    if not s.get("prune") and not s.get("quantize"):
        raise ValueError("nothing to do: choose a pruning ratio, a quantization, or both")
    options = CompressOptions(prune=float(s["prune"]) if s.get("prune") else None,
                              prune_kind=s["prune_kind"], criterion=s["criterion"],
                              quantize=s.get("quantize") or None,
                              finetune_epochs=int(s["finetune_epochs"]))
    return CompressJob(store, int(s["run_id"]), options)


def resume_train_job(store: Any, run_id: int) -> Job:
    """A job continuing an interrupted/cancelled training run from its checkpoint."""
    from engine.train import resume_job

    return resume_job(store, run_id)


def resume_search_job(store: Any, experiment_id: int) -> Job:
    """A job continuing a search experiment without re-running finished trials."""
    from engine.search.job import SearchConfig, SearchJob

    exp = store.get_experiment(experiment_id)
    if exp.kind != "search":
        raise ValueError(f"experiment {experiment_id} is a {exp.kind} experiment, "
                         "not a search")
    return SearchJob(SearchConfig.from_dict(exp.config), store, experiment_id=experiment_id)
