"""The open document: the song, the active track and its selected notes, the file, the undo
stack and whether there are unsaved changes. Every change to the song is one command on the
undo stack; views listen and repaint."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from desktop_app.music.song import Song


class SongCommand(QUndoCommand):
    """Swap one whole song (with the active track and selection) for another. Songs are
    immutable and share unchanged tracks, so keeping both costs little."""

    def __init__(
        self,
        document: "Document",
        name: str,
        after: Song,
        after_track: int,
        after_selection: frozenset[int],
    ) -> None:
        super().__init__(name)
        self._document = document
        self._before = (document.song, document.active_track, document.selection)
        self._after = (after, after_track, after_selection)

    def redo(self) -> None:
        self._document._set_state(*self._after)

    def undo(self) -> None:
        self._document._set_state(*self._before)


class Document(QObject):
    songChanged = Signal()
    selectionChanged = Signal()  # the selected notes or the active track changed
    fileChanged = Signal()  # path or dirty state changed: the title needs an update
    loaded = Signal()  # load() put another song in: what was made for the old one (takes, runs) ends

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self._song = Song()
        self._active_track = 0
        self._selection: frozenset[int] = frozenset()
        self.path: Path | None = None
        self.view_state: dict[str, Any] = {}
        self.untitled_name = "Untitled"  # shown while there is no path, e.g. "bwv66.6 (imported)"
        self.revision = 0  # counts every change of the song, for autosave
        self._unsaved_without_edits = False  # e.g. restored from a recovery file

    @property
    def song(self) -> Song:
        return self._song

    @property
    def active_track(self) -> int:
        """Index of the track the editor works on (0 when the song has no tracks)."""
        return self._active_track

    @property
    def selection(self) -> frozenset[int]:
        """Indices of the selected notes in the active track."""
        return self._selection

    @property
    def dirty(self) -> bool:
        return self._unsaved_without_edits or not self.undo_stack.isClean()

    @property
    def display_name(self) -> str:
        return self.path.name if self.path else self.untitled_name

    def apply(self, name: str, song: Song, selection: Iterable[int] | None = None, active_track: int | None = None) -> None:
        """Make `song` the new state as one undoable step called `name`; `selection` and
        `active_track` default to the current ones."""
        if song is self._song and selection is None and active_track is None:
            return
        track = self._active_track if active_track is None else active_track
        chosen = self._selection if selection is None else frozenset(selection)
        self.undo_stack.push(SongCommand(self, name, song, track, chosen))

    def select(self, indices: Iterable[int]) -> None:
        """Change the selection (not an undoable step). Indices that name no note of the active
        track are dropped: views index the track's notes with the selection while painting."""
        tracks = self._song.tracks
        count = len(tracks[self._active_track].notes) if tracks else 0
        chosen = frozenset(i for i in (int(i) for i in indices) if 0 <= i < count)
        if chosen != self._selection:
            self._selection = chosen
            self.selectionChanged.emit()

    def set_active_track(self, index: int) -> None:
        """Switch the editor to another track; the selection is cleared."""
        index = self._clamp_track(index, self._song)
        if index != self._active_track:
            self._active_track = index
            self._selection = frozenset()
            self.selectionChanged.emit()

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
        active = self.view_state.get("active_track", 0)
        self._set_state(song, active if isinstance(active, int) else 0, frozenset())
        self.undo_stack.setClean()
        self.fileChanged.emit()
        self.loaded.emit()

    def mark_saved(self, path: Path) -> None:
        self.path = path
        self._unsaved_without_edits = False
        self.undo_stack.setClean()
        self.fileChanged.emit()

    def _clean_changed(self, _clean: bool) -> None:
        self.fileChanged.emit()

    @staticmethod
    def _clamp_track(index: int, song: Song) -> int:
        return max(0, min(index, len(song.tracks) - 1))

    def _set_state(self, song: Song, active_track: int, selection: frozenset[int]) -> None:
        track = self._clamp_track(active_track, song)
        limit = len(song.tracks[track].notes) if song.tracks else 0
        selection = frozenset(i for i in selection if 0 <= i < limit)
        song_changed = song is not self._song
        selection_changed = (track, selection) != (self._active_track, self._selection)
        self._song, self._active_track, self._selection = song, track, selection
        if song_changed:
            self.revision += 1
            self.songChanged.emit()
        if selection_changed:
            self.selectionChanged.emit()
