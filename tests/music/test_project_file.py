"""The .dap project file: round trip, validation of damaged files, atomic saves."""

from __future__ import annotations

import copy
import json
import os

import pytest

from desktop_app.music import KeySignature, MusicFileError, Note, Song, TempoChange, TimeSignature, Track
from desktop_app.music import files
from desktop_app.music.project_file import (
    FORMAT_NAME,
    FORMAT_VERSION,
    Project,
    project_bytes,
    read_project,
    write_project,
)

VIEW = {"zoom": 1.5, "scroll": [120, 40], "selected": {"track": 2, "notes": [0, 3, 5]}, "panel": None, "grid": "1/16"}
META = {"recovered_from": "/home/someone/Música/song.dap", "saved_at": "2024-05-01T10:00:00", "n": 3}


@pytest.fixture
def song(make_random_song) -> Song:
    base = make_random_song(3, ppq=960, n_tracks=4, notes_per_track=40)
    tracks = list(base.tracks)
    tracks[0] = Track(
        name="Ünïcödé 🎹 lead",
        program=81,
        channel=4,
        notes=tracks[0].notes,
        mute=True,
        solo=False,
        volume=0,
        pan=127,
        color="#a1B2c3",
    )
    tracks[1] = Track(name="", program=0, channel=1, solo=True, notes=tracks[1].notes)
    tracks.append(Track(name="Empty"))  # a track with no notes survives too
    return Song(
        ppq=960,
        tempos=(TempoChange(0, 500_000), TempoChange(3840, 333_333), TempoChange(7000, 1_250_000)),
        time_signatures=(TimeSignature(0, 4, 4), TimeSignature(3840, 7, 8), TimeSignature(9000, 5, 16)),
        keys=(KeySignature(0, "Ebm"), KeySignature(3840, "C#")),
        tracks=tuple(tracks),
        title="Ein Lied — «test»",
    )


def test_round_trip_equals_the_song(song, tmp_path):
    path = tmp_path / "song.dap"
    write_project(Project(song, copy.deepcopy(VIEW), copy.deepcopy(META)), path)
    back = read_project(path)
    assert back.song == song
    assert back.song.tracks == song.tracks  # every setting and note of every track, in order
    assert back.view == VIEW
    assert back.meta == META


def test_note_order_survives(tmp_path):
    notes = (Note(70, 900, 10, 1), Note(60, 0, 0, 127), Note(65, 450, 6_000_000, 64))
    song = Song(tracks=(Track(notes=notes),))
    path = tmp_path / "order.dap"
    write_project(Project(song), path)
    assert read_project(path).song.tracks[0].notes == notes
    assert read_project(path).view == {} and read_project(path).meta == {}


def test_the_file_is_versioned_utf8_json(song):
    doc = json.loads(project_bytes(Project(song, VIEW, META)).decode("utf-8"))
    assert doc["format"] == FORMAT_NAME
    assert doc["version"] == FORMAT_VERSION
    assert isinstance(doc["app_version"], str)
    assert doc["song"]["ppq"] == 960
    assert doc["song"]["tracks"][0]["mute"] is True
    assert "Ünïcödé 🎹 lead".encode("utf-8") in project_bytes(Project(song))


def test_track_colour_round_trip(tmp_path):
    song = Song(tracks=(Track(name="Own", color="#ff8800"), Track(name="Palette"), Track(color="#ABCDEF")))
    doc = json.loads(project_bytes(Project(song)))
    assert [t["color"] for t in doc["song"]["tracks"]] == ["#ff8800", "", "#ABCDEF"]
    path = tmp_path / "colours.dap"
    write_project(Project(song), path)
    assert [t.color for t in read_project(path).song.tracks] == ["#ff8800", "", "#ABCDEF"]


def test_a_missing_colour_means_the_palette_one(tmp_path):
    doc = good_doc()
    del doc["song"]["tracks"][0]["color"]
    path = tmp_path / "old.dap"
    path.write_text(json.dumps(doc))
    assert read_project(path).song.tracks[0].color == ""


@pytest.mark.parametrize(
    "color", ["red", "#fff", "#12345g", "#1234567", "123456", " #123456", "#123456\n", None, 0xFF0000, []]
)
def test_a_bad_track_colour(tmp_path, color):
    doc = good_doc()
    doc["song"]["tracks"][0]["color"] = color
    reason = refused(tmp_path, doc)
    assert reason.startswith("damaged project file: ")
    assert "song.tracks[0].color" in reason and "#rrggbb" in reason


