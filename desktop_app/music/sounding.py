"""How a track's notes sound on one MIDI channel, where a note-off releases every sounding note of
its key (FluidSynth and most players): the events that sound the roll, shared by MIDI export and
playback so that both sound alike, and the notes a player sounds from them.

Notes of one key that overlap cannot end apart on one channel, so they sound as one held key: each
note strikes at its start and sounds until the last of the notes overlapping it ends (no note is
cut short). A zero-length note is struck and released at once, before the notes that start at its
tick, so that it cuts none of them; one strictly inside a held key strikes and sounds with it."""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from desktop_app.music.note import Note

# The order of events at one tick: releases, then program and controller changes, then
# zero-length notes (on, then off), then the notes that start there.
OFF, CONTROL, ZERO_ON, ZERO_OFF, ON = range(5)


def _voices(notes: Iterable[Note]) -> list[tuple[Note, int, bool]]:
    """Each note with the tick its sound ends and whether it is struck and released at once."""
    by_pitch: dict[int, list[Note]] = defaultdict(list)
    for n in notes:
        by_pitch[n.pitch].append(n)
    out = []
    for group in by_pitch.values():
        held = sorted((n for n in group if n.duration > 0), key=lambda n: n.start)
        spans: list[list[int]] = []  # [start, end] of each stretch the key is held
        for n in held:
            if spans and n.start < spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], n.end)
            else:
                spans.append([n.start, n.end])
        starts = [s for s, _ in spans]
        for n in group:
            i = _span_index(starts, n.start)
            inside = i >= 0 and spans[i][0] <= n.start < spans[i][1]
            if n.duration > 0:
                out.append((n, spans[i][1], False))
            elif inside and spans[i][0] < n.start:
                out.append((n, spans[i][1], False))  # struck while the key is held: sounds with it
            else:
                out.append((n, n.start, True))
    return out


def _span_index(starts: list[int], tick: int) -> int:
    """Index of the last span starting at or before `tick`, or -1."""
    lo, hi = 0, len(starts)
    while lo < hi:
        mid = (lo + hi) // 2
        if starts[mid] <= tick:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1


def note_events(notes: Iterable[Note]) -> list[tuple[int, int, int, int]]:
    """The notes as (tick, rank, pitch, velocity) key events in the order to send them, rank
    being OFF, ZERO_ON, ZERO_OFF or ON and velocity 0 for a release: one note-on per note and
    one note-off per held stretch of a key, so that a player sounds `sounding_notes(notes)`."""
    events = set()
    ons = []
    for n, end, instant in _voices(notes):
        if instant:
            ons.append((n.start, ZERO_ON, n.pitch, n.velocity))
            events.add((n.start, ZERO_OFF, n.pitch, 0))  # one release for all struck at once
        else:
            ons.append((n.start, ON, n.pitch, n.velocity))
            events.add((end, OFF, n.pitch, 0))
    return sorted([*events, *ons], key=lambda e: (e[0], e[1], e[2]))


def sounding_notes(notes: Iterable[Note]) -> list[Note]:
    """The notes as a player sounds them from `note_events`: each from its start to where its
    key is released; equal to `notes` whenever overlapping notes of one key end together."""
    return [n if end == n.end else Note(n.pitch, n.start, end - n.start, n.velocity) for n, end, _ in _voices(notes)]
