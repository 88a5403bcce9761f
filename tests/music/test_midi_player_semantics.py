"""MIDI files as players read them (issue 8, points 1-3): notes never hang, export sounds like the
roll, and a round trip keeps what a player sounds, program changes and the sustain pedal.

"What a player sounds" is desktop_app/music/midi_player.py: tracks merged, a note-off releases
every sounding voice of its key and channel."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import mido
import pytest

from desktop_app.music import Note, Song, Track
from desktop_app.music.controls import ControlChange, ProgramChange
from desktop_app.music.midi_io import midi_bytes, parse_midi
from desktop_app.music.midi_player import play
from desktop_app.music.project_file import Project, parse_project, project_bytes
from desktop_app.music.sounding import sounding_notes

PPQ = 480
EIGHTH = PPQ // 2


def player(data: bytes):
    return play(mido.MidiFile(file=io.BytesIO(data)))


def sounded(data: bytes) -> Counter:
    """(start, end, channel, pitch, velocity) of every voice a player sounds."""
    return Counter((v.start, v.end, v.channel, v.pitch, v.velocity) for v in player(data).voices)


def song_notes(song: Song) -> Counter:
    return Counter((n.start, n.end, t.midi_channel, n.pitch, n.velocity) for t in song.tracks for n in t.notes)


def longest(song: Song) -> int:
    return max(n.duration for t in song.tracks for n in t.notes)


# --- point 1: hanging notes --------------------------------------------------------------------


def test_a_grace_note_written_off_then_on_is_zero_length_and_shifts_nothing(smf):
    # music21 writes a grace note as a zero-length note and sorts offs before ons at one tick:
    # the grace D5's off comes before its own on. Then eighths of D5 follow.
    events = [
        (0, smf.note_on(0, 72, 90)),
        (EIGHTH, smf.note_off(0, 72)),
        (0, smf.note_off(0, 74)),  # the grace note's off, before its on
        (0, smf.note_on(0, 74, 80)),  # the grace note
        (0, smf.note_on(0, 76, 90)),  # the main note it ornaments
        (EIGHTH, smf.note_off(0, 76)),
    ]
    for _ in range(8):  # eighths of D5
        events += [(0, smf.note_on(0, 74, 90)), (EIGHTH, smf.note_off(0, 74))]
    song = parse_midi(smf.file(1, PPQ, [smf.track(events)]))
    notes = song.tracks[0].notes
    assert Note(74, EIGHTH, 0, 80) in notes
    assert sorted(n.duration for n in notes if n.pitch == 74 and n.velocity == 90) == [EIGHTH] * 8
    assert longest(song) == EIGHTH


def test_a_grace_note_before_a_main_note_of_its_own_pitch(smf):
    events = [
        (0, smf.note_off(0, 74)),
        (0, smf.note_on(0, 74, 60)),  # grace
        (0, smf.note_on(0, 74, 90)),  # main note, same key, same tick
        (EIGHTH, smf.note_off(0, 74)),
    ]
    song = parse_midi(smf.file(1, PPQ, [smf.track(events)]))
    assert sorted(song.tracks[0].notes, key=lambda n: n.velocity) == [Note(74, 0, 0, 60), Note(74, 0, EIGHTH, 90)]
    # Exported, a player sounds the main note whole: the grace note's release cuts nothing.
    assert sounded(midi_bytes(song)) == Counter({(0, 0, 0, 74, 60): 1, (0, EIGHTH, 0, 74, 90): 1})


def test_a_stray_off_before_a_real_note_is_not_a_grace_note(smf):
    # An off that finds nothing, then an on that the track's next off releases: a real note.
    events = [(0, smf.note_off(0, 67)), (0, smf.note_on(0, 67, 80)), (120, smf.note_off(0, 67))]
    song = parse_midi(smf.file(0, PPQ, [smf.track(events)]))
    assert song.tracks[0].notes == (Note(67, 0, 120, 80),)


def test_a_melody_with_grace_notes_exported_by_music21_has_no_hanging_notes(tmp_path):
    pytest.importorskip("music21")
    from music21 import note, stream

    part = stream.Part()
    for name in ["E5", "D5", "E5", "D5"] * 4:
        grace = note.Note("D5" if name == "E5" else "C5").getGrace()
        part.append([grace, note.Note(name, quarterLength=0.5)])
    score = stream.Score([part])
    path = tmp_path / "graces.mid"
    score.write("midi", fp=str(path))
    song = parse_midi(path.read_bytes())
    notes = [n for t in song.tracks for n in t.notes]
    per_beat = song.ppq
    assert sorted({n.duration for n in notes}) == [0, per_beat // 2]  # graces zero, the rest eighths
    assert sum(n.duration == 0 for n in notes) == 16


def test_an_extra_strike_never_shifts_the_pairing(smf):
    # Two note-ons and one note-off of C4, then ordinary quarter notes of C4.
    events = [(0, smf.note_on(0, 60, 100)), (10, smf.note_on(0, 60, 100)), (230, smf.note_off(0, 60))]
    for _ in range(40):
        events += [(0, smf.note_on(0, 60, 90)), (PPQ, smf.note_off(0, 60))]
    song = parse_midi(smf.file(1, PPQ, [smf.track(events)]))
    notes = song.tracks[0].notes
    assert notes[:2] == (Note(60, 0, 240, 100), Note(60, 10, 230, 100))
    assert {n.duration for n in notes[2:]} == {PPQ}
    assert longest(song) == PPQ
    assert song_notes(song) == sounded(smf.file(1, PPQ, [smf.track(events)]))


def test_a_note_its_track_never_releases_ends_at_an_off_in_another_track(smf):
    conductor = smf.track([(0, smf.tempo(500_000))])
    # Track 1 strikes C4 and never releases it; track 2 plays C4 on the same channel for 1 s.
    first = smf.track([(0, smf.note_on(0, 60, 100)), (64 * PPQ, smf.note_on(0, 72, 100)), (10, smf.note_off(0, 72))])
    second = smf.track([(PPQ, smf.note_on(0, 60, 80)), (PPQ, smf.note_off(0, 60))])
    data = smf.file(1, PPQ, [conductor, first, second])
    song = parse_midi(data)
    c4 = sorted((n for t in song.tracks for n in t.notes if n.pitch == 60), key=lambda n: n.start)
    assert c4 == [Note(60, 0, 2 * PPQ, 100), Note(60, PPQ, PPQ, 80)]
    assert song.tempo_map.seconds(c4[0].end) == pytest.approx(1.0)  # not 32 s
    assert song_notes(song) == sounded(data)


def test_a_stray_off_in_another_track_on_the_channel_ends_a_note_where_a_player_does(smf):
    # Track 2's second off of D5 releases nothing of its own but ends track 1's D5 in a player.
    first = smf.track([(3 * PPQ // 2, smf.note_on(0, 62, 90)), (5 * PPQ // 2, smf.note_off(0, 62))])
    second = smf.track([(0, smf.note_on(0, 62, 80)), (PPQ, smf.note_off(0, 62)), (PPQ, smf.note_off(0, 62))])
    data = smf.file(1, PPQ, [first, second])
    song = parse_midi(data)
    assert [t.notes for t in song.tracks] == [(Note(62, 3 * PPQ // 2, PPQ // 2, 90),), (Note(62, 0, PPQ, 80),)]
    assert sounded(midi_bytes(song)) == sounded(data)


def test_a_note_cut_short_passes_its_cut_on_to_the_notes_its_off_ended(smf):
    # Track 3's stray off ends track 2's note early, so track 2's own off no longer comes back
    # from export: the note of track 1 that it ended in a player must end there too.
    first = smf.track([(3 * PPQ, smf.note_on(0, 60, 90)), (3 * PPQ, smf.note_off(0, 60))])
    second = smf.track([(0, smf.note_on(0, 60, 80)), (4 * PPQ, smf.note_off(0, 60))])
    third = smf.track([(0, smf.note_on(0, 64, 70)), (PPQ, smf.note_off(0, 60)), (0, smf.note_off(0, 64))])
    data = smf.file(1, PPQ, [first, second, third])
    assert sounded(midi_bytes(parse_midi(data))) == sounded(data)
    assert sounded(round_trip(data)) == sounded(data)


def test_pedal_moves_of_tracks_sharing_a_channel_keep_their_order(smf):
    first = smf.track([(0, smf.control(0, 64, 127)), (2 * PPQ, smf.control(0, 64, 127)), (0, smf.note_on(0, 60, 9)),
                       (PPQ, smf.note_off(0, 60))])
    second = smf.track([(PPQ, smf.control(0, 64, 0)), (0, smf.note_on(0, 62, 9)), (PPQ, smf.note_off(0, 62))])
    data = smf.file(1, PPQ, [first, second])
    assert player(round_trip(data)).pedals == player(data).pedals == {0: [(0, 127), (PPQ, 0), (2 * PPQ, 127)]}


def test_a_note_nothing_releases_ends_with_the_file(smf):
    events = [(0, smf.note_on(0, 60, 100)), (PPQ, smf.note_on(0, 64, 100)), (PPQ, smf.note_off(0, 64))]
    song = parse_midi(smf.file(0, PPQ, [smf.track(events), smf.track([(4 * PPQ, smf.meta(0x01, b"end"))])]))
    assert song.tracks[0].notes[0] == Note(60, 0, 4 * PPQ, 100)


def test_a_drum_hit_with_no_note_off_is_short(smf):
    events = [(0, smf.note_on(9, 36, 120)), (PPQ, smf.note_on(9, 38, 100)), (1, smf.note_on(9, 36, 110))]
    events += [(20 * PPQ, smf.note_on(0, 60, 90)), (PPQ, smf.note_off(0, 60))]
    song = parse_midi(smf.file(0, PPQ, [smf.track(events)]))
    (drums,) = [t for t in song.tracks if t.is_drum]
    assert drums.notes == (Note(36, 0, PPQ // 4, 120), Note(38, PPQ, PPQ // 4, 100), Note(36, PPQ + 1, PPQ // 4, 110))


def test_type_2_tracks_are_read_side_by_side_as_players_play_them(smf):
    first = smf.track([(0, smf.note_on(0, 60, 100))])
    second = smf.track([(PPQ, smf.note_on(0, 60, 0))])
    song = parse_midi(smf.file(2, PPQ, [first, second]))
    assert song.tracks[0].notes == (Note(60, 0, PPQ, 100),)


# --- point 2: export that sounds like the roll -----------------------------------------------


def test_same_pitch_notes_that_start_together_sound_as_the_roll_shows():
    # A zero-length note and a held note of one key at one tick: on, on, off, off cut the held one.
    notes = (Note(62, 100, 0, 50), Note(62, 100, 300, 60), Note(64, 0, 480, 70), Note(64, 480, 0, 71))
    song = Song(ppq=PPQ, tracks=(Track(name="t", channel=2, notes=notes),))
    assert sounded(midi_bytes(song)) == song_notes(song)


def test_overlapping_notes_of_one_key_are_never_cut_short():
    notes = (Note(60, 0, 480, 10), Note(60, 0, 240, 20), Note(60, 960, 100, 30), Note(60, 1000, 500, 40))
    song = Song(ppq=PPQ, tracks=(Track(name="t", notes=notes),))
    heard = {(s, v): e for s, e, _, _, v in sounded(midi_bytes(song))}
    assert heard == {(0, 10): 480, (0, 20): 480, (960, 30): 1500, (1000, 40): 1500}
    assert all(heard[(n.start, n.velocity)] >= n.end for n in notes)
    assert Counter((n.start, n.end) for n in sounding_notes(notes)) == Counter((s, e) for (s, _), e in heard.items())


@pytest.mark.parametrize("seed", range(8))
def test_a_player_sounds_every_exported_note_as_sounding_notes_says(make_random_song, seed):
    song = make_random_song(seed, ppq=[96, 480, 960][seed % 3], n_tracks=2 + seed % 3)
    expected = Counter(
        (n.start, n.end, t.midi_channel, n.pitch, n.velocity) for t in song.tracks for n in sounding_notes(t.notes)
    )
    assert sounded(midi_bytes(song)) == expected
    back = parse_midi(midi_bytes(song))
    assert song_notes(back) == expected  # and the app reads back exactly that


# --- point 3: what a round trip keeps -------------------------------------------------------


def round_trip(data: bytes) -> bytes:
    """MIDI -> app -> project file -> app -> MIDI, as `desktop-app convert` does it twice."""
    return midi_bytes(parse_project(project_bytes(Project(parse_midi(data)))).song)


def test_program_changes_in_the_middle_of_a_track_are_kept(smf):
    events = [
        (0, smf.program(3, 40)),
        (0, smf.note_on(3, 60, 100)),
        (PPQ, smf.note_off(3, 60)),
        (0, smf.program(3, 41)),  # the viola takes over
        (0, smf.note_on(3, 62, 100)),
        (PPQ, smf.note_off(3, 62)),
        (0, smf.program(3, 42)),
        (0, smf.note_on(3, 64, 100)),
        (PPQ, smf.note_off(3, 64)),
    ]
    data = smf.file(1, PPQ, [smf.track(events)])
    (track,) = parse_midi(data).tracks
    assert track.program == 40
    assert track.programs == (ProgramChange(PPQ, 41), ProgramChange(2 * PPQ, 42))
    again = player(round_trip(data))
    assert [(v.pitch, v.program) for v in again.voices] == [(60, 40), (62, 41), (64, 42)]


def test_a_set_up_track_program_reaches_the_notes_of_its_channel(smf):
    setup = smf.track([(0, smf.program(0, 73)), (2 * PPQ, smf.program(0, 71))])
    part = smf.track([(0, smf.note_on(0, 72, 90)), (PPQ, smf.note_off(0, 72)), (PPQ, smf.note_on(0, 74, 90)),
                      (PPQ, smf.note_off(0, 74))])
    data = smf.file(1, PPQ, [setup, part])
    (track,) = parse_midi(data).tracks
    assert (track.program, track.programs) == (73, (ProgramChange(2 * PPQ, 71),))
    assert [v.program for v in player(round_trip(data)).voices] == [v.program for v in player(data).voices] == [73, 71]


def test_the_sustain_pedal_is_kept(smf):
    events = [
        (0, smf.control(0, 64, 127)),
        (0, smf.note_on(0, 48, 90)),
        (PPQ, smf.note_off(0, 48)),
        (PPQ, smf.control(0, 64, 0)),
        (0, smf.control(0, 64, 100)),
        (PPQ, smf.control(0, 64, 0)),
    ]
    data = smf.file(1, PPQ, [smf.track(events)])
    (track,) = parse_midi(data).tracks
    # Lifted and pressed again at one tick (a pedal change): both kept, in order.
    assert track.controls == (ControlChange(0, 64, 127), ControlChange(2 * PPQ, 64, 0),
                              ControlChange(2 * PPQ, 64, 100), ControlChange(3 * PPQ, 64, 0))
    assert player(round_trip(data)).pedals == player(data).pedals == {
        0: [(0, 127), (2 * PPQ, 0), (2 * PPQ, 100), (3 * PPQ, 0)]
    }


def test_the_tempo_map_is_kept(smf):
    conductor = smf.track([(0, smf.tempo(600_000)), (PPQ, smf.tempo(400_000)), (3 * PPQ, smf.tempo(450_000))])
    data = smf.file(1, PPQ, [conductor, smf.track([(0, smf.note_on(0, 60, 90)), (5 * PPQ, smf.note_off(0, 60))])])
    assert player(round_trip(data)).tempos == player(data).tempos == [(0, 600_000), (PPQ, 400_000), (4 * PPQ, 450_000)]


MUSIC21_MIDI = sorted(
    p for p in (Path(mido.__file__).parents[1] / "music21").rglob("*.mid")
) if (Path(mido.__file__).parents[1] / "music21").is_dir() else []


@pytest.mark.parametrize("path", MUSIC21_MIDI, ids=lambda p: p.name)
def test_music21s_midi_files_sound_the_same_after_a_round_trip(path):
    data = path.read_bytes()
    original, again = player(data), player(round_trip(data))
    key = lambda v: (v.start, v.end if v.end is not None else original.end, v.channel, v.pitch, v.velocity, v.program)
    assert Counter(map(key, again.voices)) == Counter(map(key, original.voices))
    assert again.tempos == original.tempos
    assert again.pedals == original.pedals
