"""Dark theme: disabled widgets and icons look disabled; plots follow the theme."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QPushButton

from app import style

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")   # offscreen top-level


@pytest.fixture
def dark(qapp):
    style.set_theme("dark")
    yield
    style.set_theme("light")


def _brightest(image) -> int:
    return max(QColor(image.pixel(x, y)).lightness()
               for x in range(image.width()) for y in range(image.height()))


def test_a_disabled_button_is_dimmer_than_an_enabled_one(qtbot, dark):
    on, off = QPushButton("Apply to selection"), QPushButton("Apply to selection")
    off.setEnabled(False)
    for b in (on, off):
        qtbot.addWidget(b)
        b.resize(180, 32)
        b.show()
    qtbot.waitExposed(off)
    assert _brightest(on.grab().toImage()) - _brightest(off.grab().toImage()) > 60


def test_disabled_toolbar_icons_are_dimmed_in_the_dark_theme(dark):
    icon = style.icon("undo")
    normal = icon.pixmap(QSize(24, 24), QIcon.Mode.Normal).toImage()
    disabled = icon.pixmap(QSize(24, 24), QIcon.Mode.Disabled).toImage()
    assert _brightest(normal) - _brightest(disabled) > 60


def test_plots_follow_the_theme(qtbot, dark):
    from app.panels.pareto import ParetoExplorer
    from app.panels.plots import TrainingCurves

    curves, pareto = TrainingCurves(), ParetoExplorer()
    for w in (curves, pareto):
        qtbot.addWidget(w)
    assert curves.loss_plot.backgroundBrush().color().name() == "#1e2127"
    assert pareto.plot.backgroundBrush().color().name() == "#1e2127"
    style.set_theme("light")
    curves.apply_theme()
    pareto.apply_theme()
    assert curves.loss_plot.backgroundBrush().color().name() == "#ffffff"
    assert pareto.hv_plot.backgroundBrush().color().name() == "#ffffff"
