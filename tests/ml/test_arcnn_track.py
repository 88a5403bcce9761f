"""The AR-CNN on a song's track: regions, notes it must not touch, long seeds, edits back to notes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from desktop_app.ml.models import arcnn
from desktop_app.ml.models.arcnn import ArcnnConfig, SamplerKnobs
from desktop_app.ml.models.arcnn_track import Region, TrackEditor, bars_region
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track

CONFIG = ArcnnConfig(steps=32, low_pitch=48, n_pitches=16, width=4, depth=2, dropout=0.0)
PPQ = 480
STEP = PPQ // 4


def net(seed=0) -> arcnn.ArcnnNet:
    torch.manual_seed(seed)
    return arcnn.ArcnnNet(CONFIG)


def song_of(notes, bars=2) -> Song:
    return Song(ppq=PPQ, tracks=(Track(name="Seed", notes=tuple(notes)),))


def seed_notes(bars: int) -> list[Note]:
    """A quarter-note line in range, one note far below the model's range, one off the grid."""
    notes = [Note(55 + (i % 5), i * PPQ, PPQ, 70 + i % 30) for i in range(bars * 4)]
    notes.append(Note(30, 0, 4 * PPQ, 90))  # below low_pitch 48: passes through
    notes.append(Note(62, 2 * PPQ + 7, 100, 33))  # off the 16th grid
    return notes


def run(editor: TrackEditor, **knobs):
    knobs = {"iterations": 40, "seed": 1, "temperature": 3.0, **knobs}
    return list(editor.run(SamplerKnobs(**knobs)))


def test_notes_outside_the_model_range_and_untouched_notes_keep_their_exact_form():
    notes = seed_notes(2)
    editor = TrackEditor(song_of(notes), 0, net())
    states = run(editor)
    assert states, "the sampler made edits"
    final = states[-1]
    assert notes[-2] in final.notes  # the low note, same object values
    changed = {(n.pitch, n.start) for n in final.removed}
    for n in notes:
        if n not in final.removed:
            assert n in final.notes, f"{n} was neither removed nor kept as it was"
    assert all(n in notes for n in final.removed)
    assert not changed & {(n.pitch, n.start) for n in final.added if n in notes}


def test_added_and_removed_match_the_difference_of_note_sets():
    notes = seed_notes(2)
    final = run(TrackEditor(song_of(notes), 0, net(1)))[-1]
    before, after = set(notes), set(final.notes)
    assert set(final.removed) == before - after
    assert set(final.added) == after - before


def test_edits_stay_in_the_selected_bars_and_pitches():
    notes = seed_notes(4)
    song = song_of(notes)
    region = bars_region(song, 2, 2, low=54, high=60)  # bar 2 only (steps 16..31), pitches 54..60
    assert (region.start, region.stop) == (16, 32)
    editor = TrackEditor(song, 0, net(2), region)
    for state in run(editor, iterations=30):
        e = state.event
        assert 16 <= e.step < 32 and 54 <= e.pitch <= 60
    final = state
    for n in notes:
        inside = 54 <= n.pitch <= 60 and n.start < 32 * STEP and n.end > 16 * STEP
        if not inside:
            assert n in final.notes


def test_a_long_seed_is_edited_window_by_window_across_its_whole_length():
    notes = seed_notes(12)  # 48 quarter notes = 192 steps: six 4-bar... cores of 16 steps
    editor = TrackEditor(song_of(notes), 0, net(3))
    cores = editor.cores()
    assert [c[1] for c in cores] == list(range(0, editor.n_steps, CONFIG.steps // 2))
    for start, core, stop in cores:
        assert start <= core and stop <= start + CONFIG.steps  # each core sits inside its window
    steps = [s.event.step for s in run(editor, iterations=32)]
    assert min(steps) < 16 and max(steps) >= 160  # edits reach the first and the last core


def test_a_fixed_seed_repeats_on_a_track():
    notes = seed_notes(4)
    a = run(TrackEditor(song_of(notes), 0, net(4)))
    b = run(TrackEditor(song_of(notes), 0, net(4)))
    assert [s.event for s in a] == [s.event for s in b]
    assert a[-1].notes == b[-1].notes


def test_caps_hold_over_the_whole_track():
    notes = seed_notes(8)
    editor = TrackEditor(song_of(notes), 0, net(5))
    in_range = [n for n in notes if 48 <= n.pitch < 64]
    for state in run(editor, iterations=60, max_remove=0.25, max_add=3, temperature=10.0):
        # A note lengthened by an added cell shows as removed and added again; it did not lose cells.
        lost = [n for n in state.removed if not any(
            m.pitch == n.pitch and m.start <= n.start and m.end >= n.end for m in state.added)]
        assert len(lost) <= int(0.25 * len(in_range))
        new_notes = [n for n in state.added if not any(
            n.pitch == s.pitch and n.start < s.end and s.start < n.end for s in notes)]
        assert len(new_notes) <= 3


def test_an_empty_region_makes_no_edits():
    notes = seed_notes(2)
    editor = TrackEditor(song_of(notes), 0, net(), Region(low=100, high=120))
    assert run(editor) == []
    assert np.array_equal(editor.seed_roll, editor.seed_roll)


def test_heat_is_a_distribution_over_the_editable_cells_of_the_nearest_window():
    notes = seed_notes(8)
    song = song_of(notes)
    editor = TrackEditor(song, 0, net(6), bars_region(song, 2, 3))
    start, probs = editor.heat(centre_step=40)
    assert start == 24 and probs.shape == (CONFIG.steps, CONFIG.n_pitches)
    assert probs.sum() == pytest.approx(1.0)
    assert not probs[~editor.editable[start:start + CONFIG.steps]].any()


def test_bar_zero_of_a_piece_with_a_pickup_starts_at_the_first_tick():
    from desktop_app.music.song import TimeSignature

    song = replace(song_of(seed_notes(2)), time_signatures=(TimeSignature(0, 1, 4), TimeSignature(PPQ, 4, 4)))
    region = bars_region(song, 0, 1)
    assert region.start == 0 and region.stop == 4 + 16
