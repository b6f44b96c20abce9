"""``nas-studio search``: architecture search over a space, with a strategy and a budget."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from typing import Any

from engine.search.defaults import SMALL_DARTS_SPACE, TRAINED_TRIAL
from engine.search.executors import describe_executors, executor_names
from engine.search.strategies import describe_strategies, strategy_names

SPACES = ("darts", "nas-bench-201", "mbconv")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "search", help=f"search architectures ({', '.join(strategy_names())})",
        description="Search a space of architectures. Every trial is recorded in the "
        "experiment database as it finishes; `--resume ID` continues a killed search.",
        epilog="strategies:\n" + "\n".join(f"  {name:<11} {text}" for name, text
                                            in describe_strategies().items())
        + "\nexecutors:\n" + "\n".join(f"  {name:<11} {text}" for name, text
                                       in describe_executors().items()),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--space", help="darts, nas-bench-201, mbconv or a space JSON file "
                   "(default: nas-bench-201 with --benchmark, else darts)")
    p.add_argument("--strategy", choices=strategy_names(),
                   help="search strategy (listed below; default: the best measured one)")
    p.add_argument("--budget", type=int, default=20, help="trials to evaluate (default 20)")
    p.add_argument("--objectives", default="accuracy",
                   help="comma-separated: accuracy first (maximised), then costs to minimise "
                   "(params, macs, latency_ms, or benchmark columns)")
    p.add_argument("--max-params", type=float, help="reject designs with more parameters")
    p.add_argument("--max-macs", type=float, help="reject designs with more multiply-adds")
    p.add_argument("--max-latency-ms", type=float, help="reject slower designs (measured)")
    p.add_argument("--dataset", default=TRAINED_TRIAL["dataset"],
                   help=f"dataset to train trials on (default {TRAINED_TRIAL['dataset']})")
    p.add_argument("--skip-bad-images", action="store_true",
                   help="image folders: leave out unreadable or empty image files (listed)")
    p.add_argument("--epochs-per-trial", type=int, default=TRAINED_TRIAL["epochs_per_trial"],
                   metavar="N", help="training epochs per trial (default "
                   f"{TRAINED_TRIAL['epochs_per_trial']}, as the studio's search dialog)")
    p.add_argument("--subset", type=int, default=TRAINED_TRIAL["subset"],
                   help="train each trial on this many images")
    p.add_argument("--schedule", choices=("none", "halving", "hyperband"), default="none",
                   help="stop weak trials early: successive halving or Hyperband from "
                   "--min-epochs up to --epochs-per-trial")
    p.add_argument("--min-epochs", type=float, default=1.0, help="smallest halving budget")
    p.add_argument("--eta", type=int, default=2, help="halving rate (keep 1/eta per rung)")
    p.add_argument("--batch-size", type=int, default=TRAINED_TRIAL["batch_size"])
    p.add_argument("--lr", type=float, default=TRAINED_TRIAL["lr"])
    small = ", ".join(f"{k} {v}" for k, v in SMALL_DARTS_SPACE.items() if k != "space")
    p.add_argument("--channels", type=int,
                   help=f"cell spaces: initial channels (darts default: {small})")
    p.add_argument("--layers", type=int, help="cell spaces: cells (per stage for nas-bench-201)")
    p.add_argument("--benchmark", metavar="CSV",
                   help="tabular benchmark: a CSV with a cellstr column (nas-bench-201 space)")
    p.add_argument("--objective", help="benchmark column to maximise")
    p.add_argument("--report", help="benchmark column to report for the best design")
    p.add_argument("--skip-bad-rows", action="store_true",
                   help="benchmark: keep a cell's first row when it is listed twice and leave "
                   "out rows with NaN/inf values (default: refuse the table, naming the line)")
    seeds = p.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, default=0)
    seeds.add_argument("--seeds", metavar="A..B", help="one independent search per seed")
    p.add_argument("--workers", type=int, default=1,
                   help="trials in flight at once (default 1; more: the process pool unless "
                   "--executor says otherwise)")
    p.add_argument("--executor", choices=executor_names(),
                   help="where trials run (listed below; default: local, or pool with "
                   "--workers > 1; with --resume: as stored)")
    p.add_argument("--address", metavar="auto|HOST:PORT",
                   help="ray: join the Ray cluster there (default: start a local Ray of "
                   "--workers CPUs for this search)")
    p.add_argument("--cpus-per-trial", type=float, default=1.0, metavar="N",
                   help="ray: CPUs each trial reserves (default 1)")
    p.add_argument("--gpus-per-trial", type=float, default=0.0, metavar="N",
                   help="ray: GPUs each trial reserves (default 0: trials train on CPU)")
    p.add_argument("--keep-checkpoints", action="store_true",
                   help="keep each trial's checkpoint next to the store (from a cluster, "
                   "the bytes come back to this machine)")
    p.add_argument("--checkpoint-dir", metavar="DIR",
                   help="trials write their checkpoints to DIR (a path every node shares); "
                   "implies --keep-checkpoints")
    p.add_argument("--population", type=int, help="evolution: population size")
    p.add_argument("--sample", type=int, help="evolution: sample size")
    p.add_argument("--search-epochs", type=int, default=1,
                   help="darts: supernet search epochs (default 1)")
    p.add_argument("--name", help="experiment name")
    p.add_argument("--resume", type=int, metavar="EXPERIMENT_ID",
                   help="continue a search experiment after a crash or kill")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                   help="experiment database (default: the user data directory)")
    p.set_defaults(func=run)


def parse_seeds(text: str) -> list[int]:
    from engine.cli import CliError

    a, sep, b = text.partition("..")
    try:
        lo, hi = (int(a), int(b)) if sep else (int(a), int(a))
    except ValueError:
        raise CliError(f"--seeds: expected A..B (e.g. 0..29), got {text!r}") from None
    if hi < lo:
        raise CliError(f"--seeds: {hi} < {lo}")
    return list(range(lo, hi + 1))


def build_config(args: argparse.Namespace, seed: int) -> Any:
    """A ``SearchConfig`` from the arguments; bad input raises ``CliError``."""
    from engine.arch.space import BUILTIN_SPACES, SpaceError, get_space
    from engine.cli import CliError
    from engine.search.constraints import Constraints
    from engine.search.evaluators import EvaluatorError, TabularBenchmark, TrainEvaluator
    from engine.search.job import SearchConfig

    for flag in ("budget", "workers", "population", "sample", "epochs_per_trial", "batch_size",
                 "channels", "layers", "search_epochs", "subset"):
        value = getattr(args, flag, None)
        if value is not None and value < 1:  # 0 was silently read as "use the default"
            raise CliError(f"--{flag.replace('_', '-')} must be at least 1, got {value}")
    space_name = args.space or ("nas-bench-201" if args.benchmark else "darts")
    options: dict[str, Any] = {}
    if space_name == "darts":  # the studio's small darts space unless sized here
        options = {k: v for k, v in SMALL_DARTS_SPACE.items() if k != "space"}
    if space_name in BUILTIN_SPACES and space_name != "mbconv":
        if args.channels:
            options["channels"] = args.channels
        if args.layers:
            options["layers"] = args.layers
    try:
        space = get_space(space_name, **options)
    except (SpaceError, TypeError) as exc:
        raise CliError(f"--space: {exc}") from None
    objectives = [o.strip() for o in args.objectives.split(",") if o.strip()]
    from engine.search.strategies import StrategyError, check_strategy, default_strategy

    n_objectives = max(1, len(objectives))
    strategy = args.strategy or default_strategy(n_objectives)
    try:
        check_strategy(strategy, space, n_objectives, tabular=bool(args.benchmark))
    except StrategyError as exc:
        raise CliError(f"--strategy: {exc}") from None
    try:
        if args.benchmark:
            if space.name != "nas-bench-201":
                raise CliError("--benchmark needs --space nas-bench-201")
            if not args.objective:
                raise CliError("--benchmark needs --objective COLUMN")
            evaluator = TabularBenchmark(args.benchmark, args.objective, args.report, space,
                                         skip_bad_rows=args.skip_bad_rows)
        else:
            if args.objective or args.report:
                raise CliError("--objective/--report name benchmark columns; use --benchmark")
            keep = bool(getattr(args, "keep_checkpoints", False)
                        or getattr(args, "checkpoint_dir", None))
            evaluator = TrainEvaluator(args.dataset, epochs=args.epochs_per_trial,
                                       subset=args.subset, batch_size=args.batch_size,
                                       lr=args.lr, skip_bad_images=args.skip_bad_images,
                                       train_options={"checkpoint": True} if keep else None)
            try:  # the same settings every trial trains with: refuse them once, here
                evaluator.config(seed, None)
            except ValueError as exc:
                raise CliError(f"trial training: {exc}") from None
            from engine.data import DatasetError

            try:  # a dataset every trial would fail on: exit 2 before the experiment exists
                evaluator.splits()
            except DatasetError as exc:
                raise CliError(f"--dataset: {exc}") from None
    except EvaluatorError as exc:
        raise CliError(str(exc)) from None
    try:
        constraints = Constraints(args.max_params, args.max_macs, args.max_latency_ms)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    from engine.search.halving import Schedule

    try:
        schedule = Schedule(args.schedule, args.min_epochs, float(args.epochs_per_trial),
                            args.eta)
    except ValueError as exc:
        raise CliError(f"--schedule: {exc}") from None
    if not objectives or objectives[0] not in ("accuracy", "objective", evaluator.objective):
        raise CliError("--objectives: the first objective must be accuracy")
    strategy_options: dict[str, Any] = {}
    if strategy == "evolution":
        if args.population:
            strategy_options["population"] = args.population
        if args.sample:
            strategy_options["sample"] = args.sample
    if strategy == "darts":
        strategy_options["search_epochs"] = args.search_epochs
    return SearchConfig(space=space.spec(), evaluator=evaluator.spec(), strategy=strategy,
                        budget=args.budget, seed=seed, objectives=objectives,
                        constraints=constraints.to_dict(), strategy_options=strategy_options,
                        workers=max(1, args.workers), executor=executor_settings(args).to_dict(),
                        schedule=schedule.to_dict() if schedule.kind != "none" else {}), evaluator


def executor_settings(args: argparse.Namespace, stored: dict[str, Any] | None = None,
                      workers: int = 1) -> Any:
    """``ExecutorSettings`` from the arguments (``stored``: a resumed search's config,
    whose executor is used when no --executor is given); bad input raises ``CliError``."""
    from pathlib import Path

    from engine.cli import CliError
    from engine.search.executors import ExecutorError, ExecutorSettings

    kind = getattr(args, "executor", None)
    try:
        if stored is not None and kind is None:
            return ExecutorSettings.from_config(stored.get("executor"), workers)
        kind = kind or ("pool" if (getattr(args, "workers", 1) or 1) > 1 else "local")
        folder = getattr(args, "checkpoint_dir", None)
        return ExecutorSettings(kind, getattr(args, "address", None),
                                getattr(args, "cpus_per_trial", 1.0),
                                getattr(args, "gpus_per_trial", 0.0),
                                str(Path(folder).expanduser().resolve()) if folder else None)
    except ExecutorError as exc:
        raise CliError(str(exc)) from None


def start_executor(settings: Any, workers: int) -> Any:
    """The executor (a local Ray started, a cluster joined) before any experiment is
    created, so that a missing Ray or an unreachable address exits 2."""
    from engine.cli import CliError
    from engine.search.executors import ExecutorError, make_executor

    try:
        return make_executor(settings, workers)
    except ExecutorError as exc:
        raise CliError(str(exc)) from None


class Printer:
    """Prints trials as they finish (to stderr with --json, so stdout stays JSON)."""

    def __init__(self, quiet: bool) -> None:
        self.out = sys.stderr if quiet else sys.stdout
        self.error: str | None = None

    def __call__(self, event: Any) -> None:
        from engine.events import JobFailed, LogMessage, TrialFinished

        if isinstance(event, TrialFinished) and event.record is not None:
            rec = event.record   # the experiment's own objectives first
            parts = [f"trial {event.trial:>4} {event.status:<9}"]
            for key in dict.fromkeys([*rec.objectives, "test_accuracy", "params", "macs"]):
                if (value := rec.value(key)) is not None:
                    parts.append(f"{key}={value:.6g}")
            if rec.worker:
                parts.append(f"on {rec.worker}")
            if event.error:
                parts.append(event.error.splitlines()[0])
            print("  ".join(parts), file=self.out, flush=True)
        elif isinstance(event, LogMessage):
            print(f"[{event.level}] {event.message}", file=self.out, flush=True)
        elif isinstance(event, JobFailed):
            self.error = event.error


def _run_one(job: Any, printer: Printer) -> dict[str, Any]:
    from engine.cli import EXIT_FAILED, CliError

    result = job.run(printer)
    if result is None:
        raise CliError(f"search failed: {printer.error or 'cancelled'}", EXIT_FAILED)
    return result


def _check_found(result: dict[str, Any], args: argparse.Namespace) -> None:
    """A search without a single finished trial is an error, not a result."""
    from engine.cli import EXIT_FAILED, CliError

    if result.get("best") is not None:
        return
    counts = result.get("counts", {})
    where = f"search experiment {result['experiment_id']}: no trial finished"
    rejected = counts.get("rejected", 0)
    if rejected and rejected == result["trials"]:
        limits = ", ".join(f"--{flag.replace('_', '-')} {getattr(args, flag):g}"
                           for flag in ("max_params", "max_macs", "max_latency_ms")
                           if getattr(args, flag, None) is not None) or "the constraints"
        raise CliError(f"{where}; all {rejected} candidates broke {limits}; loosen the limit")
    detail = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    raise CliError(f"{where} ({detail or 'no trials'})", EXIT_FAILED)


def _print_result(result: dict[str, Any], out: Any) -> None:
    best = result.get("best")
    print(f"experiment {result['experiment_id']}: {result['trials']} trials "
          f"{result.get('counts', {})}", file=out)
    if best is None:
        print("no trial finished", file=out)
        return
    arch = best.get("cellstr") or best["arch"].get("name", "")
    print(f"best: trial {best['trial']}  {arch}  {result['objective']}={best['objective']}  "
          f"{result['report']}={best['report']}", file=out)
    print(f"pareto front: {len(result['pareto'])} designs", file=out)


def parse_resume_args(experiment_id: int, *, as_json: bool = False,
                      db: str | None = None) -> argparse.Namespace:
    """The arguments of ``nas-studio search --resume EXPERIMENT_ID`` (used by ``resume``)."""
    parser = argparse.ArgumentParser(prog="nas-studio")
    parser.add_argument("--db")
    add_parser(parser.add_subparsers(dest="command"))
    argv = ["search", "--resume", str(experiment_id)] + (["--json"] if as_json else [])
    args = parser.parse_args(argv)
    if db is not None:
        args.db = db
    return args


def run(args: argparse.Namespace) -> int:
    from engine.cli import CliError
    from engine.store import StoreError, check_name, open_store

    try:  # refused before anything is recorded: exit 2
        check_name(getattr(args, "name", None), "--name (the experiment name)")
    except StoreError as exc:
        raise CliError(str(exc)) from None
    store = open_store(args)
    printer = Printer(quiet=args.json)
    try:
        if args.resume is not None:
            from engine.search.job import resume_search

            try:
                exp = store.get_experiment(args.resume)
            except StoreError as exc:
                raise CliError(str(exc)) from None
            stored = exp.config if isinstance(exp.config, dict) else {}
            workers = int(stored.get("workers") or 1)
            settings = executor_settings(args, stored, workers)
            store.mark_interrupted()
            with start_executor(settings, workers) as executor:
                try:
                    result = resume_search(store, args.resume, printer, executor=executor)
                except (StoreError, ValueError) as exc:
                    raise CliError(str(exc)) from None
            if result is None:
                raise CliError(f"search failed: {printer.error}", 1)
            results = [result]
        else:
            from engine.search.job import SearchJob

            seeds = parse_seeds(args.seeds) if args.seeds else [args.seed]
            configs = [build_config(args, seed) for seed in seeds]
            results = []
            with start_executor(executor_settings(args), max(1, args.workers)) as executor:
                for seed, (config, evaluator) in zip(seeds, configs, strict=True):
                    name = args.name if len(seeds) == 1 or not args.name \
                        else f"{args.name} s{seed}"
                    job = SearchJob(config, store, name=name, evaluator=evaluator,
                                    executor=executor)
                    results.append(_run_one(job, printer))
    finally:
        store.close()
    if all(r.get("best") is None for r in results):
        _check_found(results[0], args)
    if args.seeds and args.resume is None:
        reports = [r["best"]["report"] for r in results if r["best"]]
        objectives = [r["best"]["objective"] for r in results if r["best"]]
        out = {"seeds": [{"seed": r["seed"], "best": r["best"],
                          "experiment_id": r["experiment_id"], "trials": r["trials"]}
                         for r in results],
               "mean_report": statistics.mean(reports) if reports else None,
               "mean_objective": statistics.mean(objectives) if objectives else None}
        if args.json:
            print(json.dumps(out, default=str))
        else:
            for r in results:
                _print_result(r, sys.stdout)
            print(f"mean {results[0]['report']} over {len(reports)} seeds: "
                  f"{out['mean_report']}")
        return 0
    result = results[0]
    if args.json:
        print(json.dumps(result, default=str))
    else:
        _print_result(result, sys.stdout)
    return 0
