"""Dockable panels: palette, inspector, metrics bar, log, scaling control."""
