"""Opening a store safely: the schema checked against the migrations (a damaged store is
refused, never silently re-created), read-only stores opened ``mode=ro`` (``immutable``
where SQLite could not otherwise read them), writes to a read-only store refused with
the reason."""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlite_utils import Database

from engine.store.common import StoreError, now
from engine.store.writer import Writer, transaction


class StoreMissing(StoreError):
    """A read command named a store that does not exist (nothing was created)."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


class StoreReadOnly(StoreError):
    """The store cannot be written (read-only file, folder or mount)."""


@functools.lru_cache(maxsize=8)
def _expected(migrations: tuple[tuple[str, Callable], ...]) -> dict[str, tuple[int, frozenset]]:
    """``{table: (migration number, columns)}`` built by NAS Studio's own migrations in
    ``migrations`` (others, e.g. a test's, are not run twice: they may count calls)."""
    from engine.store.migrations import MIGRATIONS

    db = Database(memory=True)
    made: dict[str, tuple[int, frozenset]] = {}
    for number, (name, fn) in enumerate(migrations, start=1):
        if (name, fn) not in MIGRATIONS:
            continue
        fn(db)
        for table in db.table_names():
            cols = frozenset(c.name for c in db[table].columns)
            made[table] = (made.get(table, (number, cols))[0], cols)
    db.close()
    return made


def expected_schema(migrations: Sequence[tuple[str, Callable]]) -> dict[str, frozenset]:
    """``{table: columns}`` the migrations create (built once in memory)."""
    return {t: cols for t, (_n, cols) in _expected(tuple(migrations)).items()}


def _column(conn: sqlite3.Connection, sql: str, index: int, key: str) -> set[str]:
    """One column of a query's rows, whatever the connection's row factory."""
    return {r[key] if isinstance(r, dict) else r[index] for r in conn.execute(sql).fetchall()}


def check_schema(conn: sqlite3.Connection, path: Path,
                 migrations: Sequence[tuple[str, Callable]]) -> None:
    """Raise ``StoreError`` naming every table (or column) the migrations create that the
    database at ``path`` lacks."""
    expected = _expected(tuple(migrations))
    tables = _column(conn, "SELECT name FROM sqlite_master WHERE type = 'table'", 0, "name")
    missing = sorted(t for t in expected if t not in tables)
    if missing:
        which = ", ".join(f"{t} (migration {expected[t][0]}, "
                          f"{migrations[expected[t][0] - 1][0]!r})" for t in missing)
        noun = "table" if len(missing) == 1 else "tables"
        raise StoreError(f"{path} is damaged: the {noun} {which} "
                         f"{'is' if len(missing) == 1 else 'are'} missing. The store was "
                         "left as it is; restore it from a backup or choose another database "
                         "with --db")
    for table, (_number, cols) in sorted(expected.items()):
        have = _column(conn, f'PRAGMA table_info("{table}")', 1, "name")
        lost = sorted(cols - have)
        if lost:
            raise StoreError(f"{path} is damaged: table {table} lacks the column(s) "
                             f"{', '.join(lost)}. The store was left as it is; restore it "
                             "from a backup or choose another database with --db")


def _nearest_folder(path: Path) -> Path:
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def write_problem(path: Path) -> str | None:
    """Why the store at ``path`` cannot be written, or None."""
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    folder = _nearest_folder(path)
    if not os.access(folder, os.W_OK):
        return (f"its folder {folder} is read-only (SQLite keeps its -wal and -shm files "
                "next to the database)")
    return None


def read_only_message(path: Path, reason: str) -> str:
    return (f"{path} is read-only ({reason}): NAS Studio cannot record anything in it. "
            f"Listing still works (nas-studio runs --db {path}); to train, search, compress "
            "or export, copy it somewhere writable or choose another database with --db")


def read_only_uris(path: Path) -> list[str]:
    """URIs to try, in order: ``mode=ro``, then ``immutable=1`` (for a WAL database in a
    read-only folder whose -shm file SQLite cannot create)."""
    uri = path.resolve().as_uri()
    return [f"{uri}?mode=ro", f"{uri}?mode=ro&immutable=1"]


def connect_read_only(path: Path, **kwargs: object) -> tuple[sqlite3.Connection, str]:
    """A working read-only connection and the URI it used; ``StoreError`` when none."""
    error: sqlite3.Error | None = None
    for uri in read_only_uris(path):
        conn = sqlite3.connect(uri, uri=True, **kwargs)  # type: ignore[arg-type]
        try:
            conn.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
            return conn, uri
        except sqlite3.DatabaseError as exc:
            conn.close()
            if "not a database" in str(exc) or "malformed" in str(exc):
                raise StoreError(f"{path} is not a NAS Studio database (not SQLite): {exc}") \
                    from exc
            error = exc
    raise StoreError(f"{path} cannot be read: {error}")


def missing_message(path: Path) -> StoreMissing:
    folder = _nearest_folder(path)
    if folder != path.parent:
        return StoreMissing(f"{path} does not exist (nor does its folder {path.parent}); "
                            "nothing was created", path)
    return StoreMissing(f"{path} does not exist; nothing was created", path)


class OpeningMixin:
    """The store's opening: migrations and the schema check (read-write), or the
    read-only checks.  Mixed into ``Store``, which sets ``path``, ``_migrations``,
    ``_writer`` and ``_ro_uri``."""

    path: Path
    _migrations: list[tuple[str, Callable]]
    _writer: Writer | None
    _ro_uri: str | None

    def _setup(self, db: Database) -> None:
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"{self.path}: cannot switch to WAL mode (got {mode!r})")
        db.execute("PRAGMA synchronous=NORMAL")
        # one transaction: two processes opening a new file at once migrate it once
        with transaction(db):
            if "_migrations" not in db.table_names():
                db["_migrations"].create({"id": int, "name": str, "applied": str}, pk="id")
            done = {r["id"] for r in db["_migrations"].rows}
            known = len(self._migrations)
            if done and max(done) > known:
                raise StoreError(f"{self.path} has schema version {max(done)}, newer than "
                                 f"this NAS Studio knows ({known}); upgrade NAS Studio to open it")
            for number, (name, fn) in enumerate(self._migrations, start=1):
                if number not in done:
                    fn(db)
                    db["_migrations"].insert({"id": number, "name": name, "applied": now()})
            # before anything can write: sqlite-utils would re-create a dropped table bare
            check_schema(db.conn, self.path, self._migrations)

    def _open_writer(self) -> None:
        problem = write_problem(self.path)
        if problem:
            raise StoreReadOnly(read_only_message(self.path, problem))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder for {self.path}: {exc}") from exc
        try:
            self._writer = Writer(str(self.path), self._setup)
        except sqlite3.OperationalError as exc:
            if "readonly" in str(exc) or "read-only" in str(exc):
                raise StoreReadOnly(read_only_message(self.path, str(exc))) from exc
            raise StoreError(f"{self.path} cannot be opened as a NAS Studio database: {exc}") \
                from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} cannot be opened as a NAS Studio database: {exc}") \
                from exc

    def _open_read_only(self) -> None:
        conn, self._ro_uri = connect_read_only(self.path)
        try:
            names = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            done = {r[0] for r in conn.execute("SELECT id FROM _migrations")} \
                if "_migrations" in names else set()
            known = len(self._migrations)
            if done and max(done) > known:
                raise StoreError(f"{self.path} has schema version {max(done)}, newer than "
                                 f"this NAS Studio knows ({known}); upgrade NAS Studio to open it")
            if done != set(range(1, known + 1)):
                raise StoreError(f"{self.path} has schema version {max(done, default=0)}; this "
                                 f"NAS Studio needs version {known} and cannot upgrade a store "
                                 "opened read-only")
            check_schema(conn, self.path, self._migrations)
        finally:
            conn.close()



__all__ = ["OpeningMixin", "StoreMissing", "StoreReadOnly", "check_schema", "connect_read_only",
           "expected_schema", "missing_message", "read_only_message", "write_problem"]
