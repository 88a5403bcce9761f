"""What the roll says about the note under the mouse: pitch name, bar:beat, length and velocity."""

from __future__ import annotations

from fractions import Fraction

from desktop_app.music.gm import pitch_name
from desktop_app.music.note import Note
from desktop_app.music.song import Song

NOTE_VALUES = {  # length in quarter notes -> its name
    Fraction(4): "whole", Fraction(3): "dotted half", Fraction(2): "half", Fraction(3, 2): "dotted quarter",
    Fraction(1): "quarter", Fraction(3, 4): "dotted eighth", Fraction(1, 2): "eighth",
    Fraction(3, 8): "dotted 16th", Fraction(1, 3): "eighth triplet", Fraction(1, 4): "16th",
    Fraction(1, 6): "16th triplet", Fraction(1, 8): "32nd",
}


def length_name(ticks: int, ppq: int) -> str:
    """A note length as a note value where it is one ("eighth (240 ticks)"), else in ticks."""
    value = NOTE_VALUES.get(Fraction(ticks, ppq))
    return f"{value} ({ticks} ticks)" if value else f"{ticks} ticks"


def position_name(song: Song, tick: int) -> str:
    """bar:beat, with the ticks past the beat when there are any."""
    where = song.meter.bar_beat(tick)
    return f"{where.bar}:{where.beat}" + (f":{where.ticks:03d}" if where.ticks else "")


def describe_note(song: Song, note: Note, track_name: str = "") -> str:
    """One line for the status bar and the tooltip, e.g. "E4 · bar 1:2 · eighth (240 ticks) · velocity 90"."""
    text = (f"{pitch_name(note.pitch)} · bar {position_name(song, note.start)} · "
            f"{length_name(note.duration, song.ppq)} · velocity {note.velocity}")
    return f"{track_name}: {text}" if track_name else text
