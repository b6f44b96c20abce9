"""Render the README screenshots offscreen: ``python docs/screenshots/take_screenshots.py``."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    screen = {"screens": [{"name": "shot", "x": 0, "y": 0, "width": 1920, "height": 1200,
                           "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}
    config = Path(tempfile.mkdtemp()) / "offscreen.json"
    config.write_text(json.dumps(screen))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    os.environ.setdefault("NAS_STUDIO_DATA_DIR", tempfile.mkdtemp())
    sys.path.insert(0, str(HERE.parents[1]))
    from app import style
    from app.main import create_app, install_jobs, open_initial
    from app.main_window import MainWindow

    app = create_app()
    style.set_theme("light")
    window = MainWindow()
    window.cost.measure_latency = True
    window.cost.device = "cpu"
    install_jobs(window)  # Run menu and the Jobs/Training/Pareto/Experiments docks
    window.resize(1400, 860)
    window.show()
    window.docks["Log"].raise_()
    open_initial(window, [])

    def settle(doc) -> None:
        end = time.time() + 180
        while time.time() < end and (doc.cost is None or window.cost.busy()):
            app.processEvents()
            time.sleep(0.05)
        for _ in range(20):
            app.processEvents()

    cell = window.documents[0]
    editor = window.current_editor()
    editor.scenes["normal"].edge_items[7].setSelected(True)
    window.log.log("Tip: drag an op from the palette onto an edge to change it")
    settle(cell)
    window.grab().save(str(HERE / "main-window-cell.png"))
    window.tabs.setCurrentIndex(1)
    stack = window.documents[1]
    window.current_editor().scene.cards[4].setSelected(True)
    settle(stack)
    window.grab().save(str(HERE / "main-window-stack.png"))
    for doc in window.documents:
        doc.undo_stack.setClean()
    window.job_ui.shutdown()
    window.cost.shutdown()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
