"""The piano keyboard at the left of the roll: one key per row, names on the C keys.
Pressing a key sounds it (through the signals) while held; its menu selects all its notes."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QContextMenuEvent, QMouseEvent, QPainter, QPaintEvent, QWheelEvent
from PySide6.QtWidgets import QMenu, QWidget

from desktop_app.music.gm import pitch_name
from desktop_app.ui.piano_roll.viewport import RollViewport

BLACK = {1, 3, 6, 8, 10}
KEYBOARD_WIDTH = 58


class PianoKeyboard(QWidget):
    keyPressed = Signal(int)
    keyReleased = Signal(int)
    selectPitchRequested = Signal(int)

    def __init__(self, viewport: RollViewport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewport = viewport
        self.held: int | None = None
        self.setFixedWidth(KEYBOARD_WIDTH)
        self.setToolTip("Click a key to hear it; right-click to select every note of that pitch")
        viewport.changed.connect(self.update)

    def pitch_at(self, pos: QPointF) -> int | None:
        pitch = self.viewport.y_to_pitch(pos.y())
        return pitch if 0 <= pitch <= 127 else None

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        vp = self.viewport
        p.fillRect(self.rect(), QColor("#f4f4f4"))
        lo, hi = vp.visible_pitches
        kh = vp.key_height
        font = p.font()
        font.setPixelSize(max(7, min(11, int(kh) - 1)))
        p.setFont(font)
        for pitch in range(lo, hi + 1):
            y = vp.pitch_to_y(pitch)
            rect = QRectF(0, y, self.width(), kh)
            if pitch == self.held:
                p.fillRect(rect, QColor("#ffb347"))
            elif pitch % 12 in BLACK:
                p.fillRect(QRectF(0, y, self.width() * 0.62, kh), QColor("#2b2b2b"))
            p.setPen(QColor("#c8c8c8"))
            p.drawLine(QPointF(0, y + kh), QPointF(self.width(), y + kh))
            if pitch % 12 == 0 and kh >= 7:
                p.setPen(QColor("#404040"))
                p.drawText(rect.adjusted(0, 0, -4, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                           pitch_name(pitch))
        p.setPen(QColor("#9a9a9a"))
        p.drawLine(self.width() - 1, 0, self.width() - 1, self.height())
        p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._hold(self.pitch_at(event.position()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.held is not None:
            pitch = self.pitch_at(event.position())
            if pitch != self.held:
                self._hold(pitch)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._hold(None)

    def _hold(self, pitch: int | None) -> None:
        if self.held is not None:
            self.keyReleased.emit(self.held)
        self.held = pitch
        if pitch is not None:
            self.keyPressed.emit(pitch)
        self.update()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        pitch = self.pitch_at(QPointF(event.pos()))
        if pitch is None:
            return
        menu = QMenu(self)
        menu.addAction(f"Select All {pitch_name(pitch)} Notes", lambda: self.selectPitchRequested.emit(pitch))
        menu.exec(event.globalPos())

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.viewport.zoom_pitch(1.15 ** steps, event.position().y())
        else:
            self.viewport.scroll_pitch(steps * 3)
