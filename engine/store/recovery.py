"""Crash recovery: rows left "running" by a dead process, and runs that a resumed
search or job replaced (mixed into ``Store``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlite_utils import Database

from engine.store.common import now
from engine.store.processes import pid_alive


class RecoveryMixin:
    host: str
    read_only: bool
    _write: Callable[..., Any]
    query: Callable[..., list[dict]]
    _reader: Callable[[], Any]

    def _orphaned(self, table: str, conn: Any) -> list[int]:
        rows = conn.execute(f"SELECT id, pid, host FROM {table} WHERE status = 'running'")
        out = []
        for row in rows.fetchall():
            rid, pid, host = (row["id"], row["pid"], row["host"]) if isinstance(row, dict) \
                else row
            if pid is None or (host in (None, self.host) and not pid_alive(int(pid))):
                out.append(rid)
        return out

    def orphaned_run_ids(self) -> list[int]:
        """Runs marked "running" whose process is gone (read only: nothing is changed)."""
        return self._orphaned("runs", self._reader())
    def mark_interrupted(self) -> list[int]:
        """Runs and experiments left "running" by a dead process on this host become
        "interrupted"; returns the run ids changed.

        Rows owned by a live process, or by another host (whose processes cannot be
        checked from here), are left alone.  A store opened read-only is not changed
        (``orphaned_run_ids`` says which runs would be).
        """
        if self.read_only:
            return []

        def write(db: Database) -> list[int]:
            stamp = now()
            runs = self._orphaned("runs", db.conn)
            exps = self._orphaned("experiments", db.conn)
            db.conn.executemany("UPDATE runs SET status = 'interrupted', finished = ? "
                                "WHERE id = ?", [(stamp, r) for r in runs])
            db.conn.executemany("UPDATE experiments SET status = 'interrupted', finished = ? "
                                "WHERE id = ?", [(stamp, e) for e in exps])
            return runs

        return self._write(write)

    def supersede_runs(self, reason: str, *, experiment_id: int | None = None,
                       kind: str | None = None, parent_id: int | None = None,
                       keep: tuple[int, ...] = ()) -> list[int]:
        """Runs (of ``experiment_id`` / ``kind`` / ``parent_id``) left "interrupted", or
        "running" by a dead process, become "failed" with ``reason`` as their error: the
        search or job that owned them has resumed or been redone and will not continue
        them.  Returns the run ids changed (``keep`` are never changed)."""
        if experiment_id is None and parent_id is None:
            raise ValueError("supersede_runs needs an experiment_id or a parent_id")
        where, params = ["status IN ('interrupted', 'running')"], []
        for column, value in (("experiment_id", experiment_id), ("kind", kind),
                              ("parent_id", parent_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)

        def write(db: Database) -> list[int]:
            rows = db.execute(f"SELECT id, status, pid, host FROM runs WHERE {' AND '.join(where)}",
                              params).fetchall()
            ids = [rid for rid, status, pid, host in rows if rid not in keep and (
                status == "interrupted" or pid is None
                or (host in (None, self.host) and not pid_alive(int(pid))))]
            stamp = now()
            db.conn.executemany("UPDATE runs SET status = 'failed', error = ?, finished = ? "
                                "WHERE id = ?", [(reason, stamp, r) for r in ids])
            return ids

        return self._write(write)
