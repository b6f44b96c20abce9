"""Design <-> JSON for the store, through engine.arch.serialize when it is available.

The fallback keeps the store usable while the shared codec is not in the tree; it
writes the same envelope (format, version, kind) from the dataclasses.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from engine.arch.model import FORMAT_VERSION, BlockStack, Cell, CellDesign, CellMacro, Edge, Stage


def _serialize_module() -> Any:
    try:
        from engine.arch import serialize
    except ImportError:
        return None
    return serialize


def design_to_dict(design: Any) -> dict[str, Any]:
    mod = _serialize_module()
    if mod is not None:
        return mod.design_to_dict(design)
    return _fallback_to_dict(design)


def design_from_dict(obj: dict[str, Any]) -> Any:
    mod = _serialize_module()
    if mod is not None:
        return mod.design_from_dict(obj)
    return _fallback_from_dict(obj)


def design_hash(design: Any) -> str:
    mod = _serialize_module()
    if mod is not None:
        return mod.design_hash(design)
    obj = _fallback_to_dict(design)
    obj.pop("name", None)
    for cell in ("normal", "reduce"):
        if isinstance(obj.get(cell), dict):
            obj[cell].pop("positions", None)
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _cell_dict(cell: Cell | None) -> dict[str, Any] | None:
    if cell is None:
        return None
    out = dataclasses.asdict(cell)
    out["positions"] = {str(k): list(v) for k, v in cell.positions.items()}
    return out


def _fallback_to_dict(design: Any) -> dict[str, Any]:
    head = {"format": "nas-studio-design", "version": FORMAT_VERSION}
    if isinstance(design, CellDesign):
        macro = dataclasses.asdict(design.macro)
        macro["input_shape"] = list(design.macro.input_shape)
        return {**head, "kind": "cell", "name": design.name, "normal": _cell_dict(design.normal),
                "reduce": _cell_dict(design.reduce), "macro": macro}
    if isinstance(design, BlockStack):
        out = {f: getattr(design, f) for f in BlockStack._FIELDS if f != "stages"}
        out["stages"] = [dataclasses.asdict(s) for s in design.stages]
        return {**head, "kind": "stack", **out}
    raise TypeError(f"not a design: {type(design).__name__}")


def _cell_from(obj: dict[str, Any] | None) -> Cell | None:
    if obj is None:
        return None
    return Cell(n_inputs=obj["n_inputs"], nodes=list(obj["nodes"]),
                edges=[Edge(**e) for e in obj["edges"]], concat=list(obj["concat"]),
                positions={int(k): (float(v[0]), float(v[1]))
                           for k, v in obj.get("positions", {}).items()})


def _fallback_from_dict(obj: dict[str, Any]) -> Any:
    if obj.get("kind") == "cell":
        macro = dict(obj["macro"])
        macro["input_shape"] = tuple(macro["input_shape"])
        return CellDesign(name=obj["name"], normal=_cell_from(obj["normal"]),
                          reduce=_cell_from(obj.get("reduce")), macro=CellMacro(**macro))
    if obj.get("kind") == "stack":
        fields = {f: obj[f] for f in BlockStack._FIELDS if f in obj and f != "stages"}
        return BlockStack(stages=[Stage(**s) for s in obj["stages"]], **fields)
    raise ValueError(f"design JSON has unknown kind {obj.get('kind')!r}")
