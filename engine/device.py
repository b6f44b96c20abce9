"""The compute device, picked at run time: CUDA, then Apple MPS, then CPU."""

from __future__ import annotations

import torch

__all__ = ["amp_supported", "available_devices", "pick_device", "synchronize"]


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[str]:
    """Device types usable here, best first (always ends with ``"cpu"``)."""
    out = []
    if torch.cuda.is_available():
        out.append("cuda")
    if _mps_available():
        out.append("mps")
    out.append("cpu")
    return out


def pick_device(prefer: str | None = None) -> torch.device:
    """The best available device, or ``prefer`` (``"cuda"``, ``"cuda:1"``, ``"mps"``, ``"cpu"``).

    ``None``, ``""`` and ``"auto"`` mean cuda > mps > cpu.  An unknown or unavailable
    preference raises ValueError naming what is available.
    """
    if prefer is None or str(prefer).strip().lower() in ("", "auto"):
        return torch.device(available_devices()[0])
    try:
        device = torch.device(str(prefer).strip().lower())
    except RuntimeError:
        raise ValueError(f"unknown device {prefer!r}; use one of: auto, "
                         f"{', '.join(available_devices())}") from None
    if device.type not in available_devices():
        raise ValueError(f"device {prefer!r} is not available here; available: "
                         f"{', '.join(available_devices())}")
    if device.type == "cuda" and device.index is not None \
            and device.index >= torch.cuda.device_count():
        raise ValueError(f"device {prefer!r} does not exist: {torch.cuda.device_count()} "
                         f"CUDA device(s) here")
    return device


def amp_supported(device: torch.device | str) -> bool:
    """Whether float16 mixed precision is worth using on ``device`` (CUDA, recent MPS)."""
    dev_type = torch.device(device).type
    if dev_type == "cuda":
        return torch.cuda.is_available()
    if dev_type == "mps":
        check = getattr(torch.amp, "is_autocast_available", None)
        return bool(_mps_available() and check is not None and check("mps"))
    return False


def synchronize(device: torch.device | str) -> None:
    """Wait for queued work on ``device`` (for timing); a no-op on CPU."""
    dev_type = torch.device(device).type
    if dev_type == "cuda":
        torch.cuda.synchronize(device)
    elif dev_type == "mps":
        torch.mps.synchronize()
