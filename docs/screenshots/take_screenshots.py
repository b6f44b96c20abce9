"""Take the README screenshots at 1280x800: ``python docs/screenshots/take_screenshots.py``.

Where Xvfb is installed (``apt install xvfb xdotool``) the real window runs on a
1280x800 X server (the xcb platform, as on a laptop) and is driven with xdotool key
presses; otherwise an offscreen 1280x800 screen is used.  The Pareto shot comes from a
real tabular search (a synthetic NAS-Bench-201 table), so every figure is measured.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WIDTH, HEIGHT = 1280, 800


def _start_display() -> subprocess.Popen | None:
    """An Xvfb server of the laptop's size, or None (then the offscreen platform)."""
    if shutil.which("Xvfb") is None or os.environ.get("SCREENSHOTS_OFFSCREEN"):
        screen = {"screens": [{"name": "shot", "x": 0, "y": 0, "width": WIDTH,
                               "height": HEIGHT, "logicalDpi": 96}]}
        config = Path(tempfile.mkdtemp()) / "offscreen.json"
        config.write_text(json.dumps(screen))
        os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
        return None
    display = ":87"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", f"{WIDTH}x{HEIGHT}x24",
                               "-nolisten", "tcp"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    os.environ["DISPLAY"] = display
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    return server


def _keys(*keys: str) -> None:
    """Real key presses into the focused window (xcb only)."""
    if os.environ.get("QT_QPA_PLATFORM") == "xcb" and shutil.which("xdotool"):
        for key in keys:
            subprocess.run(["xdotool", "key", "--delay", "60", key], check=False)


def main() -> int:
    server = _start_display()
    os.environ.setdefault("NAS_STUDIO_DATA_DIR", tempfile.mkdtemp())
    sys.path.insert(0, str(HERE.parents[1]))
    try:
        return _shoot()
    finally:
        if server is not None:
            server.terminate()


def _shoot() -> int:
    from app import style
    from app.jobs import factory
    from app.main import create_app, install_jobs, open_initial
    from app.main_window import MainWindow
    from engine.search.synthetic import write_synthetic_table

    app = create_app()
    style.set_theme("light")
    window = MainWindow()
    window.settings.set_hint_done("canvas")
    # no latency in the shots: a figure timed on a busy build machine would mislead
    window.cost.measure_latency = False
    install_jobs(window)  # Run menu and the Jobs/Training/Pareto/Experiments docks
    window.show()
    window.activateWindow()
    open_initial(window, [])

    def settle(seconds: float = 1.0) -> None:
        end = time.time() + seconds
        while time.time() < end:
            app.processEvents()
            time.sleep(0.02)

    settle(2.0)
    # the cell: keyboard selection of an edge (Tab, Tab, Tab into the normal cell)
    window.current_editor().views()[0].setFocus()
    settle(0.3)
    _keys("Tab", "Tab", "Tab", "Tab")
    if not window.current_editor().scenes["normal"].selected_keys():
        window.current_editor().scenes["normal"].edge_items[2].setSelected(True)
    settle(2.0)
    window.grab().save(str(HERE / "main-window-cell.png"))

    # the stack, scaled to EfficientNet-B3 with the compound-scaling control
    window.tabs.setCurrentIndex(1)
    editor = window.current_editor()
    scaling = editor.scaling
    scaling.variant.setCurrentIndex(scaling.variant.findData("b3"))
    scaling.variant.activated.emit(scaling.variant.currentIndex())
    editor.scene.cards[4].setSelected(True)
    window.docks["Cost table"].raise_()
    settle(2.0)
    window.grab().save(str(HERE / "main-window-stack.png"))

    # a real (tabular) search fills the Pareto explorer
    ui = window.job_ui
    table = write_synthetic_table(Path(tempfile.mkdtemp()) / "nb201.csv")
    job = factory.search_job({"space": "nas-bench-201", "strategy": "evolution",
                              "budget": 80, "seed": 0, "evaluator": "tabular",
                              "benchmark": str(table), "objective": "val_accuracy",
                              "report": "test_accuracy", "max_params": 1.0}, ui.store)
    ended: list = []
    ui.runner.job_ended.connect(ended.append)
    ui.pareto.set_constraints(max_params=1.0)
    ui.submit(job)
    end = time.time() + 300
    while not ended and time.time() < end:
        settle(0.2)
    dock = window.docks["Pareto"]
    dock.show()
    dock.raise_()
    settle(1.5)
    pareto = ui.pareto
    if pareto.front_indices:
        pareto.select(pareto.front_indices[len(pareto.front_indices) // 2])
    settle(1.0)
    (dock if dock.isFloating() else window).grab().save(str(HERE / "pareto.png"))

    for doc in window.documents:
        doc.undo_stack.setClean()
    ui.shutdown()
    window.cost.shutdown()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
