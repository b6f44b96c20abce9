"""Atomic writes of export outputs: a file is written to a temporary file in the same
folder, fsynced and renamed over the destination; a folder is built aside and swapped
in.  A process killed at any point leaves the previous output intact (and a temporary
``.<name>.<pid>.tmp…`` that the next export to that path removes)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

_TMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.(?P<tag>tmp|old)")


def temp_sibling(path: Path, tag: str = "tmp") -> Path:
    """``.<name>.<pid>.<tag><suffix>`` next to ``path`` (the suffix kept for exporters
    that look at it)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{tag}{path.suffix}")


def fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (no-op where folders cannot be opened)."""
    if sys.platform == "win32":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale(path: Path) -> list[Path]:
    """Delete temporaries of ``path`` left by killed processes (a folder set aside by a
    swap that was killed halfway is put back); returns what was removed."""
    from engine.store.processes import pid_alive

    removed = []
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return removed
    for p in siblings:
        m = _TMP.match(p.name)
        if not m or m["name"] != path.name or pid_alive(int(m["pid"])):
            continue
        if m["tag"] == "old":  # set aside by a swap: put back if the swap was cut short
            if not path.exists():
                with contextlib.suppress(OSError):
                    os.replace(p, path)
                continue
        with contextlib.suppress(OSError):
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
            removed.append(p)
    return removed


@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is fsynced and renamed to ``path``.
    On an exception the temporary is deleted and ``path`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path)
    tmp = temp_sibling(path)
    try:
        yield tmp
        fsync_file(tmp)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where
    the call is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (38, 22, 95):  # ENOSYS, EINVAL, EOPNOTSUPP: the file system cannot swap
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap_in_folder(built: Path, path: Path) -> None:
    """Put the folder ``built`` at ``path``, replacing what is there."""
    if path.is_dir() and not path.is_symlink():
        if _exchange(built, path):
            fsync_dir(path.parent)
            shutil.rmtree(built)
            return
        old = temp_sibling(path, "old")
        os.replace(path, old)
        os.replace(built, path)
        fsync_dir(path.parent)
        shutil.rmtree(old, ignore_errors=True)
        return
    os.replace(built, path)
    fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield an empty temporary folder to fill; on success its files are fsynced and the
    folder swapped in at ``path``.  On an exception it is deleted, ``path`` untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path)
    tmp = temp_sibling(path)
    tmp.mkdir()
    try:
        yield tmp
        for f in tmp.iterdir():
            fsync_file(f)
        fsync_dir(tmp)
        swap_in_folder(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


__all__ = ["atomic_file", "atomic_folder", "fsync_dir", "fsync_file", "remove_stale",
           "swap_in_folder", "temp_sibling"]
