"""A tabular-benchmark search of 100 queries end to end, without importing torch.

    python bench/bench_tabular.py [--queries 100] [--strategy evolution]

Generates a NAS-Bench-201-style table (15,625 rows), then times, in this process:
loading the table, the search (strategy + decode + records) without a store, and the
same search recording every trial and the strategy state in a SQLite store.  Target:
< 1 s end to end, with ``torch`` absent from ``sys.modules``.  Baseline: 100 plain
dictionary lookups of random cells, printed as a ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

T0 = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.arch.space import NB201Space  # noqa: E402
from engine.search.evaluators import TabularBenchmark  # noqa: E402
from engine.search.job import SearchConfig, SearchJob  # noqa: E402
from engine.search.synthetic import write_synthetic_table  # noqa: E402

IMPORT_S = time.perf_counter() - T0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--strategy", default="evolution", choices=("random", "evolution"))
    args = parser.parse_args()
    import_s = IMPORT_S
    t = time.perf_counter()
    from engine.store import Store

    store_import_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        path = write_synthetic_table(Path(tmp) / "nb201.csv")
        gen_s = time.perf_counter() - t

        t = time.perf_counter()
        bench = TabularBenchmark(path, "val_accuracy", "test_accuracy")
        load_s = time.perf_counter() - t
        cfg = SearchConfig(space=NB201Space().spec(), evaluator=bench.spec(),
                           strategy=args.strategy, budget=args.queries, seed=0)

        t = time.perf_counter()
        result = SearchJob(cfg, None, evaluator=bench).run(lambda e: None)
        search_s = time.perf_counter() - t
        no_store_torch = "torch" in sys.modules

        t = time.perf_counter()
        store = Store(Path(tmp) / "s.db")
        stored = SearchJob(cfg, store, evaluator=bench).run(lambda e: None)
        store.close()
        stored_s = time.perf_counter() - t
        assert stored["best"] == result["best"]

        import random

        rng = random.Random(0)
        space = bench.space
        codes = [space.sample_code(rng) for _ in range(args.queries)]
        t = time.perf_counter()
        for c in codes:
            bench.table[c]["val_accuracy"]
        lookup_s = time.perf_counter() - t
    end_to_end = import_s + load_s + search_s
    end_to_end_store = end_to_end - search_s + store_import_s + stored_s
    print(f"queries: {args.queries}  strategy: {args.strategy}  best "
          f"{result['best']['objective']:.2f} ({result['best']['cellstr']})")
    print(f"imports {import_s * 1e3:.0f} ms (store, sqlite-utils: {store_import_s * 1e3:.0f} ms "
          f"more), table generation {gen_s * 1e3:.0f} ms (not counted)")
    print(f"load table {load_s * 1e3:.0f} ms")
    print(f"search, no store      {search_s * 1e3:7.1f} ms  "
          f"({search_s / args.queries * 1e3:.3f} ms/query)")
    print(f"search, SQLite store  {stored_s * 1e3:7.1f} ms  "
          f"({stored_s / args.queries * 1e3:.3f} ms/query)")
    print(f"baseline: {args.queries} dict lookups {lookup_s * 1e6:.0f} us "
          f"(search without store = {search_s / lookup_s:,.0f}x)")
    print(f"end to end (imports + load + search): {end_to_end:.3f} s   target < 1 s")
    print(f"end to end with the SQLite store (+ its imports): {end_to_end_store:.3f} s")
    print(f"torch imported: {no_store_torch} (search), {'torch' in sys.modules} (with store)")


if __name__ == "__main__":
    main()
