"""Every pure edit: notes in a track, and tracks in a song."""

from __future__ import annotations

import pytest

from desktop_app.music import Note, Song, Track
from desktop_app.music import edits

PPQ = 480


def track_of(*notes: Note, **settings) -> Track:
    return Track(name=settings.pop("name", "Piano"), notes=tuple(notes), **settings)


@pytest.fixture
def track() -> Track:
    return track_of(
        Note(60, 0, 480, 100),
        Note(64, 480, 240, 90),
        Note(67, 960, 480, 80),
        Note(72, 1440, 960, 70),
    )


# --- add and remove --------------------------------------------------------------------------


def test_add_notes_appends_and_leaves_the_original(track):
    before = track
    new = edits.add_notes(track, [Note(50, 10, 20), Note(51, 0, 5)])
    assert new.notes[:4] == track.notes
    assert new.notes[4:] == (Note(50, 10, 20), Note(51, 0, 5))
    assert track == before and len(track.notes) == 4
    assert new.name == track.name


def test_remove_notes_closes_gaps_in_order(track):
    new = edits.remove_notes(track, [1, 3])
    assert new.notes == (track.notes[0], track.notes[2])
    assert edits.remove_notes(track, []) == track
    assert edits.remove_notes(track, range(4)).notes == ()
    assert edits.remove_notes(track, [99]).notes == track.notes


# --- move, transpose -------------------------------------------------------------------------


def test_move_shifts_time_and_pitch_of_the_chosen_notes_only(track):
    new = edits.move_notes(track, [1, 2], delta_ticks=120, delta_pitch=-2)
    assert new.notes[0] == track.notes[0]
    assert new.notes[1] == Note(62, 600, 240, 90)
    assert new.notes[2] == Note(65, 1080, 480, 80)
    assert new.notes[3] == track.notes[3]


def test_move_keeps_every_index(track):
    # Move the first note past all the others: it stays at index 0.
    new = edits.move_notes(track, [0], delta_ticks=5000)
    assert new.notes[0] == Note(60, 5000, 480, 100)
    assert new.notes[1:] == track.notes[1:]


def test_move_all_when_indices_is_none(track):
    new = edits.move_notes(track, None, delta_ticks=10, delta_pitch=1)
    assert new.notes == tuple(Note(n.pitch + 1, n.start + 10, n.duration, n.velocity) for n in track.notes)


def test_move_clamps_start_at_zero_and_pitch_to_midi_range():
    t = track_of(Note(2, 100, 50), Note(125, 300, 50))
    left = edits.move_notes(t, None, delta_ticks=-200, delta_pitch=-5)
    assert left.notes == (Note(0, 0, 50), Note(120, 100, 50))
    up = edits.move_notes(t, None, delta_pitch=10)
    assert [n.pitch for n in up.notes] == [12, 127]
    assert all(n.duration == 50 for n in left.notes + up.notes)  # clamping never changes length


def test_transpose(track):
    up = edits.transpose(track, None, 12)
    assert [n.pitch for n in up.notes] == [72, 76, 79, 84]
    assert [(n.start, n.duration, n.velocity) for n in up.notes] == [
        (n.start, n.duration, n.velocity) for n in track.notes
    ]
    down = edits.transpose(track, [3], -100)
    assert [n.pitch for n in down.notes] == [60, 64, 67, 0]


# --- resize ----------------------------------------------------------------------------------


def test_resize_right_edge(track):
    new = edits.resize_notes(track, [1], delta_end=120)
    assert new.notes[1] == Note(64, 480, 360, 90)
    shorter = edits.resize_notes(track, [1], delta_end=-200)
    assert shorter.notes[1] == Note(64, 480, 40, 90)
    assert new.notes[0] == track.notes[0] and new.notes[2:] == track.notes[2:]


def test_resize_right_edge_past_the_start_keeps_the_start():
    t = track_of(Note(60, 100, 50))
    new = edits.resize_notes(t, None, delta_end=-100)
    assert new.notes == (Note(60, 100, 1),)
    longer_min = edits.resize_notes(t, None, delta_end=-100, min_duration=30)
    assert longer_min.notes == (Note(60, 100, 30),)


