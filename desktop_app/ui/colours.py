"""Track colours shared by every view: a track's own colour when it has one, otherwise the
palette colour for its position in the song."""

from __future__ import annotations

from PySide6.QtGui import QColor

from desktop_app.music.track import Track

TRACK_COLOURS = ("#4e9af1", "#f1a24e", "#5cc67a", "#e05d6f", "#a77fe0", "#3fc1c9", "#d4c14a", "#e07fbf")


def palette_colour(index: int) -> QColor:
    """The default colour of the track at `index`; the palette repeats."""
    return QColor(TRACK_COLOURS[index % len(TRACK_COLOURS)])


def track_colour(track: Track, index: int) -> QColor:
    """The colour to draw `track` (at `index` in its song) with."""
    if track.color:
        colour = QColor(track.color)
        if colour.isValid():
            return colour
    return palette_colour(index)


def mix(a: QColor, b: QColor, amount: float) -> QColor:
    """`amount` of colour a over colour b, as one opaque colour (opaque lines draw ten times
    faster than alpha-blended ones)."""
    return QColor(*(round(x * amount + y * (1 - amount)) for x, y in zip(a.getRgb()[:3], b.getRgb()[:3])))
