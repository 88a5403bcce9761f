"""Standard MIDI file import and export. The files are assembled byte by byte (see conftest.SMF)."""

from __future__ import annotations

import io
import os

import mido
import pytest

from desktop_app.music import KeySignature, Note, Song, TempoChange, TimeSignature, Track
from desktop_app.music.controls import ProgramChange
from desktop_app.music.midi_io import midi_bytes, parse_midi, read_midi, write_midi
from desktop_app.music.sounding import sounding_notes


def note_key(n: Note):
    return (n.start, n.pitch, n.duration, n.velocity)


def notes_of(track: Track):
    return sorted(note_key(n) for n in track.notes)


# --- SMF type 0 and type 1 -------------------------------------------------------------------


def test_type_0_is_split_into_one_track_per_channel(smf):
    events = [
        (0, smf.track_name("Band")),
        (0, smf.tempo(600_000)),
        (0, smf.time_signature(3, 4)),
        (0, smf.program(0, 0)),
        (0, smf.program(1, 33)),
        (0, smf.program(9, 0)),
        (0, smf.note_on(0, 60, 100)),
        (0, smf.note_on(1, 36, 90)),
        (0, smf.note_on(9, 42, 80)),
        (120, smf.note_off(9, 42)),
        (360, smf.note_off(0, 60)),
        (0, smf.note_on(0, 64, 101)),
        (480, smf.note_off(0, 64)),
        (0, smf.note_off(1, 36)),
    ]
    song = parse_midi(smf.file(0, 480, [smf.track(events)]))
    assert song.ppq == 480
    assert [t.channel for t in song.tracks] == [0, 1, 9]
    assert [t.is_drum for t in song.tracks] == [False, False, True]
    assert [t.program for t in song.tracks] == [0, 33, 0]
    assert [t.name for t in song.tracks] == [
        "Band (Acoustic Grand Piano)",
        "Band (Electric Bass (finger))",
        "Band (Drum Kit)",
    ]
    piano, bass, drums = song.tracks
    assert piano.notes == (Note(60, 0, 480, 100), Note(64, 480, 480, 101))
    assert bass.notes == (Note(36, 0, 960, 90),)
    assert drums.notes == (Note(42, 0, 120, 80),)
    assert song.tempos == (TempoChange(0, 600_000),)
    assert song.time_signatures == (TimeSignature(0, 3, 4),)


def test_type_0_without_a_name_is_labelled_by_instrument(smf):
    events = [
        (0, smf.program(2, 40)),
        (0, smf.note_on(2, 70, 50)),
        (0, smf.note_on(3, 50, 50)),
        (10, smf.note_off(2, 70)),
        (0, smf.note_off(3, 50)),
    ]
    song = parse_midi(smf.file(0, 96, [smf.track(events)]))
    assert [(t.name, t.channel, t.program) for t in song.tracks] == [
        ("Violin", 2, 40),
        ("Acoustic Grand Piano", 3, 0),
    ]


def test_type_1_with_many_tracks(smf):
    conductor = smf.track([(0, smf.track_name("Symphony")), (0, smf.tempo(400_000))])
    parts = []
    for i in range(15):
        ch = i if i < 9 else i + 1  # skip the drum channel
        parts.append(
            smf.track(
                [
                    (0, smf.track_name(f"Part {i}")),
                    (0, smf.program(ch, i * 8)),
                    (0, smf.control(ch, 7, 10 + i)),
                    (0, smf.control(ch, 10, 127 - i)),
                    (i * 10, smf.note_on(ch, 40 + i, 60 + i)),
                    (100 + i, smf.note_off(ch, 40 + i)),
                ]
            )
        )
    song = parse_midi(smf.file(1, 960, [conductor, *parts]))
    assert song.title == "Symphony"
    assert song.ppq == 960
    assert len(song.tracks) == 15
    for i, t in enumerate(song.tracks):
        assert t.name == f"Part {i}"
        assert t.channel == (i if i < 9 else i + 1)
        assert t.program == i * 8
        assert (t.volume, t.pan) == (10 + i, 127 - i)
        assert not t.is_drum
        assert t.notes == (Note(40 + i, i * 10, 100 + i, 60 + i),)
    assert song.tempos == (TempoChange(0, 400_000),)


