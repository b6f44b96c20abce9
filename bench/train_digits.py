"""Train a small DARTS-style cell network on the built-in digits; print test accuracy and time.

Target (issue 3): >= 95% test accuracy in at most 20 epochs on 2 CPU cores.

    OMP_NUM_THREADS=2 python bench/train_digits.py [--channels 8 --layers 3 --epochs 10]
"""

from __future__ import annotations

import argparse
import json
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="darts-v2")
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from engine.arch.sources import resolve_source
    from engine.data import load_dataset
    from engine.train import TrainConfig, train_design

    design = resolve_source(args.source, channels=args.channels, layers=args.layers)
    design.set_macro(drop_path=0.0)
    splits = load_dataset("digits", seed=args.seed)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                         seed=args.seed, device="cpu")
    start = time.perf_counter()
    result = train_design(design, splits, config)
    wall = time.perf_counter() - start
    out = {"design": f"{args.source} C={args.channels} layers={args.layers}",
           "params": result["params"], "macs": result["macs"], "epochs": result["epochs"],
           "best_epoch": result["best_epoch"], "val_accuracy": round(result["val_accuracy"], 4),
           "test_accuracy": round(result["test_accuracy"], 4),
           "train_seconds": round(result["seconds"], 1), "wall_seconds": round(wall, 1),
           "threads": torch.get_num_threads(), "target_met": result["test_accuracy"] >= 0.95}
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:>14}: {value}")


if __name__ == "__main__":
    main()