def test_resize_left_edge_keeps_the_end(track):
    earlier = edits.resize_notes(track, [2], delta_start=-240)
    assert earlier.notes[2] == Note(67, 720, 720, 80)
    later = edits.resize_notes(track, [2], delta_start=200)
    assert later.notes[2] == Note(67, 1160, 280, 80)
    assert later.notes[2].end == track.notes[2].end == earlier.notes[2].end


def test_resize_left_edge_stops_at_zero_and_before_the_end():
    t = track_of(Note(60, 100, 50))
    assert edits.resize_notes(t, None, delta_start=-500).notes == (Note(60, 0, 150),)
    past_end = edits.resize_notes(t, None, delta_start=500, min_duration=10)
    assert past_end.notes == (Note(60, 140, 10),)
    assert past_end.notes[0].end == 150


def test_resize_both_edges(track):
    new = edits.resize_notes(track, None, delta_start=-60, delta_end=60)
    for old, n in zip(track.notes, new.notes):
        assert n.start == max(0, old.start - 60)
        assert n.end == old.end + 60
        assert (n.pitch, n.velocity) == (old.pitch, old.velocity)


def test_resize_keeps_indices_even_when_order_in_time_changes():
    t = track_of(Note(60, 0, 100), Note(62, 50, 100))
    new = edits.resize_notes(t, [1], delta_start=-50)
    assert new.notes == (Note(60, 0, 100), Note(62, 0, 150))


# --- velocity --------------------------------------------------------------------------------


def test_set_velocity_clamps_to_1_through_127(track):
    assert [n.velocity for n in edits.set_velocity(track, [0, 2], 55).notes] == [55, 90, 55, 70]
    assert {n.velocity for n in edits.set_velocity(track, None, 0).notes} == {1}
    assert {n.velocity for n in edits.set_velocity(track, None, 300).notes} == {127}
    kept = edits.set_velocity(track, [1], 10)
    assert [(n.pitch, n.start, n.duration) for n in kept.notes] == [(n.pitch, n.start, n.duration) for n in track.notes]


# --- quantize --------------------------------------------------------------------------------

GRID = 120  # sixteenths at 480 PPQ


def test_quantize_starts_full_strength_keeps_lengths():
    t = track_of(Note(60, 130, 100), Note(61, 170, 100), Note(62, 190, 45), Note(63, 240, 7), Note(64, 5, 10))
    new = edits.quantize(t, None, GRID)
    assert [n.start for n in new.notes] == [120, 120, 240, 240, 0]
    assert [n.duration for n in new.notes] == [100, 100, 45, 7, 10]
    assert [n.pitch for n in new.notes] == [60, 61, 62, 63, 64]


def test_quantize_half_strength_goes_half_way():
    t = track_of(Note(60, 130, 100), Note(61, 190, 100), Note(62, 360, 100), Note(63, 356, 100))
    new = edits.quantize(t, None, GRID, strength=0.5)
    assert [n.start for n in new.notes] == [125, 215, 360, 358]
    assert [n.duration for n in new.notes] == [100, 100, 100, 100]


def test_quantize_strength_zero_changes_nothing():
    t = track_of(Note(60, 130, 100), Note(61, 190, 77))
    assert edits.quantize(t, None, GRID, strength=0.0) == t


def test_quantize_full_strength_is_idempotent_and_lands_on_the_grid():
    t = track_of(*(Note(60 + i % 12, 37 * i + 11, 50 + 13 * i) for i in range(40)))
    once = edits.quantize(t, None, GRID, starts=True, ends=True)
    assert edits.quantize(once, None, GRID, starts=True, ends=True) == once
    assert all(n.start % GRID == 0 and n.end % GRID == 0 and n.duration >= GRID for n in once.notes)


def test_quantize_halfway_always_goes_to_the_later_line():
    t = track_of(Note(60, 60, 100), Note(61, 180, 100), Note(62, 300, 100), Note(63, 420, 100))
    new = edits.quantize(t, None, GRID)
    assert [n.start for n in new.notes] == [120, 240, 360, 480]


def test_quantize_ends_only():
    t = track_of(Note(60, 130, 200), Note(61, 0, 170))  # ends 330 and 170
    new = edits.quantize(t, None, GRID, starts=False, ends=True)
    assert new.notes == (Note(60, 130, 230), Note(61, 0, 120))


