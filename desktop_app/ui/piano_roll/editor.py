"""The piano-roll editor: note area, keyboard, ruler and velocity lane around one viewport, a
toolbar (tools, snap, view switches), scroll bars, and every note operation as an action."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QMenu, QScrollBar, QToolBar, QVBoxLayout, QWidget

from desktop_app.music import edits, snap
from desktop_app.music.note import Note
from desktop_app.music.snap import Snap, division_ticks
from desktop_app.ui.document import Document
from desktop_app.ui.piano_roll.keyboard import KEYBOARD_WIDTH, PianoKeyboard
from desktop_app.ui.piano_roll.note_area import NoteArea, commit_track_edit, plural
from desktop_app.ui.piano_roll.operation_dialogs import OperationDialogs
from desktop_app.ui.piano_roll.ruler import Ruler
from desktop_app.ui.piano_roll.state import TOOL_KEYS, TOOL_TIPS, RollState, Tool
from desktop_app.ui.piano_roll.velocity_lane import VelocityLane
from desktop_app.ui.piano_roll.viewport import N_PITCHES, RollViewport

SNAP_LABELS = {snap.ADAPTIVE: "Adaptive", snap.OFF: "Off"}
SCROLL_STEPS = 1 << 30  # the most steps the horizontal scroll bar takes (its range is a C int)


class PianoRoll(QWidget):
    keyPressed = Signal(int)  # a keyboard key went down: sound it while held
    keyReleased = Signal(int)
    noteAuditioned = Signal(int, int)  # pitch, velocity: a note was drawn, moved, resized or transposed
    noteHovered = Signal(str)  # the note under the mouse in words ("" when there is none)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.viewport = RollViewport(self)
        self.state = RollState(self)
        self.dialogs = OperationDialogs(self)
        self.clipboard: list[Note] = []
        self._fit_pending = False
        self.area = NoteArea(document, self.viewport, self.state, self)
        self.keyboard = PianoKeyboard(self.viewport, self)
        self.ruler = Ruler(document, self.viewport, self.state, self)
        self.velocity = VelocityLane(document, self.viewport, self)
        self.hbar = QScrollBar(Qt.Orientation.Horizontal, self)
        self.vbar = QScrollBar(Qt.Orientation.Vertical, self)
        self.toolbar = QToolBar("Piano roll tools", self)
        self.edit_actions: list[QAction] = []
        self._build_toolbar()
        self._build_actions()
        self._layout()
        self.area.noteAuditioned.connect(self.noteAuditioned)
        self.area.noteHovered.connect(self.noteHovered)
        self.keyboard.keyPressed.connect(self.keyPressed)
        self.keyboard.keyReleased.connect(self.keyReleased)
        self.keyboard.selectPitchRequested.connect(self.select_pitch)
        self.viewport.changed.connect(self._sync_scrollbars)
        self._ticks_per_step = 1.0  # ticks per step of the horizontal scroll bar
        self.hbar.valueChanged.connect(lambda v: self._scrolled(left=v * self._ticks_per_step))
        self.vbar.valueChanged.connect(lambda v: self._scrolled(top=N_PITCHES - v / 100))
        self.state.playheadMoved.connect(self._follow)
        document.songChanged.connect(self._sync_scrollbars)
        self.area.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.area.customContextMenuRequested.connect(self._context_menu)

    # ----- construction -------------------------------------------------------------------

    def _build_toolbar(self) -> None:
        group = QActionGroup(self)
        self.tool_actions: dict[Tool, QAction] = {}
        for tool in Tool:
            action = QAction(tool.value.capitalize(), self)
            action.setCheckable(True)
            action.setShortcut(QKeySequence(TOOL_KEYS[tool]))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setToolTip(TOOL_TIPS[tool])
            action.setStatusTip(TOOL_TIPS[tool])
            action.triggered.connect(lambda _c=False, t=tool: self.state.set_tool(t))
            group.addAction(action)
            self.toolbar.addAction(action)
            self.addAction(action)
            self.tool_actions[tool] = action
        self.tool_actions[self.state.tool].setChecked(True)
        self.state.changed.connect(lambda: self.tool_actions[self.state.tool].setChecked(True))
        self.toolbar.addSeparator()
        self.toolbar.addWidget(QLabel(" Snap ", self))
        self.snap_box = QComboBox(self)
        for choice in snap.CHOICES:
            self.snap_box.addItem(SNAP_LABELS.get(choice, choice), choice)
        self.snap_box.setCurrentIndex(snap.CHOICES.index(self.state.snap_choice))
        self.snap_box.setToolTip("Grid that notes snap to; hold Alt while dragging to ignore it")
        self.snap_box.currentIndexChanged.connect(lambda i: self.state.set_snap(snap.CHOICES[i]))
        self.toolbar.addWidget(self.snap_box)
        self.toolbar.addSeparator()
        self.act_scale = self._toggle("Scale", "Highlight the rows of the song's key", self.state.scale_highlight,
                                      lambda on: self._set_flag("scale_highlight", on))
        self.act_follow = self._toggle("Follow", "Scroll to keep the playhead in view", self.state.follow_playhead,
                                       lambda on: self._set_flag("follow_playhead", on))

    def _toggle(self, text: str, tip: str, on: bool, slot: Callable[[bool], None]) -> QAction:
        action = QAction(text, self)
        action.setCheckable(True)
        action.setChecked(on)
        action.setToolTip(tip)
        action.toggled.connect(slot)
        self.toolbar.addAction(action)
        return action

    def _set_flag(self, name: str, on: bool) -> None:
        setattr(self.state, name, on)
        self.state.changed.emit()

    def _action(self, text: str, keys: list[str], slot: Callable[[], None], tip: str) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _c=False: slot())
        self.addAction(action)
        self.edit_actions.append(action)
        return action

    def _build_actions(self) -> None:
        A = self._action
        A("Transpose Up", ["Up"], lambda: self.transpose(1), "Move the selected notes up a semitone")
        A("Transpose Down", ["Down"], lambda: self.transpose(-1), "Move the selected notes down a semitone")
        A("Octave Up", ["Shift+Up"], lambda: self.transpose(12), "Move the selected notes up an octave")
        A("Octave Down", ["Shift+Down"], lambda: self.transpose(-12), "Move the selected notes down an octave")
        A("Nudge Right", ["Right"], lambda: self.nudge(1), "Move the selected notes one grid step later")
        A("Nudge Left", ["Left"], lambda: self.nudge(-1), "Move the selected notes one grid step earlier")
        A("Delete Notes", ["Delete", "Backspace"], self.delete_selection, "Delete the selected notes")
        A("Select All Notes", ["Ctrl+A"], self.select_all, "Select every note of the active track")
        A("Copy Notes", ["Ctrl+C"], self.copy, "Copy the selected notes")
        A("Cut Notes", ["Ctrl+X"], self.cut, "Cut the selected notes")
        A("Paste Notes", ["Ctrl+V"], self.paste, "Paste at the mouse, or at the playhead")
        A("Duplicate Notes", ["Ctrl+D"], self.duplicate, "Repeat the selected notes right after themselves")
        A("Quantize…", ["Q"], self.ask_quantize, "Pull note starts (and lengths) toward the grid")
        A("Humanize…", ["H"], self.ask_humanize, "Nudge timing and velocity by small random amounts")
        A("Set Velocity…", ["V"], self.ask_velocity, "Give the selected notes one velocity")
        A("Legato", ["L"], self.legato, "Stretch each note to the next one")
        A("Zoom to Fit", ["F"], self.zoom_fit, "Show the whole track")
        A("Zoom to Selection", ["Shift+F"], self.zoom_selection, "Show the selected notes")

    def _layout(self) -> None:
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(0)
        corner = QLabel("", self)
        corner.setFixedWidth(KEYBOARD_WIDTH)
        grid.addWidget(corner, 0, 0)
        grid.addWidget(self.ruler, 0, 1)
        grid.addWidget(self.keyboard, 1, 0)
        grid.addWidget(self.area, 1, 1)
        grid.addWidget(self.vbar, 1, 2)
        label = QLabel("Velocity", self)
        label.setFixedWidth(KEYBOARD_WIDTH)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        grid.addWidget(label, 2, 0)
        grid.addWidget(self.velocity, 2, 1)
        grid.addWidget(self.hbar, 3, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.toolbar)
        outer.addLayout(grid)

    # ----- scrolling ----------------------------------------------------------------------

    def _sync_scrollbars(self) -> None:
        vp = self.viewport
        visible = vp.width * vp.ticks_per_px
        end = max(self.document.song.end_tick + 4 * self.document.song.meter.ticks_per_bar(), vp.right_tick)
        # A scroll bar counts in C ints: past SCROLL_STEPS ticks, one step spans several ticks.
        step = self._ticks_per_step = max(1.0, end / SCROLL_STEPS)
        for bar, maximum, value, page in (
            (self.hbar, int(max(0, end - visible) / step), int(vp.left_tick / step), int(visible / step)),
            (self.vbar, int((N_PITCHES - vp.height / vp.key_height) * 100), int((N_PITCHES - vp.top) * 100),
             int(vp.height / vp.key_height * 100)),
        ):
            bar.blockSignals(True)
            bar.setRange(0, max(0, maximum))
            bar.setPageStep(max(1, page))
            bar.setSingleStep(max(1, page // 10))
            bar.setValue(value)
            bar.blockSignals(False)

    def _scrolled(self, left: float | None = None, top: float | None = None) -> None:
        if left is not None:
            self.viewport.set_left_tick(left)
        if top is not None:
            self.viewport.set_top(top)

    def _follow(self, tick: int) -> None:
        vp = self.viewport
        if self.state.follow_playhead and not (vp.left_tick <= tick < vp.right_tick):
            vp.set_left_tick(tick - 0.1 * vp.width * vp.ticks_per_px)

    def request_fit(self) -> None:
        """Zoom to fit the active track once the roll has its size (after a file opens)."""
        self._fit_pending = True
        QTimer.singleShot(0, self._fit_if_pending)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self._fit_if_pending)

    def _fit_if_pending(self) -> None:
        if self._fit_pending and self.area.isVisible():
            self._fit_pending = False
            self.zoom_fit()

    def fit_rows(self, at_least: int) -> None:
        """Fit the active track's pitch range to the rows' height, showing at least `at_least`
        rows (after the roll changed height, e.g. when the spectrogram opened)."""
        track, vp = self._track(), self.viewport
        if track is None or not track.notes:
            low, high = 48, 72
        else:
            low, high = int(track.note_array[:, 0].min()), int(track.note_array[:, 0].max())
        extra = max(0, at_least - (high - low + 3))
        vp.fit(vp.left_tick, vp.right_tick, low - extra // 2, high + extra - extra // 2, margin=0)

    def zoom_fit(self) -> None:
        track = self._track()
        song = self.document.song
        if track is None or not track.notes:
            self.viewport.fit(0, 4 * song.meter.ticks_per_bar(), 48, 72)
            return
        arr = track.note_array
        self.viewport.fit(0, int(arr[:, 2].max()), int(arr[:, 0].min()), int(arr[:, 0].max()))

    def zoom_selection(self) -> None:
        track = self._track()
        chosen = sorted(self.document.selection)
        if track is None or not chosen:
            return
        arr = track.note_array[chosen]
        self.viewport.fit(int(arr[:, 1].min()), int(arr[:, 2].max()), int(arr[:, 0].min()), int(arr[:, 0].max()))

    # ----- operations ---------------------------------------------------------------------

    def _track(self):
        song = self.document.song
        return song.tracks[self.document.active_track] if song.tracks else None

    def _commit(self, name: str, track, selection=None) -> None:
        commit_track_edit(self.document, name, track, selection)

    def _chosen_or_all(self) -> list[int]:
        track = self._track()
        chosen = sorted(self.document.selection)
        return chosen or (list(range(len(track.notes))) if track is not None else [])

    def transpose(self, semitones: int) -> None:
        track, chosen = self._track(), sorted(self.document.selection)
        if track is None or not chosen:
            return
        moved = edits.transpose(track, chosen, semitones)
        what = "an octave" if abs(semitones) == 12 else plural(abs(semitones), "semitone")
        self._commit(f"Transpose {plural(len(chosen), 'note')} {'up' if semitones > 0 else 'down'} {what}", moved)
        first = moved.notes[chosen[0]]
        self.noteAuditioned.emit(first.pitch, first.velocity)

    def grid_step(self) -> int:
        return Snap.resolve(self.state.snap_choice, self.document.song.ppq, self.viewport.ticks_per_px).ticks

    def nudge(self, direction: int) -> None:
        track, chosen = self._track(), sorted(self.document.selection)
        if track is None or not chosen:
            return
        self._commit(f"Nudge {plural(len(chosen), 'note')}", edits.move_notes(track, chosen, direction * self.grid_step()))

    def delete_selection(self) -> None:
        track, chosen = self._track(), sorted(self.document.selection)
        if track is not None and chosen:
            self._commit(f"Delete {plural(len(chosen), 'note')}", edits.remove_notes(track, chosen), ())

    def select_all(self) -> None:
        track = self._track()
        if track is not None:
            self.document.select(range(len(track.notes)))

    def select_pitch(self, pitch: int) -> None:
        track = self._track()
        if track is not None:
            self.document.select(i for i, n in enumerate(track.notes) if n.pitch == pitch)

    def copy(self) -> None:
        track, chosen = self._track(), sorted(self.document.selection)
        if track is None or not chosen:
            return
        notes = [track.notes[i] for i in chosen]
        origin = min(n.start for n in notes)
        self.clipboard = [Note(n.pitch, n.start - origin, n.duration, n.velocity) for n in notes]

    def cut(self) -> None:
        chosen = sorted(self.document.selection)
        if chosen:
            self.copy()
            self._commit(f"Cut {plural(len(chosen), 'note')}", edits.remove_notes(self._track(), chosen), ())

    def paste(self, at: int | None = None) -> None:
        """Paste the clipboard at `at`, or where the mouse is over the roll, or at the playhead."""
        track = self._track()
        if track is None or not self.clipboard:
            return
        if at is None:
            snapper = Snap.resolve(self.state.snap_choice, self.document.song.ppq, self.viewport.ticks_per_px)
            at = snapper.floor(self.area.mouse_tick) if self.area.mouse_tick is not None else self.state.playhead
        notes = [Note(n.pitch, n.start + at, n.duration, n.velocity) for n in self.clipboard]
        first = len(track.notes)
        self._commit(f"Paste {plural(len(notes), 'note')}", edits.add_notes(track, notes),
                     range(first, first + len(notes)))

    def duplicate(self) -> None:
        track, chosen = self._track(), sorted(self.document.selection)
        if track is None or not chosen:
            return
        notes = [track.notes[i] for i in chosen]
        span = max(n.end for n in notes) - min(n.start for n in notes)
        step = self.grid_step()
        offset = -(-span // step) * step  # the span rounded up to whole grid steps
        copied, new = edits.copy_notes(track, chosen, offset)
        self._commit(f"Duplicate {plural(len(chosen), 'note')}", copied, new)

    def quantize(self, division: str, strength: float = 1.0, starts: bool = True, ends: bool = False) -> None:
        track, chosen = self._track(), self._chosen_or_all()
        if track is None or not chosen:
            return
        grid = max(1, int(round(division_ticks(division, self.document.song.ppq))))
        self._commit(f"Quantize {plural(len(chosen), 'note')}",
                     edits.quantize(track, chosen, grid, strength, starts, ends))

    def humanize(self, timing: int, velocity: int, seed: int) -> None:
        track, chosen = self._track(), self._chosen_or_all()
        if track is not None and chosen:
            self._commit(f"Humanize {plural(len(chosen), 'note')}", edits.humanize(track, chosen, timing, velocity, seed))

    def set_velocity(self, velocity: int) -> None:
        track, chosen = self._track(), self._chosen_or_all()
        if track is not None and chosen:
            self._commit(f"Set velocity of {plural(len(chosen), 'note')}", edits.set_velocity(track, chosen, velocity))

    def legato(self) -> None:
        track, chosen = self._track(), self._chosen_or_all()
        if track is not None and chosen:
            self._commit(f"Legato {plural(len(chosen), 'note')}", edits.legato(track, chosen))

    def ask_quantize(self) -> None:
        choice = self.state.snap_choice
        answer = self.dialogs.quantize(choice if choice in snap.DIVISIONS else "1/16")
        if answer:
            self.quantize(answer["division"], answer["strength"], answer["starts"], answer["ends"])

    def ask_humanize(self) -> None:
        answer = self.dialogs.humanize()
        if answer:
            self.humanize(answer["timing"], answer["velocity"], answer["seed"])

    def ask_velocity(self) -> None:
        track, chosen = self._track(), self._chosen_or_all()
        if track is None or not chosen:
            return
        answer = self.dialogs.velocity(track.notes[chosen[0]].velocity)
        if answer is not None:
            self.set_velocity(answer)

    def _context_menu(self, pos) -> None:
        menu = QMenu(self)
        for action in self.edit_actions:
            menu.addAction(action)
        menu.exec(self.area.mapToGlobal(pos))
