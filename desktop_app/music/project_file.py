"""The app's own project file (.dap): one UTF-8 JSON document holding the song, every track
setting and the view state. Versioned; docs/project-format.md describes it."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from desktop_app import __version__
from desktop_app.music.errors import MusicFileError
from desktop_app.music.files import atomic_write_bytes, read_file_bytes
from desktop_app.music.note import Note
from desktop_app.music.song import KEY_NAMES, KeySignature, Song, TempoChange, TimeSignature
from desktop_app.music.track import Track

PROJECT_EXTENSION = ".dap"
FORMAT_NAME = "desktop-app-project"
FORMAT_VERSION = 1


@dataclass
class Project:
    """What a project file holds: the song, the view state (free-form, owned by the UI) and
    free-form metadata (the recovery file keeps the original path there)."""

    song: Song
    view: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def project_bytes(project: Project) -> bytes:
    song = project.song
    doc = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "app_version": __version__,
        "meta": project.meta,
        "song": {
            "title": song.title,
            "ppq": song.ppq,
            "tempos": [[t.tick, t.us_per_beat] for t in song.tempos],
            "time_signatures": [[t.tick, t.numerator, t.denominator] for t in song.time_signatures],
            "keys": [[k.tick, k.key] for k in song.keys],
            "tracks": [
                {
                    "name": t.name,
                    "program": t.program,
                    "channel": t.channel,
                    "drum": t.is_drum,
                    "mute": t.mute,
                    "solo": t.solo,
                    "volume": t.volume,
                    "pan": t.pan,
                    "color": t.color,
                    "notes": [[n.pitch, n.start, n.duration, n.velocity] for n in t.notes],
                }
                for t in song.tracks
            ],
        },
        "view": project.view,
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def write_project(project: Project, path: str | os.PathLike[str]) -> None:
    atomic_write_bytes(path, project_bytes(project))


def read_project(path: str | os.PathLike[str]) -> Project:
    source = os.fspath(path)
    data = read_file_bytes(path)
    if not data.strip():
        raise MusicFileError(source, "the file is empty")
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise MusicFileError(source, "not a project file: it is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise MusicFileError(source, f"damaged project file: bad JSON at line {e.lineno}, column {e.colno}") from None
    return _parse(doc, source)


class _Invalid(Exception):
    pass


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _Invalid(f"{where} must be a whole number from {low} to {high}")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"{where} must be text")
    return value


def _key(value: Any, where: str) -> str:
    if value not in KEY_NAMES:
        raise _Invalid(f"{where} must be a key such as \"C\", \"Bb\" or \"F#m\"")
    return value


_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def _color(value: Any, where: str) -> str:
    if not isinstance(value, str) or (value and not _COLOR.fullmatch(value)):
        raise _Invalid(f"{where} must be \"\" or a colour written \"#rrggbb\"")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"{where} must be true or false")
    return value


def _list(value: Any, where: str, length: int | None = None) -> list:
    if not isinstance(value, list) or (length is not None and len(value) != length):
        raise _Invalid(f"{where} must be a list" + (f" of {length} items" if length is not None else ""))
    return value


def _dict(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise _Invalid(f"{where} must be an object")
    return value


BIG = 2**31 - 1


def _parse(doc: Any, source: str) -> Project:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise MusicFileError(source, f"not a project file: no \"format\": \"{FORMAT_NAME}\" field")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise MusicFileError(source, "damaged project file: \"version\" must be a positive whole number")
    if version > FORMAT_VERSION:
        raise MusicFileError(
            source, f"made by a newer version of the app (format {version}); this one reads up to format {FORMAT_VERSION}"
        )
    try:
        s = _dict(doc.get("song"), "song")
        ppq = _int(s.get("ppq"), "song.ppq", 1, 32767)
        tempos = tuple(
            TempoChange(_int(t[0], f"song.tempos[{i}] tick", 0, BIG), _int(t[1], f"song.tempos[{i}] tempo", 1, 2**24 - 1))
            for i, t in enumerate(_list(s.get("tempos", [[0, 500_000]]), "song.tempos"))
            if _list(t, f"song.tempos[{i}]", 2)
        )
        signatures = tuple(
            TimeSignature(
                _int(t[0], f"song.time_signatures[{i}] tick", 0, BIG),
                _int(t[1], f"song.time_signatures[{i}] numerator", 1, 255),
                _int(t[2], f"song.time_signatures[{i}] denominator", 1, 64),
            )
            for i, t in enumerate(_list(s.get("time_signatures", [[0, 4, 4]]), "song.time_signatures"))
            if _list(t, f"song.time_signatures[{i}]", 3)
        )
        keys = tuple(
            KeySignature(_int(k[0], f"song.keys[{i}] tick", 0, BIG), _key(k[1], f"song.keys[{i}] key"))
            for i, k in enumerate(_list(s.get("keys", []), "song.keys"))
            if _list(k, f"song.keys[{i}]", 2)
        )
        tracks = tuple(_track(t, f"song.tracks[{i}]") for i, t in enumerate(_list(s.get("tracks", []), "song.tracks")))
        song = Song(
            ppq=ppq,
            tempos=tempos or (TempoChange(0, 500_000),),
            time_signatures=signatures or (TimeSignature(0, 4, 4),),
            keys=keys,
            tracks=tracks,
            title=_str(s.get("title", ""), "song.title"),
        )
        view = _dict(doc.get("view", {}), "view")
        meta = _dict(doc.get("meta", {}), "meta")
    except _Invalid as e:
        raise MusicFileError(source, f"damaged project file: {e}") from None
    return Project(song, view, meta)


def _track(t: Any, where: str) -> Track:
    t = _dict(t, where)
    notes = []
    for j, n in enumerate(_list(t.get("notes", []), f"{where}.notes")):
        if not isinstance(n, list) or len(n) != 4:
            raise _Invalid(f"{where}.notes[{j}] must be [pitch, start, duration, velocity]")
        notes.append(
            Note(
                _int(n[0], f"{where}.notes[{j}] pitch", 0, 127),
                _int(n[1], f"{where}.notes[{j}] start", 0, BIG),
                _int(n[2], f"{where}.notes[{j}] duration", 0, BIG),
                _int(n[3], f"{where}.notes[{j}] velocity", 1, 127),
            )
        )
    return Track(
        name=_str(t.get("name", ""), f"{where}.name"),
        program=_int(t.get("program", 0), f"{where}.program", 0, 127),
        channel=_int(t.get("channel", 0), f"{where}.channel", 0, 15),
        is_drum=_bool(t.get("drum", False), f"{where}.drum"),
        notes=tuple(notes),
        mute=_bool(t.get("mute", False), f"{where}.mute"),
        solo=_bool(t.get("solo", False), f"{where}.solo"),
        volume=_int(t.get("volume", 100), f"{where}.volume", 0, 127),
        pan=_int(t.get("pan", 64), f"{where}.pan", 0, 127),
        color=_color(t.get("color", ""), f"{where}.color"),
    )
