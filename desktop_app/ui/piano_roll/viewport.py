"""Where the piano roll looks: time zoom and scroll in ticks, pitch zoom and scroll in rows.
Every part of the roll (notes, keyboard, ruler, velocity lane) maps coordinates through it."""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, Signal

MIN_TICKS_PER_PX = 0.05
MAX_TICKS_PER_PX = 2000.0
MIN_KEY_HEIGHT = 3.0
MAX_KEY_HEIGHT = 48.0
N_PITCHES = 128


class RollViewport(QObject):
    """`left_tick` is the tick at x = 0; `top` is the pitch boundary at y = 0, so row p spans
    y from (top - p - 1) * key_height to (top - p) * key_height."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ticks_per_px = 4.0
        self.key_height = 14.0
        self.left_tick = 0.0
        self.top = 96.0
        self.width = 800
        self.height = 500

    # ----- mapping ------------------------------------------------------------------------

    def tick_to_x(self, tick: float) -> float:
        return (tick - self.left_tick) / self.ticks_per_px

    def x_to_tick(self, x: float) -> float:
        return self.left_tick + x * self.ticks_per_px

    def pitch_to_y(self, pitch: float) -> float:
        """The top edge of row `pitch`."""
        return (self.top - pitch - 1) * self.key_height

    def y_to_pitch(self, y: float) -> int:
        return int(math.floor(self.top - y / self.key_height))

    @property
    def right_tick(self) -> float:
        return self.x_to_tick(self.width)

    @property
    def visible_pitches(self) -> tuple[int, int]:
        """Lowest and highest pitch with any part on screen."""
        return max(0, self.y_to_pitch(self.height)), min(N_PITCHES - 1, self.y_to_pitch(0))

    # ----- changes ------------------------------------------------------------------------

    def set_size(self, width: int, height: int) -> None:
        if (width, height) != (self.width, self.height):
            self.width, self.height = max(1, width), max(1, height)
            self._clamp()
            self.changed.emit()

    def zoom_time(self, factor: float, anchor_x: float) -> None:
        """Zoom in (factor > 1) or out around screen x `anchor_x`, which keeps its tick."""
        tick = self.x_to_tick(anchor_x)
        self.ticks_per_px = min(MAX_TICKS_PER_PX, max(MIN_TICKS_PER_PX, self.ticks_per_px / factor))
        self.left_tick = tick - anchor_x * self.ticks_per_px
        self._clamp()
        self.changed.emit()

    def zoom_pitch(self, factor: float, anchor_y: float) -> None:
        """Zoom rows around screen y `anchor_y`, which keeps its pitch position."""
        pitch = self.top - anchor_y / self.key_height
        self.key_height = min(MAX_KEY_HEIGHT, max(self._min_key_height(), self.key_height * factor))
        self.top = pitch + anchor_y / self.key_height
        self._clamp()
        self.changed.emit()

    def scroll_time(self, dx_px: float) -> None:
        self.left_tick += dx_px * self.ticks_per_px
        self._clamp()
        self.changed.emit()

    def scroll_pitch(self, rows: float) -> None:
        """Scroll up (positive) or down by `rows` pitches."""
        self.top += rows
        self._clamp()
        self.changed.emit()

    def set_left_tick(self, tick: float) -> None:
        self.left_tick = tick
        self._clamp()
        self.changed.emit()

    def set_top(self, top: float) -> None:
        self.top = top
        self._clamp()
        self.changed.emit()

    def fit(self, start: float, end: float, low_pitch: int, high_pitch: int, margin: float = 0.04) -> None:
        """Show ticks start..end and pitches low..high as large as they fit."""
        span = max(end - start, 1.0)
        self.ticks_per_px = min(MAX_TICKS_PER_PX, max(MIN_TICKS_PER_PX, span * (1 + 2 * margin) / self.width))
        self.left_tick = start - span * margin
        rows = high_pitch - low_pitch + 3
        self.key_height = min(MAX_KEY_HEIGHT, max(self._min_key_height(), self.height / rows))
        self.top = high_pitch + 2 + (self.height / self.key_height - rows) / 2
        self._clamp()
        self.changed.emit()

    def _min_key_height(self) -> float:
        return max(MIN_KEY_HEIGHT, self.height / N_PITCHES)

    def _clamp(self) -> None:
        self.left_tick = max(0.0, self.left_tick)
        self.key_height = max(self._min_key_height(), self.key_height)
        rows_on_screen = self.height / self.key_height
        self.top = min(float(N_PITCHES), max(rows_on_screen, self.top))


def repaint_playhead_strips(widget, viewport: RollViewport, old_tick: int | None, new_tick: int) -> None:
    """Repaint only the 7-pixel strips a moving playhead leaves and enters (it moves 60 times a
    second), at x under the current mapping, since the view may have moved since the last draw."""
    for tick in (old_tick, new_tick):
        if tick is not None:
            widget.update(int(viewport.tick_to_x(tick)) - 3, 0, 7, widget.height())
