"""Scales: which pitch classes belong to a key, for scale highlighting and in-scale metrics."""

from __future__ import annotations

MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
NATURAL_MINOR_STEPS = (0, 2, 3, 5, 7, 8, 10)
_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def tonic_pitch_class(tonic: str) -> int:
    """'F#' -> 6, 'Bb' -> 10, 'Cb' -> 11."""
    pc = _LETTERS[tonic[0].upper()] + tonic[1:].count("#") - tonic[1:].count("b")
    return pc % 12


def pitch_classes_of_key(key: str) -> tuple[int, ...]:
    """The seven pitch classes of a key in MIDI spelling ('C', 'F#m'), tonic first;
    minor keys use the natural minor scale."""
    minor = key.endswith("m")
    tonic = tonic_pitch_class(key[:-1] if minor else key)
    steps = NATURAL_MINOR_STEPS if minor else MAJOR_STEPS
    return tuple((tonic + s) % 12 for s in steps)
