"""Bad MIDI input: every failure is a MusicFileError that names the file and says why."""

from __future__ import annotations

import random
import struct

import pytest

from desktop_app.music import MusicFileError
from desktop_app.music.midi_io import parse_midi, read_midi


@pytest.fixture
def good(smf) -> bytes:
    """A valid type 1 file: a conductor track and one part of a few notes."""
    conductor = smf.track([(0, smf.tempo(500_000)), (0, smf.time_signature(4, 4))])
    part = smf.track(
        [(0, smf.track_name("Piano"))]
        + [(0 if i == 0 else 120, smf.note_on(0, 60 + i, 100)) for i in range(8)]
        + [(120, smf.note_off(0, 60 + i)) for i in range(8)]
    )
    return smf.file(1, 480, [conductor, part])


def read_error(tmp_path, data: bytes, name: str = "song.mid") -> tuple[MusicFileError, str]:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(MusicFileError) as info:
        read_midi(path)
    err = info.value
    assert err.path == str(path)
    assert str(path) in str(err)
    assert err.reason and err.reason in str(err)
    return err, str(err)


def test_the_good_file_reads(good, tmp_path):
    path = tmp_path / "good.mid"
    path.write_bytes(good)
    assert read_midi(path).note_count == 8


def test_zero_length_file(tmp_path):
    err, _ = read_error(tmp_path, b"")
    assert "empty" in err.reason


def test_random_bytes(tmp_path):
    rng = random.Random(1234)
    data = bytes(rng.randrange(256) for _ in range(2000))
    assert data[:4] != b"MThd"
    err, _ = read_error(tmp_path, data)
    assert "not a MIDI file" in err.reason and "MThd" in err.reason


def test_text_file_renamed_mid(tmp_path):
    err, _ = read_error(tmp_path, b"Shopping list\n- milk\n- eggs\n" * 20, name="notes.mid")
    assert "not a MIDI file" in err.reason and "text" in err.reason


def test_riff_midi_is_named(tmp_path):
    err, _ = read_error(tmp_path, b"RIFF\x20\x00\x00\x00RMIDdata" + bytes(20), name="song.rmi.mid")
    assert "RIFF" in err.reason


@pytest.mark.parametrize("cut", [0.55, 0.8, 0.99])
def test_truncated_in_the_middle_of_a_track(good, tmp_path, cut):
    second_track = good.index(b"MTrk", 14 + 8)
    end = second_track + 8 + int((len(good) - second_track - 8) * cut)
    err, _ = read_error(tmp_path, good[:end])
    assert "truncated" in err.reason
    assert "track 2" in err.reason


def test_truncated_in_the_header(good, tmp_path):
    err, _ = read_error(tmp_path, good[:10])
    assert "truncated" in err.reason and "header" in err.reason


def test_header_promises_more_tracks_than_the_file_holds(good, tmp_path):
    data = good[:10] + struct.pack(">H", 3) + good[12:]
    err, _ = read_error(tmp_path, data)
    assert "promises 3 tracks" in err.reason and "holds 2" in err.reason


def test_cut_between_tracks(good, tmp_path):
    second_track = good.index(b"MTrk", 14 + 8)
    err, _ = read_error(tmp_path, good[:second_track])
    assert "promises 2 tracks" in err.reason and "holds 1" in err.reason


def test_zero_time_division(good, tmp_path):
    err, _ = read_error(tmp_path, good[:12] + struct.pack(">H", 0) + good[14:])
    assert "time division" in err.reason and "zero" in err.reason


def test_smpte_time_division(good, tmp_path):
    smpte = struct.pack(">bB", -25, 40)  # 25 frames a second, 40 ticks a frame
    err, _ = read_error(tmp_path, good[:12] + smpte + good[14:])
    assert "SMPTE" in err.reason


def test_unknown_format_and_no_tracks(good, tmp_path):
    err, _ = read_error(tmp_path, good[:8] + struct.pack(">H", 3) + good[10:])
    assert "format 3" in err.reason
    err, _ = read_error(tmp_path, good[:10] + struct.pack(">H", 0) + good[12:])
    assert "no tracks" in err.reason


def test_bad_header_length(good, tmp_path):
    err, _ = read_error(tmp_path, good[:4] + struct.pack(">I", 2) + good[8:])
    assert "header length" in err.reason


def test_damaged_events_inside_a_sound_chunk(smf, tmp_path):
    undefined_status = smf.chunk(b"MTrk", smf.vlq(0) + bytes([0xF4, 1, 2]) + smf.vlq(0) + smf.end_of_track())
    err, _ = read_error(tmp_path, smf.file(0, 480, [undefined_status]))
    assert "damaged MIDI data" in err.reason
    no_status = smf.chunk(b"MTrk", smf.vlq(0) + bytes([60, 100]) + smf.vlq(0) + smf.end_of_track())
    err, _ = read_error(tmp_path, smf.file(0, 480, [no_status]))
    assert "damaged MIDI data" in err.reason and "running status" in err.reason


def test_an_event_cut_off_by_the_end_of_its_chunk(smf, tmp_path):
    cut_event = smf.chunk(b"MTrk", smf.vlq(0) + bytes([0x90, 60]))  # note-on missing its velocity
    err, _ = read_error(tmp_path, smf.file(0, 480, [cut_event]))
    assert "damaged MIDI data" in err.reason and "middle of an event" in err.reason


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.mid"
    with pytest.raises(MusicFileError) as info:
        read_midi(path)
    assert info.value.path == str(path) and "no such file" in str(info.value)


def test_a_folder(tmp_path):
    folder = tmp_path / "folder.mid"
    folder.mkdir()
    with pytest.raises(MusicFileError) as info:
        read_midi(folder)
    assert info.value.path == str(folder) and "folder" in info.value.reason


def test_bytes_without_a_name_are_called_bytes():
    with pytest.raises(MusicFileError) as info:
        parse_midi(b"")
    assert str(info.value).startswith("<bytes>: ")
    with pytest.raises(MusicFileError) as info:
        parse_midi(b"nonsense", "from the clipboard")
    assert info.value.path == "from the clipboard"


def test_junk_where_a_track_should_be(smf, tmp_path):
    t1 = smf.track([(0, smf.note_on(0, 60, 100)), (10, smf.note_off(0, 60))])
    junk = b"\x00\x01\x02\x03" + struct.pack(">I", 0)  # not a chunk name: not skipped like one
    err, _ = read_error(tmp_path, smf.file(1, 480, [t1, junk, t1], n_tracks=2))
    assert "promises 2 tracks" in err.reason and "holds 1" in err.reason
