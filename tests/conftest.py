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


_exit_status = {"code": None}


def pytest_sessionfinish(session, exitstatus):
    _exit_status["code"] = int(exitstatus)


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config):
    """End the process once pytest has reported, skipping interpreter finalization.

    PySide6 can crash (SIGSEGV) while Python tears down modules after a long run that
    mixes Qt widgets, worker threads and torch; the report is complete by now, so the
    exit status pytest computed is what CI sees.
    """
    import sys

    if "PySide6" in sys.modules and _exit_status["code"] is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status["code"])
