"""A track: one instrument's notes and its mixer settings."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from desktop_app.music.controls import ControlChange, ProgramChange
from desktop_app.music.note import Note

DRUM_CHANNEL = 9  # MIDI channel 10, counted from zero


@dataclass(frozen=True)
class Track:
    """An instrument line. `notes` keeps the order edits leave it in, so note indices stay stable
    across moves and resizes; readers that need time order sort. Immutable, so derived arrays
    are computed once per track (on a worker thread when a file is loaded)."""

    name: str = ""
    program: int = 0
    channel: int = 0
    is_drum: bool = False
    notes: tuple[Note, ...] = ()
    mute: bool = False
    solo: bool = False
    volume: int = 100
    pan: int = 64
    color: str = ""  # "#rrggbb", or "" for the default palette colour of the track's position
    programs: tuple[ProgramChange, ...] = ()  # later program changes; `program` holds until the first
    controls: tuple[ControlChange, ...] = ()  # controller moves over time (the sustain pedal)

    def with_notes(self, notes: tuple[Note, ...] | list[Note]) -> "Track":
        return replace(self, notes=tuple(notes))

    @cached_property
    def note_array(self) -> np.ndarray:
        """The notes as an (n, 4) int64 array of pitch, start, end, velocity, in `notes` order."""
        return np.array([(n.pitch, n.start, n.end, n.velocity) for n in self.notes], dtype=np.int64).reshape(-1, 4)

    @property
    def end_tick(self) -> int:
        return int(self.note_array[:, 2].max()) if self.notes else 0

    @property
    def midi_channel(self) -> int:
        """The channel the track plays on: drums always on channel 10."""
        return DRUM_CHANNEL if self.is_drum else self.channel
