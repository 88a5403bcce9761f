"""A note: pitch, start and duration in ticks, velocity."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Note:
    """One note event. Times are in ticks of the song's PPQ; pitch and velocity are MIDI values."""

    pitch: int
    start: int
    duration: int
    velocity: int = 100

    @property
    def end(self) -> int:
        return self.start + self.duration
