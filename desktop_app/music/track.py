"""A track: one instrument's notes and its mixer settings."""

from __future__ import annotations

from dataclasses import dataclass, replace

from desktop_app.music.note import Note

DRUM_CHANNEL = 9  # MIDI channel 10, counted from zero


@dataclass(frozen=True, slots=True)
class Track:
    """An instrument line. `notes` keeps the order edits leave it in, so note indices stay stable
    across moves and resizes; readers that need time order sort."""

    name: str = ""
    program: int = 0
    channel: int = 0
    is_drum: bool = False
    notes: tuple[Note, ...] = ()
    mute: bool = False
    solo: bool = False
    volume: int = 100
    pan: int = 64

    def with_notes(self, notes: tuple[Note, ...] | list[Note]) -> "Track":
        return replace(self, notes=tuple(notes))

    @property
    def end_tick(self) -> int:
        return max((n.end for n in self.notes), default=0)

    @property
    def midi_channel(self) -> int:
        """The channel the track plays on: drums always on channel 10."""
        return DRUM_CHANNEL if self.is_drum else self.channel
