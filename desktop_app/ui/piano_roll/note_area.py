"""The note grid of the piano roll: paints rows, grid, ghost notes of other tracks and the active
track's notes, and turns mouse gestures with the current tool into one undoable edit each."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QEvent, QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QImage, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen, QWheelEvent
from PySide6.QtWidgets import QToolTip, QWidget

from desktop_app.audio.schedule import audible_tracks
from desktop_app.music import edits
from desktop_app.music.note import Note
from desktop_app.music.snap import Snap, adaptive_division, division_ticks
from desktop_app.music.song import Song
from desktop_app.music.scales import pitch_classes_of_key
from desktop_app.ui.colours import mix, track_colour
from desktop_app.ui.document import Document
from desktop_app.ui.piano_roll import palette
from desktop_app.ui.piano_roll.note_info import describe_note
from desktop_app.ui.piano_roll.note_raster import RasterView, rasterise_notes
from desktop_app.ui.piano_roll.state import RollState, Tool
from desktop_app.ui.piano_roll.viewport import RollViewport

EDGE_PX = 5
DRAG_START_PX = 3
BLACK_KEYS = {1, 3, 6, 8, 10}
WHEEL_ZOOM = 1.15


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def commit_track_edit(document: Document, name: str, track, selection=None) -> None:
    """Put the edited active track into the song as one undo step; an edit that changed
    nothing (a nudge at tick 0, say) leaves no step behind."""
    current = document.song.tracks[document.active_track]
    if track == current and (selection is None or frozenset(selection) == document.selection):
        return
    document.apply(name, document.song.with_track(document.active_track, track), selection=selection)


@dataclass
class Drag:
    """A gesture in progress. Nothing reaches the document until the mouse is released."""

    kind: str  # move, resize_right, resize_left, rubber, draw, erase, pending_toggle
    press: QPointF
    press_tick: float
    press_pitch: int
    indices: list[int] = field(default_factory=list)
    anchor: int | None = None  # the note grabbed: its edge lands on the grid, its pitch is heard
    dt: int = 0
    dp: int = 0
    copy: bool = False
    no_snap: bool = False
    base_selection: frozenset[int] = frozenset()
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
    new_note: Note | None = None
    started: bool = False


class NoteArea(QWidget):
    noteAuditioned = Signal(int, int)  # pitch, velocity: a note was drawn, moved or resized
    noteHovered = Signal(str)  # what the note under the mouse is, or "" when the mouse leaves notes

    def __init__(self, document: Document, viewport: RollViewport, state: RollState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.viewport = viewport
        self.state = state
        self.drag: Drag | None = None
        self.mouse_tick: float | None = None  # where a paste lands when the mouse is over the roll
        self._ghosts: tuple[Song, int, np.ndarray, np.ndarray] | None = None  # song, active, notes, owners
        self.mouse_pos: QPointF | None = None
        self._luts_for: tuple | None = None
        self._luts: tuple[np.ndarray, np.ndarray] | None = None
        self.hovered = ""  # the description of the note under the mouse
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(200, 120)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        # Two cached layers under the overlays: rows and grid, then the notes' pixels.
        self._background: QImage | None = None
        self._canvas: QImage | None = None
        self._notes: tuple[np.ndarray, QImage] | None = None
        self._playhead_x: float | None = None
        document.songChanged.connect(self.refresh_all)
        document.selectionChanged.connect(self.refresh)
        viewport.changed.connect(self.refresh_all)
        state.changed.connect(self.refresh_all)
        state.playheadMoved.connect(self._playhead_moved)

    # ----- geometry helpers ---------------------------------------------------------------

    def refresh(self) -> None:
        """Redraw the notes (they or the selection changed)."""
        self._notes = None
        self.update()

    def refresh_all(self) -> None:
        """Redraw rows, grid and notes (the view, the song or a setting changed)."""
        self._background = None
        self.refresh()

    def _playhead_moved(self, tick: int) -> None:
        """Repaint only the strips the playhead leaves and enters: it moves 60 times a second."""
        x = self.viewport.tick_to_x(tick)
        for old in (self._playhead_x, x):
            if old is not None:
                self.update(int(old) - 3, 0, 7, self.height())
        self._playhead_x = x

    def resizeEvent(self, event) -> None:
        self._background = self._notes = None
        self.viewport.set_size(self.width(), self.height())
        super().resizeEvent(event)

    def snap_for(self, no_snap: bool = False) -> Snap:
        if no_snap:
            return Snap(None)
        return Snap.resolve(self.state.snap_choice, self.document.song.ppq, self.viewport.ticks_per_px)

    @property
    def track(self):
        song = self.document.song
        return song.tracks[self.document.active_track] if song.tracks else None

    def note_at(self, pos: QPointF) -> tuple[int | None, str]:
        """The active-track note under `pos` and the part hit: 'body', 'right' or 'left' edge."""
        track = self.track
        if track is None or not track.notes:
            return None, ""
        vp = self.viewport
        arr = track.note_array
        pitch = vp.y_to_pitch(pos.y())
        tick = vp.x_to_tick(pos.x())
        slack = 2 * vp.ticks_per_px
        min_len = 6 * vp.ticks_per_px
        hit = (arr[:, 0] == pitch) & (arr[:, 1] - slack <= tick) & (tick < np.maximum(arr[:, 2], arr[:, 1] + min_len))
        found = np.flatnonzero(hit)
        if not len(found):
            return None, ""
        selected = [i for i in found if i in self.document.selection]
        index = int(selected[-1] if selected else found[-1])
        x0, x1 = vp.tick_to_x(arr[index, 1]), vp.tick_to_x(arr[index, 2])
        width = x1 - x0
        if width >= 12 and pos.x() - x0 <= EDGE_PX:
            return index, "left"
        if (width >= 12 and x1 - pos.x() <= EDGE_PX) or (width < 12 and x1 - pos.x() <= 3):
            return index, "right"
        return index, "body"

    def ghost_at(self, pos: QPointF) -> int | None:
        """The track of another track's note under `pos`, if any."""
        notes, owners = self._ghost_arrays()
        if not len(notes):
            return None
        pitch = self.viewport.y_to_pitch(pos.y())
        tick = self.viewport.x_to_tick(pos.x())
        hit = np.flatnonzero((notes[:, 0] == pitch) & (notes[:, 1] <= tick) & (tick < notes[:, 2]))
        return int(owners[hit[-1]]) if len(hit) else None

    def _ghost_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        song, active = self.document.song, self.document.active_track
        cached = self._ghosts
        if cached is None or cached[0] is not song or cached[1] != active:
            parts = [(t.note_array, i) for i, t in enumerate(song.tracks) if i != active and t.notes]
            notes = np.concatenate([a for a, _ in parts]) if parts else np.zeros((0, 4), dtype=np.int64)
            owners = np.concatenate([np.full(len(a), i) for a, i in parts]) if parts else np.zeros(0, dtype=np.int64)
            self._ghosts = cached = (song, active, notes, owners)
        return cached[2], cached[3]

    def _ghost_values(self) -> np.ndarray:
        """Palette value of each ghost note: faint for tracks that do not sound (muted, or not
        soloed while another track is)."""
        _, owners = self._ghost_arrays()
        audible = np.zeros(max(1, len(self.document.song.tracks)), dtype=bool)
        audible[[i for i, _ in audible_tracks(self.document.song)]] = True
        return np.where(audible[owners], palette.GHOST, palette.MUTED_GHOST)

    # ----- what is drawn ------------------------------------------------------------------

    def display_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """pitch, start, end and palette value of every note to draw, with a drag's preview applied."""
        ghosts, _ = self._ghost_arrays()
        track = self.track
        arr = track.note_array.copy() if track is not None else np.zeros((0, 4), dtype=np.int64)
        selected = np.zeros(len(arr), dtype=bool)
        if self.document.selection:
            selected[list(self.document.selection)] = True
        d = self.drag
        if d is not None and d.started:
            idx = np.array(d.indices, dtype=np.int64)
            if d.kind == "rubber":
                selected[:] = False
                selected[list(self.document.selection)] = True
            elif d.kind in ("move",) and len(idx):
                moved = arr[idx].copy()
                moved[:, 0] = np.clip(moved[:, 0] + d.dp, 0, 127)
                shift = np.maximum(moved[:, 1] + d.dt, 0) - moved[:, 1]
                moved[:, 1] += shift
                moved[:, 2] += shift
                if d.copy:
                    arr = np.concatenate([arr, moved])
                    selected = np.concatenate([np.zeros(len(selected), dtype=bool), np.ones(len(moved), dtype=bool)])
                else:
                    arr[idx] = moved
            elif d.kind == "resize_right" and len(idx):
                arr[idx, 2] = np.maximum(arr[idx, 2] + d.dt, arr[idx, 1] + 1)
            elif d.kind == "resize_left" and len(idx):
                arr[idx, 1] = np.clip(arr[idx, 1] + d.dt, 0, arr[idx, 2] - 1)
            elif d.kind == "erase" and len(idx):
                keep = np.ones(len(arr), dtype=bool)
                keep[idx] = False
                arr, selected = arr[keep], selected[keep]
            elif d.kind == "draw" and d.new_note is not None:
                n = d.new_note
                arr = np.concatenate([arr, [[n.pitch, n.start, n.end, n.velocity]]])
                selected = np.concatenate([np.zeros(len(selected), dtype=bool), [True]])
        values = np.where(selected, palette.SELECTED, palette.PLAIN) + palette.velocity_bucket(arr[:, 3])
        pitch = np.concatenate([ghosts[:, 0], arr[:, 0]])
        start = np.concatenate([ghosts[:, 1], arr[:, 1]])
        end = np.concatenate([ghosts[:, 2], arr[:, 2]])
        value = np.concatenate([self._ghost_values(), values])
        return pitch, start, end, value

    def _lookup_tables(self) -> tuple[np.ndarray, np.ndarray]:
        track = self.track
        colour = track_colour(track, self.document.active_track) if track is not None else QColor("#4e9af1")
        ghost = self.palette().color(QPalette.ColorRole.Text)
        key = (colour.rgb(), ghost.rgb())
        if self._luts_for != key:
            self._luts, self._luts_for = palette.note_luts(colour, ghost), key
        return self._luts

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._background is None or self._background.size() != self.size():
            if self._canvas is None or self._canvas.size() != self.size():
                self._canvas = QImage(self.size(), QImage.Format.Format_ARGB32_Premultiplied)
            self._background = self._canvas  # reused: only its pixels are redrawn
            painter = QPainter(self._background)
            self._paint_rows(painter)
            self._paint_grid(painter)
            painter.end()
        if self._notes is None or self._notes[1].size() != self.size():
            vp = self.viewport
            fill, border = self._lookup_tables()
            view = RasterView(vp.left_tick, vp.ticks_per_px, vp.top, vp.key_height, self.width(), self.height())
            pixels = rasterise_notes(*self.display_arrays(), view, fill, border)
            self._notes = (pixels, QImage(pixels.data, view.width, view.height, view.width * 4,
                                          QImage.Format.Format_ARGB32_Premultiplied))  # pixels keep the image's memory alive
        p = QPainter(self)
        rect = event.rect()
        p.drawImage(rect, self._background, rect)
        p.drawImage(rect, self._notes[1], rect)
        self._paint_overlays(p)
        p.end()

    def _paint_rows(self, p: QPainter) -> None:
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Base)
        black = base.darker(112)
        outside = base.darker(106)
        vp = self.viewport
        lo, hi = vp.visible_pitches
        p.fillRect(self.rect(), base)
        key = self.document.song.key
        in_scale = pitch_classes_of_key(key.key) if (key is not None and self.state.scale_highlight) else None
        tonic_tint = QColor(base)
        tonic_tint.setHsv(210, 28, max(0, base.value() - 8))
        for pitch in range(lo, hi + 1):
            pc = pitch % 12
            colour = None
            if in_scale is not None:
                if pc not in in_scale:
                    colour = black if pc in BLACK_KEYS else outside
                elif pc == in_scale[0]:
                    colour = tonic_tint
            elif pc in BLACK_KEYS:
                colour = black
            if colour is not None:
                y = vp.pitch_to_y(pitch)
                p.fillRect(QRectF(0, y, self.width(), vp.key_height), colour)

    def _paint_grid(self, p: QPainter) -> None:
        vp = self.viewport
        song = self.document.song
        pal = self.palette()
        base, text = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)
        t0, t1 = vp.left_tick, vp.right_tick
        meter = song.meter
        # Fine lines at the snap grid (or the adaptive one when snap is off), beats, bars.
        choice = self.state.snap_choice
        division = adaptive_division(song.ppq, vp.ticks_per_px, 8) if choice in ("adaptive", "off") else choice
        step = float(division_ticks(division, song.ppq))
        levels: list[list[QLineF]] = [[], [], []]
        if step / vp.ticks_per_px >= 5:
            k0 = int(t0 // step)
            for k in range(k0, int(t1 // step) + 2):
                x = vp.tick_to_x(k * step)
                levels[0].append(QLineF(x, 0, x, self.height()))
        beat = meter.ticks_per_beat()
        if beat / vp.ticks_per_px >= 5:
            for k in range(int(t0 // beat), int(t1 // beat) + 2):
                x = vp.tick_to_x(k * beat)
                levels[1].append(QLineF(x, 0, x, self.height()))
        bars = [t for t in meter.bar_starts(int(t1) + 1) if t >= t0 - 1]
        min_gap = 4 * vp.ticks_per_px
        last = -1e18
        for t in bars:
            if t - last >= min_gap:
                x = vp.tick_to_x(t)
                levels[2].append(QLineF(x, 0, x, self.height()))
                last = t
        # Octave lines under each C.
        lo, hi = vp.visible_pitches
        octave = [QLineF(0, vp.pitch_to_y(c) + vp.key_height, self.width(), vp.pitch_to_y(c) + vp.key_height)
                  for c in range(lo - lo % 12, hi + 1, 12) if vp.key_height >= 3]
        for lines, amount in ((levels[0], 0.07), (levels[1], 0.14), (levels[2], 0.32), (octave, 0.12)):
            if lines:
                p.setPen(QPen(mix(text, base, amount), 1))
                p.drawLines(lines)

    def _paint_overlays(self, p: QPainter) -> None:
        vp = self.viewport
        loop = self.state.loop
        if loop is not None:
            x0, x1 = vp.tick_to_x(loop[0]), vp.tick_to_x(loop[1])
            p.fillRect(QRectF(x0, 0, x1 - x0, self.height()), QColor(80, 160, 255, 28))
        x = vp.tick_to_x(self.state.playhead)
        if 0 <= x <= self.width():
            p.setPen(QPen(QColor("#e0403a"), 2))
            p.drawLine(QLineF(x, 0, x, self.height()))
        d = self.drag
        if d is not None and d.kind == "rubber" and d.started and self.mouse_pos is not None:
            rect = QRectF(d.press, self.mouse_pos).normalized()
            p.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), 1, Qt.PenStyle.DashLine))
            p.fillRect(rect, QColor(80, 140, 255, 40))
            p.drawRect(rect)

    # ----- mouse --------------------------------------------------------------------------

    def _commit(self, name: str, track, selection) -> None:
        commit_track_edit(self.document, name, track, selection)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.track is None:
            return super().mousePressEvent(event)
        pos = event.position()
        mods = event.modifiers()
        no_snap = bool(mods & Qt.KeyboardModifier.AltModifier)
        vp = self.viewport
        tick, pitch = vp.x_to_tick(pos.x()), vp.y_to_pitch(pos.y())
        index, part = self.note_at(pos)
        tool = self.state.tool
        doc = self.document
        drag = Drag("", pos, tick, pitch, no_snap=no_snap, modifiers=mods, base_selection=doc.selection)
        if tool is Tool.ERASE:
            drag.kind = "erase"
            drag.started = True
            drag.indices = [index] if index is not None else []
        elif tool is Tool.SPLIT:
            if index is not None:
                at = self.snap_for(no_snap).round(tick)
                track = edits.split_note(self.track, index, at)
                if track is not self.track:
                    self._commit("Split note", track, [index, len(track.notes) - 1])
            return
        elif tool is Tool.GLUE:
            if index is not None:
                other = edits.next_same_pitch(self.track, index)
                if other is not None:
                    track = edits.glue_notes(self.track, index, other)
                    # The joined note keeps `index`, one lower when the removed note came before it.
                    self._commit("Glue notes", track, [index - 1 if index > other else index])
            return
        elif index is not None:
            ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
            shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
            if index not in doc.selection:
                doc.select((doc.selection | {index}) if (shift or ctrl) else {index})
                drag.kind = {"body": "move", "right": "resize_right", "left": "resize_left"}[part]
            elif ctrl:
                drag.kind = "pending_toggle"  # toggles off on release, duplicates if dragged
            else:
                drag.kind = {"body": "move", "right": "resize_right", "left": "resize_left"}[part]
            drag.indices = sorted(doc.selection)
            drag.anchor = index
            drag.copy = ctrl
        elif tool is Tool.DRAW:
            start = self.snap_for(no_snap).floor(tick)
            if 0 <= pitch <= 127:
                drag.kind = "draw"
                drag.started = True
                drag.new_note = Note(pitch, max(0, start), self.state.note_length, 100)
                self.noteAuditioned.emit(pitch, 100)
        else:
            owner = self.ghost_at(pos)
            if owner is not None:
                doc.set_active_track(owner)
                index, _ = self.note_at(pos)
                if index is not None:
                    doc.select({index})
                return
            drag.kind = "rubber"
            if not (mods & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier)):
                doc.select(())
                drag.base_selection = frozenset()
        self.drag = drag if drag.kind else None
        self.refresh()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        self.mouse_pos = pos
        self.mouse_tick = self.viewport.x_to_tick(pos.x())
        d = self.drag
        if d is None:
            self._update_cursor(pos)
            self._hover(pos)
            return
        if not d.started:
            if (pos - d.press).manhattanLength() < DRAG_START_PX:
                return
            d.started = True
            if d.kind == "pending_toggle":
                d.kind = "move"
        self.drag_to(pos, no_snap=bool(event.modifiers() & Qt.KeyboardModifier.AltModifier) or d.no_snap)

    def drag_to(self, pos: QPointF, no_snap: bool = False) -> None:
        """Move the gesture in progress to `pos`: the preview follows, the document waits."""
        d = self.drag
        if d is None:
            return
        vp = self.viewport
        tick, pitch = vp.x_to_tick(pos.x()), vp.y_to_pitch(pos.y())
        snap = self.snap_for(no_snap)
        track = self.track
        if d.kind == "move":
            dt, dp = snap.delta(tick - d.press_tick), pitch - d.press_pitch
            if (dt, dp) != (d.dt, d.dp) and dp != d.dp and d.indices:
                first = track.notes[self._anchor(d)]
                self.noteAuditioned.emit(max(0, min(127, first.pitch + dp)), first.velocity)
            d.dt, d.dp = dt, dp
        elif d.kind in ("resize_right", "resize_left"):
            anchor = track.notes[self._anchor(d)] if d.indices else None
            if anchor is not None and snap.step is not None:
                edge = anchor.end if d.kind == "resize_right" else anchor.start
                d.dt = snap.round(edge + tick - d.press_tick) - edge  # the dragged edge lands on the grid
            else:
                d.dt = int(round(tick - d.press_tick))
        elif d.kind == "rubber":
            rect = QRectF(d.press, pos).normalized()
            inside = self._notes_in_rect(rect)
            if d.modifiers & Qt.KeyboardModifier.ControlModifier:
                chosen = d.base_selection ^ inside
            elif d.modifiers & Qt.KeyboardModifier.ShiftModifier:
                chosen = d.base_selection | inside
            else:
                chosen = inside
            self.document.select(chosen)
        elif d.kind == "erase":
            index, _ = self.note_at(pos)
            if index is not None and index not in d.indices:
                d.indices.append(index)
        elif d.kind == "draw" and d.new_note is not None and abs(pos.x() - d.press.x()) >= DRAG_START_PX:
            end = max(d.new_note.start + snap.ticks, snap.round(tick) if snap.step else int(tick))
            d.new_note = Note(d.new_note.pitch, d.new_note.start, end - d.new_note.start, d.new_note.velocity)
        self.refresh()

    @staticmethod
    def _anchor(d: Drag) -> int:
        """The grabbed note, or the first of the dragged ones."""
        return d.anchor if d.anchor is not None and d.anchor in d.indices else d.indices[0]

    def _notes_in_rect(self, rect: QRectF) -> frozenset[int]:
        track = self.track
        if track is None or not track.notes:
            return frozenset()
        vp = self.viewport
        arr = track.note_array
        t0, t1 = vp.x_to_tick(rect.left()), vp.x_to_tick(rect.right())
        p_hi, p_lo = vp.y_to_pitch(rect.top()), vp.y_to_pitch(rect.bottom())
        hit = (arr[:, 2] > t0) & (arr[:, 1] < t1) & (arr[:, 0] >= p_lo) & (arr[:, 0] <= p_hi)
        return frozenset(int(i) for i in np.flatnonzero(hit))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        d, self.drag = self.drag, None
        if d is None or event.button() != Qt.MouseButton.LeftButton:
            return
        track = self.track
        n = len(d.indices)
        if d.kind == "pending_toggle":
            self.document.select(self.document.selection - {self.note_at(d.press)[0]})
        elif d.kind == "move" and d.started and (d.dt or d.dp):
            if d.copy:
                moved, new = edits.copy_notes(track, d.indices, d.dt, d.dp)
                self._commit(f"Duplicate {plural(n, 'note')}", moved, new)
            else:
                self._commit(f"Move {plural(n, 'note')}", edits.move_notes(track, d.indices, d.dt, d.dp), d.indices)
        elif d.kind in ("resize_right", "resize_left") and d.started and d.dt:
            delta = {"delta_end": d.dt} if d.kind == "resize_right" else {"delta_start": d.dt}
            resized = edits.resize_notes(track, d.indices, **delta)
            first = resized.notes[self._anchor(d)]
            self.state.note_length = first.duration
            self._commit(f"Resize {plural(n, 'note')}", resized, d.indices)
            self.noteAuditioned.emit(first.pitch, first.velocity)
        elif d.kind == "erase" and d.indices:
            self._commit(f"Erase {plural(n, 'note')}", edits.remove_notes(track, d.indices), ())
        elif d.kind == "draw" and d.new_note is not None:
            self.state.note_length = d.new_note.duration
            self._commit("Add note", edits.add_notes(track, [d.new_note]), [len(track.notes)])
        self.refresh()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.state.tool is Tool.SELECT and event.button() == Qt.MouseButton.LeftButton:
            index, _ = self.note_at(event.position())
            if index is not None:
                self.drag = None
                self._commit("Delete note", edits.remove_notes(self.track, [index]), ())
                return
        super().mouseDoubleClickEvent(event)

    def describe_at(self, pos: QPointF) -> str:
        """The note under `pos` in words: the active track's, else another track's ghost."""
        song = self.document.song
        index, _ = self.note_at(pos)
        if index is not None:
            return describe_note(song, self.track.notes[index])
        owner = self.ghost_at(pos)
        if owner is None:
            return ""
        track = song.tracks[owner]
        pitch, tick = self.viewport.y_to_pitch(pos.y()), self.viewport.x_to_tick(pos.x())
        note = next(n for n in reversed(track.notes) if n.pitch == pitch and n.start <= tick < n.end)
        return describe_note(song, note, track.name or f"Track {owner + 1}")

    def _hover(self, pos: QPointF | None) -> None:
        text = self.describe_at(pos) if pos is not None else ""
        if text != self.hovered:
            self.hovered = text
            self.noteHovered.emit(text)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            text = self.describe_at(QPointF(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def leaveEvent(self, event) -> None:
        self.mouse_tick = None
        self.mouse_pos = None
        self._hover(None)
        super().leaveEvent(event)

    def _update_cursor(self, pos: QPointF) -> None:
        tool = self.state.tool
        index, part = self.note_at(pos)
        if tool is Tool.ERASE:
            shape = Qt.CursorShape.ForbiddenCursor if index is not None else Qt.CursorShape.ArrowCursor
        elif tool is Tool.SPLIT:
            shape = Qt.CursorShape.SplitHCursor
        elif tool is Tool.GLUE:
            shape = Qt.CursorShape.PointingHandCursor
        elif index is not None:
            shape = Qt.CursorShape.SizeHorCursor if part in ("left", "right") else Qt.CursorShape.SizeAllCursor
        else:
            shape = Qt.CursorShape.CrossCursor if tool is Tool.DRAW else Qt.CursorShape.ArrowCursor
        self.setCursor(QCursor(shape))

    def wheelEvent(self, event: QWheelEvent) -> None:
        mods = event.modifiers()
        delta = event.angleDelta()
        steps = (delta.y() or delta.x()) / 120
        pos = event.position()
        vp = self.viewport
        ctrl = mods & Qt.KeyboardModifier.ControlModifier
        shift = mods & Qt.KeyboardModifier.ShiftModifier
        if ctrl and shift:
            vp.zoom_pitch(WHEEL_ZOOM ** steps, pos.y())
        elif ctrl:
            vp.zoom_time(WHEEL_ZOOM ** steps, pos.x())
        elif shift or delta.x():
            vp.scroll_time(-steps * 60)
        else:
            vp.scroll_pitch(steps * 3)
        event.accept()

