"""The SQLite experiment store: designs, experiments, runs, epochs, trials, artifacts.

Threading model (one writer, many readers):

* Every write goes through one dedicated writer thread that owns the only write
  connection (``engine.store.writer.Writer``).  A write method queues a function and
  blocks until the writer has committed it; an exception raised while writing is
  re-raised in the calling thread.  So any thread may write: the GUI's ``QThread``
  worker, a search's process-pool callback, the main thread.
* Reads use one connection per thread (``threading.local``), opened on first use.
  They run outside any transaction, so a read sees every write committed before it
  (a write method returns only after its commit).
* ``close()`` waits for queued writes, stops the writer and closes the connections.

The file is in WAL mode, so readers never block the writer.  The schema is built by
numbered migrations (``engine.store.migrations``) recorded in ``_migrations``.  JSON
goes into TEXT columns and timestamps are ISO-8601 UTC text, so ``sqlite-utils`` and
any SQLite client can read the file.  A file that is not a SQLite database (or a
SQLite database of another application) is refused with ``StoreError`` and left
untouched.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from engine.arch.serialize import design_from_dict, design_hash, design_to_dict
from engine.store import codec
from engine.store.common import (
    EPOCH_METRICS,
    JSON_COLUMNS,
    RUN_FIELDS,
    STATUSES,
    StoreError,
    bounded_text,
    check_file,
    check_name,
    epoch_values,
    now,
    scalar,
)
from engine.store.environment import capture_environment
from engine.store.migrations import MIGRATIONS, Migration
from engine.store.opening import OpeningMixin, missing_message
from engine.store.records import ExperimentRecord, RunRecord, TrialRecord, objective_names
from engine.store.recovery import RecoveryMixin
from engine.store.writer import Writer, WriterClosed

T = TypeVar("T")


class _ReaderConnection(sqlite3.Connection):
    """A read connection (a subclass only so that the store can hold it weakly)."""


def _shutdown(writer: Writer | None, readers: weakref.WeakSet, lock: threading.Lock) -> None:
    if writer is not None:
        writer.close()
    with lock:
        conns = list(readers)
        readers.clear()
    for conn in conns:
        try:
            conn.close()
        except sqlite3.Error:
            pass


def _dict_row(cursor: sqlite3.Cursor, row: tuple) -> dict[str, Any]:
    return {d[0]: v for d, v in zip(cursor.description, row, strict=True)}


class Store(OpeningMixin, RecoveryMixin):
    """One NAS Studio experiment database (see the module docstring for threading)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 migrations: list[tuple[str, Migration]] | None = None,
                 read_only: bool = False) -> None:
        """Open (creating and migrating when needed) the store at ``path``.

        ``read_only=True`` (read commands, a read-only mount) never creates or changes
        anything: a missing file raises ``StoreMissing``, writes raise ``StoreError``.
        A store whose tables do not match its migrations is refused (``StoreError``
        naming what is missing); a store that cannot be written raises
        ``StoreReadOnly`` unless opened read-only.
        """
        self.path = Path(path) if path is not None else self.default_path()
        self._migrations = MIGRATIONS if migrations is None else migrations
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise missing_message(self.path)
        check_file(self.path)
        self._local = threading.local()
        # a dead thread's reader connection is dropped (and closed) with its thread-local
        self._readers: weakref.WeakSet[_ReaderConnection] = weakref.WeakSet()
        self._readers_lock = threading.Lock()
        self.host = socket.gethostname()
        self._pid = os.getpid()
        self._ro_uri: str | None = None
        self._writer: Writer | None = None
        if read_only:
            self._open_read_only()
        else:
            self._open_writer()
        # flush and stop the writer even if close() is forgotten (at exit or when collected)
        self._finalizer = weakref.finalize(self, _shutdown, self._writer, self._readers,
                                           self._readers_lock)

    @staticmethod
    def default_path() -> Path:
        """``experiments.db`` in the user data directory (``NAS_STUDIO_DATA_DIR``)."""
        from engine.paths import default_db_path

        return default_db_path()

    def schema_version(self) -> int:
        row = self._one("SELECT MAX(id) AS v FROM _migrations")
        return int(row["v"] or 0) if row else 0

    def close(self) -> None:
        """Flush queued writes, stop the writer and close every connection."""
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive if self._writer is None else self._writer.closed

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -----------------------------------------------------------------
    def _check_process(self) -> None:
        if os.getpid() != self._pid:
            raise StoreError(f"{self.path}: a Store cannot be used in a forked child process; "
                             "open a new Store there")

    def _write(self, fn: Callable[[Database], T]) -> T:
        self._check_process()
        if self._writer is None:
            raise StoreError(f"{self.path} is opened read-only: nothing can be recorded in it")
        try:
            return self._writer.submit(fn)
        except WriterClosed as exc:
            raise StoreError(f"{self.path}: the store is closed") from exc

    def _reader(self) -> sqlite3.Connection:
        if self.closed:
            raise StoreError(f"{self.path}: the store is closed")
        conn = getattr(self._local, "conn", None)
        if conn is None:
            self._check_process()
            target, uri = (self._ro_uri, True) if self._ro_uri else (str(self.path), False)
            conn = sqlite3.connect(target, timeout=30, isolation_level=None, uri=uri,
                                   check_same_thread=False, factory=_ReaderConnection)
            conn.row_factory = _dict_row
            self._local.conn = conn
            with self._readers_lock:
                self._readers.add(conn)
        return conn

    def query(self, sql: str, params: Iterable[Any] | Mapping[str, Any] = ()) -> list[dict]:
        """Rows of a read-only SQL query, as dicts (JSON columns left as text)."""
        return self._reader().execute(sql, params).fetchall()

    def _one(self, sql: str, params: Iterable[Any] = ()) -> dict | None:
        cursor = self._reader().execute(sql, params)
        try:
            return cursor.fetchone()
        finally:
            cursor.close()  # ends the statement, so no read snapshot stays open

    @staticmethod
    def _decode(table: str, row: dict | None) -> dict | None:
        if row is None:
            return None
        for col in JSON_COLUMNS.get(table, ()):
            if col in row:
                row[col] = codec.loads(row[col])
        return row

    @staticmethod
    def _require(db: Database, table: str, key: Any, what: str) -> None:
        pk = "hash" if table == "designs" else "id"
        if db.execute(f"SELECT 1 FROM {table} WHERE {pk} = ?", [key]).fetchone() is None:
            raise StoreError(f"unknown {what} {key}")

    # -- designs --------------------------------------------------------------------
    def add_design(self, design: Any) -> str:
        """Store a design under its content hash (idempotent); returns the hash."""
        key = design_hash(design)
        name = check_name(design.name, "design name")
        row = {"hash": key, "kind": design.kind, "name": name,
               "json": codec.dumps(design_to_dict(design)), "created": now()}
        self._write(lambda db: db["designs"].insert(row, ignore=True))
        return key

    def get_design(self, key: str) -> Any:
        row = self._one("SELECT json FROM designs WHERE hash = ?", [key])
        if row is None:
            raise StoreError(f"unknown design hash {key}")
        # not re-validated: a record stays readable if validation rules tighten later
        return design_from_dict(codec.loads(row["json"]), validate=False)

    def designs(self) -> list[dict]:
        return self.query("SELECT hash, kind, name, created FROM designs ORDER BY created")

    # -- experiments ------------------------------------------------------------------
    def create_experiment(self, kind: str, config: Any = None, seed: int | None = None,
                          name: str | None = None, *,
                          environment: dict[str, Any] | None = None) -> int:
        """A new "running" experiment owned by this process; returns its id.

        ``environment`` defaults to :func:`capture_environment` (imports torch once).
        """
        check_name(name, "experiment name")
        env = capture_environment() if environment is None else environment
        row = {"kind": kind, "name": name, "config": codec.dumps(config), "status": "running",
               "seed": seed, "created": now(), "finished": None,
               "environment": codec.dumps(env), "pid": os.getpid(), "host": self.host}

        def write(db: Database) -> int:
            new_id = db["experiments"].insert(row).last_pk
            if name is None:
                db.execute("UPDATE experiments SET name = ? WHERE id = ?",
                           [f"{kind} {new_id}", new_id])
            return int(new_id)

        return self._write(write)

    def finish_experiment(self, experiment_id: int, status: str = "finished") -> None:
        self._check_status(status)
        if status == "running":
            raise StoreError("finish_experiment needs a final status, not 'running'")

        def write(db: Database) -> None:
            self._require(db, "experiments", experiment_id, "experiment id")
            db.execute("UPDATE experiments SET status = ?, finished = ? WHERE id = ?",
                       [status, now(), experiment_id])

        self._write(write)

    def set_experiment_status(self, experiment_id: int, status: str) -> None:
        """Set the status; "running" claims it for this process (resume)."""
        self._check_status(status)

        def write(db: Database) -> None:
            self._require(db, "experiments", experiment_id, "experiment id")
            if status == "running":
                db.execute("UPDATE experiments SET status = 'running', finished = NULL, pid = ?,"
                           " host = ? WHERE id = ?", [os.getpid(), self.host, experiment_id])
            else:
                db.execute("UPDATE experiments SET status = ?, finished = ? WHERE id = ?",
                           [status, now(), experiment_id])

        self._write(write)

    def get_experiment(self, experiment_id: int) -> ExperimentRecord:
        row = self._one("SELECT * FROM experiments WHERE id = ?", [experiment_id])
        if row is None:
            raise StoreError(f"unknown experiment id {experiment_id}")
        return ExperimentRecord.from_row(self._decode("experiments", row))

    def experiments(self, kind: str | None = None) -> list[ExperimentRecord]:
        sql, params = "SELECT * FROM experiments", []
        if kind is not None:
            sql, params = sql + " WHERE kind = ?", [kind]
        return [ExperimentRecord.from_row(self._decode("experiments", r))
                for r in self.query(sql + " ORDER BY id", params)]

    def rename_experiment(self, experiment_id: int, name: str) -> None:
        check_name(name, "experiment name")

        def write(db: Database) -> None:
            self._require(db, "experiments", experiment_id, "experiment id")
            db.execute("UPDATE experiments SET name = ? WHERE id = ?", [name, experiment_id])

        self._write(write)

    def delete_experiment(self, experiment_id: int) -> None:
        """Delete the experiment with its runs, epochs, trials, artifacts and search state.

        Runs elsewhere whose parent was deleted keep existing with ``parent_id`` NULL.
        Designs stay (they are shared, content-addressed).
        """
        def write(db: Database) -> None:
            self._require(db, "experiments", experiment_id, "experiment id")
            runs = "SELECT id FROM runs WHERE experiment_id = ?"
            p = [experiment_id]
            db.execute(f"DELETE FROM epochs WHERE run_id IN ({runs})", p)
            db.execute(f"DELETE FROM artifacts WHERE run_id IN ({runs})", p)
            db.execute(f"UPDATE runs SET parent_id = NULL WHERE parent_id IN ({runs})"
                       " AND (experiment_id IS NULL OR experiment_id != ?)", p + p)
            db.execute("DELETE FROM trials WHERE experiment_id = ?", p)
            db.execute("DELETE FROM search_state WHERE experiment_id = ?", p)
            db.execute("DELETE FROM runs WHERE experiment_id = ?", p)
            db.execute("DELETE FROM experiments WHERE id = ?", p)

        self._write(write)

    # -- runs -----------------------------------------------------------------------------
    @staticmethod
    def _check_status(status: str) -> None:
        if status not in STATUSES:
            raise StoreError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")

    def create_run(self, experiment_id: int | None, design_hash: str, kind: str = "train",
                   parent_id: int | None = None, config: Any = None,
                   recipe: Any = None) -> int:
        """A new "running" run owned by this process; returns its id."""
        row = {"experiment_id": experiment_id, "design_hash": design_hash,
               "parent_id": parent_id, "kind": kind, "status": "running",
               "recipe": codec.dumps(recipe), "config": codec.dumps(config),
               "epochs_done": 0, "created": now(), "pid": os.getpid(), "host": self.host}

        def write(db: Database) -> int:
            if experiment_id is not None:
                self._require(db, "experiments", experiment_id, "experiment id")
            if parent_id is not None:
                self._require(db, "runs", parent_id, "parent run id")
            self._require(db, "designs", design_hash, "design hash")
            return int(db["runs"].insert(row).last_pk)

        return self._write(write)

    def update_run(self, run_id: int, **fields: Any) -> None:
        """Set run columns.  A final status stamps ``finished``; "running" claims the run
        for this process (as ``resume`` does)."""
        unknown = sorted(set(fields) - set(RUN_FIELDS))
        if unknown:
            raise StoreError(f"update_run: unknown field(s) {', '.join(unknown)}; "
                             f"known: {', '.join(RUN_FIELDS)}")
        values = {k: (codec.dumps(v) if k in JSON_COLUMNS["runs"] else scalar(v))
                  for k, v in fields.items()}
        if "error" in values:
            values["error"] = bounded_text(values["error"])
        status = values.get("status")
        if status is not None:
            self._check_status(status)
            if status == "running":
                values.update(pid=os.getpid(), host=self.host, finished=None)
            else:
                values.setdefault("finished", now())
        if not values:
            return
        sets = ", ".join(f"{k} = ?" for k in values)

        def write(db: Database) -> None:
            self._require(db, "runs", run_id, "run id")
            db.execute(f"UPDATE runs SET {sets} WHERE id = ?", [*values.values(), run_id])

        self._write(write)

    def get_run(self, run_id: int) -> RunRecord:
        row = self._one("SELECT * FROM runs WHERE id = ?", [run_id])
        if row is None:
            raise StoreError(f"unknown run id {run_id}")
        return RunRecord.from_row(self._decode("runs", row))

    def runs(self, experiment_id: int | None = None) -> list[RunRecord]:
        sql, params = "SELECT * FROM runs", []
        if experiment_id is not None:
            sql, params = sql + " WHERE experiment_id = ?", [experiment_id]
        return [RunRecord.from_row(self._decode("runs", r))
                for r in self.query(sql + " ORDER BY id", params)]

    def runs_with_designs(self, experiment_id: int | None = None, *, status: str | None = None,
                          kind: str | None = None, design_kind: str | None = None,
                          min_accuracy: float | None = None, max_params: int | None = None,
                          parent_id: int | None = None) -> list[RunRecord]:
        """Runs joined with their design (``design_name``, ``design_kind``) and experiment
        (``experiment_name``, ``experiment_kind``), filtered for the run browser.

        ``min_accuracy`` applies to ``test_accuracy`` when set, else ``best_val_accuracy``.
        """
        where, params = [], []
        for column, value in (("r.experiment_id", experiment_id), ("r.status", status),
                              ("r.kind", kind), ("d.kind", design_kind),
                              ("r.parent_id", parent_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if min_accuracy is not None:
            where.append("COALESCE(r.test_accuracy, r.best_val_accuracy) >= ?")
            params.append(min_accuracy)
        if max_params is not None:
            where.append("r.params <= ?")
            params.append(max_params)
        sql = ("SELECT r.*, d.name AS design_name, d.kind AS design_kind, "
               "e.name AS experiment_name, e.kind AS experiment_kind "
               "FROM runs r LEFT JOIN designs d ON d.hash = r.design_hash "
               "LEFT JOIN experiments e ON e.id = r.experiment_id")
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [RunRecord.from_row(self._decode("runs", r))
                for r in self.query(sql + " ORDER BY r.id", params)]

    def lineage(self, run_id: int) -> list[RunRecord]:
        """The run and its ancestors through ``parent_id``, newest first."""
        chain, seen = [], set()
        current: int | None = run_id
        while current is not None and current not in seen:
            seen.add(current)
            run = self.get_run(current)
            chain.append(run)
            current = run.parent_id
        return chain

    # -- epochs -------------------------------------------------------------------------------
    _EPOCH_SQL = ("INSERT OR REPLACE INTO epochs (run_id, epoch, " + ", ".join(EPOCH_METRICS)
                  + ") VALUES (" + ", ".join("?" * (2 + len(EPOCH_METRICS))) + ")")
    # a running run's best validation figure follows its epochs in the same transaction,
    # so a kill before the trainer's own update leaves no stale figure
    _EPOCHS_DONE_SQL = ("UPDATE runs SET epochs_done = "
                        "(SELECT COALESCE(MAX(epoch), 0) FROM epochs WHERE run_id = ?1), "
                        "best_val_accuracy = CASE WHEN status = 'running' THEN "
                        "(SELECT MAX(v) FROM (SELECT runs.best_val_accuracy AS v UNION ALL "
                        "SELECT MAX(val_accuracy) FROM epochs WHERE run_id = ?1)) "
                        "ELSE best_val_accuracy END WHERE id = ?1")

    def add_epoch(self, run_id: int, epoch: int, **metrics: Any) -> None:
        """Record one epoch (replacing an earlier record of the same epoch) and set the
        run's ``epochs_done`` to its highest recorded epoch."""
        self.add_epochs([{"run_id": run_id, "epoch": epoch, **metrics}])

    def add_epochs(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Bulk :meth:`add_epoch` in one transaction; returns the number of rows."""
        values = epoch_values(rows)
        run_ids = sorted({v[0] for v in values})

        def write(db: Database) -> int:
            db.conn.executemany(self._EPOCH_SQL, values)
            for rid in run_ids:  # an unknown run updates nothing and rolls the insert back
                if db.conn.execute(self._EPOCHS_DONE_SQL, (rid,)).rowcount != 1:
                    raise StoreError(f"unknown run id {rid}")
            return len(values)

        return self._write(write) if values else 0

    def epochs(self, run_id: int) -> list[dict]:
        return self.query("SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch", [run_id])

    # -- artifacts, trials, search state ------------------------------------------------------
    def add_artifact(self, run_id: int, kind: str, path: str | os.PathLike[str],
                     sha256: str | None = None, bytes: int | None = None,
                     verified: bool | None = None, details: Any = None) -> int:
        row = {"run_id": run_id, "kind": kind, "path": str(path), "sha256": sha256,
               "bytes": bytes, "verified": None if verified is None else int(bool(verified)),
               "details": codec.dumps(details), "created": now()}

        def write(db: Database) -> int:
            self._require(db, "runs", run_id, "run id")
            return int(db["artifacts"].insert(row).last_pk)

        return self._write(write)

    def artifacts(self, run_id: int | None = None) -> list[dict]:
        sql, params = "SELECT * FROM artifacts", []
        if run_id is not None:
            sql, params = sql + " WHERE run_id = ?", [run_id]
        return [self._decode("artifacts", r) for r in self.query(sql + " ORDER BY id", params)]

    def add_trial(self, experiment_id: int, trial: int, *, run_id: int | None = None,
                  status: str = "finished", arch: Any = None, metrics: Any = None,
                  error: str | None = None) -> int:
        """Record trial ``trial`` of a search (re-recording the same trial replaces it).

        ``arch`` may be a design or its JSON dict."""
        self._check_status(status)
        if arch is not None and not isinstance(arch, Mapping):
            arch = design_to_dict(arch)
        row = {"experiment_id": experiment_id, "trial": int(trial), "run_id": run_id,
               "status": status, "arch": codec.dumps(arch), "metrics": codec.dumps(metrics),
               "error": bounded_text(error), "created": now()}

        def write(db: Database) -> int:
            self._require(db, "experiments", experiment_id, "experiment id")
            old = db.execute("SELECT id FROM trials WHERE experiment_id = ? AND trial = ?",
                             [experiment_id, row["trial"]]).fetchone()
            if old is not None:
                db["trials"].update(old[0], row)
                return int(old[0])
            return int(db["trials"].insert(row).last_pk)

        return self._write(write)

    def trials(self, experiment_id: int) -> list[TrialRecord]:
        """The experiment's trials in trial order, with the values of its configured
        objectives and the hash of the design each one evaluated."""
        exp = self._one("SELECT kind, config FROM experiments WHERE id = ?", [experiment_id])
        names = objective_names(codec.loads(exp["config"])) if exp else ()
        rows = self.query("SELECT t.*, r.design_hash AS run_design_hash FROM trials t "
                          "LEFT JOIN runs r ON r.id = t.run_id WHERE t.experiment_id = ? "
                          "ORDER BY t.trial", [experiment_id])
        return [TrialRecord.from_row(self._decode("trials", r), names, r["run_design_hash"])
                for r in rows]

    def save_search_state(self, experiment_id: int, state: Any) -> None:
        row = {"experiment_id": experiment_id, "state": codec.dumps(state), "updated": now()}

        def write(db: Database) -> None:
            self._require(db, "experiments", experiment_id, "experiment id")
            db["search_state"].upsert(row, pk="experiment_id")

        self._write(write)

    def load_search_state(self, experiment_id: int) -> Any:
        """The last saved state, or None when none was saved."""
        row = self._one("SELECT state FROM search_state WHERE experiment_id = ?",
                        [experiment_id])
        return None if row is None else codec.loads(row["state"])
