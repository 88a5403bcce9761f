"""Settings kept between runs (QSettings): recent files, window layout, first start, folders."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from desktop_app import APP_NAME, ORG_NAME

MAX_RECENT = 10
DEFAULT_AUTOSAVE_SECONDS = 60


class AppSettings:
    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings if qsettings is not None else QSettings(ORG_NAME, APP_NAME)

    def recent_files(self) -> list[str]:
        value = self.q.value("recent_files", [])
        if isinstance(value, str):  # QSettings gives a lone string for a one-item list
            value = [value]
        return [str(v) for v in value or []]

    def add_recent(self, path: Path) -> None:
        entry = str(path.resolve())
        files = [entry] + [f for f in self.recent_files() if f != entry]
        self.q.setValue("recent_files", files[:MAX_RECENT])

    def remove_recent(self, path: str) -> None:
        self.q.setValue("recent_files", [f for f in self.recent_files() if f != path])

    def clear_recent(self) -> None:
        self.q.setValue("recent_files", [])

    @property
    def first_start(self) -> bool:
        return not self.q.value("first_start_done", False, type=bool)

    def mark_started(self) -> None:
        self.q.setValue("first_start_done", True)

    @property
    def autosave_seconds(self) -> float:
        return float(self.q.value("autosave_seconds", DEFAULT_AUTOSAVE_SECONDS, type=float))

    @property
    def last_folder(self) -> str:
        return str(self.q.value("last_folder", str(Path.home())))

    def set_last_folder(self, folder: Path) -> None:
        self.q.setValue("last_folder", str(folder))

    def window_layout(self) -> tuple[QByteArray | None, QByteArray | None]:
        return self.q.value("window/geometry"), self.q.value("window/state")

    def set_window_layout(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("window/geometry", geometry)
        self.q.setValue("window/state", state)

    def sync(self) -> None:
        self.q.sync()
