"""formats.read_any / write_any: the file name's extension picks the reader or writer."""

from __future__ import annotations

import os
import shutil

import pytest

from desktop_app.music import MusicFileError, Note, Song, Track
from desktop_app.music.formats import (
    READABLE_EXTENSIONS,
    WRITABLE_EXTENSIONS,
    can_read,
    is_project_path,
    read_any,
    write_any,
)
from desktop_app.music.midi_io import midi_bytes
from desktop_app.music.project_file import Project, project_bytes

SONG = Song(
    ppq=480,
    tracks=(
        Track(name="Lead", program=73, channel=0, notes=(Note(72, 0, 240, 100), Note(74, 240, 240, 90))),
        Track(name="Bass", program=33, channel=1, notes=(Note(36, 0, 480, 110),)),
    ),
    title="Dispatch",
)


def same_notes(a: Song, b: Song) -> bool:
    return [sorted(t.notes, key=lambda n: (n.start, n.pitch)) for t in a.tracks] == [
        sorted(t.notes, key=lambda n: (n.start, n.pitch)) for t in b.tracks
    ]


def test_project_by_extension(tmp_path):
    path = tmp_path / "song.dap"
    write_any(Project(SONG, {"zoom": 2}, {"x": 1}), path)
    assert path.read_bytes() == project_bytes(Project(SONG, {"zoom": 2}, {"x": 1}))
    project = read_any(path)
    assert isinstance(project, Project)
    assert project.song == SONG and project.view == {"zoom": 2} and project.meta == {"x": 1}


@pytest.mark.parametrize("name", ["song.mid", "song.midi", "song.smf", "song.kar", "SONG.MID", "Song.Midi"])
def test_midi_by_extension(tmp_path, name):
    path = tmp_path / name
    write_any(Project(SONG, {"zoom": 2}), path)
    assert path.read_bytes() == midi_bytes(SONG)
    project = read_any(path)
    assert project.view == {} and project.meta == {}  # MIDI files hold no view
    assert project.song.title == "Dispatch"
    assert same_notes(project.song, SONG)
    assert [t.name for t in project.song.tracks] == ["Lead", "Bass"]


@pytest.mark.parametrize("name", ["chorale.mxl", "chorale.MXL", "chorale.musicxml", "chorale.xml"])
def test_musicxml_by_extension(tmp_path, name):
    corpus = pytest.importorskip("music21.corpus")
    path = tmp_path / name
    if name.lower().endswith(".mxl"):
        shutil.copy(corpus.getWork("bach/bwv66.6"), path)
    else:
        corpus.parse("bach/bwv66.6").write("musicxml", fp=path)
    project = read_any(path)
    assert [t.name for t in project.song.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert project.view == {}


def test_dispatch_is_by_extension_not_content(tmp_path):
    path = tmp_path / "actually_midi.dap"
    path.write_bytes(midi_bytes(SONG))
    with pytest.raises(MusicFileError, match="project file"):
        read_any(path)
    other = tmp_path / "actually_project.mid"
    other.write_bytes(project_bytes(Project(SONG)))
    with pytest.raises(MusicFileError, match="MThd"):
        read_any(other)


@pytest.mark.parametrize("name", ["sound.wav", "score.pdf", "README", "archive.tar.gz", "song.mid.bak"])
def test_unknown_extension_cannot_be_read(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(midi_bytes(SONG))  # the content would do; the name decides
    with pytest.raises(MusicFileError) as info:
        read_any(path)
    err = info.value
    assert err.path == str(path) and str(path) in str(err)
    assert "unknown file type" in err.reason
    assert ".mid" in err.reason and ".dap" in err.reason
    assert not can_read(path)


@pytest.mark.parametrize("name", ["score.musicxml", "score.mxl", "sound.wav", "noext"])
def test_unknown_or_read_only_extension_cannot_be_written(tmp_path, name):
    path = tmp_path / name
    with pytest.raises(MusicFileError) as info:
        write_any(Project(SONG), path)
    assert info.value.path == str(path)
    assert "cannot write" in info.value.reason and ".mid" in info.value.reason
    assert os.listdir(tmp_path) == []  # nothing was written


def test_missing_file_is_a_music_file_error(tmp_path):
    for name in ("gone.dap", "gone.mid", "gone.musicxml"):
        with pytest.raises(MusicFileError, match="no such file"):
            read_any(tmp_path / name)


def test_extension_helpers():
    assert can_read("a.dap") and can_read("a.MID") and can_read("x/y/z.mxl") and can_read("a.xml")
    assert not can_read("a.wav") and not can_read("a")
    assert is_project_path("song.DAP") and not is_project_path("song.mid")
    assert set(WRITABLE_EXTENSIONS) <= set(READABLE_EXTENSIONS)
    assert ".dap" in WRITABLE_EXTENSIONS and ".mid" in WRITABLE_EXTENSIONS
    assert ".mxl" not in WRITABLE_EXTENSIONS
