"""Takes: the candidate songs a model run produces, kept beside the document until the composer
chooses. A take never writes into the song by itself: it can be auditioned (playback plays it
instead of the document), accepted as one undo step, or discarded. One mechanism for every model.

A take remembers the song it was made from (its base) and what it changed there, track by track.
Accepting it applies those changes to the song as it is *now*, so hand edits made meanwhile on
notes the take did not touch are kept."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.ui.document import Document
from desktop_app.ui.piano_roll.overlays import TakeLayer


@dataclass(frozen=True)
class NoteChanges:
    """What a take did to one track: the notes it added and the notes it removed."""

    added: tuple[Note, ...] = ()
    removed: tuple[Note, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


def note_changes(before: tuple[Note, ...], after: tuple[Note, ...]) -> NoteChanges:
    """The notes of `after` not in `before` (added) and of `before` not in `after` (removed)."""
    old, new = set(before), set(after)
    return NoteChanges(tuple(n for n in after if n not in old), tuple(n for n in before if n not in new))


def apply_changes(notes: tuple[Note, ...], changes: NoteChanges) -> tuple[Note, ...]:
    """`notes` without the removed ones and with the added ones (kept once each)."""
    removed = set(changes.removed)
    kept = tuple(n for n in notes if n not in removed)
    present = set(kept)
    return kept + tuple(n for n in changes.added if n not in present)


@dataclass(frozen=True)
class Take:
    """A candidate song: `song` as a model left it, made from `base`; `track` is the track it
    worked on (the one whose changes the piano roll draws)."""

    name: str
    base: Song
    song: Song
    track: int = 0
    source: str = ""  # which model and knobs made it, for the list's tooltip

    def changes(self, index: int | None = None) -> NoteChanges:
        """The added and removed notes of track `index` (the take's own track by default)."""
        index = self.track if index is None else index
        before = self.base.tracks[index].notes if index < len(self.base.tracks) else ()
        after = self.song.tracks[index].notes if index < len(self.song.tracks) else ()
        return note_changes(before, after)

    def all_changes(self) -> NoteChanges:
        """The added and removed notes of every track the take changed."""
        added: tuple[Note, ...] = ()
        removed: tuple[Note, ...] = ()
        for i, track in enumerate(self.song.tracks):
            if i >= len(self.base.tracks) or track is not self.base.tracks[i]:
                changes = self.changes(i)
                added, removed = added + changes.added, removed + changes.removed
        return NoteChanges(added, removed)

    def on(self, song: Song) -> Song:
        """The take applied to `song`, the document as it is now: each track gets the take's changes
        (the take itself when `song` is still its base); tracks the take added are appended."""
        if song is self.base:
            return self.song
        tracks = list(song.tracks)
        for i, track in enumerate(self.song.tracks):
            if i >= len(self.base.tracks):
                tracks.append(track)
            elif i < len(tracks):
                changes = self.changes(i)
                if changes:
                    tracks[i] = tracks[i].with_notes(apply_changes(tracks[i].notes, changes))
        return song.with_tracks(tracks)


class Takes(QObject):
    """The takes of the open document and the one being auditioned (None: the document itself).
    Signals: changed (the list), activeChanged (what the roll draws and playback plays)."""

    changed = Signal()
    activeChanged = Signal()

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.takes: list[Take] = []
        self._active: Take | None = None
        self._made = 0  # takes made since the list was last emptied: names stay unique

    @property
    def active(self) -> Take | None:
        return self._active

    def next_name(self) -> str:
        return f"Take {self._made + 1}"

    def add(self, base: Song, song: Song, track: int, source: str = "", audition: bool = True) -> Take:
        """Keep a new take (named Take 1, 2, ...) and audition it unless told not to."""
        self._made += 1
        take = Take(f"Take {self._made}", base, song, track, source)
        self.takes.append(take)
        self.changed.emit()
        if audition:
            self.audition(take)
        return take

    def audition(self, take: Take | None) -> None:
        """Make `take` the one the roll draws and playback plays; None goes back to the document."""
        if take is not None and take not in self.takes:
            raise ValueError(f"{take.name} is not one of the takes")
        if take is not self._active:
            self._active = take
            self.activeChanged.emit()

    def current_song(self, take: Take | None = None) -> Song:
        """What `take` (the active one by default) would make of the document as it is now."""
        take = self._active if take is None else take
        return self.document.song if take is None else take.on(self.document.song)

    def accept(self, take: Take | None = None) -> None:
        """Put `take` (the active one by default) into the document as one undo step; the takes
        are then cleared: they were alternatives to the song that is now gone."""
        take = self._active if take is None else take
        if take is None:
            return
        song = take.on(self.document.song)
        self.clear()
        if song == self.document.song:  # nothing of it applies any more (its track is gone): no empty step
            return
        self.document.apply(f"Accept {take.name}", song, selection=(), active_track=take.track)

    def discard(self, take: Take | None = None) -> None:
        """Forget `take` (the active one by default); the document stays as it is."""
        take = self._active if take is None else take
        if take is None or take not in self.takes:
            return
        self.takes.remove(take)
        if take is self._active:
            self._active = None
            self.activeChanged.emit()
        self.changed.emit()

    def clear(self) -> None:
        """Forget every take (a new document, or one was accepted)."""
        had_active = self._active is not None
        self.takes.clear()
        self._active = None
        self._made = 0
        self.changed.emit()
        if had_active:
            self.activeChanged.emit()


class TakeDisplay(QObject):
    """Shows the active take: its changes to the song's tracks in the roll's take layer, and its song in
    playback (A/B: playback swaps its schedule to the take). While a model runs, `show_live`
    draws the run's latest state instead."""

    def __init__(self, takes: Takes, layer: TakeLayer, playback=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.takes, self.layer, self.playback = takes, layer, playback
        self.live = False
        takes.activeChanged.connect(self.refresh)
        takes.document.songChanged.connect(self.refresh)

    def show_live(self, changes: NoteChanges) -> None:
        """Draw a running model's changes so far (nothing is auditioned until it ends)."""
        self.live = True
        self.layer.set_changes(changes.added, changes.removed)

    def end_live(self) -> None:
        self.live = False
        self.refresh()

    def refresh(self) -> None:
        take = self.takes.active
        song = self.takes.current_song()
        if self.playback is not None:
            self.playback.set_audition_song(None if take is None else song)
        if self.live:
            return
        if take is None or take.track >= len(song.tracks):  # its track was deleted since: nothing to draw
            self.layer.clear()
            return
        document = self.takes.document.song
        added: tuple[Note, ...] = ()
        removed: tuple[Note, ...] = ()
        for i, track in enumerate(song.tracks):  # a take may change several tracks (a transformer's)
            before = document.tracks[i] if i < len(document.tracks) else None
            if track is before:
                continue
            changes = note_changes(before.notes if before is not None else (), track.notes)
            added, removed = added + changes.added, removed + changes.removed
        self.layer.set_changes(added, removed)


class TakesList(QWidget):
    """The takes as a list under "Original" (click one to audition it, A/B), with Accept and
    Discard; a model panel embeds it and calls `set_busy` while its model runs."""

    def __init__(self, takes: Takes, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.takes = takes
        self.busy = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Takes (click to audition)", self))
        self.list = QListWidget(self)
        self.list.currentRowChanged.connect(self._clicked)
        layout.addWidget(self.list)
        buttons = QHBoxLayout()
        self.accept_button = QPushButton("Accept", self)
        self.accept_button.setToolTip("Put the auditioned take into the song (one undo step)")
        self.accept_button.clicked.connect(lambda: takes.accept())
        self.discard_button = QPushButton("Discard", self)
        self.discard_button.setToolTip("Forget the auditioned take; the song stays as it is")
        self.discard_button.clicked.connect(lambda: takes.discard())
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.discard_button)
        layout.addLayout(buttons)
        takes.changed.connect(self._fill)
        takes.activeChanged.connect(self._show_active)
        self._fill()

    def set_busy(self, busy: bool) -> None:
        """While a model runs, a take can be auditioned but not accepted or discarded."""
        self.busy = busy
        self._show_active()

    def _fill(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        original = QListWidgetItem("Original")
        original.setToolTip("The song as it is, without any take")
        self.list.addItem(original)
        for take in self.takes.takes:
            item = QListWidgetItem(take.name)
            changes = take.all_changes()
            item.setToolTip(f"{take.source}\n{len(changes.added)} notes added, {len(changes.removed)} removed")
            self.list.addItem(item)
        self.list.blockSignals(False)
        self._show_active()

    def _show_active(self) -> None:
        active = self.takes.active
        row = 0 if active is None else self.takes.takes.index(active) + 1
        if self.list.currentRow() != row:
            self.list.blockSignals(True)
            self.list.setCurrentRow(row)
            self.list.blockSignals(False)
        self.accept_button.setEnabled(active is not None and not self.busy)
        self.discard_button.setEnabled(active is not None and not self.busy)

    def _clicked(self, row: int) -> None:
        takes = self.takes.takes
        self.takes.audition(takes[row - 1] if 0 < row <= len(takes) else None)