def test_quantize_starts_and_ends():
    t = track_of(Note(60, 130, 200, 33))  # 130..330 -> 120..360
    assert edits.quantize(t, None, GRID, starts=True, ends=True).notes == (Note(60, 120, 240, 33),)
    half = edits.quantize(t, None, GRID, strength=0.5, starts=True, ends=True)
    assert half.notes == (Note(60, 125, 220, 33),)  # 125..345


def test_quantized_end_never_shrinks_below_one_grid_step():
    t = track_of(Note(60, 118, 10), Note(61, 240, 30))  # both ends would snap onto their starts
    new = edits.quantize(t, None, GRID, starts=True, ends=True)
    assert new.notes == (Note(60, 120, 120), Note(61, 240, 120))


def test_quantize_only_the_chosen_notes():
    t = track_of(Note(60, 130, 100), Note(61, 190, 100))
    new = edits.quantize(t, [1], GRID)
    assert new.notes == (Note(60, 130, 100), Note(61, 240, 100))


def test_quantize_needs_a_positive_grid(track):
    with pytest.raises(ValueError):
        edits.quantize(track, None, 0)


# --- humanize --------------------------------------------------------------------------------


@pytest.fixture
def busy() -> Track:
    return track_of(*(Note(40 + i % 30, 500 + 120 * i, 100, 64) for i in range(200)))


def test_humanize_same_seed_same_result(busy):
    a = edits.humanize(busy, None, 20, 10, seed=42)
    b = edits.humanize(busy, None, 20, 10, seed=42)
    assert a == b
    assert a != busy


def test_humanize_different_seed_different_result(busy):
    a = edits.humanize(busy, None, 20, 10, seed=1)
    b = edits.humanize(busy, None, 20, 10, seed=2)
    assert a != b
    assert [n.start for n in a.notes] != [n.start for n in b.notes]
    assert [n.velocity for n in a.notes] != [n.velocity for n in b.notes]


def test_humanize_stays_within_bounds(busy):
    new = edits.humanize(busy, None, 20, 10, seed=3)
    shifts = [n.start - o.start for n, o in zip(new.notes, busy.notes)]
    nudges = [n.velocity - o.velocity for n, o in zip(new.notes, busy.notes)]
    assert all(-20 <= s <= 20 for s in shifts) and all(-10 <= v <= 10 for v in nudges)
    assert min(shifts) < 0 < max(shifts) and min(nudges) < 0 < max(nudges)  # both ways
    assert [(n.pitch, n.duration) for n in new.notes] == [(n.pitch, n.duration) for n in busy.notes]


def test_humanize_clamps_start_and_velocity():
    t = track_of(*(Note(60, 3, 10, 2 if i % 2 else 126) for i in range(100)))
    new = edits.humanize(t, None, 50, 50, seed=9)
    assert all(n.start >= 0 for n in new.notes)
    assert all(1 <= n.velocity <= 127 for n in new.notes)
    assert any(n.start == 0 for n in new.notes)
    assert any(n.velocity == 1 for n in new.notes) and any(n.velocity == 127 for n in new.notes)


def test_humanize_only_the_chosen_notes_and_zero_amounts(busy):
    new = edits.humanize(busy, [5, 6], 20, 10, seed=4)
    assert all(new.notes[i] == busy.notes[i] for i in range(len(busy.notes)) if i not in (5, 6))
    assert edits.humanize(busy, None, 0, 0, seed=4) == busy


# --- legato ----------------------------------------------------------------------------------


def test_legato_stretches_to_the_next_chord():
    t = track_of(Note(60, 0, 100), Note(64, 0, 50), Note(62, 480, 10), Note(65, 1000, 30))
    new = edits.legato(t, None)
    assert new.notes == (Note(60, 0, 480), Note(64, 0, 480), Note(62, 480, 520), Note(65, 1000, 30))


def test_legato_only_the_chosen_notes_but_stops_at_any_later_note():
    t = track_of(Note(60, 0, 100), Note(62, 240, 10), Note(64, 960, 10))
    new = edits.legato(t, [0])
    assert new.notes == (Note(60, 0, 240), Note(62, 240, 10), Note(64, 960, 10))