def test_tempo_time_signature_and_key_changes(smf):
    conductor = smf.track(
        [
            (0, smf.time_signature(4, 4)),
            (0, smf.key_signature(3, True)),  # F# minor
            (0, smf.tempo(500_000)),
            (1920, smf.tempo(250_000)),
            (0, smf.time_signature(3, 4)),
            (1440, smf.time_signature(6, 8)),
            (0, smf.key_signature(-2, False)),  # Bb major
            (480, smf.tempo(1_000_000)),
        ]
    )
    part = smf.track([(0, smf.note_on(0, 60, 100)), (5000, smf.note_off(0, 60))])
    song = parse_midi(smf.file(1, 480, [conductor, part]))
    assert song.tempos == (TempoChange(0, 500_000), TempoChange(1920, 250_000), TempoChange(3840, 1_000_000))
    assert song.time_signatures == (TimeSignature(0, 4, 4), TimeSignature(1920, 3, 4), TimeSignature(3360, 6, 8))
    assert song.keys == (KeySignature(0, "F#m"), KeySignature(3360, "Bb"))
    assert song.tempo_map.seconds(1920) == pytest.approx(2.0)
    assert song.tempo_map.seconds(3840) == pytest.approx(3.0)
    assert str(song.meter.bar_beat(3360)) == "3:1"


def test_defaults_when_the_file_says_nothing(smf):
    song = parse_midi(smf.file(1, 480, [smf.track([(0, smf.note_on(0, 60, 1)), (1, smf.note_off(0, 60))])]))
    assert song.tempos == (TempoChange(0, 500_000),)
    assert song.time_signatures == (TimeSignature(0, 4, 4),)
    assert song.keys == ()
    assert song.title == ""
    assert song.tracks[0].volume == 100 and song.tracks[0].pan == 64


def test_a_late_first_tempo_keeps_120_bpm_before_it(smf):
    song = parse_midi(smf.file(1, 480, [smf.track([(960, smf.tempo(250_000))])]))
    assert song.tempos == (TempoChange(0, 500_000), TempoChange(960, 250_000))


def test_drums_on_channel_10(smf):
    events = [
        (0, smf.note_on(9, 36, 127)),
        (60, smf.note_off(9, 36)),
        (0, smf.note_on(9, 38, 100)),
        (60, smf.note_off(9, 38)),
    ]
    song = parse_midi(smf.file(1, 480, [smf.track([(0, smf.track_name("Kit")), *events])]))
    (drums,) = song.tracks
    assert drums.is_drum and drums.channel == 9 and drums.midi_channel == 9
    assert drums.name == "Kit"
    assert drums.notes == (Note(36, 0, 60, 127), Note(38, 60, 60, 100))


def test_note_on_with_velocity_zero_is_a_note_off(smf):
    events = [
        (0, smf.note_on(0, 60, 100)),
        (240, smf.note_on(0, 60, 0)),
        (0, smf.note_on(0, 60, 90)),
        (240, smf.note_on(0, 60, 0)),
    ]
    song = parse_midi(smf.file(0, 480, [smf.track(events)]))
    assert song.tracks[0].notes == (Note(60, 0, 240, 100), Note(60, 240, 240, 90))


def test_overlapping_notes_of_one_pitch_end_at_the_off_that_releases_them(smf):
    events = [
        (0, smf.note_on(0, 60, 10)),
        (100, smf.note_on(0, 60, 20)),
        (100, smf.note_off(0, 60)),  # releases both sounding notes, as a player does
        (0, smf.note_on(0, 60, 30)),
        (100, smf.note_off(0, 60)),  # the third
        (50, smf.note_on(0, 60, 0)),  # finds nothing sounding
    ]
    song = parse_midi(smf.file(0, 480, [smf.track(events)]))
    assert song.tracks[0].notes == (Note(60, 0, 200, 10), Note(60, 100, 100, 20), Note(60, 200, 100, 30))


def test_a_note_off_without_a_note_on_is_ignored(smf):
    events = [
        (0, smf.note_off(0, 61)),
        (0, smf.note_on(0, 60, 5)),
        (10, smf.note_off(0, 60)),
        (10, smf.note_off(0, 60)),
    ]
    song = parse_midi(smf.file(0, 480, [smf.track(events)]))
    assert song.tracks[0].notes == (Note(60, 0, 10, 5),)


def test_running_status(smf):
    # One status byte, then data pairs alone; a different status resets it.
    body = (
        smf.vlq(0) + bytes([0x91, 60, 100])
        + smf.vlq(0) + bytes([64, 90])  # running: note on ch 1
        + smf.vlq(240) + bytes([60, 0])  # running: velocity 0 ends 60
        + smf.vlq(0) + bytes([64, 0])
        + smf.vlq(0) + bytes([0xC1, 5])  # program change
        + smf.vlq(0) + bytes([7])  # running program change
        + smf.vlq(0) + bytes([0x81, 67, 0])  # note-off status for a note that was never on
        + smf.vlq(0) + bytes([0x91, 67, 80])
        + smf.vlq(120) + bytes([0x81, 67, 64])
        + smf.vlq(0) + smf.meta(0x2F, b"")
    )
    song = parse_midi(smf.file(0, 480, [smf.chunk(b"MTrk", body)]))
    (t,) = song.tracks
    # The notes at 0 play the default program; the changes at 240 reach the note begun after them.
    assert t.channel == 1 and t.program == 0 and t.programs == (ProgramChange(240, 7),)
    assert t.notes == (Note(60, 0, 240, 100), Note(64, 0, 240, 90), Note(67, 240, 120, 80))


