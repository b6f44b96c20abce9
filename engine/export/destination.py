"""Where an export may be written: never over the store or a checkpoint, never over an
existing file unless asked, always somewhere writable.

``check_output(path, fmt, store=..., force=...)`` is the one check every export of a
stored run goes through (CLI, studio dialog, ``export_run``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine.export.common import ExportError

BUNDLE_FILES = frozenset({"design.json", "weights.safetensors", "metadata.json"})
STORE_SUFFIXES = ("", "-wal", "-shm", "-journal")


class DestinationError(ExportError):
    """The destination must never be written (the store, a checkpoint, a foreign folder)."""


class DestinationExists(ExportError):
    """The destination exists; it is replaced only when the user says so (``force``)."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


def _resolve(path: Path) -> Path:
    try:
        return path.expanduser().resolve()
    except (OSError, RuntimeError):  # a symlink loop: compare the absolute path
        return Path(os.path.abspath(path.expanduser()))


def protected_paths(store: Any) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
    """``(files, folders)`` no export may replace or write into, each with a description:
    the store file with its -wal/-shm/-journal, every run's checkpoint file, the store's
    checkpoint folder and the data directory's checkpoints folder."""
    from engine.paths import checkpoints_dir
    from engine.train.checkpoint import checkpoints_root

    files: list[tuple[Path, str]] = []
    folders: list[tuple[Path, str]] = [(_resolve(checkpoints_dir()), "the checkpoints folder")]
    db = getattr(store, "path", None)
    if db is not None:
        db = _resolve(Path(db))
        files += [(db.with_name(db.name + s), "the experiment store" if not s else
                   f"the experiment store's {s[1:]} file") for s in STORE_SUFFIXES]
        folders.append((_resolve(checkpoints_root(db)), "the store's checkpoint folder"))
        try:
            rows: Iterable[dict] = store.query(
                "SELECT id, checkpoint FROM runs WHERE checkpoint IS NOT NULL")
        except Exception:  # noqa: BLE001 - a damaged store is refused where it is opened
            rows = []
        files += [(_resolve(Path(r["checkpoint"])), f"run {r['id']}'s checkpoint")
                  for r in rows if r.get("checkpoint")]
    return files, folders


def _within(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _check_protected(path: Path, resolved: Path, folder_out: bool, store: Any) -> None:
    files, folders = protected_paths(store)
    for protected, what in files:
        if resolved == protected or _same_file(path, protected):
            raise DestinationError(f"{path}: is {what}; an export never replaces it "
                                   "(choose another destination)")
        if folder_out and _within(protected, resolved):
            raise DestinationError(f"{path}: holds {what} ({protected}); a bundle folder "
                                   "replaces its folder (choose another destination)")
    for folder, what in folders:
        if _within(resolved, folder):
            raise DestinationError(f"{path}: is inside {what} {folder}; exports never go "
                                   "there (choose another destination)")
        if folder_out and _within(folder, resolved):
            raise DestinationError(f"{path}: holds {what} {folder}; a bundle folder replaces "
                                   "its folder (choose another destination)")


def is_bundle_folder(path: Path) -> bool:
    """A folder holding only a NAS Studio bundle (what an export may replace)."""
    try:
        names = {p.name for p in path.iterdir()}
        meta = json.loads((path / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return names <= BUNDLE_FILES and isinstance(meta, dict) \
        and meta.get("format") == "nas-studio-bundle"


def check_output(path: str | Path, fmt: str, *, store: Any = None,
                 force: bool = False) -> Path:
    """Make sure ``fmt`` may be written at ``path`` (creating missing folders), or raise
    ``ExportError`` naming the path: a bundle folder is a folder, every other output a
    file; ``DestinationError`` for the store, its -wal/-shm, a checkpoint or anything in
    a checkpoint folder; ``DestinationExists`` for an existing output unless ``force``.
    """
    path = Path(path).expanduser()
    folder_out = fmt == "bundle" and path.suffix.lower() != ".zip"
    if folder_out and path.exists() and not path.is_dir():
        raise ExportError(f"{path}: is a file; a bundle is written as a folder (or give a "
                          ".zip path)")
    if not folder_out and path.is_dir():
        raise ExportError(f"{path}: is a folder; give a file path for the {fmt} export")
    _check_protected(path, _resolve(path), folder_out, store)
    if folder_out and path.is_dir() and any(path.iterdir()):
        if not is_bundle_folder(path):
            raise DestinationError(f"{path}: is a folder that is not a NAS Studio bundle; "
                                   "a bundle export replaces the whole folder (choose a new "
                                   "or empty folder)")
        if not force:
            raise DestinationExists(f"{path}: a bundle already exists there; pass --force "
                                    "to replace it", path)
    elif not folder_out and path.exists() and not force:
        raise DestinationExists(f"{path}: already exists; pass --force to replace it", path)
    where = path if folder_out else path.parent
    try:
        where.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=where):
            pass
    except OSError as exc:
        raise ExportError(f"{path}: cannot write there ({exc.strerror or exc})") from exc
    return path


__all__ = ["DestinationError", "DestinationExists", "check_output", "is_bundle_folder",
           "protected_paths"]
