"""Names in MIDI files decoded as the file meant them (issue 8, point 5): the standard names no
encoding, and mido reads meta text as Latin-1, so anything else showed as mojibake."""

from __future__ import annotations

import pytest

from desktop_app.music import Note, Song, Track
from desktop_app.music.midi_io import midi_bytes, parse_midi
from desktop_app.music.midi_text import text_encoding


def name(smf, raw: bytes) -> bytes:
    return smf.meta(0x03, raw)


def file_with_names(smf, title: bytes, *track_names: bytes) -> bytes:
    conductor = smf.track([(0, name(smf, title)), (0, smf.tempo(500_000))])
    parts = [
        smf.track([(0, name(smf, raw)), (0, smf.note_on(i, 60, 90)), (480, smf.note_off(i, 60))])
        for i, raw in enumerate(track_names)
    ]
    return smf.file(1, 480, [conductor, *parts])


def test_a_shift_jis_file(smf):
    title, parts = "交響曲第5番", ["ヴァイオリン", "チェロ"]
    song = parse_midi(file_with_names(smf, title.encode("shift_jis"), *(p.encode("shift_jis") for p in parts)))
    assert song.title == title
    assert [t.name for t in song.tracks] == parts


def test_a_shift_jis_title_alone(smf):
    song = parse_midi(file_with_names(smf, "夜の歌".encode("shift_jis"), b"Piano"))
    assert song.title == "夜の歌"
    assert song.tracks[0].name == "Piano"


def test_utf8_track_names(smf):
    parts = ["Geige über alles", "Виолончель", "小提琴"]
    song = parse_midi(file_with_names(smf, b"Quartet", *(p.encode("utf-8") for p in parts)))
    assert [t.name for t in song.tracks] == parts


@pytest.mark.parametrize("text", ["Café Señor", "Größe", "Piano ©2003"])
def test_latin_1_and_windows_1252_names_stay_as_they_were(smf, text):
    song = parse_midi(file_with_names(smf, b"Title", text.encode("cp1252")))
    assert song.tracks[0].name == text


def test_ascii_names(smf):
    song = parse_midi(file_with_names(smf, b"Song", b"Violin I"))
    assert (song.title, song.tracks[0].name) == ("Song", "Violin I")


def test_names_in_any_script_survive_export_and_import():
    song = Song(title="菩提樹 – Der Lindenbaum", tracks=(Track(name="Голос", notes=(Note(60, 0, 10),)),))
    back = parse_midi(midi_bytes(song))
    assert (back.title, back.tracks[0].name) == (song.title, "Голос")


def test_one_encoding_is_chosen_for_all_the_text_of_a_file():
    texts = ["シューベルト".encode("shift_jis"), "ピアノ".encode("shift_jis"), "歌".encode("shift_jis")]
    assert text_encoding(texts) == "cp932"
    assert text_encoding([b"plain"]) == "ascii"
    assert text_encoding(["é".encode("utf-8")]) == "utf-8"
    assert text_encoding([b"\x01\x81\x8d"]) == "latin-1"  # plausible in nothing else: kept byte for byte
