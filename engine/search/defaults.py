"""Defaults of a trained search, read by both the CLI (``nas-studio search``) and the
studio's search dialog (``app/jobs/factory.py``): one source, so both give trials that
learn.

Measured on the built-in digits (CPU): one epoch per trial left 6 of 6 trials at
9.6-15.2% validation accuracy (chance is 10%); two epochs on the whole training split
reach about 0.9, a few seconds per trial of the small DARTS space below.
"""

from __future__ import annotations

from typing import Any

# The trial training every trained search uses unless told otherwise.
TRAINED_TRIAL: dict[str, Any] = {"dataset": "digits", "epochs_per_trial": 2, "subset": None,
                                 "batch_size": 64, "lr": 0.05}

# A small DARTS-space network that trains on digits in seconds per epoch on a CPU; the
# darts space's size when neither --channels nor --layers is given.
SMALL_DARTS_SPACE: dict[str, Any] = {"space": "darts", "channels": 8, "layers": 3, "nodes": 3}
