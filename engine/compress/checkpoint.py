"""Saving and reloading compressed PyTorch models without pickle.

A pruned network is stored as a *pruned derivative* of its parent design: one
safetensors file with the pruned weights, and in its metadata the shape-defining
attributes of every resized layer (``in_channels``, ``out_channels``, ``groups``,
``num_features``, ...).  To reload, the parent design is built fresh, each listed layer
is resized to the recorded shapes (empty tensors), and the weights are loaded strictly.
Nothing is executed from the file and no pickle is involved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

FORMAT = "nas-studio-pruned"
_SHAPE_ATTRS = ("in_channels", "out_channels", "groups", "num_features", "in_features",
                "out_features", "num_channels", "num_groups", "normalized_shape",
                "num_parameters")


def structure_of(model: nn.Module) -> dict[str, dict[str, Any]]:
    """The shape-defining attributes of every module that has any (JSON-serializable)."""
    out: dict[str, dict[str, Any]] = {}
    for name, m in model.named_modules():
        attrs = {}
        for a in _SHAPE_ATTRS:
            v = getattr(m, a, None)
            if isinstance(v, int) and not isinstance(v, bool):
                attrs[a] = v
            elif isinstance(v, tuple) and all(isinstance(i, int) for i in v):
                attrs[a] = list(v)
        if attrs:
            out[name] = attrs
    return out


def save_pruned(model: nn.Module, path: str | Path, metadata: dict[str, Any] | None = None
                ) -> int:
    """Write weights + structure to a safetensors file; returns its size in bytes."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "structure": json.dumps(structure_of(model)),
            "metadata": json.dumps(metadata or {})}
    save_file(tensors, str(path), metadata=meta)
    return path.stat().st_size


def read_pruned(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any],
                                            dict[str, Any]]:
    """``(state_dict, structure, metadata)`` from a file written by :func:`save_pruned`."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: compressed checkpoint not found")
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not a NAS Studio pruned checkpoint "
                         f"(format {meta.get('format')!r})")
    return load_file(str(path)), json.loads(meta["structure"]), json.loads(meta["metadata"])


def apply_structure(model: nn.Module, structure: dict[str, dict[str, Any]],
                    state: dict[str, torch.Tensor]) -> nn.Module:
    """Resize ``model`` in place to the recorded structure and load ``state`` strictly."""
    modules = dict(model.named_modules())
    for name, attrs in structure.items():
        m = modules.get(name)
        if m is None:
            raise ValueError(f"checkpoint names layer {name!r} that the design does not build")
        for a, v in attrs.items():
            if hasattr(m, a):
                setattr(m, a, tuple(v) if isinstance(v, list) else v)
    for key, tensor in state.items():
        mod_name, _, tname = key.rpartition(".")
        m = modules.get(mod_name)
        if m is None:
            raise ValueError(f"checkpoint tensor {key!r} has no layer in the design")
        current = getattr(m, tname, None)
        if current is None or tuple(current.shape) == tuple(tensor.shape):
            continue
        empty = torch.empty(tensor.shape, dtype=tensor.dtype)
        if isinstance(current, nn.Parameter):
            setattr(m, tname, nn.Parameter(empty, requires_grad=current.requires_grad))
        else:
            m.register_buffer(tname, empty)
    model.load_state_dict(state, strict=True)
    return model


def load_pruned(model: nn.Module, path: str | Path) -> nn.Module:
    """Resize a freshly built parent ``model`` and load the pruned weights into it."""
    state, structure, _ = read_pruned(path)
    return apply_structure(model, structure, state)
