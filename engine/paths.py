"""Where NAS Studio keeps its files: one function, honouring NAS_STUDIO_DATA_DIR."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """The user data directory (created on demand)."""
    override = os.environ.get("NAS_STUDIO_DATA_DIR")
    if override:
        path = Path(override)
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir("nas-studio", "nas-studio"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_path() -> Path:
    return data_dir() / "experiments.db"


def checkpoints_dir() -> Path:
    path = data_dir() / "checkpoints"
    path.mkdir(parents=True, exist_ok=True)
    return path


def resources_dir() -> Path:
    """resources/ from an installed wheel or from a checkout."""
    import resources

    return Path(resources.__file__).resolve().parent
