"""One real local Ray for the whole test session (started by the first test that asks
for it, shut down at the end; every process it started must be gone by then)."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

RAY_MISSING = 'Ray is not installed (pip install "nas-studio[cluster]" to run these tests)'


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process this user can see."""
    out = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            stat = (proc / "stat").read_text()
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        out[int(proc.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), cmd)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def session_processes(session_dir: str) -> set[int]:
    """The processes of a Ray session: those naming its folder, and their descendants
    (the workers, whose command line Ray rewrites)."""
    procs = _processes()
    found = {pid for pid, (_, cmd) in procs.items() if session_dir in cmd}
    grew = True
    while grew:
        more = {pid for pid, (ppid, _) in procs.items() if ppid in found} - found
        found |= more
        grew = bool(more)
    found.discard(os.getpid())
    return found


@pytest.fixture(scope="session")
def ray_cluster():
    """SimpleNamespace(ray, address, session_dir) of the session's local Ray (2 CPUs)."""
    if not Path("/proc").is_dir():
        pytest.skip("the Ray tests check for leftover processes through /proc")
    ray = pytest.importorskip("ray", reason=RAY_MISSING)
    if ray.is_initialized():
        pytest.fail("a Ray was already running in the test process")
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100 * 1024**2,
             log_to_driver=False, logging_level=logging.WARNING)
    session_dir = ray._private.worker._global_node.get_session_dir_path()
    yield SimpleNamespace(ray=ray, address=ray.get_runtime_context().gcs_address,
                          session_dir=session_dir)
    started = session_processes(session_dir)
    ray.shutdown()
    deadline = time.monotonic() + 30
    left = {pid for pid in started if _alive(pid)}
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = {pid for pid in left if _alive(pid)}
    for pid in left:   # ours (named by the session folder): do not leave them running
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    assert not left, f"Ray left processes behind: {sorted(left)}"
