"""The note grid of the piano roll: paints rows, grid, ghost notes of other tracks and the active
track's notes, and turns mouse gestures with the current tool into one undoable edit each."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QEvent, QLineF, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (QColor, QCursor, QImage, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen, QRegion,
                           QWheelEvent)
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
from desktop_app.ui.piano_roll.note_raster import (LEVELS, OCTAVE, RasterView, Scratch, band_rows, colour_table, compose,
                                                   note_cells, note_planes, note_rows, pitch_range, recolour,
                                                   row_select)
from desktop_app.ui.piano_roll.state import RollState, Tool
from desktop_app.ui.piano_roll.viewport import RollViewport, repaint_playhead_strips

EDGE_PX = 5
DRAG_START_PX = 3
BLACK_KEYS = {1, 3, 6, 8, 10}
WHEEL_ZOOM = 1.15
GRID_AMOUNTS = (0.07, 0.14, 0.32)  # how dark fine, beat and bar lines are (text over base)
PLANE_MARGIN = 12  # pitches rasterised above and below the view, so a pitch scroll reuses them
KEPT_TABLES = 16  # colour tables kept by their colours
KEPT_TRACKS = 4  # what is made per active track (other tracks' notes joined and rasterised) is kept for this many
RECOLOUR_FRACTION = 4  # recolour changed pixels one by one up to this fraction of the frame, else compose it all
DIRTY_RECTS = 8  # a change repaints at most this many rectangles (one per pitch band), else their bounding box


def _keep(kept: dict, key, value) -> None:
    """Put `value` in `kept` under `key`, dropping the oldest entry past KEPT_TRACKS."""
    kept.pop(key, None)
    if len(kept) >= KEPT_TRACKS:
        kept.pop(next(iter(kept)))
    kept[key] = value


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
class _Shown:
    """What the frame image was made from: compose(rows, select, kinds, levels, table) for `view`,
    with `rows` the notes `display` rasterised for pitches lo..hi."""

    view: RasterView
    display: tuple
    kinds: np.ndarray
    levels: np.ndarray
    table: np.ndarray
    lo: int
    hi: int
    rows: np.ndarray
    select: np.ndarray
    spans: tuple[np.ndarray, np.ndarray] | None = None  # first and last pixel row showing each pitch band


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
        self._ghosts: dict[int, tuple] = {}  # by active track, see _ghost_cache
        self.mouse_pos: QPointF | None = None
        self._luts_for: tuple | None = None
        self._luts: tuple[np.ndarray, np.ndarray] | None = None
        self.hovered = ""  # the description of the note under the mouse
        self.layers: list = []  # OverlayLayer objects (takes, heat) painted over the frame
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(200, 120)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        # One cached image under the overlays: rows, grid and notes (the playhead, the loop and
        # a rubber band are drawn over it, so moving them costs a blit of a strip).
        self._frame: tuple[np.ndarray, QImage] | None = None  # the frame's pixels and an image over them
        self._offset = 0  # the buffer column holding the frame's column 0 (a time scroll turns the buffer)
        self._frame_valid = False
        # What frames share while it stays the same: each with the key it was made for.
        self._display: tuple | None = None
        self._table: tuple | None = None
        self._tables: dict[tuple, object] = {}  # colour tables by the colours they are made from (see _remember)
        self._kinds: tuple | None = None
        self._levels: tuple | None = None
        self._rows_buffers: list[np.ndarray] = []  # rasterised notes, two in turn (see _rasterise)
        self._ghost_cells: list[tuple] = []  # other tracks' notes rasterised: notes, values, time axis, cells
        self._bases: dict[int, tuple] = {}  # by active track: the song and its display_arrays(selected=False)
        self._plane_cache: tuple | None = None  # rasterised notes: display, time axis, pitch range, rows
        self._shown: _Shown | None = None  # what the frame was made from
        self._by_start: list[tuple] = []  # display notes ordered by start, from the first one rasterised (see _window)
        self._scratch, self._strip_scratch = Scratch(), Scratch()
        self._playhead_tick: int | None = state.playhead  # where the line was last drawn
        self._dirty: QRegion | None = None  # what the last frame update changed (None: all of it)
        self._rubber_shown = False  # a rubber band is on screen: erasing it repaints everything
        document.songChanged.connect(self.refresh)  # what the song sets (key, metre, colours) is checked per frame
        document.selectionChanged.connect(self.refresh)
        viewport.changed.connect(self.update)  # the frame knows what it was drawn for: see paintEvent
        state.changed.connect(self.refresh_all)
        state.playheadMoved.connect(self._playhead_moved)

    # ----- geometry helpers ---------------------------------------------------------------

    def refresh(self) -> None:
        """Repaint after the notes, the selection or a drag's preview changed: the frame is
        brought up to date now (see _update_frame) and only the rectangles of the pitch bands
        whose pixels changed are repainted; all of it when the frame was drawn again, or a
        rubber band is (or was) drawn over it."""
        if self._frame is None or not self._frame_valid or not self.isVisible():
            self.update()
            return
        self._update_frame()
        rubber = self.drag is not None and self.drag.kind == "rubber"
        if self._dirty is None or rubber or self._rubber_shown:
            self.update()
        elif not self._dirty.isEmpty():
            self.update(self._dirty)

    def refresh_all(self) -> None:
        """Redraw rows, grid and notes from scratch (the song or a setting changed)."""
        self._frame_valid = False
        self.update()

    def _playhead_moved(self, tick: int) -> None:
        repaint_playhead_strips(self, self.viewport, self._playhead_tick, tick)
        self._playhead_tick = tick

    def resizeEvent(self, event) -> None:
        self._frame_valid = False
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
        """Other tracks' notes as one (n, 4) array, and the track each came from."""
        cached = self._ghost_cache()
        return cached[2], cached[3]

    def _ghost_values(self) -> np.ndarray:
        """Palette value of each ghost note: faint for tracks that do not sound (muted, or not
        soloed while another track is)."""
        return self._ghost_cache()[4]

    def _ghost_cache(self) -> tuple:
        """(song, active track, notes, owners, values, others, audible), computed again only when
        the active track, another track or which tracks sound changed: an edit of the active
        track keeps the arrays (the same objects, so what is made from them is kept too)."""
        song, active = self.document.song, self.document.active_track
        cached = self._ghosts.get(active)
        if cached is not None and cached[0] is song:
            return cached
        others = tuple(t for i, t in enumerate(song.tracks) if i != active)
        audible = tuple(i for i, _ in audible_tracks(song))
        if (cached is not None and cached[6] == audible and len(cached[5]) == len(others)
                and all(a is b for a, b in zip(cached[5], others))):
            self._ghosts[active] = cached = (song, *cached[1:])
            return cached
        parts = [(t.note_array, i) for i, t in enumerate(song.tracks) if i != active and t.notes]
        notes = np.concatenate([a for a, _ in parts]) if parts else np.zeros((0, 4), dtype=np.int64)
        owners = np.concatenate([np.full(len(a), i) for a, i in parts]) if parts else np.zeros(0, dtype=np.int64)
        sounding = np.zeros(max(1, len(song.tracks)), dtype=bool)
        sounding[list(audible)] = True
        values = np.where(sounding[owners], palette.GHOST, palette.MUTED_GHOST)
        cached = (song, active, notes, owners, values, others, audible)
        _keep(self._ghosts, active, cached)
        return cached

    # ----- what is drawn ------------------------------------------------------------------

    def display_arrays(self, selected: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """pitch, start, end and palette value of every note to draw (ghosts first, then the
        active track's notes in order), with a drag's preview applied; `selected` False draws
        every note unselected."""
        ghosts, _ = self._ghost_arrays()
        track = self.track
        arr = track.note_array.copy() if track is not None else np.zeros((0, 4), dtype=np.int64)
        chosen = selected
        selected = np.zeros(len(arr), dtype=bool)
        if chosen and self.document.selection:
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
            if key not in self._tables:
                self._remember(key, palette.note_luts(colour, ghost))
            self._luts, self._luts_for = self._tables[key], key
        return self._luts

    def _remember(self, key: tuple, value) -> None:
        """Keep a colour table (a pure function of a few colours) for when those colours come
        back, as they do when the active track switches back and forth."""
        if len(self._tables) >= KEPT_TABLES:
            self._tables.pop(next(iter(self._tables)))
        self._tables[key] = value

    def _view(self, left: int = 0, width: int | None = None) -> RasterView:
        """The viewport as a raster view, or the part of it from column `left`, `width` wide."""
        vp = self.viewport
        return RasterView(vp.left_tick + left * vp.ticks_per_px, vp.ticks_per_px, vp.top, vp.key_height,
                          self.width() - left if width is None else width, self.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        """Bring the frame image up to date with the view and the notes, draw it, then the overlays."""
        self._update_frame()
        p = QPainter(self)
        image, w, o = self._frame[1], self.width(), self._offset
        # The buffer holds the frame turned by `o` columns: its two parts, each where it shows;
        # only the rectangles of the region asked for (a recolour repaints a few).
        for rect in event.region():
            for x, source_x, width in ((0, o, w - o), (w - o, 0, o)):
                target = QRect(x, 0, width, self.height()) & rect
                if width > 0 and not target.isEmpty():
                    p.drawImage(target, image, target.translated(source_x - x, 0))
        self._paint_overlays(p)
        p.end()

    def frame_pixels(self) -> np.ndarray:
        """A copy of the frame the note area paints from, column 0 first ((height, width) BGRA)."""
        return np.roll(self._frame[0], -self._offset, axis=1)

    def _update_frame(self) -> None:
        """Redo only what changed since the frame was drawn. Nothing changed: the frame stays.
        Only the notes' look (selection, an edit, a drag's preview): the notes are rasterised
        again and only the pixels whose note changed are coloured again (self._dirty: the
        rectangles they lie in; None when the whole frame was drawn). The view scrolled in
        time by whole pixels: the frame shifts and only the uncovered columns are drawn (as a
        scrolling window blits). Otherwise the frame is composed again, reusing the rasterised
        notes when only the rows moved (a pitch scroll)."""
        view = self._view()
        display = self._display_cache()
        kinds, table = self._row_kinds(view), self._colour_table()
        shown = self._shown
        same = (self._frame_valid and shown is not None and shown.kinds is kinds and shown.table is table
                and (shown.view.width, shown.view.height) == (view.width, view.height))
        old = shown.view if same else None
        self._dirty = None
        if same and old == view and shown.levels is self._column_levels(view):
            self._dirty = QRegion()
            if shown.display is not display:
                self._renote_frame(display)
        elif (same and shown.display is display and (old.ticks_per_px, old.top, old.key_height)
              == (view.ticks_per_px, view.top, view.key_height)
              and self._whole_shift((view.left_tick - old.left_tick) / view.ticks_per_px, view.width)):
            self._scroll_frame(view, round((view.left_tick - old.left_tick) / view.ticks_per_px))
        else:
            self._draw_frame(view, display, kinds, table)
        self._frame_valid = True

    @staticmethod
    def _whole_shift(dx: float, width: int) -> bool:
        """A time scroll the frame can follow by shifting: whole pixels, at least one, under half
        the width."""
        return abs(dx - round(dx)) <= 1e-6 and 0 < abs(round(dx)) < width // 2

    def _buffer(self) -> np.ndarray:
        """The frame buffer, reused while the size holds (a fresh one costs its page faults)."""
        if self._frame is None or self._frame[0].shape != (self.height(), self.width()):
            pixels = np.zeros((self.height(), self.width()), dtype=np.uint32)
            self._frame = (pixels, QImage(pixels.data, self.width(), self.height(), self.width() * 4,
                                          QImage.Format.Format_RGB32))  # pixels keep the memory alive
            self._offset = 0
        return self._frame[0]

    def _draw_frame(self, view: RasterView, display: tuple, kinds: np.ndarray, table: np.ndarray) -> None:
        """Compose the whole frame for `view`."""
        levels = self._column_levels(view)
        lo, hi = pitch_range(view)
        if hi < lo:  # no row of the view shows a pitch
            rows, select = np.zeros((1, view.width), dtype=np.uint8), np.zeros(view.height, dtype=np.int64)
            self._plane_cache = None  # (kept rasterised notes are always the frame's own)
        else:
            lo, hi, rows = self._planes(view, display, lo, hi)
            select = row_select(view, lo, hi)
        compose(rows, select, kinds, levels, table, out=self._buffer(), scratch=self._scratch)
        self._offset = 0
        self._shown = _Shown(view, display, kinds, levels, table, lo, hi, rows, select)

    def _planes(self, view: RasterView, display: tuple, lo: int, hi: int) -> tuple[int, int, np.ndarray]:
        """Rasterised notes (note_planes) for pitches lo..hi or a wider range: kept for the time
        axis and the notes, so a pitch scroll reuses them; made with PLANE_MARGIN pitches to
        spare above and below."""
        key = (view.left_tick, view.ticks_per_px, view.width, view.key_height >= 5)
        cached = self._plane_cache
        if cached is not None and cached[0] is display and cached[1] == key and cached[2] <= lo and hi <= cached[3]:
            return cached[2], cached[3], cached[4]
        lo, hi = max(0, lo - PLANE_MARGIN), min(127, hi + PLANE_MARGIN)
        rows = self._rasterise(view, display, lo, hi)
        self._plane_cache = (display, key, lo, hi, rows)
        return lo, hi, rows

    def _rasterise(self, view: RasterView, display: tuple, lo: int, hi: int) -> np.ndarray:
        """note_planes of `display` for `view`, with the other tracks' notes (the first part of
        `display`, see display_arrays) rasterised once per song, active track and time axis:
        a change of selection, an edit or a drag changes only the active track's notes."""
        ghosts = self._ghost_cache()
        n = len(ghosts[2])
        key = (view.left_tick, view.ticks_per_px, view.width, lo, hi)
        cached = next((c for c in self._ghost_cells if c[0] is ghosts[2] and c[1] is ghosts[4] and c[2] == key), None)
        if cached is None:  # (kept per active track: switching back finds them)
            cells = note_cells(*(a[:n] for a in display), view, lo, hi)
            cached = (ghosts[2], ghosts[4], key, cells)
            self._ghost_cells = [c for c in self._ghost_cells if c[0] is not ghosts[2]][-(KEPT_TRACKS - 1):] + [cached]
        near = self._window(display, n, view.left_tick, view.left_tick + view.width * view.ticks_per_px)
        plane, edges = note_cells(*(a[near] for a in display), view, lo, hi, scratch=self._scratch)
        np.maximum(plane, cached[3][0], out=plane)
        edges |= cached[3][1]
        shape = (2 * (hi - lo + 1) + 1, view.width)
        # Two buffers in turn: the frame's rows stay intact until the new ones are compared with them.
        shown = self._shown.rows if self._shown is not None else None
        spare = next((b for b in self._rows_buffers if b is not shown and b.shape == shape), None)
        if spare is None:
            spare = np.empty(shape, dtype=np.uint8)
            self._rows_buffers = [b for b in self._rows_buffers if b is shown][-1:] + [spare]
        return band_rows(plane, edges, view.key_height, self._palette_size(), out=spare)

    def _window(self, display: tuple, first: int, t0: float, t1: float) -> np.ndarray:
        """Indices of the notes of `display` from `first` on that may sound between ticks t0 and
        t1: those starting before t1 and at most the longest note's length before t0, found by
        bisection in the notes ordered by start (kept while the notes' times stay), so that
        what a frame rasterises grows with the notes in view, not in the song."""
        start, end = display[1], display[2]
        kept = self._by_start
        cached = next((c for c in kept if c[0] is start and c[1] is end and c[2] == first), None)
        if cached is None:
            same = next((c for c in kept if c[2] == first and len(c[0]) == len(start) and np.array_equal(c[0], start)
                         and np.array_equal(c[1], end)), None)  # an edit that kept the times
            if same is not None:
                cached = (start, end, *same[2:])
            else:
                order = first + np.argsort(start[first:], kind="stable")
                longest = int((end[first:] - start[first:]).max()) if len(order) else 0
                cached = (start, end, first, order, start[order], longest)
            # (all notes for a scroll's strip, each active track's for a frame)
            self._by_start = [c for c in kept if c is not same][-KEPT_TRACKS:] + [cached]
        order, starts, longest = cached[3], cached[4], cached[5]
        a, b = np.searchsorted(starts, [t0 - longest, t1])
        return order[a:b]

    def _palette_size(self) -> int:
        return len(self._lookup_tables()[0])

    def _renote_frame(self, display: tuple) -> None:
        """The view stayed and the notes' look changed: rasterise the notes again and colour
        again only the pixels of the cells whose value changed (all of the frame when many did)."""
        shown = self._shown
        if shown.hi < shown.lo:
            shown.display = display
            return
        rows = self._rasterise(shown.view, display, shown.lo, shown.hi)
        changed = np.not_equal(rows, shown.rows, out=self._scratch.get("changed", rows.shape, bool))
        out = self._buffer()
        if recolour(out, rows, changed, shown.select, shown.kinds, shown.levels, shown.table,
                    limit=out.size // RECOLOUR_FRACTION, column_offset=self._offset):
            self._dirty = self._changed_region(changed, shown)
        else:
            compose(rows, shown.select, shown.kinds, shown.levels, shown.table, out=out, scratch=self._scratch)
            self._offset = 0
            self._dirty = None
        shown.display, shown.rows = display, rows
        key = (shown.view.left_tick, shown.view.ticks_per_px, shown.view.width, shown.view.key_height >= 5)
        self._plane_cache = (display, key, shown.lo, shown.hi, rows)

    @staticmethod
    def _changed_region(changed: np.ndarray, shown: _Shown) -> QRegion:
        """The pixels that show the note-row cells in `changed`: per pitch band, its pixel rows
        from its first to its last changed column (their bounding box past DIRTY_RECTS bands)."""
        flat = np.flatnonzero(changed)
        if not len(flat):
            return QRegion()
        n_rows, w = changed.shape
        bands = max(1, n_rows // 2)  # rows: each band's body, each band's border, one empty row
        if shown.spans is None:
            ys = np.arange(len(shown.select))
            first, last = np.full(n_rows, len(ys)), np.full(n_rows, -1)
            np.minimum.at(first, shown.select, ys)
            np.maximum.at(last, shown.select, ys)
            shown.spans = (np.minimum(first[:bands], first[bands : 2 * bands]) if n_rows > 1 else first,
                           np.maximum(last[:bands], last[bands : 2 * bands]) if n_rows > 1 else last)
        first, last = shown.spans
        rr, xx = np.divmod(flat, w)
        band = rr % bands
        x0, x1 = np.full(bands, w), np.full(bands, -1)
        np.minimum.at(x0, band, xx)
        np.maximum.at(x1, band, xx)
        hit = np.flatnonzero((x1 >= 0) & (first <= last))  # a band no pixel row shows changes nothing seen
        if not len(hit):
            return QRegion()
        if len(hit) > DIRTY_RECTS:
            left, top = int(x0[hit].min()), int(first[hit].min())
            return QRegion(left, top, int(x1[hit].max()) - left + 1, int(last[hit].max()) - top + 1)
        region = QRegion()
        for a, z, top, bottom in zip(x0[hit].tolist(), x1[hit].tolist(), first[hit].tolist(), last[hit].tolist()):
            region += QRect(a, top, z - a + 1, bottom - top + 1)
        return region

    def _scroll_frame(self, view: RasterView, shift: int) -> None:
        """Shift the frame `shift` columns (positive: the view moved later in time) and draw the
        columns that came into view; the rasterised notes and grid levels shift with it. The
        pixels do not move: the buffer turns (its columns are used round in a ring), and the new
        columns are drawn over the ones that left the view."""
        shown, w = self._shown, view.width
        strip = self._view(w - shift) if shift > 0 else self._view(0, -shift)
        levels = self._compute_column_levels(strip)
        if shown.hi < shown.lo:
            rows = np.zeros((1, strip.width), dtype=np.uint8)
        else:
            near = self._window(shown.display, 0, strip.left_tick, strip.left_tick + strip.width * strip.ticks_per_px)
            rows = note_planes(*(a[near] for a in shown.display), strip, self._palette_size(), shown.lo, shown.hi)
        pixels = compose(rows, shown.select, shown.kinds, levels, shown.table, scratch=self._strip_scratch)
        self._offset = (self._offset + shift) % w
        first = w - shift if shift > 0 else 0  # the frame columns the strip shows
        frame = self._buffer()
        columns = (first + self._offset + np.arange(strip.width)) % w
        if columns[-1] - columns[0] == strip.width - 1:  # one run of buffer columns
            frame[:, columns[0] : columns[-1] + 1] = pixels
        else:
            frame[:, columns] = pixels
        all_rows = np.empty_like(shown.rows)
        all_levels = np.empty_like(shown.levels)
        for target, before, part in ((all_rows, shown.rows, rows), (all_levels, shown.levels, levels)):
            if shift > 0:
                target[..., : w - shift] = before[..., shift:]
                target[..., w - shift :] = part
            else:
                target[..., -shift:] = before[..., : w + shift]
                target[..., :-shift] = part
        self._levels = (self._levels_key(view), all_levels)
        shown.view, shown.rows, shown.levels = view, all_rows, all_levels
        self._plane_cache = None
        if shown.hi >= shown.lo:  # the shifted rows are the rasterised notes of the new view: a pitch scroll reuses them
            key = (view.left_tick, view.ticks_per_px, view.width, view.key_height >= 5)
            self._plane_cache = (shown.display, key, shown.lo, shown.hi, all_rows)

    def render_pixels(self, view: RasterView | None = None, out: np.ndarray | None = None) -> np.ndarray:
        """Rows, grid and notes of `view` (the whole viewport by default) as one (height, width)
        image of opaque BGRA pixels (into `out`), drawn from scratch: what the frame must show."""
        view = view or self._view()
        fill, border = self._lookup_tables()
        rows, select = note_rows(*self._display_cache(), view, len(fill))
        return compose(rows, select, self._row_kinds(view), self._compute_column_levels(view), self._colour_table(), out)

    def _display_cache(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """display_arrays, kept while the song, active track and selection stay (no drag): the
        notes of all tracks are joined once per song and active track, and a change of
        selection only changes the values of the notes it selects."""
        if self.drag is not None and self.drag.started:
            return self.display_arrays()
        doc = self.document
        cached = self._display
        if cached is not None and cached[0] is doc.song and cached[1] == doc.active_track and cached[2] == doc.selection:
            return cached[3]
        if cached is None or cached[0] is not doc.song or cached[1] != doc.active_track:
            kept = self._bases.get(doc.active_track)
            if kept is not None and kept[0] is doc.song:  # the track switched back in the same song
                base = kept[1]
            else:
                base = self.display_arrays(selected=False)
                _keep(self._bases, doc.active_track, (doc.song, base))
        else:
            base = cached[4]
        pitch, start, end, plain = base
        value = plain
        if doc.selection:
            value = plain.copy()
            value[len(plain) - len(self.track.notes) + np.fromiter(doc.selection, np.int64)] += palette.SELECTED - palette.PLAIN
        display = (pitch, start, end, value)
        self._display = (doc.song, doc.active_track, doc.selection, display, base)
        return display

    def _colour_table(self) -> np.ndarray:
        """Every note value over every background colour (see colour_table), kept per palette."""
        fill, border = self._lookup_tables()
        pal = self.palette()
        key = (self._luts_for, pal.color(QPalette.ColorRole.Base).rgb(), pal.color(QPalette.ColorRole.Text).rgb())
        if self._table is None or self._table[0] != key:
            if key not in self._tables:
                self._remember(key, colour_table(self._background_colours(), fill, border))
            self._table = (key, self._tables[key])
        return self._table[1]

    def _background_colours(self) -> np.ndarray:
        """(KINDS * LEVELS, 4) BGRA: each row kind's colour, or over it each grid level's line."""
        pal = self.palette()
        base, text = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)
        tonic = QColor(base)
        tonic.setHsv(210, 28, max(0, base.value() - 8))
        kinds = (base, base.darker(112), base.darker(106), tonic, mix(text, base, 0.12))
        lines = [mix(text, base, amount) for amount in GRID_AMOUNTS]
        colours = []
        for kind, colour in enumerate(kinds):
            for level in range(LEVELS):
                c = colour if level == 0 or kind == OCTAVE else lines[level - 1]  # octave lines lie on top
                colours.append((c.blue(), c.green(), c.red(), 255))
        return np.array(colours, dtype=np.uint8)

    def _row_kinds(self, view: RasterView) -> np.ndarray:
        """The background kind of each pixel row: its pitch's (black key, out of scale, tonic), or
        an octave line under each C. Kept while the rows and the key stay."""
        cache_key = (view.top, view.key_height, view.height, self.document.song.key, self.state.scale_highlight)
        if self._kinds is None or self._kinds[0] != cache_key:
            self._kinds = (cache_key, self._compute_row_kinds(view))
        return self._kinds[1]

    def _compute_row_kinds(self, view: RasterView) -> np.ndarray:
        key = self.document.song.key
        in_scale = pitch_classes_of_key(key.key) if (key is not None and self.state.scale_highlight) else None
        by_class = np.zeros(12, dtype=np.int64)
        for pc in range(12):
            if in_scale is not None:
                if pc not in in_scale:
                    by_class[pc] = 1 if pc in BLACK_KEYS else 2
                elif pc == in_scale[0]:
                    by_class[pc] = 3
            elif pc in BLACK_KEYS:
                by_class[pc] = 1
        row_pitch = view.row_pitch()
        kinds = by_class[row_pitch % 12]
        if view.key_height >= 3:
            lo, hi = max(0, int(row_pitch.min())), min(127, int(row_pitch.max()))
            cs = np.arange(lo - lo % 12, hi + 1, 12)
            ys = np.floor((view.top - cs) * view.key_height).astype(np.int64)  # the bottom edge of each C
            ys = ys[(ys >= 0) & (ys < view.height)]
            kinds[ys] = OCTAVE
        return kinds

    def _levels_key(self, view: RasterView) -> tuple:
        song = self.document.song
        return (view.left_tick, view.ticks_per_px, view.width, self.state.snap_choice, song.ppq, song.time_signatures)

    def _column_levels(self, view: RasterView) -> np.ndarray:
        """_compute_column_levels, kept (the same array) while the time axis, the snap and the
        metre stay."""
        key = self._levels_key(view)
        if self._levels is None or self._levels[0] != key:
            self._levels = (key, self._compute_column_levels(view))
        return self._levels[1]

    def _compute_column_levels(self, view: RasterView) -> np.ndarray:
        """The grid level of each pixel column: fine lines at the snap grid (or the adaptive one
        when snap is off), beats, bars; lines closer than a few pixels are left out."""
        song = self.document.song
        meter = song.meter
        tpp = view.ticks_per_px
        t0, t1 = view.left_tick, view.left_tick + view.width * tpp
        levels = np.zeros(view.width + 1, dtype=np.int64)

        def mark(ticks, level: int) -> None:
            xs = view.column(ticks)
            levels[xs[(xs >= 0) & (xs < view.width)]] = level

        choice = self.state.snap_choice
        division = adaptive_division(song.ppq, tpp, 8) if choice in ("adaptive", "off") else choice
        step = float(division_ticks(division, song.ppq))
        if step / tpp >= 5:
            mark(np.arange(int(t0 // step), int(t1 // step) + 2) * step, 1)
        beat = meter.ticks_per_beat()
        if beat / tpp >= 5:
            mark(np.arange(int(t0 // beat), int(t1 // beat) + 2) * beat, 2)
        bars = np.array([t for t in meter.bar_starts(int(t1) + 1) if t >= t0 - 1], dtype=np.float64)
        if len(bars):
            keep = np.r_[True, np.diff(bars) >= 4 * tpp]  # bars closer than 4 px: drawn thinned
            mark(bars[keep], 3)
        return levels[: view.width]

    def add_layer(self, layer) -> None:
        """Paint `layer` (an overlays.OverlayLayer) over the notes from now on."""
        self.layers.append(layer)
        layer.changed.connect(self.update)

    def _paint_overlays(self, p: QPainter) -> None:
        vp = self.viewport
        for layer in self.layers:
            layer.paint(p, vp, self.width(), self.height())
        loop = self.state.loop
        if loop is not None:
            x0, x1 = vp.tick_to_x(loop[0]), vp.tick_to_x(loop[1])
            p.fillRect(QRectF(x0, 0, x1 - x0, self.height()), QColor(80, 160, 255, 28))
        x = vp.tick_to_x(self.state.playhead)
        if 0 <= x <= self.width():
            p.setPen(QPen(QColor("#e0403a"), 2))
            p.drawLine(QLineF(x, 0, x, self.height()))
        d = self.drag
        self._rubber_shown = d is not None and d.kind == "rubber" and d.started and self.mouse_pos is not None
        if self._rubber_shown:
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

