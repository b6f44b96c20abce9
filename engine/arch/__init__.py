"""The design model: cells, block stacks, their JSON and text codecs, and validation.

Pure Python: importing ``engine.arch`` never imports torch.  Submodules load on
first use of a name re-exported here (``engine.arch.load_design`` etc.).
"""

from __future__ import annotations

from engine.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("BlockStack", "Cell", "CellDesign", "CellMacro", "ChangeEvent", "Design",
                     "Edge", "Stage", "FORMAT_VERSION"), "model"),
    **dict.fromkeys(("design_to_dict", "design_from_dict", "to_json", "from_json", "save_design",
                     "load_design", "design_hash"), "serialize"),
    # (the function ``validate`` is not re-exported: ``engine.arch.validate`` is its module)
    **dict.fromkeys(("Problem", "DesignError", "check"), "validate"),
    **dict.fromkeys(("parse_genotype", "format_genotype"), "genotype"),
    **dict.fromkeys(("parse_nb201", "format_nb201"), "nb201"),
    **dict.fromkeys(("parse_block_string", "format_block_string", "parse_block_strings",
                     "format_block_strings"), "timm_blocks"),
    **dict.fromkeys(("compound_scale", "make_divisible", "scaled_stages", "nearest_efficientnet"),
                    "scaling"),
    **dict.fromkeys(("resolve_source",), "sources"),
    **dict.fromkeys(("get_preset", "preset_names"), "presets"),
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
