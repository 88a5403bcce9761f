"""Run the AR-CNN on a track of a song: the region it may edit (bars and pitches), windows of 8
bars for longer seeds, and edited cells turned back into notes.

Notes the model never touches come back as the very same Note objects (exact ticks and velocity):
those outside the model's pitch range, outside the selected bars or pitches, and those the edits
did not reach. Seeds longer than the model's window are edited one 4-bar core at a time, each
inside an 8-bar window whose context already holds the edits made before it, so there are no seams.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator

import numpy as np

from desktop_app.ml.models.arcnn import (
    ArcnnNet,
    EditEvent,
    SamplerKnobs,
    _Caps,
    edit_window,
    metre_plane,
    onset_plane,
)
from desktop_app.music.grid import grid_to_notes, notes_to_grid
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.timing import MODEL_STEPS_PER_BEAT, step_to_tick, tick_to_step


@dataclass(frozen=True)
class Region:
    """What the model may edit: grid steps [start, stop) and MIDI pitches [low, high] (inclusive).
    None for `stop` means to the end of the track."""

    start: int = 0
    stop: int | None = None
    low: int = 0
    high: int = 127


@dataclass(frozen=True)
class TrackEdit:
    """The state after an edit event: the track's notes now, and which were added and removed
    relative to the seed (for the editor's colours)."""

    event: EditEvent
    notes: tuple[Note, ...]
    added: tuple[Note, ...]
    removed: tuple[Note, ...]


def bars_region(song: Song, first_bar: int, last_bar: int, low: int = 0, high: int = 127) -> Region:
    """The region of bars `first_bar`..`last_bar` (inclusive, as the app numbers them)."""
    meter = song.meter
    start = max(meter.tick_of(_bar(first_bar)), 0)  # bar 0 of a piece with a pickup begins before tick 0
    stop = max(meter.tick_of(_bar(last_bar + 1)), 0)
    return Region(int(tick_to_step(start, song.ppq)), int(tick_to_step(stop, song.ppq)), low, high)


def _bar(number: int):
    from desktop_app.music.timing import BarBeat

    return BarBeat(number, 1, 0)


class TrackEditor:
    """The seed track as one long roll, the region as an editable mask, and the way back to notes."""

    def __init__(self, song: Song, track_index: int, net: ArcnnNet, region: Region = Region()) -> None:
        self.song, self.ppq = song, song.ppq
        self.track = song.tracks[track_index]
        self.net = net
        config = net.config
        self.low = config.low_pitch
        window = config.steps
        end_step = int(tick_to_step(max(song.end_tick, self.track.end_tick), self.ppq))
        stop = region.stop if region.stop is not None else end_step
        self.n_steps = max(window, int(np.ceil(max(end_step, stop) / (window // 2))) * (window // 2))
        grid = notes_to_grid(self.track.notes, self.ppq, MODEL_STEPS_PER_BEAT, self.low, config.high_pitch,
                             0, self.n_steps)
        self.seed_roll, self.seed_onsets = grid.active, grid.onsets
        self.editable = np.zeros_like(self.seed_roll)
        rows = slice(max(region.low, self.low) - self.low, min(region.high, config.high_pitch) - self.low + 1)
        self.editable[max(region.start, 0):stop, rows] = True
        # A seed note that is not wholly inside the region is the composer's to keep: its cells are
        # frozen, and cells edited next to it become notes of their own.
        self.frozen = np.zeros_like(self.editable)
        self.free_notes: list[Note] = []
        for note in self.track.notes:
            row, s0, s1 = self._cells(note)
            if 0 <= row < self.editable.shape[1] and self.editable[s0:s1, row].all():
                self.free_notes.append(note)
            elif 0 <= row < self.editable.shape[1]:
                self.frozen[s0:s1, row] = True
        self.editable &= ~self.frozen
        downbeats = np.array([tick_to_step(t, self.ppq) for t in song.meter.bar_starts(
            int(step_to_tick(self.n_steps, self.ppq)))])
        self.metre = metre_plane(self.n_steps, downbeats)

    def _cells(self, note: Note) -> tuple[int, int, int]:
        """(row, first step, step after the last) of a note's cells in the roll."""
        s0 = int(tick_to_step(note.start, self.ppq))
        return note.pitch - self.low, s0, max(int(tick_to_step(note.end, self.ppq)), s0 + 1)

    def cores(self) -> list[tuple[int, int, int]]:
        """(window start, core start, core stop) for every 4-bar core that holds editable cells."""
        window = self.net.config.steps
        half = window // 2
        result = []
        for core in range(0, self.n_steps, half):
            if not self.editable[core:core + half].any():
                continue
            start = min(max(core - half // 2, 0), self.n_steps - window)
            result.append((start, core, min(core + half, self.n_steps)))
        return result

    def run(self, knobs: SamplerKnobs) -> Iterator[TrackEdit]:
        """Sample edit events core by core; the iterations are shared out by each core's length
        (`knobs.iterations` per window of 8 bars) and the caps hold over the whole region."""
        window = self.net.config.steps
        roll = self.seed_roll.copy()
        caps = _Caps(self.seed_roll & self.editable, self.seed_onsets & self.editable, knobs)
        rng = np.random.default_rng(knobs.seed)
        cores = self.cores() if self.n_steps > window else [(0, 0, window)]
        count = 0
        for start, core, stop in cores:
            editable = np.zeros_like(self.editable)
            editable[core:stop] = self.editable[core:stop]
            iterations = knobs.iterations if len(cores) == 1 else round(knobs.iterations * (stop - core) / window)
            events = edit_window(self.net, roll, self.seed_onsets, self.metre, editable,
                                 replace(knobs, iterations=iterations), caps, rng, start)
            for event in events:
                yield self._state(replace(event, index=count), roll)
                count += 1

    def heat(self, roll: np.ndarray | None = None, centre_step: int = 0, temperature: float = 1.0) -> tuple[int, np.ndarray]:
        """The model's probability of each cell being the next edit, over the 8-bar window nearest to
        `centre_step` (for the heat layer): (window's first step, steps x pitches array summing to 1
        over the cells the region allows). On a sounding cell it means "remove this", on an empty
        one "add here"."""
        from desktop_app.ml.models.arcnn import edit_probabilities

        window = self.net.config.steps
        roll = self.seed_roll if roll is None else roll
        start = int(min(max(centre_step - window // 2, 0), self.n_steps - window))
        stop = start + window
        probs = edit_probabilities(self.net, roll[start:stop], self.seed_onsets[start:stop], self.metre[start:stop],
                                   temperature)
        probs = np.where(self.editable[start:stop], probs, 0.0)
        total = probs.sum()
        return start, probs / total if total > 0 else probs

    def notes_for(self, roll: np.ndarray) -> tuple[tuple[Note, ...], tuple[Note, ...], tuple[Note, ...]]:
        """(all notes, added, removed) for an edited roll of the whole track."""
        changed = roll ^ self.seed_roll
        if not changed.any():
            return self.track.notes, (), ()
        # A free seed note is kept as it is unless a changed cell lies on its row within it or next to it.
        padded = np.zeros((changed.shape[0] + 2, changed.shape[1]), dtype=bool)
        padded[1:-1] = changed
        touched = []
        dirty = changed.copy()
        for note in self.free_notes:
            row, s0, s1 = self._cells(note)
            if padded[s0:s1 + 2, row].any():
                touched.append(note)
                dirty[s0:s1, row] = True
        touched_set = set(touched)
        free = roll & ~self.frozen
        velocity = int(np.median([n.velocity for n in self.track.notes])) if self.track.notes else 100
        rebuilt = []
        for note in grid_to_notes(free, onset_plane(free, self.seed_onsets), self.ppq, MODEL_STEPS_PER_BEAT, self.low):
            row, s0, s1 = self._cells(note)
            if dirty[s0:s1, row].any():
                rebuilt.append(Note(note.pitch, note.start, note.duration, _velocity_at(touched, note, velocity)))
        seed_spans = {(n.pitch, n.start, n.end): n for n in touched}
        rebuilt_spans = {(n.pitch, n.start, n.end) for n in rebuilt}
        added = tuple(n for n in rebuilt if (n.pitch, n.start, n.end) not in seed_spans)
        removed = tuple(n for n in touched if (n.pitch, n.start, n.end) not in rebuilt_spans)
        notes = tuple(n for n in self.track.notes if n not in touched_set or n not in removed) + added
        return notes, added, removed

    def _state(self, event: EditEvent, roll: np.ndarray) -> TrackEdit:
        notes, added, removed = self.notes_for(roll)
        return TrackEdit(event, notes, added, removed)


def _velocity_at(seed_notes: list[Note], note: Note, default: int) -> int:
    """The velocity of the seed note this one grew from (same pitch, overlapping), else `default`."""
    for seed in seed_notes:
        if seed.pitch == note.pitch and seed.start < note.end and note.start < seed.end:
            return seed.velocity
    return default


def parse_bars(text: str) -> tuple[int, int]:
    """'3-6' -> (3, 6), '4' -> (4, 4); a ValueError names what is wrong."""
    parts = text.split("-")
    try:
        first, last = (int(parts[0]), int(parts[-1])) if len(parts) <= 2 else (None, None)
    except ValueError:
        first = last = None
    if first is None or last is None or first < 0 or last < first:
        raise ValueError(f"bars {text!r}: expected A-B with 0 <= A <= B, e.g. 1-8")
    return first, last


def edit_song(song: Song, track_index: int, net: ArcnnNet, knobs: SamplerKnobs, region: Region = Region()) -> Song:
    """The song with the track edited by a whole sampler run (what `generate arcnn` writes)."""
    editor = TrackEditor(song, track_index, net, region)
    notes = song.tracks[track_index].notes
    for state in editor.run(knobs):
        notes = state.notes
    return song.with_track(track_index, song.tracks[track_index].with_notes(notes))
