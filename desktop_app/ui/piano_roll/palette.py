"""Colour lookup tables for notes: ghost, plain by velocity, selected by velocity."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

GHOST = 1
PLAIN = 2  # 2..17: plain notes, soft to loud
SELECTED = 18  # 18..33: selected notes, soft to loud
BUCKETS = 16
SIZE = SELECTED + BUCKETS
SELECTION_COLOUR = QColor("#ff7a1a")


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
    for b in range(BUCKETS):
        plain, chosen = _shade(track_colour, b), _shade(SELECTION_COLOUR, b)
        fill[PLAIN + b], border[PLAIN + b] = _bgra(plain), _bgra(plain.darker(170))
        fill[SELECTED + b], border[SELECTED + b] = _bgra(chosen), _bgra(QColor("#7a2e00"))
    return fill, border
