"""Int8 quantization through ONNX Runtime, and CPU measurements of ONNX models.

Post-training static int8 quantizes the exported fp32 ONNX model with
``onnxruntime.quantization.quantize_static`` (QDQ format, per-channel weights, min-max
calibration on a few batches).  Dynamic int8 quantizes the weights of MatMul/Gemm
(linear) layers only, with activations quantized at run time.  Both results run in
``onnxruntime`` on CPU; accuracy and latency are measured there with a fixed thread count.
"""

from __future__ import annotations

import contextlib
import logging
import statistics
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

QUANT_MODES = ("int8", "int8-dynamic", "qat")
QUANT_FORMATS = ("qdq", "qoperator")


def export_fp32(model: nn.Module, input_shape: Sequence[int], path: str | Path, *,
                compact: bool = True) -> Path:
    """Export ``model`` (eval mode, CPU) to ONNX with a dynamic batch axis.

    Uses ``engine.export.export_onnx`` (which verifies against onnxruntime) when it is
    available, else ``torch.onnx.export`` directly.  ``compact`` applies
    :func:`compact_onnx`; quantize from an uncompacted export (the quantizer derives
    new tensor names from the old ones).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval().cpu()
    try:
        from engine.export import export_onnx
    except ImportError:
        export_onnx = None
    if export_onnx is not None:
        report = export_onnx(model, tuple(input_shape), path)
        if isinstance(report, dict) and report.get("verified") is False:
            raise RuntimeError(f"ONNX export of the model did not verify: {report}")
    else:
        example = torch.zeros(2, *input_shape)
        torch.onnx.export(model, (example,), str(path), input_names=["input"],
                          output_names=["logits"], dynamo=True, external_data=False,
                          dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False)
    if compact:
        compact_onnx(path)
    return path


def compact_onnx(path: str | Path) -> None:
    """Compact an ONNX file in place: drop per-node debug metadata and long internal names.

    Exporters record each node's source stack trace, and the quantizer names every
    tensor after its origin (``.../Conv_307_DequantizeLinear_Output``); on small models
    that text outweighs the weights.  Graph inputs and outputs keep their names; node
    names are cleared and internal tensors get short ids.  Applied alike to the fp32 and
    int8 files so that their sizes compare fairly.
    """
    import onnx

    m = onnx.load(str(path))
    g = m.graph
    nested = any(a.g.node or a.graphs for n in g.node for a in n.attribute)
    for node in g.node:
        del node.metadata_props[:]
        node.doc_string = ""
    del g.value_info[:]  # intermediate shapes: re-inferred by onnxruntime at load time
    if not nested:
        inits = {t.name for t in g.initializer}
        keep = {v.name for v in g.input if v.name not in inits} | {v.name for v in g.output}
        names: dict[str, str] = {}

        def short(name: str) -> str:
            if not name or name in keep:
                return name
            if name not in names:
                names[name] = f"t{len(names):x}"
            return names[name]

        for node in g.node:
            node.name = ""
            node.input[:] = [short(n) for n in node.input]
            node.output[:] = [short(n) for n in node.output]
        for t in g.initializer:
            t.name = short(t.name)
        for v in g.input:
            v.name = short(v.name)
    onnx.save(m, str(path))


class _Reader:
    """A CalibrationDataReader over a list of input arrays."""

    def __init__(self, name: str, batches: Iterable[np.ndarray]) -> None:
        self._items = iter([{name: np.ascontiguousarray(b, dtype=np.float32)}
                            for b in batches])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._items, None)


def _input_name(path: Path) -> str:
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    inits = {i.name for i in graph.initializer}
    return next(i.name for i in graph.input if i.name not in inits)


def _preprocess(src: Path, dst: Path) -> Path:
    """ONNX Runtime's recommended pre-quantization pass (shape inference, optimization)."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    try:
        quant_pre_process(str(src), str(dst), skip_symbolic_shape=True)
    except Exception:  # noqa: BLE001 - pre-processing is an optimization, not required
        return src
    return dst


