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
