"""Piano-roll grids for the models: notes to (steps, pitches) arrays and back."""

from __future__ import annotations

import random

import numpy as np
import pytest

from desktop_app.music import Note
from desktop_app.music.grid import grid_to_notes, notes_to_grid

PPQ = 480
STEP = PPQ // 4  # 4 steps per beat: a sixteenth is 120 ticks


def key(notes):
    return sorted((n.pitch, n.start, n.duration, n.velocity) for n in notes)


def on_grid(pitch, step, steps, ppq=PPQ):
    return Note(pitch, step * ppq // 4, steps * ppq // 4, 100)


def test_small_grid_by_hand():
    notes = [on_grid(60, 0, 2), on_grid(62, 1, 1), on_grid(60, 3, 1)]
    grid = notes_to_grid(notes, PPQ, low_pitch=60, high_pitch=62)
    assert (grid.n_steps, grid.n_pitches, grid.low_pitch, grid.steps_per_beat) == (4, 3, 60, 4)
    expected_active = np.array([[1, 0, 0], [1, 0, 1], [0, 0, 0], [1, 0, 0]], dtype=bool)
    expected_onsets = np.array([[1, 0, 0], [0, 0, 1], [0, 0, 0], [1, 0, 0]], dtype=bool)
    np.testing.assert_array_equal(grid.active, expected_active)
    np.testing.assert_array_equal(grid.onsets, expected_onsets)


def test_repeated_notes_back_to_back_stay_apart():
    notes = [on_grid(64, 0, 2), on_grid(64, 2, 2), on_grid(64, 4, 1), on_grid(64, 5, 3)]
    grid = notes_to_grid(notes, PPQ, low_pitch=64, high_pitch=64)
    assert grid.active[:, 0].all()  # one unbroken run of sound...
    assert list(np.flatnonzero(grid.onsets[:, 0])) == [0, 2, 4, 5]  # ...with four onsets
    back = grid_to_notes(grid.active, grid.onsets, PPQ, low_pitch=64)
    assert key(back) == key(notes)
    merged = grid_to_notes(grid.active, None, PPQ, low_pitch=64)  # without onsets they fuse
    assert key(merged) == [(64, 0, 8 * STEP, 100)]


@pytest.mark.parametrize("ppq", [96, 480, 960])
@pytest.mark.parametrize("seed", range(5))
def test_round_trip_of_random_notes_on_the_grid(ppq, seed):
    rng = random.Random(seed)
    notes = []
    free_from: dict[int, int] = {}  # a pitch may not sound twice at once
    for _ in range(300):
        pitch = rng.randint(0, 127)
        step = max(free_from.get(pitch, 0), rng.randrange(0, 256))
        steps = rng.randint(1, 16)
        notes.append(on_grid(pitch, step, steps, ppq))
        free_from[pitch] = step + steps
    grid = notes_to_grid(notes, ppq)
    assert grid.n_pitches == 128
    assert grid.n_steps == max(n.end for n in notes) * 4 // ppq
    assert grid.onsets.sum() == len(notes)
    back = grid_to_notes(grid.active, grid.onsets, ppq)
    assert key(back) == key(notes)
    assert [(n.start, n.pitch) for n in back] == sorted((n.start, n.pitch) for n in back)


def test_velocity_comes_from_the_argument():
    grid = notes_to_grid([Note(60, 0, STEP, 30)], PPQ)
    assert grid_to_notes(grid.active, grid.onsets, PPQ, velocity=77) == [Note(60, 0, STEP, 77)]


def test_pitch_range_cuts_low_and_high():
    notes = [on_grid(47, 0, 1), on_grid(48, 1, 1), on_grid(60, 2, 1), on_grid(72, 3, 1), on_grid(73, 4, 1)]
    grid = notes_to_grid(notes, PPQ, low_pitch=48, high_pitch=72)
    assert grid.n_pitches == 25
    assert grid.n_steps == 5
    assert grid.onsets.sum() == 3
    back = grid_to_notes(grid.active, grid.onsets, PPQ, low_pitch=48)
    assert key(back) == key(notes[1:4])


def test_window_start_tick_shifts_and_cuts():
    start = 4 * STEP
    notes = [
        on_grid(60, 0, 2),  # ends before the window: left out
        on_grid(61, 2, 4),  # begun before the window: sounds from step 0, no onset
        on_grid(62, 4, 2),  # at the window's start
        on_grid(63, 9, 1),
    ]
    grid = notes_to_grid(notes, PPQ, start_tick=start)
    assert grid.n_steps == 6
    assert not grid.active[:, 60].any()
    assert list(np.flatnonzero(grid.active[:, 61])) == [0, 1]
    assert not grid.onsets[:, 61].any()
    assert list(np.flatnonzero(grid.onsets[:, 62])) == [0]
    assert list(np.flatnonzero(grid.onsets[:, 63])) == [5]
    back = grid_to_notes(grid.active, grid.onsets, PPQ, start_tick=start)
    assert key(back) == key([Note(61, start, 2 * STEP, 100), notes[2], notes[3]])


def test_window_n_steps_cuts_the_end():
    notes = [on_grid(60, 0, 10), on_grid(61, 3, 2), on_grid(62, 4, 1), on_grid(63, 7, 1)]
    grid = notes_to_grid(notes, PPQ, n_steps=4)
    assert grid.active.shape == grid.onsets.shape == (4, 128)
    assert grid.active[:, 60].all()  # clipped at the window's end
    assert list(np.flatnonzero(grid.active[:, 61])) == [3]
    assert not grid.active[:, 62].any() and not grid.active[:, 63].any()  # start at or past the end
    back = grid_to_notes(grid.active, grid.onsets, PPQ)
    assert key(back) == [(60, 0, 4 * STEP, 100), (61, 3 * STEP, STEP, 100)]


def test_window_start_and_length_together():
    notes = [on_grid(60 + i, i, 1) for i in range(20)]
    grid = notes_to_grid(notes, PPQ, start_tick=5 * STEP, n_steps=8)
    back = grid_to_notes(grid.active, grid.onsets, PPQ, start_tick=5 * STEP)
    assert key(back) == key(notes[5:13])


def test_short_notes_cover_at_least_one_step():
    grid = notes_to_grid([Note(60, 0, 1), Note(61, 240, 0)], PPQ)
    assert grid.active[0, 60] and grid.onsets[0, 60]
    assert grid.active[2, 61] and grid.onsets[2, 61]


def test_empty():
    grid = notes_to_grid([], PPQ)
    assert grid.active.shape == (0, 128) and grid.onsets.shape == (0, 128)
    assert grid_to_notes(grid.active, grid.onsets, PPQ) == []
    padded = notes_to_grid([], PPQ, n_steps=16, low_pitch=36, high_pitch=51)
    assert padded.active.shape == (16, 16) and not padded.active.any()


def test_an_onset_on_a_silent_step_is_a_one_step_note():
    active = np.zeros((4, 1), dtype=bool)
    onsets = np.zeros((4, 1), dtype=bool)
    onsets[2, 0] = True
    assert grid_to_notes(active, onsets, PPQ, low_pitch=70) == [Note(70, 2 * STEP, STEP, 100)]


def test_other_step_resolutions():
    notes = [Note(60, 0, 60, 100), Note(60, 60, 180, 100), Note(67, 240, 480, 100)]
    grid = notes_to_grid(notes, PPQ, steps_per_beat=8)  # 60 ticks a step
    assert grid.n_steps == 12 and grid.steps_per_beat == 8
    back = grid_to_notes(grid.active, grid.onsets, PPQ, steps_per_beat=8)
    assert key(back) == key(notes)
