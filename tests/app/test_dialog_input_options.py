"""The train/search dialogs carry 'Skip unreadable images' and 'Skip bad rows' into the
jobs they make, and their search defaults are the CLI's (engine/search/defaults.py)."""

from __future__ import annotations

import argparse

import pytest

from app.jobs import factory
from engine.search.defaults import SMALL_DARTS_SPACE, TRAINED_TRIAL

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")   # offscreen dialogs


def test_train_dialog_passes_skip_bad_images(qtbot, studio):
    window, ui, store = studio
    window.open_preset("darts-v2")
    d = ui.train_dialog()
    qtbot.addWidget(d)
    assert not d.skip_bad_images.isChecked()
    assert factory.train_job(d.design, d.settings(), store).skip_bad_images is False
    d.skip_bad_images.setChecked(True)
    assert factory.train_job(d.design, d.settings(), store).skip_bad_images is True


def test_search_dialog_passes_both_options(qtbot, studio, tmp_path):
    window, ui, store = studio
    d = ui.search_dialog()
    qtbot.addWidget(d)
    assert d.skip_bad_images.isEnabled() and not d.skip_bad_rows.isEnabled()
    d.skip_bad_images.setChecked(True)
    assert factory.search_config(d.settings()).evaluator["skip_bad_images"] is True
    table = tmp_path / "t.csv"
    from engine.search.synthetic import write_synthetic_table

    write_synthetic_table(table)
    d.evaluator.setCurrentText("tabular")
    d.benchmark.setText(str(table))
    assert d.skip_bad_rows.isEnabled() and not d.skip_bad_images.isEnabled()
    assert "skip_bad_rows" not in factory.search_config(d.settings()).evaluator
    d.skip_bad_rows.setChecked(True)
    assert factory.search_config(d.settings()).evaluator["skip_bad_rows"] is True
    d2 = type(d)(store, last=d.settings())
    qtbot.addWidget(d2)
    assert d2.skip_bad_rows.isChecked() and d2.skip_bad_images.isChecked()


def _cli_search_defaults() -> argparse.Namespace:
    from engine.cli import build_parser

    return build_parser().parse_args(["search"])


def test_the_cli_search_defaults_are_the_dialogs():
    args = _cli_search_defaults()
    dialog = factory.search_config(factory.search_defaults())
    assert args.epochs_per_trial == dialog.evaluator["epochs"] == TRAINED_TRIAL[
        "epochs_per_trial"] == 2  # was 1 in the CLI: trials at chance on digits
    assert args.dataset == dialog.evaluator["dataset"]
    assert (args.batch_size, args.lr) == (dialog.evaluator["batch_size"],
                                          dialog.evaluator["lr"])
    assert dialog.space == SMALL_DARTS_SPACE
    from engine.cli.search import build_config

    config, _evaluator = build_config(args, 0)
    assert {k: config.space[k] for k in SMALL_DARTS_SPACE} == SMALL_DARTS_SPACE
    assert {k: config.evaluator[k] for k in ("epochs", "subset", "batch_size", "lr")} == \
        {k: dialog.evaluator[k] for k in ("epochs", "subset", "batch_size", "lr")}
