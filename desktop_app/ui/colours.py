"""Track colours shared by every view: a track's own colour when it has one, otherwise the
palette colour for its position in the song."""

from __future__ import annotations

from PySide6.QtGui import QColor

from dataclasses import replace

from desktop_app.music.song import Song
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


def with_colours_kept(song: Song) -> Song:
    """`song` with every track's shown colour written into the track, so that adding, deleting
    or moving tracks (which changes positions) leaves each track the colour it had."""
    tracks = [t if t.color else replace(t, color=track_colour(t, i).name()) for i, t in enumerate(song.tracks)]
    return song.with_tracks(tracks)


def new_track_colour(song: Song, index: int) -> str:
    """The colour to store in a track inserted at `index`: "" (the default) when no track shows
    that place's palette colour yet, else the first palette colour no track shows."""
    shown = {track_colour(t, i).name() for i, t in enumerate(song.tracks)}
    default = palette_colour(index).name()
    if default not in shown:
        return ""
    return next((c for c in TRACK_COLOURS if c not in shown), "")


def mix(a: QColor, b: QColor, amount: float) -> QColor:
    """`amount` of colour a over colour b, as one opaque colour (opaque lines draw ten times
    faster than alpha-blended ones)."""
    return QColor(*(round(x * amount + y * (1 - amount)) for x, y in zip(a.getRgb()[:3], b.getRgb()[:3])))
