"""The store's single writer: one thread, one connection, a queue of write functions.

``Writer.submit(fn)`` puts ``fn`` on the queue and blocks until the writer thread has
run ``fn(db)`` inside a transaction and committed it; ``fn``'s result is returned and
its exception re-raised in the caller's thread.  A call made from the writer thread
itself (a write function calling another store write) runs inline, nested in the
current transaction as a savepoint.
"""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlite_utils import Database

T = TypeVar("T")
_STOP = object()


@contextlib.contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on error).

    Taking the write lock up front lets SQLite's busy timeout wait for another
    process's writer, where a deferred transaction that read first would fail at once.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    try:
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


class WriterClosed(RuntimeError):
    """Raised when writing to a store that has been closed."""


class Writer:
    """Runs write functions one at a time on a dedicated thread with its own connection."""

    def __init__(self, path: str, setup: Callable[[Database], None], *,
                 timeout: float = 30.0) -> None:
        self._path = path
        self._timeout = timeout
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        ready: Future[None] = Future()
        self._setup: Callable[[Database], None] | None = setup  # dropped once run
        self._thread = threading.Thread(target=self._loop, args=(ready,),
                                        name="nas-studio-store-writer", daemon=True)
        self._thread.start()
        try:
            ready.result()
        except BaseException:
            self._thread.join()
            self._closed = True
            raise

    @property
    def closed(self) -> bool:
        return self._closed

    def _connect(self) -> Database:
        conn = sqlite3.connect(self._path, timeout=self._timeout)
        db = Database(conn)
        db.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
        return db

    def _loop(self, ready: Future[None]) -> None:
        setup, self._setup = self._setup, None  # no reference back to the owner stays here
        try:
            db = self._connect()
            assert setup is not None
            try:
                setup(db)
            except BaseException:
                db.close()
                raise
        except BaseException as exc:  # noqa: BLE001 - handed to the opener
            ready.set_exception(exc)
            return
        finally:
            del setup
        ready.set_result(None)
        self._db = db
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    break
                fn, fut = item
                if not fut.set_running_or_notify_cancel():
                    continue
                try:
                    with transaction(db):
                        result = fn(db)
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                    fut.set_exception(exc)
                else:
                    fut.set_result(result)
        finally:
            db.close()

    def submit(self, fn: Callable[[Database], T]) -> T:
        """Run ``fn(db)`` in one committed transaction on the writer thread."""
        if threading.current_thread() is self._thread:
            with self._db.atomic():
                return fn(self._db)
        fut: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise WriterClosed("the experiment store is closed")
            self._queue.put((fn, fut))
        return fut.result()

    def close(self) -> None:
        """Finish every queued write, then stop the thread and close its connection."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        if threading.current_thread() is not self._thread:
            self._thread.join()