class _AxisWarningFilter(logging.Filter):
    """Drops onnxruntime's "Axis 1 is out-of-range for weight ... with rank 1": per-channel
    quantization of a 1-d tensor (an unfused BatchNorm's scale) falls back to per-tensor,
    which is what we want; the message reached the user's terminal through the root logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "is out-of-range for weight" not in record.getMessage()


@contextlib.contextmanager
def _quiet_axis_warnings() -> Iterator[None]:
    root, quiet = logging.getLogger(), _AxisWarningFilter()
    root.addFilter(quiet)
    try:
        yield
    finally:
        root.removeFilter(quiet)


def quantize_static_int8(fp32_path: str | Path, out_path: str | Path,
                         calibration: Sequence[np.ndarray], *, per_channel: bool = True,
                         quant_format: str = "qdq") -> Path:
    """Post-training static int8 calibrated on ``calibration`` batches.

    ``quant_format="qdq"`` (QuantizeLinear/DequantizeLinear pairs that onnxruntime fuses)
    or ``"qoperator"`` (QLinearConv and friends); weights per channel by default.
    """
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    if not calibration:
        raise ValueError("static int8 quantization needs at least one calibration batch")
    fp32_path, out_path = Path(fp32_path), Path(out_path)
    prep = _preprocess(fp32_path, out_path.with_suffix(".prep.onnx"))
    reader = _Reader(_input_name(prep), calibration)
    if quant_format not in QUANT_FORMATS:
        raise ValueError(f"quant_format must be one of {', '.join(QUANT_FORMATS)}")
    fmt = QuantFormat.QDQ if quant_format == "qdq" else QuantFormat.QOperator
    with _quiet_axis_warnings():
        quantize_static(str(prep), str(out_path), reader, quant_format=fmt,
                        per_channel=per_channel, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
    if prep != fp32_path:
        prep.unlink(missing_ok=True)
    compact_onnx(out_path)
    return out_path


def quantize_dynamic_int8(fp32_path: str | Path, out_path: str | Path) -> Path:
    """Dynamic int8: linear-layer (MatMul/Gemm) weights int8, activations at run time."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32_path, out_path = Path(fp32_path), Path(out_path)
    prep = _preprocess(fp32_path, out_path.with_suffix(".prep.onnx"))
    quantize_dynamic(str(prep), str(out_path), weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul", "Gemm"])
    if prep != fp32_path:
        prep.unlink(missing_ok=True)
    compact_onnx(out_path)
    return out_path


def ort_session(path: str | Path, threads: int = 1) -> Any:
    """A CPU onnxruntime session with a fixed thread count."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def ort_accuracy(path: str | Path, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], *,
                 threads: int = 1) -> float:
    """Top-1 accuracy (a fraction) of an ONNX classifier on CPU over ``(x, y)`` batches."""
    sess = ort_session(path, threads)
    name = sess.get_inputs()[0].name
    correct = total = 0
    for x, y in batches:
        logits = sess.run(None, {name: x.cpu().numpy().astype(np.float32)})[0]
        correct += int((logits.argmax(1) == y.cpu().numpy()).sum())
        total += len(y)
    return correct / max(1, total)


def ort_latency(path: str | Path, input_shape: Sequence[int], *, batch: int = 1,
                threads: int = 1, repeats: int = 50, warmup: int = 5) -> dict[str, float]:
    """CPU latency of one ONNX forward pass: median/min/mean in milliseconds."""
    sess = ort_session(path, threads)
    name = sess.get_inputs()[0].name
    x = np.random.default_rng(0).standard_normal((batch, *input_shape)).astype(np.float32)
    for _ in range(warmup):
        sess.run(None, {name: x})
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sess.run(None, {name: x})
        times.append((time.perf_counter() - t0) * 1000.0)
    return {"median_ms": statistics.median(times), "min_ms": min(times),
            "mean_ms": statistics.fmean(times), "batch": batch, "threads": threads,
            "repeats": repeats}


def torch_latency(model: nn.Module, input_shape: Sequence[int], *, batch: int = 1,
                  threads: int = 1, repeats: int = 50, warmup: int = 5) -> dict[str, float]:
    """CPU latency of a PyTorch forward pass with ``threads`` intra-op threads."""
    model = model.eval().cpu()
    x = torch.randn(batch, *input_shape)
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.inference_mode():
            for _ in range(warmup):
                model(x)
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                model(x)
                times.append((time.perf_counter() - t0) * 1000.0)
    finally:
        torch.set_num_threads(old)
    return {"median_ms": statistics.median(times), "min_ms": min(times),
            "mean_ms": statistics.fmean(times), "batch": batch, "threads": threads,
            "repeats": repeats}
