"""What an experiment ran on: versions, platform, device, host (the ``environment`` JSON)."""

from __future__ import annotations

import copy
import functools
import platform
import socket
import sys
from typing import Any


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


@functools.lru_cache(maxsize=1)
def _capture() -> dict[str, Any]:
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "executable": sys.executable,
    }
    try:
        from importlib.metadata import version

        env["nas_studio"] = version("nas-studio")
    except Exception:  # noqa: BLE001 - running from a checkout without metadata
        env["nas_studio"] = None
    try:
        import torch  # lazily: the store must not pull torch in at import time

        env["torch"] = torch.__version__
        if torch.cuda.is_available():
            env["device"] = "cuda"
            env["device_name"] = torch.cuda.get_device_name(0)
            env["cuda"] = torch.version.cuda
        elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            env["device"] = "mps"
            env["device_name"] = "Apple MPS"
        else:
            env["device"] = "cpu"
            env["device_name"] = _cpu_name()
        env["torch_threads"] = torch.get_num_threads()
    except ImportError:
        env.update(torch=None, device="cpu", device_name=_cpu_name())
    try:
        import torchvision

        env["torchvision"] = torchvision.__version__
    except ImportError:
        env["torchvision"] = None
    return env


def capture_environment() -> dict[str, Any]:
    """Versions (python, torch, torchvision), platform, device and hostname.

    Imports torch on first call (cached per process).
    """
    return copy.deepcopy(_capture())
