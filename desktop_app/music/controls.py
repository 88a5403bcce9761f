"""What a track changes while it plays besides notes: program changes after its first note and
controller moves (the sustain pedal), kept from MIDI files, saved, played and exported."""

from __future__ import annotations

from dataclasses import dataclass

SUSTAIN_PEDAL = 64  # MIDI controller number: values 64..127 hold the pedal down
KEPT_CONTROLS = frozenset({SUSTAIN_PEDAL})  # controllers a track keeps over time


@dataclass(frozen=True, slots=True)
class ProgramChange:
    """From `tick` on, the track's new notes play General MIDI program `program` (0..127)."""

    tick: int
    program: int


@dataclass(frozen=True, slots=True)
class ControlChange:
    """At `tick`, controller `control` (0..127) moves to `value` (0..127)."""

    tick: int
    control: int
    value: int

    @property
    def pedal_down(self) -> bool:
        return self.control == SUSTAIN_PEDAL and self.value >= 64
