"""Evaluators for the executor tests: ones that kill the worker process running them
(never use them in-process) and one that reports the worker's environment."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from engine.search.evaluators import Evaluator, TrainEvaluator


class DyingEvaluator(TrainEvaluator):
    """Kills its own worker process in trial ``once`` the first time (the retry then
    trains) and in trial ``always`` every time."""

    def __init__(self, *args: Any, marks: str, once: int = -1, always: int = -1,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.marks, self.once, self.always = marks, once, always

    def evaluate(self, design, code, *, trial, seed, budget=None, context=None):
        mark = Path(self.marks) / f"trial-{trial}"
        with open(mark, "a") as fh:        # one line per attempt
            fh.write(f"{os.getpid()}\n")
        if trial == self.always or (trial == self.once and len(mark.read_text().split()) == 1):
            os.kill(os.getpid(), signal.SIGKILL)
        return super().evaluate(design, code, trial=trial, seed=seed, budget=budget,
                                context=context)


class EnvEvaluator(Evaluator):
    """Scores 1.0 and reports the worker's CUDA_VISIBLE_DEVICES."""

    objective = "val_accuracy"
    report = "val_accuracy"

    def evaluate(self, design, code, *, trial, seed, budget=None, context=None):
        return {"val_accuracy": 1.0, "cuda": os.environ.get("CUDA_VISIBLE_DEVICES")}

    def spec(self) -> dict[str, Any]:
        return {"kind": "env"}
