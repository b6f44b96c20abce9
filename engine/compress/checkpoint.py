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
MAX_SIZE = 1 << 20   # no layer has more channels/features than this
# The shape attributes a structure may set, by module type: nothing else (no method, no
# dunder, no module type outside this table) can be changed from a file.
_CONV_ATTRS = ("in_channels", "out_channels", "groups")
_KNOWN: tuple[tuple[type, tuple[str, ...]], ...] = (
    (nn.modules.conv._ConvNd, _CONV_ATTRS),
    (nn.Linear, ("in_features", "out_features")),
    (nn.modules.batchnorm._NormBase, ("num_features",)),
    (nn.GroupNorm, ("num_groups", "num_channels")),
    (nn.LayerNorm, ("normalized_shape",)),
    (nn.PReLU, ("num_parameters",)),
)


def _allowed(m: nn.Module) -> tuple[str, ...]:
    """The shape attributes of ``m`` a structure may record and set."""
    for kind, attrs in _KNOWN:
        if isinstance(m, kind):
            return attrs
    from engine.ops.torch_blocks import Conv2dNormActivation, MBConv

    if isinstance(m, (Conv2dNormActivation, MBConv)):
        return ("out_channels",)
    return ()


def _shape_value(name: str, attr: str, v: Any) -> int | tuple[int, ...]:
    def size(i: Any) -> int:
        if not isinstance(i, int) or isinstance(i, bool) or not 1 <= i <= MAX_SIZE:
            raise ValueError(f"structure sets {name!r}.{attr} to {v!r}; expected whole "
                             f"numbers from 1 to {MAX_SIZE}")
        return i

    if attr == "normalized_shape":
        if not isinstance(v, list) or not 1 <= len(v) <= 4:
            raise ValueError(f"structure sets {name!r}.{attr} to {v!r}; expected a list of "
                             "1 to 4 whole numbers")
        return tuple(size(i) for i in v)
    return size(v)


def structure_of(model: nn.Module) -> dict[str, dict[str, Any]]:
    """The shape-defining attributes of every known layer type (JSON-serializable)."""
    out: dict[str, dict[str, Any]] = {}
    for name, m in model.named_modules():
        attrs = {}
        for a in _allowed(m):
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
    if not isinstance(structure, dict):
        raise ValueError(f"structure must map layer names to shapes, not {structure!r:.80}")
    changes = []
    for name, attrs in structure.items():
        m = modules.get(name)
        if m is None:
            raise ValueError(f"checkpoint names layer {name!r} that the design does not build")
        allowed = _allowed(m)
        if not isinstance(attrs, dict):
            raise ValueError(f"structure of layer {name!r} must map attributes to sizes")
        for a, v in attrs.items():
            if a not in allowed:
                known = ", ".join(allowed) or "nothing"
                raise ValueError(f"structure sets {a!r} on layer {name!r} "
                                 f"({type(m).__name__}); only {known} can be set there")
            changes.append((m, a, _shape_value(name, a, v)))
    for m, a, v in changes:  # all checked first: a refused file changes nothing
        setattr(m, a, v)
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
