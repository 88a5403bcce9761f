"""Windows start on barlines (a pickup gets a bar of its own), keep their notes relative, and
transposition stays inside the pitch range the user sets."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.ml.data import Piece, random_transpose, transpose, transpositions, windows
from desktop_app.ml.data.windows import transpose_key, window_starts


def make_piece(rows, downbeats, key="C", name="p") -> Piece:
    notes = np.array(rows, dtype=np.int32).reshape(-1, 5)
    return Piece(id=name, name=name, source=name, notes=notes, downbeats=np.array(downbeats, dtype=np.int32),
                 key=key, time_signatures=((0, 4, 4),))


# Four bars of 4/4 (16 steps each), a note on every beat.
BARS = make_piece([(0, 60 + i % 12, 4 * i, 4 * i + 4, 90) for i in range(16)], [0, 16, 32, 48, 64])


def test_windows_start_on_barlines_and_hold_their_notes_relative():
    got = list(windows([BARS], 32, 16, partial=True))
    assert [w.start for w in got] == [0, 16, 32, 48]
    second = got[1]
    assert second.notes[:, 2].tolist() == [0, 4, 8, 12, 16, 20, 24, 28]
    assert second.notes[:, 1].tolist() == [64, 65, 66, 67, 68, 69, 70, 71]
    assert second.downbeats.tolist() == [0, 16]
    assert got[-1].notes[:, 2].max() < 16 and got[-1].length == 32  # the last one is padded with silence


def test_windows_stay_inside_the_piece_unless_partial_ones_are_asked_for():
    assert [w.start for w in windows([BARS], 32, 16)] == [0, 16, 32]
    assert [w.start for w in windows([BARS], 48, 16)] == [0, 16]
    assert [w.start for w in windows([BARS], 128, 16)] == [0]  # shorter than a window: one, padded
    assert window_starts(BARS, 32, 16, partial=True) == [0, 16, 32, 48]


def test_a_hop_that_is_not_a_bar_moves_on_to_the_next_barline():
    assert window_starts(BARS, 32, 20, partial=True) == [0, 32]
    assert window_starts(BARS, 32, 20, align=False, partial=True) == [0, 20, 40, 60]
    assert window_starts(BARS, 32, 20, align=False) == [0, 20]


def test_a_pickup_gets_a_window_that_starts_a_bar_before_the_first_barline():
    # A one-beat pickup at steps 0-4, the first downbeat at step 4, bars of 16 steps.
    piece = make_piece([(0, 67, 0, 4, 90), (0, 72, 4, 20, 90), (0, 71, 20, 36, 90)], [4, 20, 36])
    got = list(windows([piece], 16, 16))
    assert [w.start for w in got] == [-12, 4, 20]
    assert got[0].notes[:, 1:4].tolist() == [[67, 12, 16]]  # the pickup sits at the end of its bar
    assert got[0].downbeats.tolist() == []
    assert got[1].downbeats.tolist() == [0]


def test_a_pickup_bar_whose_downbeat_lies_before_the_start_is_a_window_of_its_own():
    # The pickup-aware meter gives the pickup bar's downbeat a negative step: -12 for a quarter pickup.
    piece = make_piece([(0, 67, 0, 4, 90), (0, 72, 4, 20, 90)], [-12, 4, 20])
    got = list(windows([piece], 16, 16))
    assert [w.start for w in got] == [-12, 4]
    assert got[0].notes[:, 1:4].tolist() == [[67, 12, 16]] and got[0].downbeats.tolist() == [0]


def test_held_notes_are_cut_to_the_window_only_when_asked():
    piece = make_piece([(0, 60, 0, 24, 90), (0, 62, 16, 20, 90)], [0, 16, 32])
    plain = list(windows([piece], 16, 16))
    held = list(windows([piece], 16, 16, held_notes=True))
    assert plain[0].notes[:, 1:4].tolist() == [[60, 0, 16]] and plain[1].notes[:, 1:4].tolist() == [[62, 0, 4]]
    assert held[1].notes[:, 1:4].tolist() == [[60, 0, 8], [62, 0, 4]]


def test_windows_with_too_few_notes_are_skipped_and_bad_sizes_refused():
    sparse = make_piece([(0, 60, 0, 4, 90), (0, 62, 40, 44, 90)], [0, 16, 32, 48])
    assert [w.start for w in windows([sparse], 16, 16)] == [0, 32]
    assert [w.start for w in windows([sparse], 16, 16, min_notes=2)] == []
    with pytest.raises(ValueError):
        list(windows([sparse], 0, 16))


def test_transpose_moves_pitches_and_the_key_but_not_the_id():
    moved = transpose(make_piece([(0, 60, 0, 4, 90)], [0, 16], key="Am"), 3)
    assert moved.notes[0, 1] == 63 and moved.key == "Cm" and moved.id == "p"
    window = transpose(next(windows([BARS], 16, 16)), -2)
    assert window.transposition == -2 and window.notes[0, 1] == 58
    assert [transpose_key(k, s) for k, s in (("C", 1), ("Am", 4), ("F#", 1), ("Ebm", 0), ("", 5))] == ["Db", "C#m", "G", "Ebm", ""]


def test_transpositions_cover_the_range_that_stays_inside_the_pitch_bounds():
    piece = make_piece([(0, 60, 0, 4, 90), (0, 70, 4, 8, 90)], [0, 16])
    shifts = [int(p.notes[0, 1]) - 60 for p in transpositions([piece], (-6, 5), pitch_range=(57, 72))]
    assert shifts == [-3, -2, -1, 0, 1, 2]
    rng = np.random.default_rng(0)
    drawn = {int(random_transpose(piece, rng, (-6, 5), (57, 72)).notes[0, 1]) - 60 for _ in range(200)}
    assert drawn == set(range(-3, 3))
    stuck = make_piece([(0, 20, 0, 4, 90), (0, 120, 4, 8, 90)], [0, 16])
    assert random_transpose(stuck, rng, (-2, 2), (21, 108)) is stuck
