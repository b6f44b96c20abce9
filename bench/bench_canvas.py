"""Canvas benchmark: a generated 500-node cell, scene repaint, main-window start.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_canvas.py``.
Figures are printed in milliseconds and as ratios against baselines measured in the
same run (a small preset cell, an empty scene, a bare QMainWindow).  Targets: full
repaint < 16 ms, start to first paint < 2 s.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QRectF, Qt  # noqa: E402
from PySide6.QtGui import QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication, QGraphicsScene  # noqa: E402

from engine.arch.model import Cell, CellDesign, Edge  # noqa: E402
from engine.ops.registry import DARTS_OPS  # noqa: E402

WIDTH, HEIGHT = 1400, 860


def generated_design(n_nodes: int = 500, seed: int = 0) -> CellDesign:
    """A DAG cell: each node sums two earlier nodes (local, like a deep DARTS cell)."""
    rng = random.Random(seed)
    nodes = list(range(2, 2 + n_nodes))
    edges = []
    for n in nodes:
        window = list(range(max(0, n - 6), n))
        for src in rng.sample(window, 2):
            edges.append(Edge(src, n, rng.choice(DARTS_OPS[1:])))
    used = {e.source for e in edges}
    concat = [n for n in nodes if n not in used]
    cell = Cell(2, nodes, edges, concat)
    return CellDesign(name=f"generated-{n_nodes}", normal=cell, reduce=None)


def timed(fn, repeats: int = 5) -> float:
    """Median wall time of ``fn()`` in milliseconds."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def load_and_layout(design: CellDesign) -> tuple[float, float]:
    """(ms to build the document + scene, ms for the auto-layout command + redraw)."""
    from app.canvas.cell_scene import CellScene
    from app.document.controller import DocumentController

    t = time.perf_counter()
    doc = DocumentController(design.copy())
    scene = CellScene(doc, "normal")
    load = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    doc.auto_layout()
    layout = (time.perf_counter() - t) * 1000
    assert len(scene.node_items) == len(design.normal.all_ids())
    doc.close()
    return load, layout


def repaint_ms(scene: QGraphicsScene, repeats: int = 7) -> float:
    """Median time to render the whole scene (fitted) into a 1400x860 image."""
    image = QImage(WIDTH, HEIGHT, QImage.Format.Format_ARGB32_Premultiplied)
    source = scene.itemsBoundingRect() if scene.items() else QRectF(0, 0, WIDTH, HEIGHT)

    def render() -> None:
        image.fill(Qt.GlobalColor.white)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        scene.render(painter, QRectF(0, 0, WIDTH, HEIGHT), source)
        painter.end()

    render()  # warm caches
    return timed(render, repeats)


def viewport_repaint_ms(design: CellDesign, repeats: int = 7, fit: bool = False) -> float:
    """Median time of a full repaint of a 1400x860 view, at 100% zoom or fitted to all."""
    from app.canvas.cell_scene import CellScene
    from app.canvas.view import CanvasView
    from app.document.controller import DocumentController

    doc = DocumentController(design.copy())
    scene = CellScene(doc, "normal")
    view = CanvasView(scene)
    view.resize(WIDTH, HEIGHT)
    if fit:
        view.fit()
    else:
        view.reset_zoom()
        view.centerOn(scene.itemsBoundingRect().center())
    image = QImage(WIDTH, HEIGHT, QImage.Format.Format_ARGB32_Premultiplied)

    def render() -> None:
        painter = QPainter(image)
        view.render(painter)
        painter.end()

    render()
    ms = timed(render, repeats)
    doc.close()
    return ms


START_CODE = """
import sys, time
t0 = float(sys.argv[1])
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
class FirstPaint(QObject):
    seen = False
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not self.seen:
            self.seen = True
            print(f"{(time.time() - t0) * 1000:.1f}", flush=True)
            app.exit(0)
        return False
watch = FirstPaint()
app.installEventFilter(watch)
if sys.argv[2] == "studio":
    from app.main import create_app, open_initial
    from app.main_window import MainWindow
    create_app()
    window = MainWindow()
    window.cost.enabled = False
    window.show()
    QTimer.singleShot(0, lambda: open_initial(window, []))
else:
    window = QMainWindow()
    window.resize(1400, 860)
    window.show()
QTimer.singleShot(20000, lambda: app.exit(1))
app.exec()
if sys.argv[2] == "studio":
    print("torch" in sys.modules)
"""


def start_ms(kind: str, tmp: str) -> tuple[float, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NAS_STUDIO_DATA_DIR=tmp)
    out = subprocess.run([sys.executable, "-c", START_CODE, repr(time.time()), kind],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    lines = out.stdout.split()
    if out.returncode != 0 or not lines:
        raise RuntimeError(out.stderr[-2000:])
    return float(lines[0]), " ".join(lines[1:])


def main() -> int:
    import tempfile

    from app.canvas.cell_scene import CellScene
    from app.document.controller import DocumentController
    from engine.arch.presets import get_preset

    QApplication.instance() or QApplication([])
    big = generated_design(500)
    small = get_preset("darts-v2")
    print(f"generated cell: {len(big.normal.nodes)} nodes, {len(big.normal.edges)} edges")

    small_load, small_layout = min(load_and_layout(small) for _ in range(3))
    big_load, big_layout = min(load_and_layout(big) for _ in range(2))
    print(f"load (document + scene):  500 nodes {big_load:8.1f} ms   "
          f"darts-v2 cell {small_load:6.1f} ms   ratio {big_load / small_load:6.1f}x")
    print(f"auto-layout + redraw:     500 nodes {big_layout:8.1f} ms   "
          f"darts-v2 cell {small_layout:6.1f} ms   ratio {big_layout / small_layout:6.1f}x")

    empty = QGraphicsScene()
    empty_ms = repaint_ms(empty)
    doc = DocumentController(big.copy())
    scene = CellScene(doc, "normal")
    full_ms = repaint_ms(scene)
    view_ms = viewport_repaint_ms(big)
    fit_ms = viewport_repaint_ms(big, fit=True)
    print(f"scene.render of all items (every item painted, median of 7): {full_ms:7.1f} ms   "
          f"empty scene {empty_ms:5.2f} ms   ratio {full_ms / max(empty_ms, 1e-3):7.1f}x   "
          f"target < 16 ms: {'met' if full_ms < 16 else 'NOT met'}")
    print(f"view repaint at 100% zoom (1400x860 viewport, median of 7): {view_ms:7.1f} ms   "
          f"target < 16 ms: {'met' if view_ms < 16 else 'NOT met'}")
    print(f"view repaint fitted to all 500 nodes (overview drawing):    {fit_ms:7.1f} ms   "
          f"ratio to empty {fit_ms / max(empty_ms, 1e-3):6.1f}x   "
          f"target < 16 ms: {'met' if fit_ms < 16 else 'NOT met'}")
    doc.close()

    with tempfile.TemporaryDirectory() as tmp:
        bare = statistics.median(start_ms("bare", tmp)[0] for _ in range(3))
        runs = [start_ms("studio", tmp) for _ in range(3)]
        studio = statistics.median(r[0] for r in runs)
        torch_loaded = runs[0][1]
    print(f"start to first paint:     studio {studio:7.0f} ms   bare QMainWindow {bare:6.0f} ms   "
          f"ratio {studio / bare:5.2f}x   target < 2000 ms: "
          f"{'met' if studio < 2000 else 'NOT met'}   (torch imported at first paint: "
          f"{torch_loaded})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
