"""The piano keyboard at the left of the roll: one key per row, names on the C keys.
Pressing a key sounds it (through the signals) while held; its menu selects all its notes."""

from __future__ import annotations

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QContextMenuEvent, QImage, QMouseEvent, QPainter, QPaintEvent, QWheelEvent
from PySide6.QtWidgets import QMenu, QWidget

from desktop_app.music.gm import pitch_name
from desktop_app.ui.piano_roll.viewport import RollViewport

BLACK = {1, 3, 6, 8, 10}
KEYBOARD_WIDTH = 58
ALL_NAMES_ROW_PX = 11  # rows at least this tall name every key; shorter ones name only the Cs


class PianoKeyboard(QWidget):
    keyPressed = Signal(int)
    keyReleased = Signal(int)
    selectPitchRequested = Signal(int)

    def __init__(self, viewport: RollViewport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewport = viewport
        self.held: int | None = None
        self._cache: tuple[tuple, QImage] | None = None  # (what it shows, the keys drawn)
        self.setFixedWidth(KEYBOARD_WIDTH)
        self.setToolTip("Click a key to hear it; right-click to select every note of that pitch")
        viewport.changed.connect(self._viewport_changed)

    def _viewport_changed(self) -> None:
        """Repaint only when the rows moved: scrolling or zooming time leaves the keys alone."""
        vp = self.viewport
        if self._cache is None or self._cache[0][:2] != (vp.top, vp.key_height):
            self.update()

    def pitch_at(self, pos: QPointF) -> int | None:
        pitch = self.viewport.y_to_pitch(pos.y())
        return pitch if 0 <= pitch <= 127 else None

    def labelled_pitches(self) -> list[int]:
        """The visible keys that carry their note name at the current row height."""
        lo, hi = self.viewport.visible_pitches
        kh = self.viewport.key_height
        return [p for p in range(lo, hi + 1) if (p % 12 == 0 and kh >= 7) or kh >= ALL_NAMES_ROW_PX]

    def paintEvent(self, event: QPaintEvent) -> None:
        """Draw from a cached image: the keys change only when rows scroll or zoom, or a key is held."""
        vp = self.viewport
        key = (vp.top, vp.key_height, self.width(), self.height(), self.held)
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, self._render())
        p = QPainter(self)
        p.drawImage(event.rect(), self._cache[1], event.rect())
        p.end()

    def _render(self) -> QImage:
        image = QImage(self.size(), QImage.Format.Format_RGB32)
        p = QPainter(image)
        vp = self.viewport
        p.fillRect(self.rect(), QColor("#f4f4f4"))
        lo, hi = vp.visible_pitches
        kh = vp.key_height
        font = p.font()
        font.setPixelSize(max(7, min(11, int(kh) - 1)))
        p.setFont(font)
        named = set(self.labelled_pitches())
        black_width = self.width() * (0.45 if kh >= ALL_NAMES_ROW_PX else 0.62)  # room for every name
        lines = []
        for pitch in range(lo, hi + 1):
            y = vp.pitch_to_y(pitch)
            if pitch == self.held:
                p.fillRect(QRectF(0, y, self.width(), kh), QColor("#ffb347"))
            elif pitch % 12 in BLACK:
                p.fillRect(QRectF(0, y, black_width, kh), QColor("#2b2b2b"))
            lines.append(QLineF(0, y + kh, self.width(), y + kh))
        p.setPen(QColor("#c8c8c8"))
        p.drawLines(lines)
        p.setPen(QColor("#404040"))
        for pitch in sorted(named):
            rect = QRectF(0, vp.pitch_to_y(pitch), self.width() - 4, kh)
            p.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, pitch_name(pitch))
        p.setPen(QColor("#9a9a9a"))
        p.drawLine(self.width() - 1, 0, self.width() - 1, self.height())
        p.end()
        return image

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