# --- tracks in a song ------------------------------------------------------------------------


def song_of(*tracks: Track) -> Song:
    return Song(ppq=PPQ, tracks=tuple(tracks))


@pytest.fixture
def three() -> Song:
    return song_of(
        track_of(Note(60, 480, 10), Note(70, 0, 10), name="Lead", program=80, channel=0),
        track_of(Note(40, 0, 10), name="Bass", program=33, channel=1),
        track_of(Note(62, 0, 10), Note(50, 240, 10), name="Pad", program=89, channel=2, volume=40),
    )


def test_merge_tracks_joins_into_the_first(three):
    merged = edits.merge_tracks(three, [2, 0])
    assert [t.name for t in merged.tracks] == ["Lead", "Bass"]
    lead = merged.tracks[0]
    assert (lead.program, lead.channel, lead.volume) == (80, 0, 100)
    assert lead.notes == (Note(62, 0, 10), Note(70, 0, 10), Note(50, 240, 10), Note(60, 480, 10))
    assert merged.tracks[1] is three.tracks[1]
    assert merged.note_count == three.note_count


def test_merge_tracks_in_the_middle(three):
    merged = edits.merge_tracks(three, [1, 2])
    assert [t.name for t in merged.tracks] == ["Lead", "Bass"]
    assert merged.tracks[1].notes == (Note(40, 0, 10), Note(62, 0, 10), Note(50, 240, 10))


def test_merge_needs_two_tracks(three):
    assert edits.merge_tracks(three, [1]) is three
    assert edits.merge_tracks(three, [1, 1]) is three


def test_split_track_at_pitch():
    piano = track_of(Note(72, 0, 10), Note(48, 0, 10), Note(60, 240, 10), Note(59, 480, 10), name="Piano", program=1)
    song = song_of(track_of(name="Other"), piano, track_of(name="Last"))
    split = edits.split_track_at_pitch(song, 1, 60)
    assert [t.name for t in split.tracks] == ["Other", "Piano", "Piano (low)", "Last"]
    assert split.tracks[1].notes == (Note(72, 0, 10), Note(60, 240, 10))
    assert split.tracks[2].notes == (Note(48, 0, 10), Note(59, 480, 10))
    assert split.tracks[2].program == 1
    unnamed = edits.split_track_at_pitch(song_of(track_of(Note(1, 0, 1), name="")), 0, 60)
    assert [t.name for t in unnamed.tracks] == ["", "(low)"]


def test_insert_remove_and_move_track(three):
    new = Track(name="New")
    inserted = edits.insert_track(three, 1, new)
    assert [t.name for t in inserted.tracks] == ["Lead", "New", "Bass", "Pad"]
    assert [t.name for t in edits.insert_track(three, 3, new).tracks] == ["Lead", "Bass", "Pad", "New"]
    assert [t.name for t in edits.remove_track(three, 1).tracks] == ["Lead", "Pad"]
    assert [t.name for t in edits.move_track(three, 0, 2).tracks] == ["Bass", "Pad", "Lead"]
    assert [t.name for t in edits.move_track(three, 2, 0).tracks] == ["Pad", "Lead", "Bass"]
    assert [t.name for t in three.tracks] == ["Lead", "Bass", "Pad"]  # the original is untouched
    moved = edits.move_track(three, 0, 1)
    assert moved.tracks[0] is three.tracks[1] and moved.tracks[1] is three.tracks[0]


def test_song_edits_share_unchanged_tracks(three):
    new = three.with_track(1, edits.transpose(three.tracks[1], None, 1))
    assert new.tracks[0] is three.tracks[0] and new.tracks[2] is three.tracks[2]
    assert new.tracks[1].notes == (Note(41, 0, 10),)
    assert three.tracks[1].notes == (Note(40, 0, 10),)


def test_free_channel():
    assert edits.free_channel(song_of()) == 0
    used = song_of(*(Track(channel=c) for c in range(9)))
    assert edits.free_channel(used) == 10  # channel 10 (index 9) is for drums
    full = song_of(*(Track(channel=c) for c in range(16) if c != 9))
    assert edits.free_channel(full) == 0
