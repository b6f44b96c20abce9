"""Start the studio: QApplication, MainWindow, then the designs (torch loads later)."""

from __future__ import annotations

import sys

EXAMPLE_PRESETS = ("darts-v2", "efficientnet-b0")


def create_app(argv: list[str] | None = None):
    """The QApplication (reused when one exists), with name, icon and style."""
    from PySide6.QtWidgets import QApplication

    from app import style

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("NAS Studio")
    app.setOrganizationName("nas-studio")
    app.setDesktopFileName("nas-studio")
    app.setWindowIcon(style.icon("nas-studio"))
    app.setStyle("Fusion")
    return app


def open_initial(window, files: list[str]) -> None:
    """Open ``files``, or the built-in example designs when none are given."""
    from engine.arch.presets import get_preset

    if files:
        for path in files:
            window.open_file(path)
        return
    for name in EXAMPLE_PRESETS:
        window.open_design(get_preset(name))
    window.tabs.setCurrentIndex(0)


def install_jobs(window) -> None:
    """Add the Run menu and the Jobs/Training/Pareto/Experiments docks.

    A database that cannot be opened (not SQLite, newer schema, damaged) is reported in
    the log and an error box; the editors still work, and nothing is written to that
    file.  A read-only database is opened read-only: the experiments can be browsed,
    and a job that would record something says why it cannot.
    """
    from PySide6.QtCore import QTimer

    from app.studio_jobs import install_job_ui
    from engine.store import Store, StoreError, StoreReadOnly

    try:
        try:
            install_job_ui(window)
        except StoreReadOnly as exc:
            store = Store(getattr(window, "db_path", None), read_only=True)
            install_job_ui(window, store)
            window.log.log(f"Experiment store opened read-only: {exc}", "warning")
    except StoreError as exc:
        message = str(exc)
        window.log.log(f"Experiment store unavailable: {message}", "error")
        QTimer.singleShot(0, lambda: window.show_error("Experiment store unavailable", message))


def run_app(files: list[str], db: str | None = None) -> int:
    """Show the main window, then open ``files`` (or the examples); run the event loop."""
    from PySide6.QtCore import QTimer

    from app import style
    from app.main_window import MainWindow
    from app.settings import Settings

    app = create_app()
    settings = Settings()
    style.set_theme(settings.theme())  # before the window: icons follow the theme
    window = MainWindow(settings=settings, db=db)
    install_jobs(window)
    window.show()
    QTimer.singleShot(0, lambda: open_initial(window, files))
    return int(app.exec())
