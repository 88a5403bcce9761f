"""Piano-roll grids for the models: notes to boolean arrays of (steps, pitches) and back.
An onset plane marks where each note begins, so repeated notes of one pitch stay apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from desktop_app.music.note import Note
from desktop_app.music.timing import MODEL_STEPS_PER_BEAT, step_to_tick, tick_to_step


@dataclass(frozen=True)
class PianoRollGrid:
    """`active[t, p]`: pitch `low_pitch + p` sounds during step t; `onsets[t, p]`: a note starts there."""

    active: np.ndarray
    onsets: np.ndarray
    low_pitch: int
    steps_per_beat: int

    @property
    def n_steps(self) -> int:
        return self.active.shape[0]

    @property
    def n_pitches(self) -> int:
        return self.active.shape[1]


def notes_to_grid(
    notes: Iterable[Note],
    ppq: int,
    steps_per_beat: int = MODEL_STEPS_PER_BEAT,
    low_pitch: int = 0,
    high_pitch: int = 127,
    start_tick: int = 0,
    n_steps: int | None = None,
) -> PianoRollGrid:
    """Rasterise notes from `start_tick` on; every note covers at least one step. Notes outside the
    pitch range or the window are left out; `n_steps` None means up to the last note's end."""
    arr = np.array([(n.pitch, n.start, n.end) for n in notes], dtype=np.int64).reshape(-1, 3)
    pitches, starts, ends = arr[:, 0], arr[:, 1] - start_tick, arr[:, 2] - start_tick
    s0 = tick_to_step(starts, ppq, steps_per_beat)
    s1 = np.maximum(tick_to_step(ends, ppq, steps_per_beat), s0 + 1)
    if n_steps is None:
        n_steps = int(s1.max()) if len(s1) else 0
    n_pitches = high_pitch - low_pitch + 1
    keep = (pitches >= low_pitch) & (pitches <= high_pitch) & (s0 < n_steps) & (s1 > 0)
    p, first, last = pitches[keep] - low_pitch, s0[keep], np.minimum(s1[keep], n_steps)
    # Mark each span with +1 at its start and -1 past its end, then a running sum fills it in.
    counts = np.zeros((n_steps + 1, n_pitches), dtype=np.int32)
    np.add.at(counts, (np.maximum(first, 0), p), 1)
    np.add.at(counts, (last, p), -1)
    active = np.cumsum(counts, axis=0)[:n_steps] > 0
    onsets = np.zeros((n_steps, n_pitches), dtype=bool)
    inside = first >= 0  # a note begun before the window continues into it without an onset
    onsets[first[inside], p[inside]] = True
    return PianoRollGrid(active, onsets, low_pitch, steps_per_beat)


def grid_to_notes(
    active: np.ndarray,
    onsets: np.ndarray | None,
    ppq: int,
    steps_per_beat: int = MODEL_STEPS_PER_BEAT,
    low_pitch: int = 0,
    start_tick: int = 0,
    velocity: int = 100,
) -> list[Note]:
    """Read notes back: a note starts at an onset or where a run of active steps begins, and lasts
    until the run ends or the next onset. An onset on an inactive step counts as a one-step note."""
    active = np.asarray(active, dtype=bool)
    onsets = np.zeros_like(active) if onsets is None else np.asarray(onsets, dtype=bool)
    active = active | onsets
    n_steps, n_pitches = active.shape
    # Work pitch by pitch along time, with an inactive sentinel step closing every row.
    act = np.zeros((n_pitches, n_steps + 1), dtype=bool)
    act[:, :n_steps] = active.T
    ons = np.zeros_like(act)
    ons[:, :n_steps] = onsets.T
    prev = np.zeros_like(act)
    prev[:, 1:] = act[:, :-1]
    begins = act & (ons | ~prev)
    flat_begins = np.flatnonzero(begins)
    boundaries = np.flatnonzero(begins | ~act)
    flat_ends = boundaries[np.searchsorted(boundaries, flat_begins, side="right")]
    row, s0 = np.divmod(flat_begins, n_steps + 1)
    s1 = flat_ends - row * (n_steps + 1)
    t0 = step_to_tick(s0, ppq, steps_per_beat) + start_tick
    t1 = step_to_tick(s1, ppq, steps_per_beat) + start_tick
    order = np.lexsort((row, t0))
    return [
        Note(int(row[i]) + low_pitch, int(t0[i]), int(t1[i] - t0[i]), velocity) for i in order
    ]
