"""The time ruler above the roll: bars and beats, the playhead, and the loop region.
A click moves the playhead; a drag draws the loop; a double-click on the loop clears it."""

from __future__ import annotations

import bisect
import math

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QWheelEvent
from PySide6.QtWidgets import QWidget

from desktop_app.music.snap import Snap
from desktop_app.ui.document import Document
from desktop_app.ui.piano_roll.state import RollState
from desktop_app.ui.piano_roll.viewport import RollViewport, repaint_playhead_strips

RULER_HEIGHT = 26
SLACK_PX = 1e-6  # a position this close under a pixel edge counts as on it (floating-point error)


class Ruler(QWidget):
    def __init__(self, document: Document, viewport: RollViewport, state: RollState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.viewport = viewport
        self.state = state
        self._press: QPointF | None = None
        self._press_tick = 0
        self._cache: tuple[tuple, QImage] | None = None  # (what it shows, bars and loop drawn)
        self._playhead_tick: int | None = state.playhead  # where the line was last drawn
        self.setFixedHeight(RULER_HEIGHT)
        self.setToolTip("Click to move the playhead; drag to set the loop region; double-click the loop to clear it")
        viewport.changed.connect(self._viewport_changed)
        state.changed.connect(self.update)
        state.playheadMoved.connect(self._playhead_moved)
        document.songChanged.connect(self._song_changed)

    def _song_changed(self) -> None:
        """Repaint only when the metre changed: an edit of the notes leaves the ruler alone."""
        song = self.document.song
        if self._cache is None or self._cache[0][4:6] != (song.ppq, song.time_signatures):
            self.update()

    def _viewport_changed(self) -> None:
        """Repaint only when the time axis moved: scrolling or zooming pitch leaves the ruler alone."""
        vp = self.viewport
        if self._cache is None or self._cache[0][:2] != (vp.left_tick, vp.ticks_per_px):
            self.update()

    def _playhead_moved(self, tick: int) -> None:
        repaint_playhead_strips(self, self.viewport, self._playhead_tick, tick)
        self._playhead_tick = tick

    def _snapped(self, x: float) -> int:
        snap = Snap.resolve(self.state.snap_choice, self.document.song.ppq, self.viewport.ticks_per_px)
        return max(0, snap.round(self.viewport.x_to_tick(x)))

    def paintEvent(self, event: QPaintEvent) -> None:
        """Bars and loop from a cached image (redrawn only when the time axis, the song or the
        loop change; after a time scroll by whole pixels only the columns that came into view),
        the playhead over it: the playhead moves 60 times a second."""
        vp = self.viewport
        song = self.document.song  # only its metre shows: an edit of the notes leaves the ruler alone
        key = (vp.left_tick, vp.ticks_per_px, self.width(), self.height(), song.ppq, song.time_signatures, self.state.loop)
        cached = self._cache
        if cached is None or cached[0] != key:
            shift = (vp.left_tick - cached[0][0]) / vp.ticks_per_px if cached is not None else 0.0
            if (cached is not None and cached[0][1:] == key[1:] and abs(shift - round(shift)) <= 1e-6
                    and 0 < abs(round(shift)) < self.width() // 2):
                self._cache = (key, self._scrolled(cached[1], round(shift)))
            else:
                self._cache = (key, self._render())
        p = QPainter(self)
        p.drawImage(event.rect(), self._cache[1], event.rect())
        x = vp.tick_to_x(self.state.playhead)
        p.setPen(QPen(QColor("#e0403a"), 2))
        p.drawLine(QLineF(x, 0, x, self.height()))
        p.end()

    def _column(self, tick: float) -> int:
        """The pixel column of a line at `tick` (Qt floors a line's position), with a hair of
        slack, so that a view scrolled by whole pixels puts it in the same column."""
        return math.floor(self.viewport.tick_to_x(tick) + SLACK_PX)

    def _scrolled(self, image: QImage, shift: int) -> QImage:
        """`image` moved `shift` pixels left (right when negative) as the view scrolled, with only
        the columns that came into view drawn (the same pixels as a whole new render)."""
        w, h = self.width(), self.height()
        pixels = np.frombuffer(image.bits(), dtype=np.uint32).reshape(image.height(), image.bytesPerLine() // 4)
        if shift > 0:
            pixels[:, : w - shift] = pixels[:, shift:w].copy()
            return self._render(image, QRect(w - shift, 0, shift, h))
        pixels[:, -shift:w] = pixels[:, : w + shift].copy()
        return self._render(image, QRect(0, 0, -shift, h))

    def _render(self, image: QImage | None = None, clip: QRect | None = None) -> QImage:
        """Bars, beats and loop into a new image, or into `image` inside `clip` only."""
        image = image if image is not None else QImage(self.size(), QImage.Format.Format_RGB32)
        p = QPainter(image)
        if clip is not None:
            p.setClipRect(clip)
        lowest, highest = (-60, self.width()) if clip is None else (clip.left() - 60, clip.right() + 1)  # bars that show
        p.fillRect(self.rect(), QColor("#e9e9e9"))
        vp = self.viewport
        meter = self.document.song.meter
        t1 = vp.right_tick
        loop = self.state.loop
        if loop is not None:  # (a rectangle's edges round to the nearest pixel)
            x0, x1 = (math.floor(vp.tick_to_x(t) + 0.5 + SLACK_PX) for t in loop)
            p.fillRect(QRectF(x0, 0, x1 - x0, self.height()), QColor(80, 160, 255, 90))
        bar_px = meter.ticks_per_bar() / vp.ticks_per_px
        beat_px = meter.ticks_per_beat() / vp.ticks_per_px
        label_every = max(1, int(44 // max(bar_px, 1e-9)) + (1 if bar_px < 44 else 0))
        p.setPen(QColor("#333333"))
        bars = meter.bar_starts(int(t1) + 1)
        reach = bar_px if beat_px >= 30 else 0  # how far right of its start a bar draws, besides its label
        first = max(0, bisect.bisect_left(bars, vp.x_to_tick(lowest - reach)) - 1)  # the bars further left cannot show
        ticks_lines = []
        for n, tick in enumerate(bars[first:], first):
            x = self._column(tick)
            if x > highest:
                break
            labelled = n % label_every == 0
            # A bar further left than a label's width, and a bar's when its beats show, cannot
            # reach in (so the beats of a bar that starts off the left edge show too).
            if x < lowest - reach or not (labelled or beat_px >= 30):
                continue
            number = meter.bar_beat(tick).bar  # as the score prints it: a pickup is bar 0
            if labelled:
                ticks_lines.append(QLineF(x, 8, x, self.height()))
                p.drawText(QPointF(vp.tick_to_x(tick) + 3, 13), str(number))  # text keeps its sub-pixel place
            if beat_px >= 30:
                for beat_tick in meter.beat_starts(tick):
                    if beat_tick == tick:
                        continue
                    bx = self._column(beat_tick)
                    ticks_lines.append(QLineF(bx, self.height() - 6, bx, self.height()))
                    if beat_px >= 60:
                        p.drawText(QPointF(vp.tick_to_x(beat_tick) + 2, self.height() - 8),
                                   f"{number}.{meter.bar_beat(beat_tick).beat}")
        p.drawLines(ticks_lines)
        p.setPen(QColor("#9a9a9a"))
        p.drawLine(0, self.height() - 1, self.width(), self.height() - 1)
        p.end()
        return image

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position()
            self._press_tick = self._snapped(event.position().x())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is not None and abs(event.position().x() - self._press.x()) >= 3:
            self.state.set_loop((self._press_tick, self._snapped(event.position().x())))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press is not None and abs(event.position().x() - self._press.x()) < 3:
            self.state.set_playhead(self._press_tick)
        self._press = None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        loop = self.state.loop
        tick = self.viewport.x_to_tick(event.position().x())
        if loop is not None and loop[0] <= tick <= loop[1]:
            self.state.set_loop(None)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        self.viewport.zoom_time(1.15 ** steps, event.position().x())
