"""Compression as a job: load a stored run, prune / fine-tune / quantize, record each step.

Every step is a new run (kind ``"compress"``) whose ``parent_id`` is the run it came
from, with its recipe and measured figures: params, MACs, ``size_bytes`` (the fp32 or
int8 ONNX file), ``latency_ms`` (onnxruntime on CPU, median, fixed batch and threads)
and ``test_accuracy`` (a fraction, as the trainer records it).  The parent's figures are
measured the same way in the same process for a fair before/after.  Nothing about the
parent run is written: a model that cannot be compressed fails before any row exists.
"""

from __future__ import annotations

import copy
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.compress.checkpoint import save_pruned
from engine.compress.finetune import FinetuneConfig, batches, evaluate, finetune
from engine.compress.prune import (
    CompressError,
    count_macs,
    count_params,
    head_layers,
    make_permanent,
    prune_structured,
    prune_unstructured,
    unsupported_layers,
)
from engine.compress.quantize import (
    export_fp32,
    ort_accuracy,
    ort_latency,
    quantize_dynamic_int8,
    quantize_static_int8,
)
from engine.compress.recipe import CompressOptions, prune_recipe, quantize_recipe
from engine.compress.runs import RunLoadError, can_compress, load_run
from engine.events import LogMessage, Progress
from engine.jobs import CancelToken, EventSink, Job

FIGURES = ("params", "macs", "size_bytes", "latency_ms", "test_accuracy")


@dataclass
class Source:
    """A stored run loaded for compression."""

    run: dict[str, Any]
    design: Any
    model: nn.Module
    splits: Any
    input_shape: tuple[int, int, int]


def _run_dir(run_id: int, store: Any) -> Path:
    """The run's folder, scoped by database like training checkpoints (ids repeat across
    databases, so two stores' compressed run 12 must not share a folder)."""
    from engine.train.checkpoint import run_checkpoint_dir

    return run_checkpoint_dir(run_id, getattr(store, "path", None))


def load_source(store: Any, run_id: int, splits: Any = None) -> Source:
    """The run, its design, its model and its dataset (reloaded from the run's config)."""
    from engine.builders import input_shape_of
    from engine.store import StoreError

    try:
        design, model, run = load_run(store, run_id)
    except (StoreError, RunLoadError) as exc:
        raise CompressError(str(exc)) from exc
    verdict = can_compress(run)
    if not verdict and (splits is None or run.status != "finished"):
        raise CompressError(verdict.reason)
    if splits is None:
        from engine.data import load_spec

        splits = load_spec(run.config["dataset"])
    return Source(run, design, model, splits, tuple(input_shape_of(design)))


