"""Stored runs as models: the one run loader, and what a run can be used for.

``load_run`` rebuilds a train or compress run's design and model from the store and
its checkpoint (compress and export both use it).  ``loadable``/``can_compress`` are
pure checks on a ``RunRecord`` that the GUI's run pickers ask before offering a run,
so they never offer what the engine then refuses (an int8 ONNX run has no PyTorch
model).  No torch import until a model is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from engine.store.records import RunRecord

INT8_ONNX = "onnx-int8"


class RunLoadError(ValueError):
    """A run that cannot be loaded as a model; the message says why and what to do."""


@dataclass(frozen=True)
class Verdict:
    """Whether a run can be used for something, and if not, why (a sentence)."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


YES = Verdict(True)


class LoadedRun(NamedTuple):
    design: Any
    model: Any          # nn.Module in eval mode, best weights loaded
    record: RunRecord


def loadable(run: RunRecord) -> Verdict:
    """Does the run have PyTorch weights that ``load_run`` can rebuild?"""
    if (run.recipe or {}).get("format") == INT8_ONNX:
        return Verdict(False, f"run {run.id} is already an int8 ONNX model ({run.checkpoint}); "
                       f"use that file, or use its parent run {run.parent_id}")
    if not run.checkpoint:
        return Verdict(False, f"run {run.id} has no checkpoint (status {run.status})")
    if not Path(run.checkpoint).is_file():
        return Verdict(False, f"run {run.id}'s checkpoint {run.checkpoint} is missing")
    return YES


def can_compress(run: RunRecord) -> Verdict:
    """A finished run with loadable weights and a recorded dataset (for fine-tuning and
    calibration)."""
    if run.status != "finished":
        return Verdict(False, f"run {run.id} is {run.status}; only finished runs can be "
                       "compressed")
    verdict = loadable(run)
    if not verdict:
        return verdict
    if not run.config.get("dataset"):
        return Verdict(False, f"run {run.id} was trained on in-memory data with no recorded "
                       "source; pass the dataset explicitly")
    return YES


def load_run(store: Any, run_id: int) -> LoadedRun:
    """The run's design and model (best weights, eval mode) and its record.

    Compressed runs resize the rebuilt design to their recorded pruned structure (see
    ``engine.compress.checkpoint``).  Raises ``StoreError`` for an unknown run and
    ``RunLoadError`` for a run without loadable weights.
    """
    from engine.builders import build_model

    run = store.get_run(run_id)
    verdict = loadable(run)
    if not verdict:
        raise RunLoadError(verdict.reason)
    design = store.get_design(run.design_hash)
    model = build_model(design)
    path = Path(run.checkpoint or "")
    try:
        if run.kind == "compress" or path.suffix == ".safetensors":   # pruned weights
            from engine.compress.checkpoint import load_pruned

            load_pruned(model, path)
        else:
            model.load_state_dict(_trained_weights(path), strict=True)
    except Exception as exc:  # noqa: BLE001 - named for the user
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RunLoadError(f"run {run_id}: cannot load {path}: {first}") from exc
    return LoadedRun(design, model.eval(), run)


def _trained_weights(path: Path) -> dict[str, Any]:
    """Best-validation weights of a training checkpoint (``weights_only`` load)."""
    from engine.train.checkpoint import load_checkpoint

    state = load_checkpoint(path)
    weights = (state.get("best") or {}).get("model") or state.get("model")
    if weights is None:
        raise ValueError(f"checkpoint {path} holds no model weights")
    return weights
