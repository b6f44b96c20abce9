"""Persistent GUI settings (QSettings in an INI file under the data directory)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from engine.paths import data_dir

MAX_RECENT = 10


class Settings:
    """Window state, recent files and preferences."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or data_dir() / "studio.ini"
        self._qs = QSettings(str(self.path), QSettings.Format.IniFormat)

    # -- window ---------------------------------------------------------------
    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self._qs.setValue("window/geometry", geometry)
        self._qs.setValue("window/state", state)
        self._qs.sync()

    def window_geometry(self) -> QByteArray | None:
        value = self._qs.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        value = self._qs.value("window/state")
        return value if isinstance(value, QByteArray) else None

    # -- recent files -----------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self._qs.value("recent/files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent(self, path: str) -> list[str]:
        path = str(Path(path).resolve())
        files = [p for p in self.recent_files() if p != path]
        files.insert(0, path)
        files = files[:MAX_RECENT]
        self._qs.setValue("recent/files", files)
        self._qs.sync()
        return files

    def clear_recent(self) -> None:
        self._qs.setValue("recent/files", [])
        self._qs.sync()

    def last_folder(self) -> str | None:
        value = self._qs.value("files/last_folder")
        return str(value) if value else None

    def set_last_folder(self, folder: str) -> None:
        self._qs.setValue("files/last_folder", folder)
        self._qs.sync()

    def hint_done(self, name: str) -> bool:
        """Whether a first-start hint has served its purpose (the user did it once)."""
        return str(self._qs.value(f"hints/{name}", "false")).lower() == "true"

    def set_hint_done(self, name: str) -> None:
        self._qs.setValue(f"hints/{name}", "true")
        self._qs.sync()

    def json_value(self, key: str) -> dict | None:
        """A remembered dict (dialog settings), or None."""
        import json

        try:
            value = json.loads(str(self._qs.value(key, "")))
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def set_json_value(self, key: str, value: dict) -> None:
        import json

        self._qs.setValue(key, json.dumps(value))
        self._qs.sync()

    # -- preferences ------------------------------------------------------------
    def device(self) -> str:
        return str(self._qs.value("prefs/device", "auto"))

    def set_device(self, device: str) -> None:
        self._qs.setValue("prefs/device", device)
        self._qs.sync()

    def theme(self) -> str:
        return str(self._qs.value("prefs/theme", "light"))

    def set_theme(self, theme: str) -> None:
        self._qs.setValue("prefs/theme", theme)
        self._qs.sync()

    def measure_latency(self) -> bool:
        return str(self._qs.value("prefs/measure_latency", "true")).lower() == "true"

    def set_measure_latency(self, on: bool) -> None:
        self._qs.setValue("prefs/measure_latency", "true" if on else "false")
        self._qs.sync()
