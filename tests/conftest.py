"""Test-wide settings: offscreen Qt, a private data directory, no network."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory, monkeypatch):
    """Never touch the user's real data directory (store default path, settings)."""
    data = tmp_path_factory.mktemp("nas-studio-data")
    monkeypatch.setenv("NAS_STUDIO_DATA_DIR", str(data))
    yield data
