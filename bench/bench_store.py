"""Store insert rate for epoch rows, as a ratio against raw sqlite3 in the same process.

    python bench/bench_store.py [--rows 100000] [--single-rows 100000] [--batch 1000]

Four timings over the same rows into the same schema (WAL, synchronous=NORMAL):
  batched:  Store.add_epochs in batches  vs  sqlite3 executemany, one commit per batch
  single:   Store.add_epoch, one commit each  vs  sqlite3 execute + commit per row
The store's figure includes its writer-thread hand-off, validation and the
``epochs_done`` update of each run.  A ratio of 1.0 means as fast as raw sqlite3.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.arch.presets import get_preset  # noqa: E402
from engine.store import EPOCH_METRICS, Store  # noqa: E402

EPOCHS_PER_RUN = 100


def make_rows(run_ids: list[int], n: int) -> list[dict]:
    rows = []
    for i in range(n):
        run_id, epoch = run_ids[i // EPOCHS_PER_RUN], i % EPOCHS_PER_RUN + 1
        rows.append({"run_id": run_id, "epoch": epoch, "train_loss": 1.0 / epoch,
                     "train_accuracy": 0.5 + epoch / 400, "val_loss": 1.1 / epoch,
                     "val_accuracy": 0.5 + epoch / 450, "lr": 0.1 / epoch, "seconds": 1.5})
    return rows


def fresh_store(folder: Path, name: str, n: int) -> tuple[Store, list[int]]:
    store = Store(folder / f"{name}.db")
    h = store.add_design(get_preset("darts-v2"))
    exp = store.create_experiment("bench", {}, environment={"bench": True})
    run_ids = [store.create_run(exp, h) for _ in range(-(-n // EPOCHS_PER_RUN))]
    return store, run_ids


def raw_connection(folder: Path, name: str) -> sqlite3.Connection:
    """A bare sqlite3 connection to a file with the store's schema and pragmas."""
    Store(folder / f"{name}.db").close()
    conn = sqlite3.connect(folder / f"{name}.db")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


SQL = ("INSERT OR REPLACE INTO epochs (run_id, epoch, " + ", ".join(EPOCH_METRICS)
       + ") VALUES (" + ", ".join("?" * (2 + len(EPOCH_METRICS))) + ")")


def as_tuples(rows: list[dict]) -> list[tuple]:
    return [(r["run_id"], r["epoch"], *(r[k] for k in EPOCH_METRICS)) for r in rows]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_batched(folder: Path, n: int, batch: int) -> tuple[float, float]:
    store, run_ids = fresh_store(folder, "store_batched", n)
    rows = make_rows(run_ids, n)

    def via_store() -> None:
        for i in range(0, n, batch):
            store.add_epochs(rows[i:i + batch])

    t_store = timed(via_store)
    assert store.query("SELECT COUNT(*) AS c FROM epochs")[0]["c"] == n
    store.close()

    conn = raw_connection(folder, "raw_batched")
    tuples = as_tuples(rows)

    def via_sqlite() -> None:
        for i in range(0, n, batch):
            with conn:
                conn.executemany(SQL, tuples[i:i + batch])

    t_raw = timed(via_sqlite)
    assert conn.execute("SELECT COUNT(*) FROM epochs").fetchone()[0] == n
    conn.close()
    return t_store, t_raw


def bench_single(folder: Path, n: int) -> tuple[float, float]:
    store, run_ids = fresh_store(folder, "store_single", n)
    rows = make_rows(run_ids, n)

    def via_store() -> None:
        for row in rows:
            store.add_epoch(**row)

    t_store = timed(via_store)
    assert store.query("SELECT COUNT(*) AS c FROM epochs")[0]["c"] == n
    store.close()

    conn = raw_connection(folder, "raw_single")
    tuples = as_tuples(rows)

    def via_sqlite() -> None:
        for t in tuples:
            conn.execute(SQL, t)
            conn.commit()

    t_raw = timed(via_sqlite)
    conn.close()
    return t_store, t_raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--single-rows", type=int, default=100_000,
                        help="rows for the one-commit-per-row timing (0 skips it)")
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t_store, t_raw = bench_batched(folder, args.rows, args.batch)
        print(f"batched ({args.batch}/commit), {args.rows:,} epoch rows:")
        print(f"  store  {t_store:7.3f} s  {args.rows / t_store:12,.0f} rows/s")
        print(f"  sqlite {t_raw:7.3f} s  {args.rows / t_raw:12,.0f} rows/s")
        print(f"  ratio store/sqlite rate = {t_raw / t_store:.3f}")
        if args.single_rows:
            n = args.single_rows
            t_store, t_raw = bench_single(folder, n)
            print(f"one commit per row, {n:,} epoch rows:")
            print(f"  store  {t_store:7.3f} s  {n / t_store:12,.0f} rows/s")
            print(f"  sqlite {t_raw:7.3f} s  {n / t_raw:12,.0f} rows/s")
            print(f"  ratio store/sqlite rate = {t_raw / t_store:.3f}")


if __name__ == "__main__":
    main()