def test_missing_optional_fields_take_defaults(tmp_path):
    path = tmp_path / "minimal.dap"
    path.write_text(json.dumps({"format": FORMAT_NAME, "version": 1, "song": {"ppq": 96, "tracks": [{}]}}))
    project = read_project(path)
    assert project.song == Song(ppq=96, tracks=(Track(),))
    assert project.view == {} and project.meta == {}


# --- damaged files ---------------------------------------------------------------------------


def good_doc() -> dict:
    song = Song(
        ppq=480,
        tracks=(Track(name="A", notes=(Note(60, 0, 480, 100), Note(62, 480, 480, 90))),),
        keys=(KeySignature(0, "G"),),
    )
    return json.loads(project_bytes(Project(song, {"zoom": 1}, {})))


def refused(tmp_path, content: bytes | str | dict | list, name: str = "bad.dap") -> str:
    path = tmp_path / name
    if isinstance(content, (dict, list)):
        content = json.dumps(content)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    with pytest.raises(MusicFileError) as info:
        read_project(path)
    assert info.value.path == str(path)
    assert str(path) in str(info.value)
    return info.value.reason


def test_good_doc_reads(tmp_path):
    path = tmp_path / "good.dap"
    path.write_text(json.dumps(good_doc()))
    assert read_project(path).song.note_count == 2


def test_empty_file(tmp_path):
    assert "empty" in refused(tmp_path, b"")
    assert "empty" in refused(tmp_path, b"  \n ")


def test_not_json(tmp_path):
    reason = refused(tmp_path, '{"format": "desktop-app-project",\n "version": 1, oops}')
    assert "bad JSON" in reason and "line 2" in reason


def test_not_utf8(tmp_path):
    assert "not UTF-8" in refused(tmp_path, b"\xff\xfe\x00{\x00}garbage\x80\x81")


