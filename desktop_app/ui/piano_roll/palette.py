"""Colour lookup tables for notes: muted ghosts, ghosts, plain by velocity, selected by velocity."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

MUTED_GHOST = 1  # notes of a muted (or not soloed) track: faint, under everything
GHOST = 2
PLAIN = 3  # 3..18: plain notes, soft to loud
SELECTED = 19  # 19..34: selected notes, soft to loud
BUCKETS = 16
SIZE = SELECTED + BUCKETS
SELECTION_COLOUR = QColor("#ff7a1a")  # orange, unless the track itself is near orange
SELECTION_ALTERNATIVE = QColor("#1a4fff")  # a strong blue for orange, yellow and red tracks
MIN_HUE_DISTANCE = 60  # degrees between a track's colour and its selected notes'


def hue_distance(a: QColor, b: QColor) -> int:
    """Degrees between two hues on the colour wheel (0..180); a grey counts as far from all."""
    ha, hb = a.hsvHue(), b.hsvHue()
    if ha < 0 or hb < 0:
        return 180
    d = abs(ha - hb) % 360
    return min(d, 360 - d)


def selection_colour(track_colour: QColor) -> QColor:
    """The colour of selected notes on a track of `track_colour`: orange, or blue where orange
    would not stand out (orange, yellow and red tracks)."""
    if hue_distance(track_colour, SELECTION_COLOUR) >= MIN_HUE_DISTANCE:
        return SELECTION_COLOUR
    return SELECTION_ALTERNATIVE


def velocity_bucket(velocity: np.ndarray) -> np.ndarray:
    return np.clip(velocity, 0, 127) * BUCKETS // 128


def _bgra(c: QColor, alpha: int = 255) -> tuple[int, int, int, int]:
    """Premultiplied BGRA, as QImage.Format_ARGB32_Premultiplied stores it on little-endian."""
    f = alpha / 255
    return round(c.blue() * f), round(c.green() * f), round(c.red() * f), alpha


def _shade(c: QColor, bucket: int) -> QColor:
    """Soft notes pale, loud notes in the full colour."""
    h, s, v, _ = c.getHsvF()
    t = bucket / (BUCKETS - 1)
    return QColor.fromHsvF(max(h, 0.0), s * (0.25 + 0.75 * t), min(1.0, v * (1.15 - 0.25 * t)))


def note_luts(track_colour: QColor, ghost_colour: QColor) -> tuple[np.ndarray, np.ndarray]:
    """Fill and border tables indexed by note value."""
    fill = np.zeros((SIZE, 4), dtype=np.uint8)
    border = np.zeros((SIZE, 4), dtype=np.uint8)
    fill[GHOST] = _bgra(ghost_colour, 110)
    border[GHOST] = _bgra(ghost_colour.darker(130), 150)
    fill[MUTED_GHOST] = _bgra(ghost_colour, 28)  # a faint outline of the muted track's notes
    border[MUTED_GHOST] = _bgra(ghost_colour, 60)
    chosen_colour = selection_colour(track_colour)
    for b in range(BUCKETS):
        plain, chosen = _shade(track_colour, b), _shade(chosen_colour, b)
        fill[PLAIN + b], border[PLAIN + b] = _bgra(plain), _bgra(plain.darker(170))
        fill[SELECTED + b], border[SELECTED + b] = _bgra(chosen), _bgra(chosen_colour.darker(300))
    return fill, border
