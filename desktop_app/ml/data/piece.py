"""A piece as the models see it: notes on the 16th-note grid, its barlines, key, meter and tempo.
Datasets cache pieces as arrays, so a model never parses a file; every model reads this one form."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NOTE_COLUMNS = ("voice", "pitch", "start", "end", "velocity")


@dataclass(frozen=True)
class Piece:
    """One piece of a dataset.

    `notes` is an (n, 5) int32 array with the columns of NOTE_COLUMNS: the voice (the track's
    index in the song, or the part's index in a score), the MIDI pitch, start and end in grid steps
    of `desktop_app.music.timing.MODEL_STEPS_PER_BEAT` per quarter note counted from the song's
    tick 0 (end > start always), and the MIDI velocity. Rows are sorted by start, then voice, then pitch.
    `downbeats` holds the step of every barline from the first to the one at or after the last
    note's end, so the position of a step inside its bar means the same in every piece: a pickup
    sits before the first full bar's downbeat, not on it.
    `id` is a hash of the notes (transposition-free content, leading silence and velocity left out),
    so the same music under two file names has one id; the split is decided from it (or from `group`).
    `title` is the song's own title; `time_signatures` holds (step, numerator, denominator) for every
    signature, empty when the source had no meter (then `downbeats` are only a 4/4 guess);
    `seconds` is the length through the song's tempo map.
    `group` ties pieces that must share a split although their notes differ a little (a chorale's
    soprano line: the same chorale stored twice with an ornament changed); empty means the id alone."""

    id: str
    name: str
    source: str
    notes: np.ndarray
    downbeats: np.ndarray
    numerator: int = 4
    denominator: int = 4
    key: str = ""
    tempo_bpm: float = 120.0
    voice_names: tuple[str, ...] = field(default_factory=tuple)
    title: str = ""
    time_signatures: tuple[tuple[int, int, int], ...] = field(default_factory=tuple)
    seconds: float = 0.0
    group: str = ""

    @property
    def n_voices(self) -> int:
        return len(self.voice_names) if self.voice_names else int(self.notes[:, 0].max()) + 1 if len(self.notes) else 0

    @property
    def split_key(self) -> str:
        """What the split is decided from: the group when there is one, else the id."""
        return self.group or self.id

    @property
    def n_steps(self) -> int:
        return int(self.notes[:, 3].max()) if len(self.notes) else 0