def test_a_midi_file_renamed(tmp_path):
    reason = refused(tmp_path, b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x00\x04\x00\xff\x2f\x00")
    assert "not a project file" in reason or "bad JSON" in reason


@pytest.mark.parametrize(
    "doc",
    [
        {"format": "something-else", "version": 1, "song": {"ppq": 480}},
        {"version": 1, "song": {"ppq": 480}},
        [1, 2, 3],
        "desktop-app-project",
        None,
    ],
)
def test_wrong_format_field(tmp_path, doc):
    reason = refused(tmp_path, json.dumps(doc))
    assert "not a project file" in reason and FORMAT_NAME in reason


def test_newer_version(tmp_path):
    doc = good_doc()
    doc["version"] = FORMAT_VERSION + 1
    reason = refused(tmp_path, doc)
    assert "newer version" in reason and f"format {FORMAT_VERSION + 1}" in reason


@pytest.mark.parametrize("version", [0, -1, "1", 1.0, True, None])
def test_bad_version(tmp_path, version):
    doc = good_doc()
    doc["version"] = version
    assert '"version"' in refused(tmp_path, doc)


@pytest.mark.parametrize("pitch", [128, -1, 60.0, "60", True, None])
def test_a_note_with_a_bad_pitch(tmp_path, pitch):
    doc = good_doc()
    doc["song"]["tracks"][0]["notes"][1][0] = pitch
    reason = refused(tmp_path, doc)
    assert "song.tracks[0].notes[1] pitch" in reason and "0 to 127" in reason


@pytest.mark.parametrize(
    "change, where",
    [
        (lambda d: d["song"].__setitem__("ppq", "480"), "song.ppq"),
        (lambda d: d["song"].__setitem__("ppq", 0), "song.ppq"),
        (lambda d: d["song"].__setitem__("ppq", 480.5), "song.ppq"),
        (lambda d: d.__setitem__("song", []), "song must be an object"),
        (lambda d: d["song"].__setitem__("tracks", {"0": {}}), "song.tracks must be a list"),
        (lambda d: d["song"].__setitem__("title", 5), "song.title must be text"),
        (lambda d: d["song"].__setitem__("tempos", [[0, 0]]), "song.tempos[0] tempo"),
        (lambda d: d["song"].__setitem__("tempos", [[0]]), "song.tempos[0] must be a list of 2 items"),
        (lambda d: d["song"].__setitem__("tempos", [5]), "song.tempos[0] must be a list"),
        (lambda d: d["song"].__setitem__("time_signatures", [[0, 4, 0]]), "song.time_signatures[0] denominator"),
        (lambda d: d["song"].__setitem__("time_signatures", [[-5, 4, 4]]), "song.time_signatures[0] tick"),
        (lambda d: d["song"].__setitem__("keys", [[0, "H"]]), "song.keys[0] key"),
        (lambda d: d["song"]["tracks"].__setitem__(0, "piano"), "song.tracks[0] must be an object"),
        (lambda d: d["song"]["tracks"][0].__setitem__("name", None), "song.tracks[0].name must be text"),
        (lambda d: d["song"]["tracks"][0].__setitem__("drum", "yes"), "song.tracks[0].drum must be true or false"),
        (lambda d: d["song"]["tracks"][0].__setitem__("mute", 1), "song.tracks[0].mute must be true or false"),
        (lambda d: d["song"]["tracks"][0].__setitem__("channel", 16), "song.tracks[0].channel"),
        (lambda d: d["song"]["tracks"][0].__setitem__("program", 128), "song.tracks[0].program"),
        (lambda d: d["song"]["tracks"][0].__setitem__("volume", -1), "song.tracks[0].volume"),
        (lambda d: d["song"]["tracks"][0].__setitem__("pan", "center"), "song.tracks[0].pan"),
        (lambda d: d["song"]["tracks"][0].__setitem__("notes", "C D E"), "song.tracks[0].notes must be a list"),
        (lambda d: d["song"]["tracks"][0]["notes"].__setitem__(0, [60, 0, 480]), "notes[0] must be [pitch"),
        (lambda d: d["song"]["tracks"][0]["notes"].__setitem__(0, {"pitch": 60}), "notes[0] must be [pitch"),
        (lambda d: d["song"]["tracks"][0]["notes"][0].__setitem__(1, -1), "song.tracks[0].notes[0] start"),
        (lambda d: d["song"]["tracks"][0]["notes"][0].__setitem__(2, -1), "song.tracks[0].notes[0] duration"),
        (lambda d: d["song"]["tracks"][0]["notes"][0].__setitem__(3, 0), "song.tracks[0].notes[0] velocity"),
        (lambda d: d["song"]["tracks"][0]["notes"][0].__setitem__(3, 128), "song.tracks[0].notes[0] velocity"),
        (lambda d: d.__setitem__("view", [1]), "view must be an object"),
        (lambda d: d.__setitem__("meta", "x"), "meta must be an object"),
    ],
)
def test_wrong_types_and_values(tmp_path, change, where):
    doc = good_doc()
    change(doc)
    reason = refused(tmp_path, doc)
    assert reason.startswith("damaged project file: ")
    assert where in reason


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(MusicFileError, match="no such file"):
        read_project(tmp_path / "gone.dap")
    (tmp_path / "dir.dap").mkdir()
    with pytest.raises(MusicFileError, match="folder"):
        read_project(tmp_path / "dir.dap")


# --- atomic saves ----------------------------------------------------------------------------


def test_save_leaves_no_temporary_files(song, tmp_path):
    path = tmp_path / "song.dap"
    for _ in range(3):
        write_project(Project(song, VIEW, META), path)
    assert os.listdir(tmp_path) == ["song.dap"]


def test_an_existing_file_is_replaced_whole(song, tmp_path):
    path = tmp_path / "song.dap"
    write_project(Project(song, {"history": list(range(5000))}), path)  # a long file first
    big = path.stat().st_size
    small = Project(Song(title="short"))
    write_project(small, path)
    assert path.read_bytes() == project_bytes(small)  # no tail of the old file
    assert path.stat().st_size < big
    assert read_project(path).song == small.song
    assert os.listdir(tmp_path) == ["song.dap"]


def test_a_failed_save_keeps_the_old_file(song, tmp_path, monkeypatch):
    path = tmp_path / "song.dap"
    write_project(Project(song), path)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(MusicFileError) as info:
        write_project(Project(Song(title="new")), path)
    assert info.value.path == str(path) and "No space left on device" in info.value.reason
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["song.dap"]  # the temporary file was cleaned up


def test_saving_into_a_missing_folder(song, tmp_path):
    path = tmp_path / "no" / "such" / "folder" / "song.dap"
    with pytest.raises(MusicFileError) as info:
        write_project(Project(song), path)
    assert info.value.path == str(path) and "cannot write" in info.value.reason
    assert os.listdir(tmp_path) == []


def test_saving_over_a_folder(song, tmp_path):
    path = tmp_path / "taken.dap"
    path.mkdir()
    with pytest.raises(MusicFileError):
        write_project(Project(song), path)
    assert path.is_dir() and os.listdir(tmp_path) == ["taken.dap"]
