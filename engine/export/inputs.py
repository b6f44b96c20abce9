"""What an exported model expects: the input preprocessing (scale, mean/std, channel
order, layout) and the class names, recorded in the bundle metadata, in the ONNX
``metadata_props`` and in the TorchScript archive so a user can feed the model."""

from __future__ import annotations

import json
from typing import Any

METADATA_FILE = "nas_studio.json"   # the TorchScript archive's extra file


def run_inputs(store: Any, run: Any) -> dict[str, Any]:
    """``{"preprocessing": {...} | None, "class_names": [...] | None}`` of a stored run:
    from its training config, its ancestors' (compressed runs), or by reloading the
    recorded dataset (runs trained before the preprocessing was recorded)."""
    chain = [run]
    try:
        chain += store.lineage(run.id)[1:]
    except Exception:  # noqa: BLE001 - a missing parent only loses the description
        pass
    for row in chain:
        cfg = row.config
        if cfg.get("preprocessing"):
            return {"preprocessing": cfg["preprocessing"],
                    "class_names": cfg.get("class_names") or None}
    for row in chain:
        spec = row.config.get("dataset")
        if isinstance(spec, dict) and spec.get("name"):
            try:
                from engine.data import load_spec

                splits = load_spec(spec)
            except Exception:  # noqa: BLE001 - data gone: the export goes on without it
                continue
            return {"preprocessing": splits.preprocessing(),
                    "class_names": list(splits.class_names) or None}
    return {"preprocessing": None, "class_names": None}


def metadata_props(metadata: dict[str, Any]) -> dict[str, str]:
    """String key/values for ONNX ``metadata_props``: each entry as text (JSON where it
    is not a string), plus ``mean``/``std``/``channel_order``/``scale`` at top level."""
    props = {str(k): v if isinstance(v, str) else json.dumps(v, default=str)
             for k, v in metadata.items() if v is not None}
    pre = metadata.get("preprocessing") or {}
    for key in ("mean", "std", "scale", "channel_order", "layout", "formula"):
        if key in pre:
            props[key] = pre[key] if isinstance(pre[key], str) else json.dumps(pre[key])
    return props


def add_onnx_metadata(path: Any, metadata: dict[str, Any]) -> None:
    """Write ``metadata`` into the ONNX file's ``metadata_props`` (in place)."""
    import onnx

    model = onnx.load(str(path))
    keep = {p.key: p.value for p in model.metadata_props}
    keep.update(metadata_props(metadata))
    del model.metadata_props[:]
    for key, value in keep.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))


__all__ = ["METADATA_FILE", "add_onnx_metadata", "metadata_props", "run_inputs"]