def test_running_status_through_a_meta_event(smf):
    body = (
        smf.vlq(0) + bytes([0x90, 60, 100])
        + smf.vlq(0) + smf.track_name("x")  # meta events do not cancel running status
        + smf.vlq(100) + bytes([60, 0])
    )
    song = parse_midi(smf.file(0, 480, [smf.chunk(b"MTrk", body)]))
    assert song.tracks[0].notes == (Note(60, 0, 100, 100),)


def test_a_track_without_end_of_track(smf):
    unfinished = smf.track(
        [
            (0, smf.note_on(0, 60, 100)),
            (480, smf.note_off(0, 60)),
            (0, smf.note_on(0, 62, 100)),
            (960, smf.note_on(0, 64, 1)),
        ],
        end_of_track=False,
    )
    second = smf.track([(0, smf.note_on(1, 40, 100)), (10, smf.note_off(1, 40))])
    song = parse_midi(smf.file(1, 480, [unfinished, second]))
    assert len(song.tracks) == 2
    # Notes never released end with the track's last event.
    assert song.tracks[0].notes == (Note(60, 0, 480, 100), Note(62, 480, 960, 100), Note(64, 1440, 0, 1))
    assert song.tracks[1].notes == (Note(40, 0, 10, 100),)


def test_other_chunks_between_tracks_are_skipped(smf):
    t1 = smf.track([(0, smf.note_on(0, 60, 100)), (10, smf.note_off(0, 60))])
    t2 = smf.track([(0, smf.note_on(1, 61, 100)), (20, smf.note_off(1, 61))])
    junk1 = smf.chunk(b"XFIH", b"\x00\x01\x02\x03MTrk\x00\x00\x00\x00")
    junk2 = smf.chunk(b"Abcd", b"")
    data = smf.file(1, 480, [junk1, t1, junk2, junk1, t2])
    song = parse_midi(data)
    assert [t.notes for t in song.tracks] == [(Note(60, 0, 10, 100),), (Note(61, 0, 20, 100),)]


def test_trailing_bytes_after_the_last_track_are_ignored(smf):
    t1 = smf.track([(0, smf.note_on(0, 60, 100)), (10, smf.note_off(0, 60))])
    song = parse_midi(smf.file(1, 480, [t1]) + b"\x00\x00garbage\xff")
    assert song.tracks[0].notes == (Note(60, 0, 10, 100),)


def test_a_longer_header_is_honoured(smf):
    # The standard says to read the MThd length and skip what follows the three known fields.
    t1 = smf.track([(0, smf.note_on(0, 60, 100)), (10, smf.note_off(0, 60))])
    t2 = smf.track([(0, smf.note_on(1, 62, 100)), (20, smf.note_off(1, 62))])
    data = smf.header(1, 2, 480, extra=b"\x12\x34") + t1 + t2
    song = parse_midi(data)
    assert song.ppq == 480
    assert [t.notes for t in song.tracks] == [(Note(60, 0, 10, 100),), (Note(62, 0, 20, 100),)]


def test_type_2_reads_too(smf):
    t1 = smf.track([(0, smf.note_on(0, 60, 100)), (10, smf.note_off(0, 60))])
    song = parse_midi(smf.file(2, 480, [t1, t1]))
    assert len(song.tracks) == 2


def test_title_from_the_file_name(smf, tmp_path):
    path = tmp_path / "My Song.mid"
    path.write_bytes(smf.file(1, 480, [smf.track([(0, smf.note_on(0, 60, 100)), (10, smf.note_off(0, 60))])]))
    assert read_midi(path).title == "My Song"
    assert read_midi(str(path)).title == "My Song"


# --- export ----------------------------------------------------------------------------------


