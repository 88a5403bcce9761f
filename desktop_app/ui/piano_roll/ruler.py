"""The time ruler above the roll: bars and beats, the playhead, and the loop region.
A click moves the playhead; a drag draws the loop; a double-click on the loop clears it."""

from __future__ import annotations

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QWheelEvent
from PySide6.QtWidgets import QWidget

from desktop_app.music.snap import Snap
from desktop_app.ui.document import Document
from desktop_app.ui.piano_roll.state import RollState
from desktop_app.ui.piano_roll.viewport import RollViewport, repaint_playhead_strips

RULER_HEIGHT = 26


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
        viewport.changed.connect(self.update)
        state.changed.connect(self.update)
        state.playheadMoved.connect(self._playhead_moved)
        document.songChanged.connect(self.update)

    def _playhead_moved(self, tick: int) -> None:
        repaint_playhead_strips(self, self.viewport, self._playhead_tick, tick)
        self._playhead_tick = tick

    def _snapped(self, x: float) -> int:
        snap = Snap.resolve(self.state.snap_choice, self.document.song.ppq, self.viewport.ticks_per_px)
        return max(0, snap.round(self.viewport.x_to_tick(x)))

    def paintEvent(self, event: QPaintEvent) -> None:
        """Bars and loop from a cached image (redrawn only when the time axis, the song or the
        loop change), the playhead over it: the playhead moves 60 times a second."""
        vp = self.viewport
        song = self.document.song  # only its metre shows: an edit of the notes leaves the ruler alone
        key = (vp.left_tick, vp.ticks_per_px, self.width(), self.height(), song.ppq, song.time_signatures, self.state.loop)
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, self._render())
        p = QPainter(self)
        p.drawImage(event.rect(), self._cache[1], event.rect())
        x = vp.tick_to_x(self.state.playhead)
        p.setPen(QPen(QColor("#e0403a"), 2))
        p.drawLine(QLineF(x, 0, x, self.height()))
        p.end()

    def _render(self) -> QImage:
        image = QImage(self.size(), QImage.Format.Format_RGB32)
        p = QPainter(image)
        p.fillRect(self.rect(), QColor("#e9e9e9"))
        vp = self.viewport
        meter = self.document.song.meter
        t1 = vp.right_tick
        loop = self.state.loop
        if loop is not None:
            x0, x1 = vp.tick_to_x(loop[0]), vp.tick_to_x(loop[1])
            p.fillRect(QRectF(x0, 0, x1 - x0, self.height()), QColor(80, 160, 255, 90))
        bar_px = meter.ticks_per_bar() / vp.ticks_per_px
        beat_px = meter.ticks_per_beat() / vp.ticks_per_px
        label_every = max(1, int(44 // max(bar_px, 1e-9)) + (1 if bar_px < 44 else 0))
        p.setPen(QColor("#333333"))
        bars = meter.bar_starts(int(t1) + 1)
        ticks_lines = []
        for n, tick in enumerate(bars):
            x = vp.tick_to_x(tick)
            labelled = n % label_every == 0
            if x < -60 or not (labelled or beat_px >= 30):
                continue
            number = meter.bar_beat(tick).bar  # as the score prints it: a pickup is bar 0
            if labelled:
                ticks_lines.append(QLineF(x, 8, x, self.height()))
                p.drawText(QPointF(x + 3, 13), str(number))
            if beat_px >= 30:
                for beat_tick in meter.beat_starts(tick):
                    if beat_tick == tick:
                        continue
                    bx = vp.tick_to_x(beat_tick)
                    ticks_lines.append(QLineF(bx, self.height() - 6, bx, self.height()))
                    if beat_px >= 60:
                        p.drawText(QPointF(bx + 2, self.height() - 8), f"{number}.{meter.bar_beat(beat_tick).beat}")
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
