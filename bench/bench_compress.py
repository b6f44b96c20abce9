"""Compression figures: fp32 parent vs pruned vs int8, measured in one process.

Trains a small block stack and a small DARTS cell network on the built-in digits, then
runs the studio's compression (structured pruning at 50% of the channels + fine-tuning,
static int8 quantization of the parent and of the pruned model) and prints MACs, params,
ONNX file size, onnxruntime CPU latency (median, same batch and thread count for every
model) and test accuracy, with ratios against the fp32 parent.  ``--b0`` adds
EfficientNet-B0 at 224x224 (random weights: size and latency only).

    OMP_NUM_THREADS=1 python bench/bench_compress.py [--models stack cell] [--epochs 15]
        [--criterion taylor] [--finetune-epochs 20] [--no-distill] [--threads 1] [--b0]

Measured 2026-11-30 (2 shared CPU cores, 1 onnxruntime thread; latencies are noisy):
stack: MACs -74.3%, test 97.41% -> 97.04% pruned (-0.37pt), int8 3.62x smaller;
cell (darts-v2 C=16, 5 cells): MACs -71.6%, 99.26% -> 99.26%, int8 2.58x smaller and
slower than fp32 at batch 1; EfficientNet-B0: int8 3.60x smaller, 0.8-1.2x the fp32
speed across runs, 50% pruning 2.6-3.0x faster.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any


def _designs() -> dict[str, Any]:
    from engine.arch.model import BlockStack, Stage
    from engine.arch.presets import get_preset

    stack = BlockStack(name="digits-stack", stages=[
        Stage("ds", 1, 3, 1, 1, 16, 0.25), Stage("ir", 2, 3, 2, 6, 48, 0.25),
        Stage("ir", 2, 3, 2, 6, 256, 0.25)], stem_channels=16, head_channels=1280,
        resolution=8, in_channels=1, classes=10, dropout=0.1, stochastic_depth=0.0)
    cell = get_preset("darts-v2")
    cell.set_macro(channels=16, layers=5, auxiliary=True, drop_path=0.0)
    return {"stack": stack, "cell": cell}


def _latency(path: Path, shape: tuple[int, ...], threads: int) -> tuple[float, float]:
    from engine.compress.quantize import ort_latency

    b1 = ort_latency(path, shape, batch=1, threads=threads, repeats=200, warmup=20)
    b32 = ort_latency(path, shape, batch=32, threads=threads, repeats=30, warmup=5)
    return b1["median_ms"], b32["median_ms"]


def _table(title: str, rows: list[dict[str, Any]]) -> None:
    base = rows[0]
    print(f"\n== {title} ==")
    head = (f"{'model':<16}{'MACs':>12}{'params':>10}{'size B':>11}{'lat b1 ms':>11}"
            f"{'lat b32 ms':>12}{'test acc':>10}  ratios vs fp32: MACs size b1-speed "
            f"b32-speed d-acc")
    print(head)
    for r in rows:
        acc = "-" if r.get("acc") is None else f"{100 * r['acc']:.2f}%"
        dacc = ("-" if r.get("acc") is None or base.get("acc") is None
                else f"{100 * (r['acc'] - base['acc']):+.2f}pt")
        print(f"{r['name']:<16}{r['macs']:>12,}{r['params']:>10,}{r['size']:>11,}"
              f"{r['b1']:>11.3f}{r['b32']:>12.3f}{acc:>10}  "
              f"{r['macs'] / base['macs']:.2f}x {base['size'] / r['size']:.2f}x smaller "
              f"{base['b1'] / r['b1']:.2f}x {base['b32'] / r['b32']:.2f}x {dacc}")


def bench_digits(name: str, design: Any, args: argparse.Namespace, root: Path) -> None:
    from engine.builders import input_shape_of
    from engine.compress import CompressJob, CompressOptions
    from engine.store import Store
    from engine.train import TrainConfig, train_design

    store = Store(root / f"{name}.db")
    t0 = time.perf_counter()
    cfg = TrainConfig(epochs=args.epochs, lr=0.05, batch_size=64, device="cpu", seed=0,
                      amp=False)
    parent = train_design(design, "digits", cfg, store)
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    opts = CompressOptions(prune=0.5, criterion=args.criterion, steps=args.steps,
                           finetune_epochs=args.finetune_epochs, finetune_lr=args.finetune_lr,
                           patience=None, distill=args.distill, quantize="int8",
                           latency_threads=args.threads)
    pruned = CompressJob(store, parent["run_id"], opts).run(lambda e: None)
    compress_s = time.perf_counter() - t0
    quant = CompressJob(store, parent["run_id"], CompressOptions(
        quantize="int8", latency_threads=args.threads)).run(lambda e: None)
    if pruned is None or quant is None:
        raise SystemExit(f"{name}: compression failed")
    shape = input_shape_of(store.get_design(store.get_run(parent["run_id"]).design_hash))
    prune_run = store.get_run(pruned["steps"][0]["run_id"])
    rows = []
    fp32_parent = root / f"{name}-parent.onnx"
    from engine.compress import load_run
    from engine.compress.quantize import export_fp32

    export_fp32(load_run(store, parent["run_id"]).model, shape, fp32_parent)
    entries = [("fp32 parent", fp32_parent, store.get_run(parent["run_id"])),
               ("int8 parent", Path(store.get_run(quant["run_id"]).checkpoint),
                store.get_run(quant["run_id"])),
               ("pruned 50% fp32", Path(pruned["steps"][0]["onnx"]), prune_run),
               ("pruned + int8", Path(store.get_run(pruned["run_id"]).checkpoint),
                store.get_run(pruned["run_id"]))]
    for label, path, run in entries:
        b1, b32 = _latency(path, shape, args.threads)
        rows.append({"name": label, "macs": run.macs, "params": run.params,
                     "size": path.stat().st_size, "b1": b1, "b32": b32,
                     "acc": run.test_accuracy})
    _table(f"{name}: {design.name}, parent trained {args.epochs} epochs ({train_s:.0f}s), "
           f"prune {args.criterion} 50% in {args.steps} step(s) + {args.finetune_epochs} fine-tune epochs"
           f"{' with distillation' if args.distill else ''} ({compress_s:.0f}s), "
           f"onnxruntime {args.threads} thread(s)", rows)
    print(f"structured pruning cut MACs by {100 * (1 - prune_run.macs / rows[0]['macs']):.1f}%"
          f"; pruned test accuracy {100 * prune_run.test_accuracy:.2f}% vs parent "
          f"{100 * rows[0]['acc']:.2f}%; pruned design format: {prune_run.recipe['format']}")
    store.close()


def bench_b0(args: argparse.Namespace, root: Path) -> None:
    import numpy as np
    import torch

    from engine.arch.presets import get_preset
    from engine.builders import build_model
    from engine.compress.prune import count_macs, count_params, prune_structured
    from engine.compress.quantize import export_fp32, quantize_static_int8

    torch.manual_seed(0)
    shape = (3, 224, 224)
    model = build_model(get_preset("efficientnet-b0")).eval()
    rows = []

    def add(label: str, m: Any, path: Path) -> None:
        b1 = _latency_b1(path, shape, args.threads)
        rows.append({"name": label, "macs": count_macs(m, shape), "params": count_params(m),
                     "size": path.stat().st_size, "b1": b1, "b32": b1, "acc": None})

    calib = [np.random.default_rng(i).standard_normal((1, *shape)).astype(np.float32)
             for i in range(4)]
    export_fp32(model, shape, root / "b0.onnx")
    export_fp32(model, shape, root / "b0.raw.onnx", compact=False)
    add("fp32 B0", model, root / "b0.onnx")
    quantize_static_int8(root / "b0.raw.onnx", root / "b0.int8.onnx", calib)
    add("int8 B0 (QDQ)", model, root / "b0.int8.onnx")
    quantize_static_int8(root / "b0.raw.onnx", root / "b0.qop.onnx", calib,
                         quant_format="qoperator")
    add("int8 B0 (QOp)", model, root / "b0.qop.onnx")
    prune_structured(model, torch.zeros(1, *shape), 0.5)
    export_fp32(model, shape, root / "b0p.onnx")
    add("pruned 50% B0", model, root / "b0p.onnx")
    _table(f"EfficientNet-B0 224x224, random weights, batch 1, {args.threads} thread(s) "
           "(b32 column repeats b1)", rows)


def _latency_b1(path: Path, shape: tuple[int, ...], threads: int) -> float:
    from engine.compress.quantize import ort_latency

    return ort_latency(path, shape, batch=1, threads=threads, repeats=20, warmup=3)["median_ms"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=["stack", "cell"],
                        choices=["stack", "cell"])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--finetune-epochs", type=int, default=20)
    parser.add_argument("--finetune-lr", type=float, default=0.02)
    parser.add_argument("--criterion", default="taylor", choices=["magnitude", "bn", "taylor"])
    parser.add_argument("--steps", type=int, default=1, help="iterative pruning steps")
    parser.add_argument("--distill", action=argparse.BooleanOptionalAction, default=True,
                        help="fine-tune with distillation from the parent (default on)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--b0", action="store_true", help="add EfficientNet-B0 size/latency")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="bench-compress-") as tmp:
        root = Path(tmp)
        os.environ["NAS_STUDIO_DATA_DIR"] = str(root / "data")
        designs = _designs()
        for name in args.models:
            bench_digits(name, designs[name], args, root)
        if args.b0:
            bench_b0(args, root)


if __name__ == "__main__":
    main()