def test_export_is_type_1_with_a_conductor_track():
    song = Song(
        ppq=960,
        tempos=(TempoChange(0, 400_000), TempoChange(960, 300_000)),
        time_signatures=(TimeSignature(0, 6, 8),),
        keys=(KeySignature(0, "Ebm"),),
        tracks=(
            Track(name="A", program=5, channel=3, notes=(Note(60, 0, 10, 20),)),
            Track(name="Drums", program=1, channel=2, is_drum=True, notes=(Note(36, 5, 10, 30),)),
        ),
        title="Title",
    )
    midi = mido.MidiFile(file=io.BytesIO(midi_bytes(song)))
    assert midi.type == 1 and midi.ticks_per_beat == 960 and len(midi.tracks) == 3
    conductor = [m for m in midi.tracks[0] if m.is_meta]
    assert ("track_name", "Title") in [(m.type, getattr(m, "name", None)) for m in conductor]
    assert [m.tempo for m in conductor if m.type == "set_tempo"] == [400_000, 300_000]
    assert not any(not m.is_meta for m in midi.tracks[0])
    drum_channels = {m.channel for m in midi.tracks[2] if not m.is_meta}
    assert drum_channels == {9}  # drums always play on channel 10
    again = parse_midi(midi_bytes(song))
    assert again.tracks[1].is_drum and again.tracks[1].channel == 9
    assert again.keys == song.keys and again.title == "Title"


def test_export_of_notes_of_one_pitch_that_start_together():
    # Zero-length notes cut nothing; two held notes of one key sound until the later end.
    notes = (
        Note(60, 0, 480, 10),
        Note(60, 0, 240, 120),
        Note(62, 100, 0, 50),
        Note(62, 100, 300, 60),
        Note(62, 100, 0, 70),
    )
    song = Song(ppq=480, tracks=(Track(name="t", notes=notes),))
    back = parse_midi(midi_bytes(song))
    assert notes_of(back.tracks[0]) == sorted(
        [(0, 60, 480, 10), (0, 60, 480, 120), (100, 62, 0, 50), (100, 62, 300, 60), (100, 62, 0, 70)]
    )


def test_zero_length_and_touching_notes_round_trip():
    notes = (Note(60, 0, 100), Note(60, 100, 0, 5), Note(60, 100, 50, 6), Note(60, 150, 0, 7), Note(61, 0, 0, 8))
    song = Song(ppq=96, tracks=(Track(name="t", notes=notes),))
    assert notes_of(parse_midi(midi_bytes(song)).tracks[0]) == sorted(note_key(n) for n in notes)


def assert_same_song(a: Song, b: Song) -> None:
    assert b.ppq == a.ppq
    assert b.tempos == a.tempos
    assert b.time_signatures == a.time_signatures
    assert b.keys == a.keys
    assert b.title == a.title
    assert len(b.tracks) == len(a.tracks)
    for ta, tb in zip(a.tracks, b.tracks):
        assert (tb.name, tb.program, tb.channel, tb.is_drum, tb.volume, tb.pan) == (
            ta.name,
            ta.program,
            ta.midi_channel,
            ta.is_drum,
            ta.volume,
            ta.pan,
        )
        # What a player sounds from the notes: overlapping notes of one key end together.
        assert notes_of(tb) == sorted(note_key(n) for n in sounding_notes(ta.notes))


@pytest.mark.parametrize("ppq", [96, 480, 960])
@pytest.mark.parametrize("seed", range(6))
def test_round_trip_of_random_songs_is_tick_exact(make_random_song, ppq, seed):
    song = make_random_song(seed, ppq=ppq, n_tracks=2 + seed % 4)
    back = parse_midi(midi_bytes(song))
    assert_same_song(song, back)
    assert back.note_count == song.note_count
    # Notes as a player sounds them come back exactly.
    assert [notes_of(t) for t in parse_midi(midi_bytes(back)).tracks] == [notes_of(t) for t in back.tracks]
    # And once more: the exported file is stable.
    assert midi_bytes(back) == midi_bytes(parse_midi(midi_bytes(back)))


def test_round_trip_of_a_hand_made_file(smf):
    conductor = smf.track([(0, smf.tempo(450_000)), (0, smf.time_signature(7, 8)), (700, smf.tempo(300_000))])
    events = [
        (0, smf.program(4, 19)),
        (0, smf.note_on(4, 50, 100)),
        (3, smf.note_on(4, 50, 90)),
        (5, smf.note_on(4, 50, 0)),
        (7, smf.note_off(4, 50)),
        (0, smf.note_on(9, 36, 127)),
        (1, smf.note_on(9, 36, 0)),
        (0, smf.note_on(0, 1, 1)),
    ]
    first = parse_midi(smf.file(1, 384, [conductor, smf.track(events)]))
    again = parse_midi(midi_bytes(first))
    assert_same_song(first, again)
    assert {t.channel for t in first.tracks} == {0, 4, 9}


def test_write_and_read_a_file(make_random_song, tmp_path):
    song = make_random_song(11, ppq=480, n_tracks=3)
    path = tmp_path / "out.mid"
    path.write_bytes(b"old contents")
    write_midi(song, path)
    assert os.listdir(tmp_path) == ["out.mid"]  # replaced whole, no temporary file left
    assert path.read_bytes() == midi_bytes(song)
    assert_same_song(song, read_midi(path))  # the title comes from the conductor track, not the file name
