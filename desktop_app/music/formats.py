"""Which reader or writer a file name asks for: the one place that maps extensions to formats."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

from desktop_app.music.errors import MusicFileError
from desktop_app.music.limits import check_song
from desktop_app.music.midi_io import MIDI_EXTENSIONS, read_midi, write_midi
from desktop_app.music.musicxml_io import MUSICXML_EXTENSIONS, read_musicxml
from desktop_app.music.project_file import PROJECT_EXTENSION, Project, read_project, write_project
from desktop_app.music.song import Song

READABLE_EXTENSIONS = (PROJECT_EXTENSION, *MIDI_EXTENSIONS, *MUSICXML_EXTENSIONS)
WRITABLE_EXTENSIONS = (PROJECT_EXTENSION, *MIDI_EXTENSIONS)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _suffix(path: str | os.PathLike[str]) -> str:
    return Path(path).suffix.lower()


def is_project_path(path: str | os.PathLike[str]) -> bool:
    return _suffix(path) == PROJECT_EXTENSION


def can_read(path: str | os.PathLike[str]) -> bool:
    return _suffix(path) in READABLE_EXTENSIONS


def read_any(path: str | os.PathLike[str]) -> Project:
    """Read a project, MIDI or MusicXML/MXL file, chosen by extension, within the app's limits."""
    suffix = _suffix(path)
    if suffix == PROJECT_EXTENSION:
        return read_project(path)
    if suffix in MIDI_EXTENSIONS:
        return Project(check_song(_writable_text(read_midi(path)), path))
    if suffix in MUSICXML_EXTENSIONS:
        return Project(check_song(_writable_text(read_musicxml(path)), path))
    raise MusicFileError(path, f"unknown file type {suffix or '(no extension)'}; expected one of {', '.join(READABLE_EXTENSIONS)}")


def _writable_text(song: Song) -> Song:
    """The song with any lone surrogate in its title or track names (a file name that is not
    valid UTF-8 becomes one) replaced by U+FFFD, so that it can be saved."""

    if not any(_SURROGATE.search(text) for text in (song.title, *(t.name for t in song.tracks))):
        return song
    tracks = [replace(t, name=_SURROGATE.sub("\ufffd", t.name)) for t in song.tracks]
    return replace(song.with_tracks(tracks), title=_SURROGATE.sub("\ufffd", song.title))


def write_any(project: Project, path: str | os.PathLike[str]) -> None:
    """Write a project or MIDI file, chosen by extension."""
    suffix = _suffix(path)
    if suffix == PROJECT_EXTENSION:
        write_project(project, path)
    elif suffix in MIDI_EXTENSIONS:
        write_midi(project.song, path)
    else:
        raise MusicFileError(path, f"cannot write {suffix or 'files without an extension'}; choose .mid or {PROJECT_EXTENSION}")
