"""Autosave to a recovery file every minute of unsaved work, and offer it back after a crash.
The song is serialised on a worker thread: songs are immutable, so that is safe."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from PySide6.QtCore import QObject, QTimer, Signal

from desktop_app import APP_NAME, ORG_NAME
from desktop_app.music.errors import MusicFileError
from desktop_app.music.project_file import Project, read_project, write_project
from desktop_app.runner.background import run_in_background
from desktop_app.ui.document import Document


def default_recovery_path() -> Path:
    return platformdirs.user_data_path(APP_NAME, ORG_NAME) / "recovery.dap"


class Autosaver(QObject):
    failed = Signal(str)  # why the recovery file could not be written

    def __init__(self, document: Document, path: Path, interval_s: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.path = path
        self._saved_revision = -1
        self._timer = QTimer(self)
        self._timer.setInterval(int(interval_s * 1000))
        self._timer.timeout.connect(self.save_now)
        self._timer.start()

    def save_now(self) -> None:
        """Write the recovery file if there is unsaved work it does not hold yet."""
        doc = self.document
        if not doc.dirty or doc.revision == self._saved_revision:
            return
        revision = doc.revision
        meta = {"recovery_of": str(doc.path) if doc.path else None}
        project = Project(doc.song, dict(doc.view_state), meta)
        self.path.parent.mkdir(parents=True, exist_ok=True)

        def saved(_result: object) -> None:
            self._saved_revision = revision

        run_in_background(
            lambda: write_project(project, self.path), saved, lambda e: self.failed.emit(str(e)), owner=self
        )

    def discard(self) -> None:
        """Forget the recovery file: the work was saved or deliberately thrown away."""
        self.path.unlink(missing_ok=True)
        self._saved_revision = -1

    def stop(self) -> None:
        self._timer.stop()


def read_recovery(path: Path) -> Project | None:
    """The recovered project, or None when there is none or it is unreadable."""
    if not path.exists():
        return None
    try:
        return read_project(path)
    except MusicFileError:
        return None
