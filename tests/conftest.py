"""Test-wide settings: offscreen Qt, one torch thread, a private data directory."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One intra-op thread: results that depend on float summation order (accuracy bars,
# kill-and-resume equality between a subprocess and this process) are then the same on
# every machine, whatever its core count. Set before anything imports torch.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory, monkeypatch):
    """Never touch the user's real data directory (store default path, settings)."""
    data = tmp_path_factory.mktemp("nas-studio-data")
    monkeypatch.setenv("NAS_STUDIO_DATA_DIR", str(data))
    yield data
