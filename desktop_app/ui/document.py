"""The open document: the song, its file, its undo stack and whether it has unsaved changes.
Every change to the song is one command on the undo stack; views listen and repaint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from desktop_app.music.song import Song


class SongCommand(QUndoCommand):
    """Swap one whole song for another. Songs are immutable and share unchanged tracks,
    so keeping both costs little."""

    def __init__(self, document: "Document", name: str, before: Song, after: Song) -> None:
        super().__init__(name)
        self._document = document
        self._before = before
        self._after = after

    def redo(self) -> None:
        self._document._set_song(self._after)

    def undo(self) -> None:
        self._document._set_song(self._before)


class Document(QObject):
    songChanged = Signal()
    fileChanged = Signal()  # path or dirty state changed: the title needs an update

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self._song = Song()
        self.path: Path | None = None
        self.view_state: dict[str, Any] = {}
        self.untitled_name = "Untitled"  # shown while there is no path, e.g. "bwv66.6 (imported)"
        self.revision = 0  # counts every change of the song, for autosave
        self._unsaved_without_edits = False  # e.g. restored from a recovery file

    @property
    def song(self) -> Song:
        return self._song

    @property
    def dirty(self) -> bool:
        return self._unsaved_without_edits or not self.undo_stack.isClean()

    @property
    def display_name(self) -> str:
        return self.path.name if self.path else self.untitled_name

    def apply(self, name: str, song: Song) -> None:
        """Make `song` the new state as one undoable step called `name`."""
        if song is not self._song:
            self.undo_stack.push(SongCommand(self, name, self._song, song))

    def load(
        self,
        song: Song,
        path: Path | None,
        view_state: dict[str, Any] | None = None,
        dirty: bool = False,
        untitled_name: str = "Untitled",
    ) -> None:
        """Replace everything: a newly opened or created document, with a fresh undo history."""
        self.undo_stack.clear()
        self.path = path
        self.untitled_name = untitled_name
        self.view_state = dict(view_state or {})
        self._unsaved_without_edits = dirty
        self._set_song(song)
        self.undo_stack.setClean()
        self.fileChanged.emit()

    def mark_saved(self, path: Path) -> None:
        self.path = path
        self._unsaved_without_edits = False
        self.undo_stack.setClean()
        self.fileChanged.emit()

    def _clean_changed(self, _clean: bool) -> None:
        self.fileChanged.emit()

    def _set_song(self, song: Song) -> None:
        self._song = song
        self.revision += 1
        self.songChanged.emit()
