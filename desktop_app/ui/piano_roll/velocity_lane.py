"""The velocity lane under the roll: one stem per note at its start, as tall as its velocity.
Drag a stem to set that note's velocity; drag across empty space to draw a ramp over the
selected notes (or every note in reach when none is selected). One undo step each."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRect, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QRegion
from PySide6.QtWidgets import QWidget

from desktop_app.music import edits
from desktop_app.ui.colours import track_colour
from desktop_app.ui.document import Document
from desktop_app.ui.piano_roll.note_area import commit_track_edit, plural
from desktop_app.ui.piano_roll.palette import selection_colour
from desktop_app.ui.piano_roll.viewport import RollViewport

LANE_HEIGHT = 64
HEADS_UP_TO = 400  # stems get a head while there are at most this many on screen
REACH = 2  # a stem's pixels (its head's) reach this many columns either side of its own
DIRTY_RUNS = 4  # a change repaints at most this many runs of columns, else their bounding box


def loudest_per_column(cols: np.ndarray, velocity: np.ndarray, width: int) -> np.ndarray:
    """The highest velocity starting in each of `width` columns (0 where none starts)."""
    tallest = np.zeros(width, dtype=np.int64)
    np.maximum.at(tallest, cols, velocity)  # unbuffered: a column's notes all count (a sort costs 100 times more)
    return tallest


def _stamp(pixels: np.ndarray, columns: np.ndarray, top: np.ndarray, height: np.ndarray, shifts: tuple[int, ...],
           value: int, only: np.ndarray | None = None) -> None:
    """Paint `value` in rows top..top+height of each of `columns`, and of the columns `shifts`
    away (only in the columns where `only` is True, when given): whole-width masks when most
    columns have one, else only the columns touched."""
    h, w = pixels.shape
    if 3 * len(columns) > w:
        rows = np.arange(h)[:, None]
        first = np.full(w, h)  # no column: an empty run below the lane
        last = np.full(w, h)
        first[columns], last[columns] = top, top + height
        run = (rows >= first) & (rows < last)
        wide = run.copy()
        for shift in shifts:
            if shift < 0:
                wide[:, :shift] |= run[:, -shift:]
            elif shift > 0:
                wide[:, shift:] |= run[:, :-shift]
        if only is not None:
            wide &= only
        np.copyto(pixels, np.uint32(value), where=wide)  # a 2-D boolean index is ten times slower
        return
    # Few columns: the flat index of every pixel of every run, and one assignment.
    # (np.clip and np.tile cost more in their Python wrappers than in their work here)
    xs = np.minimum(np.maximum(columns[None, :] + np.array(shifts)[:, None], 0), w - 1).ravel()
    first = np.minimum(np.maximum(top, 0), h)
    heights = np.maximum(np.minimum(top + height, h) - first, 0)
    first, heights = np.concatenate([first] * len(shifts)), np.concatenate([heights] * len(shifts))
    if only is not None:
        keep = only[xs]
        xs, first, heights = xs[keep], first[keep], heights[keep]
    total = int(heights.sum())
    starts = np.cumsum(heights) - heights
    index = np.repeat(first * w + xs, heights) + w * (np.arange(total) - np.repeat(starts, heights))
    pixels.reshape(-1)[index] = value


def _widen(columns: np.ndarray, reach: int) -> np.ndarray:
    """`columns` (bool) with each True spread `reach` columns either side."""
    return np.convolve(columns, np.ones(2 * reach + 1, dtype=bool), mode="same")


def _rgb(colour: QColor) -> int:
    """An opaque colour as one 32-bit BGRA pixel value (QImage's RGB32 on little-endian)."""
    return 0xFF000000 | (colour.red() << 16) | (colour.green() << 8) | colour.blue()
STEM_REACH_PX = 4


class VelocityLane(QWidget):
    def __init__(self, document: Document, viewport: RollViewport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.viewport = viewport
        self.setFixedHeight(LANE_HEIGHT)
        self.setToolTip("Velocity: drag a stem to set a note's loudness; drag across stems to draw a ramp "
                        "over the selected notes")
        self._stem: int | None = None
        self._ramp: tuple[QPointF, QPointF] | None = None
        self._preview: dict[int, int] = {}
        self._cache: tuple[tuple, np.ndarray, QImage, tuple] | None = None  # (what it shows, pixels, image, stems)
        self._background: np.ndarray | None = None  # the empty lane with its guide lines
        document.songChanged.connect(self._notes_changed)
        document.selectionChanged.connect(self._notes_changed)
        viewport.changed.connect(self._viewport_changed)

    def velocity_at(self, y: float) -> int:
        usable = self.height() - 6
        return int(round(max(1, min(127, (self.height() - 3 - y) / usable * 127))))

    def y_of(self, velocity: float) -> float:
        return self.height() - 3 - velocity / 127 * (self.height() - 6)

    def _visible(self) -> tuple[np.ndarray, np.ndarray]:
        """Indices and x positions of the active track's notes whose starts are on screen."""
        song = self.document.song
        if not song.tracks:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        arr = song.tracks[self.document.active_track].note_array
        xs = (arr[:, 1] - self.viewport.left_tick) / self.viewport.ticks_per_px
        idx = np.flatnonzero((xs >= -2) & (xs <= self.width() + 2))
        return idx, xs[idx]

    def _viewport_changed(self) -> None:
        """Repaint only when the time axis moved: scrolling or zooming pitch leaves the stems alone."""
        vp = self.viewport
        if self._cache is None or self._cache[0][:2] != (vp.left_tick, vp.ticks_per_px):
            self.update()

    def _notes_changed(self) -> None:
        """The notes or the selection changed: the image is brought up to date now and only the
        columns whose stems changed are repainted."""
        if self._cache is None or not self.isVisible():
            self.update()
            return
        region = self._update_image()
        if region is None:
            self.update()
        elif not region.isEmpty():
            self.update(region)

    def _update_image(self) -> QRegion | None:
        """Bring the cached image up to date: the columns whose stems changed when only the
        notes, the selection or a preview changed and the stems are too many for heads
        (returns their region, empty when none), else all of it (returns None)."""
        vp, doc = self.viewport, self.document
        key = (vp.left_tick, vp.ticks_per_px, self.width(), self.height(), doc.song, doc.active_track,
               doc.selection, tuple(sorted(self._preview.items())))
        cached = self._cache
        if cached is not None and cached[0] == key:
            return QRegion()
        kept = cached[1] if cached is not None and cached[1].shape == (self.height(), self.width()) else None
        stems = self._stems()
        dense = not all(layer[3] for layer in stems)  # (a sparse lane is drawn whole for less than the bookkeeping)
        if kept is not None and dense and cached[0][:4] == key[:4] and self._same_look(cached[3], stems):
            columns = self._repaint_columns(kept, cached[3], stems)
            self._cache = (key, kept, cached[2], stems)
            return self._columns_region(columns)
        pixels = self.render_pixels(out=kept, stems=stems)  # the same memory while the size stays: no page faults
        image = cached[2] if kept is not None else QImage(
            pixels.data, pixels.shape[1], pixels.shape[0], pixels.shape[1] * 4, QImage.Format.Format_RGB32)
        self._cache = (key, pixels, image, stems)
        return None

    @staticmethod
    def _same_look(old: tuple, new: tuple) -> bool:
        """Whether two sets of stems differ only in where stems stand (same colours, heads or not)."""
        return all(a[1:] == b[1:] for a, b in zip(old, new))

    def _repaint_columns(self, pixels: np.ndarray, old: tuple, new: tuple) -> np.ndarray:
        """Draw again in `pixels` the columns the stems that changed reach; returns them (bool)."""
        changed = np.zeros(pixels.shape[1], dtype=bool)
        for a, b in zip(old, new):
            changed |= a[0] != b[0]
        if not changed.any():
            return changed
        columns = _widen(changed, REACH)
        np.copyto(pixels, self._background, where=columns)
        self._paint_stems(pixels, new, only=columns, near=_widen(changed, 2 * REACH))
        pixels[0, columns] = _rgb(QColor("#9a9a9a"))
        return columns

    def _columns_region(self, columns: np.ndarray) -> QRegion:
        """The runs of True in `columns` as rectangles the lane's height (their bounding box
        past DIRTY_RUNS runs)."""
        edges = np.flatnonzero(np.diff(np.concatenate(([False], columns, [False])).astype(np.int8)))
        starts, ends = edges[::2].tolist(), edges[1::2].tolist()
        region = QRegion()
        if len(starts) > DIRTY_RUNS:
            return QRegion(starts[0], 0, ends[-1] - starts[0], self.height())
        for a, z in zip(starts, ends):
            region += QRect(a, 0, z - a, self.height())
        return region

    def paintEvent(self, event: QPaintEvent) -> None:
        """The stems from a cached image, redrawn only when the time axis, the notes, the
        selection or a drag's preview change (only the columns whose stems changed when the
        time axis stayed); a ramp being drawn goes over it."""
        self._update_image()
        p = QPainter(self)
        for rect in event.region():
            p.drawImage(rect, self._cache[2], rect)
        if self._ramp is not None:
            p.setPen(QPen(QColor("#333333"), 1, Qt.PenStyle.DashLine))
            p.drawLine(QLineF(*self._ramp))
        p.end()

    def render_pixels(self, out: np.ndarray | None = None, stems: tuple | None = None) -> np.ndarray:
        """The lane as (height, width) BGRA pixels (into `out`), from scratch: guide lines at
        velocities 32, 64, 96 and 127, one stem per pixel column (the loudest note starting
        there, selected notes over the others), with a head on each stem while there are few."""
        h, w = self.height(), self.width()
        if self._background is None or self._background.shape != (h, w):
            self._background = np.full((h, w), _rgb(QColor("#f7f7f7")), dtype=np.uint32)
            for v in (32, 64, 96, 127):
                self._background[min(h - 1, int(self.y_of(v)))] = _rgb(QColor("#dddddd"))
        pixels = self._background.copy() if out is None else out
        if out is not None:
            np.copyto(pixels, self._background)
        self._paint_stems(pixels, self._stems() if stems is None else stems)
        pixels[0] = _rgb(QColor("#9a9a9a"))
        return pixels

    def _stems(self) -> tuple:
        """What the lane's stems are, unselected notes' then selected ones': per pixel column the
        loudest velocity starting there (0: none), the stem's and its head's pixel values, and
        whether stems get heads."""
        song, w = self.document.song, self.width()
        if not song.tracks or w <= 2:
            return ()
        track = song.tracks[self.document.active_track]
        colour = track_colour(track, self.document.active_track)
        idx, xs = self._visible()
        velocity = track.note_array[idx, 3].copy()
        for k, i in enumerate(idx.tolist()) if self._preview else ():
            velocity[k] = self._preview.get(i, velocity[k])
        chosen = np.zeros(len(track.notes), dtype=bool)
        chosen[list(self.document.selection)] = True
        selected = chosen[idx]
        cols = np.minimum(np.maximum(np.round(xs).astype(np.int64), 0), w - 1)
        stems = []
        for mask, c in ((~selected, colour.darker(120)), (selected, selection_colour(colour))):
            tallest = loudest_per_column(cols[mask], velocity[mask], w)
            heads = int(np.count_nonzero(tallest)) <= HEADS_UP_TO
            stems.append((tallest, _rgb(c), _rgb(c.darker(115)), heads))
        return tuple(stems)

    def _paint_stems(self, pixels: np.ndarray, stems: tuple, only: np.ndarray | None = None,
                     near: np.ndarray | None = None) -> None:
        """Stamp `stems` (see _stems) into `pixels`; when given, only in the columns `only` marks,
        from the stems in the columns `near` marks (those that reach into them)."""
        bottom = pixels.shape[0] - 3
        for tallest, stem, head, heads in stems:
            at = np.flatnonzero(tallest if near is None else tallest * near)
            if not len(at):
                continue
            top = np.round(self.y_of(tallest[at])).astype(np.int64)
            _stamp(pixels, at, top, bottom + 1 - top, (-1, 0), stem, only)  # 2 px wide, like a 2 px pen
            if heads:
                _stamp(pixels, at, top - 2, np.full(len(at), 4), (-2, -1, 0, 1, 2), head, only)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.document.song.tracks:
            return
        pos = event.position()
        idx, xs = self._visible()
        near = np.flatnonzero(np.abs(xs - pos.x()) <= STEM_REACH_PX) if len(xs) else []
        if len(near):
            selected = [int(idx[k]) for k in near if int(idx[k]) in self.document.selection]
            self._stem = selected[0] if selected else int(idx[near[0]])
            self._preview = {self._stem: self.velocity_at(pos.y())}
        else:
            self._ramp = (pos, pos)
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._stem is not None:
            self._preview = {self._stem: self.velocity_at(pos.y())}
        elif self._ramp is not None:
            self._ramp = (self._ramp[0], pos)
            self._preview = self._ramp_values()
        self.update()

    def _ramp_values(self) -> dict[int, int]:
        a, b = self._ramp
        x0, x1 = sorted((a.x(), b.x()))
        idx, xs = self._visible()
        selection = self.document.selection
        values = {}
        for i, x in zip(idx.tolist(), xs.tolist()):
            if x0 <= x <= x1 and (not selection or i in selection):
                t = 0.0 if b.x() == a.x() else (x - a.x()) / (b.x() - a.x())
                values[i] = self.velocity_at(a.y() + t * (b.y() - a.y()))
        return values

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        values, self._preview = self._preview, {}
        self._stem, self._ramp = None, None
        doc = self.document
        if values and doc.song.tracks:
            track = doc.song.tracks[doc.active_track]
            changed = {i: v for i, v in values.items() if track.notes[i].velocity != v}
            if changed:
                n = len(changed)
                commit_track_edit(doc, f"Set velocity of {plural(n, 'note')}", edits.set_velocities(track, changed))
        self.update()
