"""Layers the note area paints over its cached frame: a take's added and removed notes, and a
model's heat map (its probability of each cell being the next edit). Each layer is its own
object: the note area only asks it to paint, and repaints when it says it changed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen

from desktop_app.music.note import Note
from desktop_app.ui.piano_roll.viewport import RollViewport

ADDED_COLOUR = QColor("#22c55e")  # a take's new notes: filled green
REMOVED_COLOUR = QColor("#ef4444")  # notes a take removes: a red outline over the note
HEAT_ADD_COLOUR = QColor("#22d3ee")  # heat on an empty cell: "add here" (cyan)
HEAT_REMOVE_COLOUR = QColor("#ff1fb4")  # heat on a sounding cell: "remove this" (magenta)
HEAT_MAX_ALPHA = 160  # the notes under the hottest cells still show
HEAT_GAMMA = 0.7  # lifts the middle of the scale, so cells a few times likelier than a guess show


class OverlayLayer(QObject):
    """Something drawn over the piano roll's notes; `changed` asks the note area to repaint."""

    changed = Signal()

    def paint(self, painter: QPainter, viewport: RollViewport, width: int, height: int) -> None:
        raise NotImplementedError


def _visible(arr: np.ndarray, viewport: RollViewport, width: int) -> np.ndarray:
    """Rows of an (n, 3+) pitch/start/end array that overlap the view."""
    low, high = viewport.visible_pitches
    t0, t1 = viewport.left_tick, viewport.x_to_tick(width)
    return arr[(arr[:, 0] >= low) & (arr[:, 0] <= high) & (arr[:, 2] > t0) & (arr[:, 1] < t1)]


def _array(notes: tuple[Note, ...]) -> np.ndarray:
    return np.array([(n.pitch, n.start, n.end) for n in notes], dtype=np.int64).reshape(-1, 3)


class TakeLayer(OverlayLayer):
    """A take's changes to the active track: added notes filled in green, removed notes outlined
    in red (the document still holds them until the take is accepted)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.added: tuple[Note, ...] = ()
        self.removed: tuple[Note, ...] = ()
        self._arrays = (_array(()), _array(()))

    def set_changes(self, added: tuple[Note, ...], removed: tuple[Note, ...]) -> None:
        if (added, removed) != (self.added, self.removed):
            self.added, self.removed = tuple(added), tuple(removed)
            self._arrays = (_array(self.added), _array(self.removed))
            self.changed.emit()

    def clear(self) -> None:
        self.set_changes((), ())

    def paint(self, painter: QPainter, viewport: RollViewport, width: int, height: int) -> None:
        added, removed = (_visible(a, viewport, width) for a in self._arrays)
        if not len(added) and not len(removed):
            return
        h = viewport.key_height
        painter.save()
        painter.setPen(QPen(ADDED_COLOUR.darker(160), 1))
        painter.setBrush(QBrush(ADDED_COLOUR))
        for pitch, start, end in added:
            x0, x1 = viewport.tick_to_x(start), viewport.tick_to_x(end)
            painter.drawRect(QRectF(x0, viewport.pitch_to_y(pitch), max(x1 - x0, 2.0), h))
        pen = QPen(REMOVED_COLOUR, 2)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        painter.setBrush(QBrush(QColor(REMOVED_COLOUR.red(), REMOVED_COLOUR.green(), REMOVED_COLOUR.blue(), 70),
                                Qt.BrushStyle.BDiagPattern))
        for pitch, start, end in removed:
            x0, x1 = viewport.tick_to_x(start), viewport.tick_to_x(end)
            painter.drawRect(QRectF(x0 + 1, viewport.pitch_to_y(pitch) + 1, max(x1 - x0 - 2, 2.0), h - 2))
        painter.restore()


@dataclass(frozen=True)
class HeatMap:
    """A model's next-edit probabilities over a window of grid cells: `probs` and `sounding` are
    steps x pitches from `low_pitch`; step i spans ticks start_tick + i * step_ticks onwards."""

    start_tick: int
    step_ticks: float
    low_pitch: int
    probs: np.ndarray
    sounding: np.ndarray

    @property
    def end_tick(self) -> float:
        return self.start_tick + self.step_ticks * self.probs.shape[0]


HEAT_FULL_RATIO = 20.0  # a cell this many times likelier than an even guess (or the likeliest) is fully coloured


def heat_strength(probs: np.ndarray) -> np.ndarray:
    """0..1 per cell on a log scale: 0 at or below an even guess over the cells that may change,
    1 at the likeliest cell or at HEAT_FULL_RATIO times the even guess, whichever is higher. So a
    model that hears nothing in particular (a flat distribution) leaves the roll clear."""
    allowed = probs > 0
    if not allowed.any():
        return np.zeros(probs.shape)
    ratio = np.where(allowed, probs * allowed.sum(), 1.0)
    full = np.log(max(float(ratio.max()), HEAT_FULL_RATIO))
    return np.clip(np.log(np.maximum(ratio, 1.0)) / full, 0.0, 1.0) ** HEAT_GAMMA


def heat_image(heat: HeatMap) -> np.ndarray:
    """RGBA pixels (pitches high to low, steps): cyan where adding is likely, magenta where
    removing is; opacity grows with heat_strength."""
    strength = heat_strength(heat.probs.astype(np.float64))
    probs = heat.probs
    rgba = np.zeros(probs.shape + (4,), dtype=np.uint8)
    for mask, colour in ((~heat.sounding, HEAT_ADD_COLOUR), (heat.sounding, HEAT_REMOVE_COLOUR)):
        rgba[mask, :3] = (colour.red(), colour.green(), colour.blue())
    rgba[..., 3] = np.rint(strength * HEAT_MAX_ALPHA).astype(np.uint8)
    return np.ascontiguousarray(rgba.transpose(1, 0, 2)[::-1])  # rows: highest pitch first


class HeatLayer(OverlayLayer):
    """The heat map, drawn as one translucent image stretched over its cells; switched on and off
    by `set_visible`."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.visible = False
        self.heat: HeatMap | None = None
        self._image: tuple[np.ndarray, QImage] | None = None

    def set_visible(self, on: bool) -> None:
        if on != self.visible:
            self.visible = on
            self.changed.emit()

    def set_heat(self, heat: HeatMap | None) -> None:
        self.heat = heat
        self._image = None
        if heat is not None:
            pixels = heat_image(heat)
            h, w = pixels.shape[:2]
            self._image = (pixels, QImage(pixels.data, w, h, w * 4, QImage.Format.Format_RGBA8888))
        self.changed.emit()

    def paint(self, painter: QPainter, viewport: RollViewport, width: int, height: int) -> None:
        if not self.visible or self.heat is None or self._image is None:
            return
        heat = self.heat
        top_pitch = heat.low_pitch + heat.probs.shape[1] - 1
        x0, x1 = viewport.tick_to_x(heat.start_tick), viewport.tick_to_x(heat.end_tick)
        y0, y1 = viewport.pitch_to_y(top_pitch), viewport.pitch_to_y(heat.low_pitch - 1)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(QRectF(x0, y0, x1 - x0, y1 - y0), self._image[1])
        painter.restore()
