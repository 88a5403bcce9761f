"""The velocity lane under the roll: one stem per note at its start, as tall as its velocity.
Drag a stem to set that note's velocity; drag across empty space to draw a ramp over the
selected notes (or every note in reach when none is selected). One undo step each."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from desktop_app.music import edits
from desktop_app.ui.colours import track_colour
from desktop_app.ui.document import Document
from desktop_app.ui.piano_roll.note_area import commit_track_edit, plural
from desktop_app.ui.piano_roll.palette import selection_colour
from desktop_app.ui.piano_roll.viewport import RollViewport

LANE_HEIGHT = 64
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
        document.songChanged.connect(self.update)
        document.selectionChanged.connect(self.update)
        viewport.changed.connect(self.update)

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

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#f7f7f7"))
        p.setPen(QColor("#dddddd"))
        for v in (32, 64, 96, 127):
            p.drawLine(QLineF(0, self.y_of(v), self.width(), self.y_of(v)))
        song = self.document.song
        if song.tracks:
            track = song.tracks[self.document.active_track]
            colour = track_colour(track, self.document.active_track)
            idx, xs = self._visible()
            velocity = track.note_array[idx, 3].copy()
            for k, i in enumerate(idx.tolist()) if self._preview else ():
                velocity[k] = self._preview.get(i, velocity[k])
            selected = np.isin(idx, list(self.document.selection)) if self.document.selection else np.zeros(len(idx), bool)
            # One stem per pixel column at most: the loudest note that starts there.
            cols = np.clip(np.round(xs).astype(np.int64), 0, max(0, self.width() - 1))
            for mask, c in ((~selected, colour.darker(120)), (selected, selection_colour(colour))):
                if not mask.any():
                    continue
                tallest = np.zeros(self.width(), dtype=np.int64)
                np.maximum.at(tallest, cols[mask], velocity[mask])
                top = self.y_of(tallest)
                bottom = self.height() - 3
                lines = [QLineF(x, bottom, x, top[x]) for x in np.flatnonzero(tallest).tolist()]
                p.setPen(QPen(c, 2))
                p.drawLines(lines)
                if len(lines) <= 400:
                    for line in lines:
                        p.fillRect(QRectF(line.x1() - 2, line.y2() - 2, 5, 4), c.darker(115))
        if self._ramp is not None:
            p.setPen(QPen(QColor("#333333"), 1, Qt.PenStyle.DashLine))
            p.drawLine(QLineF(*self._ramp))
        p.setPen(QColor("#9a9a9a"))
        p.drawLine(0, 0, self.width(), 0)
        p.end()

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
