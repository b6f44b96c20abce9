"""The registries are the one list of each kind of name (op families, ...)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.ops import registry

ICONS = Path(__file__).resolve().parents[2] / "resources" / "icons"


def test_every_op_family_is_registered_once_with_title_color_and_icon():
    names = [f.name for f in registry.families()]
    assert len(names) == len(set(names))
    for spec in registry.all_ops():
        fam = registry.family(spec.family)
        assert spec.color == fam.color
    for fam in registry.families():
        assert fam.title and fam.legend
        assert fam.color.startswith("#") and len(fam.color) == 7
        assert (ICONS / f"{fam.icon}.svg").exists(), fam.icon


def test_cell_families_are_those_with_cell_ops_in_registration_order():
    cell = [f.name for f in registry.families("cell")]
    assert "block" not in cell
    first_seen = list(dict.fromkeys(s.family for s in registry.all_ops("cell")))
    assert cell == first_seen
    assert [f.name for f in registry.families("block")] == ["block"]


def test_registering_an_op_of_an_unknown_family_fails():
    with pytest.raises(ValueError, match="unknown family"):
        registry.register("x_op", "X", "no-such-family", factory="m:f")
    assert not registry.exists("x_op")
    with pytest.raises(KeyError, match="unknown op family"):
        registry.family("no-such-family")
    with pytest.raises(ValueError, match="twice"):
        registry.register_family("pool", "Pooling", "pooling", "#000000")
