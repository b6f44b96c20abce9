"""Trainer throughput (images/s) against a minimal hand-written PyTorch loop.

Same model architecture, same data, same batch size, measured in one process,
alternating the two so machine load hits both alike.  Target ratio >= 0.95.

    OMP_NUM_THREADS=2 python bench/bench_trainer.py [--epochs 3 --rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F


def build(design, seed: int):
    from engine.builders import build_model
    from engine.train.checkpoint import seed_everything

    seed_everything(seed)
    return build_model(design)


def minimal_loop(model, x_all, y_all, batch: int, epochs: int, lr: float
                 ) -> tuple[float, float]:
    """The baseline: shuffled index tensor, slicing, SGD; returns images/s (wall, CPU)."""
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True,
                          weight_decay=3e-4)
    model.train()
    n = len(y_all)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        order = torch.randperm(n)
        for lo in range(0, n, batch):
            idx = order[lo:lo + batch]
            x, y = x_all[idx], y_all[idx]
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return (epochs * n / (time.perf_counter() - start),
            epochs * n / (time.process_time() - cpu))


def trainer_run(model, splits, batch: int, epochs: int, lr: float) -> tuple[float, float]:
    """The engine's Trainer (train epochs only, as the baseline); images/s (wall, CPU)."""
    from engine.train import TrainConfig, Trainer

    config = TrainConfig(epochs=epochs, batch_size=batch, lr=lr, grad_clip=None,
                         checkpoint=False, device="cpu")
    trainer = Trainer(model, splits, config, drop_path=0.0)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        trainer.train_epoch()
        trainer.epoch += 1
    n = epochs * len(splits.train)
    return n / (time.perf_counter() - start), n / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=1, help="epochs per measurement")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from engine.arch.presets import get_preset
    from engine.data import adapt_design, load_dataset

    splits = load_dataset("digits")
    design = get_preset("darts-v2")
    design.set_macro(channels=args.channels, layers=args.layers, drop_path=0.0)
    design = adapt_design(design, splits)
    lr = 0.05
    # warm-up both paths once (allocator, first-call overheads)
    minimal_loop(build(design, 0), splits.train.x, splits.train.y, args.batch_size, 1, lr)
    trainer_run(build(design, 0), splits, args.batch_size, 1, lr)
    base, ours = [], []
    for r in range(args.rounds):  # alternate which goes first: load drifts hit both
        def run_base(r=r):
            base.append(minimal_loop(build(design, r), splits.train.x, splits.train.y,
                                     args.batch_size, args.epochs, lr))

        def run_ours(r=r):
            ours.append(trainer_run(build(design, r), splits, args.batch_size, args.epochs, lr))

        for fn in ((run_base, run_ours) if r % 2 == 0 else (run_ours, run_base)):
            fn()
        print(f"round {r + 1}: minimal loop {base[-1][0]:6.0f} img/s ({base[-1][1]:6.0f} per "
              f"CPU-s)   trainer {ours[-1][0]:6.0f} img/s ({ours[-1][1]:6.0f} per CPU-s)")
    print(f"model: darts-v2 C={args.channels} layers={args.layers}, digits "
          f"{len(splits.train)} train images, batch {args.batch_size}, "
          f"{torch.get_num_threads()} threads")
    for i, clock in enumerate(("wall", "CPU")):
        bs, os_ = [v[i] for v in base], [v[i] for v in ours]
        for label, b, o in (("best", max(bs), max(os_)),
                            ("median", statistics.median(bs), statistics.median(os_))):
            print(f"{clock:>4} {label:>6} images/s: minimal loop {b:.0f}, trainer {o:.0f}, "
                  f"ratio {o / b:.3f} (target >= 0.95)")


if __name__ == "__main__":
    main()