def measure(model: nn.Module, input_shape: tuple[int, int, int], onnx_path: Path,
            opts: CompressOptions, *, accuracy: float | None = None,
            splits: Any = None) -> dict[str, Any]:
    """Export fp32 ONNX to ``onnx_path`` and measure params, MACs, size, latency, accuracy."""
    model = model.cpu().eval()
    try:
        export_fp32(model, input_shape, onnx_path)
    except Exception as exc:  # noqa: BLE001 - the exporter names the unsupported op
        raise CompressError(f"ONNX export failed: {type(exc).__name__}: {exc}") from exc
    lat = ort_latency(onnx_path, input_shape, batch=opts.latency_batch,
                      threads=opts.latency_threads, repeats=opts.latency_repeats)
    if accuracy is None:
        accuracy = evaluate(model, splits, "test")
    return {"params": count_params(model), "macs": count_macs(model, input_shape),
            "size_bytes": onnx_path.stat().st_size, "latency_ms": lat["median_ms"],
            "test_accuracy": float(accuracy)}


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class CompressJob(Job):
    """Compress stored run ``run_id`` with ``options``; each step becomes a child run.

    ``execute`` returns the final run's figures with ``parent_figures`` (its immediate
    parent, measured in this process), ``source_figures`` and one entry per step.
    """

    kind = "compress"

    def __init__(self, store: Any, run_id: int, options: CompressOptions, *,
                 dataset: Any = None, job_id: str | None = None) -> None:
        super().__init__(job_id)
        self.store, self.run_id, self.options = store, int(run_id), options
        self.dataset = dataset
        self.model: nn.Module | None = None   # the last PyTorch model produced

    def describe(self) -> str:
        parts = []
        if self.options.prune is not None:
            parts.append(f"{self.options.prune_kind} prune {self.options.prune:g}")
        if self.options.quantize:
            parts.append(f"quantize {self.options.quantize}")
        return f"compress run {self.run_id}: " + ", ".join(parts)

    def total(self) -> int | None:
        return int(self.options.prune is not None) + int(self.options.quantize is not None)

    # -- steps ------------------------------------------------------------------------
    def execute(self, emit: EventSink, token: CancelToken) -> dict[str, Any]:
        opts = self.options
        torch.manual_seed(opts.seed)
        src = load_source(self.store, self.run_id, self.dataset)
        self._check_supported(src)
        with tempfile.TemporaryDirectory(prefix="nas-compress-") as tmp:
            return self._steps(src, Path(tmp), emit, token)

    def _steps(self, src: Source, tmp: Path, emit: EventSink,
               token: CancelToken) -> dict[str, Any]:
        opts = self.options
        emit(Progress(self.job_id, done=0, total=self.total(),
                      message=f"measuring run {self.run_id}"))
        source_figs = measure(src.model, src.input_shape, tmp / "parent.onnx", opts,
                              splits=src.splits)
        emit(LogMessage(self.job_id, message=f"run {self.run_id}: " + _fmt(source_figs)))
        token.check()
        steps: list[dict[str, Any]] = []
        parent_id, parent_figs = self.run_id, source_figs
        model, design_hash = src.model, src.run.design_hash
        if opts.prune is not None:
            step = self._prune_step(src, model, emit, token)
            steps.append(step)
            model = step.pop("_model")
            design_hash = step["design_hash"]
            parent_id, parent_figs = step["run_id"], step["figures"]
            emit(Progress(self.job_id, done=1, total=self.total(), message="pruned"))
        if opts.quantize is not None:
            step = self._quantize_step(src, model, parent_id, design_hash, tmp, emit, token)
            step["parent_figures"] = parent_figs
            steps.append(step)
        self.model = model
        final = steps[-1]
        result = {"run_id": final["run_id"], "parent": final["parent"],
                  **final["figures"],
                  "parent_figures": final.get("parent_figures", source_figs),
                  "source": self.run_id, "source_figures": source_figs,
                  "steps": [{k: v for k, v in s.items() if not k.startswith("_")}
                            for s in steps]}
        return result

    def _check_supported(self, src: Source) -> None:
        """Refuse, before any run row exists, a model structured pruning cannot handle."""
        if self.options.prune is None or self.options.prune_kind != "structured":
            return
        example = torch.zeros(2, *src.input_shape)
        heads = head_layers(src.model, example)
        bad = unsupported_layers(src.model, heads)
        if bad:
            raise CompressError(f"run {self.run_id} cannot be pruned: unsupported layer(s) "
                                + "; ".join(bad))

    def _new_run(self, parent_id: int, design_hash: str, recipe: dict[str, Any],
                 splits: Any) -> int:
        config = {"dataset": dict(getattr(splits, "spec", {}) or {}),
                  "dataset_name": getattr(splits, "name", None),
                  "compress": self.options.to_dict()}
        experiment_id = self.store.get_run(self.run_id).experiment_id
        run_id = self.store.create_run(experiment_id, design_hash, kind="compress",
                                       parent_id=parent_id, config=config, recipe=recipe)
        # an earlier compression of this parent killed half-way cannot be resumed: say so
        self.store.supersede_runs(f"superseded: the compression of run {parent_id} was "
                                  f"redone as run {run_id}", kind="compress",
                                  parent_id=parent_id, keep=(run_id,))
        return run_id

    def _fail(self, run_id: int, exc: BaseException) -> None:
        from engine.jobs import Cancelled

        status = "cancelled" if isinstance(exc, Cancelled) else "failed"
        error = None if status == "cancelled" else f"{type(exc).__name__}: {exc}"
        self.store.update_run(run_id, status=status, **({"error": error} if error else {}))

    def _prune_step(self, src: Source, parent: nn.Module, emit: EventSink,
                    token: CancelToken) -> dict[str, Any]:
        from engine.compress.derive import derive_design

        opts = self.options
        recipe = prune_recipe(opts, {}, "pruned-derivative")
        run_id = self._new_run(self.run_id, src.run.design_hash, recipe, src.splits)
        try:
            model = copy.deepcopy(parent).cpu().eval()
            example = torch.zeros(2, *src.input_shape)
            if opts.prune_kind == "structured":
                calib = batches(src.splits, "train", opts.calibration_batch_size)
                report = prune_structured(
                    model, example, float(opts.prune), criterion=opts.criterion,
                    steps=opts.steps, calibration=calib[:opts.calibration_batches],
                    round_to=opts.round_to,
                    on_step=lambda i, n: emit(Progress(self.job_id, done=i / n / 2,
                                                       total=self.total(),
                                                       message=f"pruning step {i}/{n}")))
            else:
                report = prune_unstructured(model, float(opts.prune), scope=opts.scope,
                                            input_shape=src.input_shape,
                                            permanent=opts.finetune_epochs == 0)
            emit(LogMessage(self.job_id, message=_prune_message(report.as_dict())))
            token.check()
            accuracy = None
            if opts.finetune_epochs > 0:
                accuracy = self._finetune(model, src, parent, run_id, emit, token)
                if opts.prune_kind == "unstructured":  # masks kept the zeros while training
                    report.sparsity = make_permanent(model)
            derived = (derive_design(src.design, model) if opts.prune_kind == "structured"
                       else None)  # unstructured pruning keeps every shape
            fmt, design_hash = "pruned-derivative", src.run.design_hash
            if derived is not None:
                fmt, design_hash = "design", self.store.add_design(derived)
            out_dir = _run_dir(run_id, self.store)
            weights = out_dir / "pruned.safetensors"
            save_pruned(model, weights, {"parent_run": self.run_id, "recipe": recipe})
            onnx_path = out_dir / "model.onnx"
            figs = measure(model, src.input_shape, onnx_path, opts, accuracy=accuracy,
                           splits=src.splits)
            recipe = prune_recipe(opts, report.as_dict(), fmt)
            if opts.finetune_epochs == 0:  # the fine-tuner records it otherwise
                self.store.update_run(run_id, best_val_accuracy=evaluate(model, src.splits,
                                                                         "val"))
            self.store.update_run(run_id, status="finished", recipe=recipe,
                                  design_hash=design_hash, checkpoint=str(weights),
                                  **figs)
            self._artifact(run_id, "weights", weights)
            self._artifact(run_id, "onnx", onnx_path)
        except BaseException as exc:
            self._fail(run_id, exc)
            raise
        emit(LogMessage(self.job_id, message=f"run {run_id}: " + _fmt(figs)))
        return {"run_id": run_id, "parent": self.run_id, "method": recipe["method"],
                "figures": figs, "onnx": str(onnx_path), "design_hash": design_hash,
                "format": fmt, "_model": model}

    def _finetune(self, model: nn.Module, src: Source, teacher: nn.Module, run_id: int,
                  emit: EventSink, token: CancelToken) -> float:
        opts = self.options
        cfg = FinetuneConfig(epochs=opts.finetune_epochs, lr=opts.finetune_lr,
                             patience=opts.patience, distill=opts.distill,
                             temperature=opts.temperature, alpha=opts.alpha, seed=opts.seed,
                             device=opts.device,
                             aux_weight=float(getattr(getattr(src.design, "macro", None),
                                                      "auxiliary_weight", 0.4)))

        def record(rec: Any) -> None:
            metrics = {k: v for k, v in rec.__dict__.items() if k != "epoch"}
            self.store.add_epoch(run_id, rec.epoch, **metrics)

        result = finetune(model, src.splits, cfg, teacher=copy.deepcopy(teacher) if
                          opts.distill else None, emit=emit, token=token, job_id=self.job_id,
                          run_id=run_id, on_epoch=record)
        model.cpu().eval()
        self.store.update_run(run_id, best_val_accuracy=result["best_val_accuracy"],
                              epochs_done=result["epochs_done"])
        return float(result["test_accuracy"])

    def _quantize_step(self, src: Source, model: nn.Module, parent_id: int, design_hash: str,
                       tmp: Path, emit: EventSink, token: CancelToken) -> dict[str, Any]:
        opts = self.options
        calib_n = opts.calibration_size() if opts.quantize in ("int8", "qat") else 0
        details = {"runtime": "onnxruntime",
                   "quant_format": opts.quant_format if calib_n else "dynamic",
                   "per_channel": bool(calib_n), "calibration_size": calib_n,
                   "latency_batch": opts.latency_batch, "latency_threads": opts.latency_threads}
        recipe = quantize_recipe(opts, details)
        run_id = self._new_run(parent_id, design_hash, recipe, src.splits)
        try:
            out = _run_dir(run_id, self.store) / "model.int8.onnx"
            if opts.quantize == "qat":
                model = self._qat(model, src, run_id, emit, token)
            raw = export_fp32(model, src.input_shape, tmp / "raw.onnx", compact=False)
            if calib_n:
                calib = [x.numpy() for x, _ in
                         batches(src.splits, "train", opts.calibration_batch_size)]
                quantize_static_int8(raw, out, calib[:opts.calibration_batches],
                                     quant_format=opts.quant_format)
            else:
                quantize_dynamic_int8(raw, out)
            token.check()
            lat = ort_latency(out, src.input_shape, batch=opts.latency_batch,
                              threads=opts.latency_threads, repeats=opts.latency_repeats)
            parent = self.store.get_run(parent_id)
            figs = {"params": parent.params, "macs": parent.macs,
                    "size_bytes": out.stat().st_size, "latency_ms": lat["median_ms"],
                    "test_accuracy": ort_accuracy(out, batches(src.splits, "test"))}
            if parent_id == self.run_id:   # parent figures of a train run are not stored
                figs["params"] = count_params(src.model)
                figs["macs"] = count_macs(src.model, src.input_shape)
            val = ort_accuracy(out, batches(src.splits, "val"))
            self.store.update_run(run_id, status="finished", checkpoint=str(out),
                                  best_val_accuracy=val, **figs)
            self._artifact(run_id, "onnx-int8", out)
        except BaseException as exc:
            self._fail(run_id, exc)
            raise
        emit(LogMessage(self.job_id, message=f"run {run_id}: " + _fmt(figs)))
        return {"run_id": run_id, "parent": parent_id, "method": recipe["method"],
                "figures": figs, "onnx": str(out)}

    def _qat(self, model: nn.Module, src: Source, run_id: int, emit: EventSink,
             token: CancelToken) -> nn.Module:
        """Fine-tune with int8 fake-quantized weights; returns the model on the int8 grid."""
        from engine.compress.qat import attach_fake_quant, detach_fake_quant

        student = copy.deepcopy(model).cpu()
        wrapped = attach_fake_quant(student)
        emit(LogMessage(self.job_id, message=f"quantization-aware fine-tuning: {wrapped} "
                                             "layers with fake-quantized int8 weights"))
        self._finetune(student, src, model, run_id, emit, token)
        detach_fake_quant(student)
        return student.cpu().eval()

    def _artifact(self, run_id: int, kind: str, path: Path) -> None:
        self.store.add_artifact(run_id, kind, path, sha256=_sha256(path),
                                bytes=path.stat().st_size, verified=True)


def _fmt(figs: dict[str, Any]) -> str:
    acc = figs.get("test_accuracy")
    return (f"params {figs.get('params')}, MACs {figs.get('macs')}, "
            f"size {figs.get('size_bytes')} B, latency {figs.get('latency_ms', 0):.3f} ms, "
            f"test accuracy {'-' if acc is None else f'{100 * acc:.2f}%'}")


def _prune_message(r: dict[str, Any]) -> str:
    if r["kind"] == "unstructured":
        return f"unstructured pruning: {100 * (r['sparsity'] or 0):.1f}% of weights are zero"
    return (f"structured pruning ({r['criterion']}, {r['steps']} step(s)): MACs "
            f"{r['macs_before']} -> {r['macs_after']} ({100 * r['mac_reduction']:.1f}% fewer), "
            f"params {r['params_before']} -> {r['params_after']}")
