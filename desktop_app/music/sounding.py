"""How a track's notes sound on one MIDI channel, where a note-off releases every sounding note of
its key (FluidSynth and most players): the events that sound the roll, shared by MIDI export and
playback so that both sound alike, and the notes a player sounds from them.

Notes of one key that overlap cannot end apart on one channel, so they sound as one held key: each
note strikes at its start and sounds until the last of the notes overlapping it ends (no note is
cut short). A zero-length note is struck and released at once, before the notes that start at its
tick, so that it cuts none of them; one strictly inside a held key strikes and sounds with it."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from desktop_app.music.note import Note

# The order of events at one tick: releases, then program and controller changes, then
# zero-length notes (on, then off), then the notes that start there.
OFF, CONTROL, ZERO_ON, ZERO_OFF, ON = range(5)


_SHIFT = np.int64(1) << 32  # pitch * _SHIFT + tick orders by pitch, then tick


def _sounded(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For notes as an (n, 4) array of pitch, start, end, velocity: the tick where each one's
    sound ends, and whether it is struck and released at once."""
    pitch, start, end = arr[:, 0], arr[:, 1], arr[:, 2]
    sounded = end.copy()
    instant = end == start
    held = np.flatnonzero(~instant)
    if len(held):
        order = held[np.lexsort((start[held], pitch[held]))]
        p, s, e = pitch[order], start[order], end[order]
        reach = np.maximum.accumulate(p * _SHIFT + e) - p * _SHIFT  # latest end so far, per pitch
        new = np.ones(len(order), dtype=bool)
        new[1:] = (p[1:] != p[:-1]) | (s[1:] >= reach[:-1])  # a new held stretch of the key
        first = np.flatnonzero(new)
        span_end = np.maximum.reduceat(e, first)
        sounded[order] = np.repeat(span_end, np.diff(np.append(first, len(order))))
        zero = np.flatnonzero(instant)
        if len(zero):  # one struck strictly inside a held stretch sounds with it
            span_key = p[first] * _SHIFT + s[first]
            i = np.searchsorted(span_key, pitch[zero] * _SHIFT + start[zero], side="right") - 1
            ok = i >= 0
            j = np.where(ok, i, 0)
            inside = ok & (p[first][j] == pitch[zero]) & (s[first][j] < start[zero]) & (start[zero] < span_end[j])
            sounded[zero[inside]] = span_end[j[inside]]
            instant[zero[inside]] = False
    return sounded, instant


def note_event_array(arr: np.ndarray) -> np.ndarray:
    """`note_events` for notes as an (n, 4) array of pitch, start, end, velocity (a track's
    note_array): an (m, 4) int64 array of tick, rank, pitch, velocity."""
    arr = np.asarray(arr, dtype=np.int64).reshape(-1, 4)
    sounded, instant = _sounded(arr)
    pitch, start, velocity = arr[:, 0], arr[:, 1], arr[:, 3]
    struck, zero = ~instant, instant
    offs = np.unique(pitch[struck] * _SHIFT + sounded[struck])  # one release per held stretch
    zero_offs = np.unique(pitch[zero] * _SHIFT + start[zero])  # one for the notes struck at once
    parts = [
        _rows(offs % _SHIFT, OFF, offs // _SHIFT, 0),
        _rows(start[zero], ZERO_ON, pitch[zero], velocity[zero]),
        _rows(zero_offs % _SHIFT, ZERO_OFF, zero_offs // _SHIFT, 0),
        _rows(start[struck], ON, pitch[struck], velocity[struck]),
    ]
    events = np.concatenate(parts).astype(np.int64).reshape(-1, 4)
    return events[np.lexsort((events[:, 2], events[:, 1], events[:, 0]))]


def _rows(tick: np.ndarray, rank: int, pitch: np.ndarray, velocity: np.ndarray | int) -> np.ndarray:
    out = np.empty((len(tick), 4), dtype=np.int64)
    out[:, 0], out[:, 1], out[:, 2], out[:, 3] = tick, rank, pitch, velocity
    return out


def _array(notes: Iterable[Note]) -> np.ndarray:
    return np.array([(n.pitch, n.start, n.end, n.velocity) for n in notes], dtype=np.int64).reshape(-1, 4)


def note_events(notes: Iterable[Note]) -> list[tuple[int, int, int, int]]:
    """The notes as (tick, rank, pitch, velocity) key events in the order to send them, rank
    being OFF, ZERO_ON, ZERO_OFF or ON and velocity 0 for a release: one note-on per note and
    one note-off per held stretch of a key, so that a player sounds `sounding_notes(notes)`."""
    return [tuple(e) for e in note_event_array(_array(notes)).tolist()]


def sounding_notes(notes: Iterable[Note]) -> list[Note]:
    """The notes as a player sounds them from `note_events`: each from its start to where its
    key is released; equal to `notes` whenever overlapping notes of one key end together."""
    notes = list(notes)
    sounded, _ = _sounded(_array(notes))
    return [n if end == n.end else Note(n.pitch, n.start, end - n.start, n.velocity) for n, end in zip(notes, sounded.tolist())]
