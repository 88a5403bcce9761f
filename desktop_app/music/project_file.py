"""The app's own project file (.dap): one UTF-8 JSON document holding the song, every track
setting and the view state. Versioned; docs/project-format.md describes it."""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any

from desktop_app import __version__
from desktop_app.music.controls import ControlChange, ProgramChange
from desktop_app.music.errors import MusicFileError
from desktop_app.music.files import atomic_write_bytes, read_file_bytes
from desktop_app.music.limits import MAX_JSON_DEPTH, MAX_TICK, check_song
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
                    **({"programs": [[c.tick, c.program] for c in t.programs]} if t.programs else {}),
                    **({"controls": [[c.tick, c.control, c.value] for c in t.controls]} if t.controls else {}),
                }
                for t in song.tracks
            ],
        },
        "view": project.view,
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def write_project(project: Project, path: str | os.PathLike[str]) -> None:
    try:
        data = project_bytes(project)
    except (ValueError, TypeError, RecursionError) as e:  # view or meta holds what JSON cannot
        raise MusicFileError(path, f"cannot write the project: {e}") from None
    atomic_write_bytes(path, data)


def read_project(path: str | os.PathLike[str]) -> Project:
    return parse_project(read_file_bytes(path), os.fspath(path))


def parse_project(data: bytes, source: str = "<bytes>") -> Project:
    """Read a project from bytes, checking everything that writing it back needs; `source`
    names it in errors."""
    if not data.strip():
        raise MusicFileError(source, "the file is empty")
    try:
        doc = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise MusicFileError(source, "not a project file: it is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise MusicFileError(source, f"damaged project file: bad JSON at line {e.lineno}, column {e.colno}") from None
    except RecursionError:
        raise MusicFileError(source, "damaged project file: its JSON is nested too deeply") from None
    except _NotJson as e:
        raise MusicFileError(source, f"damaged project file: {e}") from None
    except ValueError:  # Python refuses to convert integers of over 4,300 digits
        raise MusicFileError(source, "damaged project file: a number has thousands of digits") from None
    return _parse(doc, source)


class _NotJson(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a number JSON allows")


class _Invalid(Exception):
    pass


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _Invalid(f"{where} must be a whole number from {low} to {high}")
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"{where} must be text")
    if _SURROGATE.search(value):  # "\\ud800" alone: JSON escapes allow it, UTF-8 cannot hold it
        raise _Invalid(f"{where} holds a lone surrogate (a broken \\u escape)")
    return value


def _key(value: Any, where: str) -> str:
    if not isinstance(value, str) or value not in KEY_NAMES:
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


def _denominator(value: Any, where: str) -> int:
    value = _int(value, where, 1, 64)
    if value & (value - 1):  # MIDI stores the denominator as a power of two
        raise _Invalid(f"{where} must be 1, 2, 4, 8, 16, 32 or 64")
    return value


def _free_form(value: Any, where: str) -> dict:
    """A free-form object (view, meta): anything JSON holds, checked so that it can be written
    back: nested at most MAX_JSON_DEPTH deep, finite numbers, text without lone surrogates."""
    stack = [(_dict(value, where), where, 1)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH and isinstance(item, (dict, list)):
            raise _Invalid(f"{where} is nested more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(item, dict):
            for k, v in item.items():
                _str(k, f"a key in {path}")
                stack.append((v, f"{path}.{k}", depth + 1))
        elif isinstance(item, list):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(item))
        elif isinstance(item, str):
            _str(item, path)
        elif isinstance(item, float) and not math.isfinite(item):
            raise _Invalid(f"{path} is a number too large for the app")
    return value


BIG = MAX_TICK


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
                _denominator(t[2], f"song.time_signatures[{i}] denominator"),
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
        view = _free_form(doc.get("view", {}), "view")
        meta = _free_form(doc.get("meta", {}), "meta")
        if "recovery_of" in meta:
            _str(meta["recovery_of"], "meta.recovery_of")
    except _Invalid as e:
        raise MusicFileError(source, f"damaged project file: {e}") from None
    return Project(check_song(song, source), view, meta)


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
        programs=tuple(
            ProgramChange(_int(c[0], f"{where}.programs[{j}] tick", 0, BIG), _int(c[1], f"{where}.programs[{j}] program", 0, 127))
            for j, c in enumerate(_list(t.get("programs", []), f"{where}.programs"))
            if _list(c, f"{where}.programs[{j}]", 2)
        ),
        controls=tuple(
            ControlChange(
                _int(c[0], f"{where}.controls[{j}] tick", 0, BIG),
                _int(c[1], f"{where}.controls[{j}] control", 0, 127),
                _int(c[2], f"{where}.controls[{j}] value", 0, 127),
            )
            for j, c in enumerate(_list(t.get("controls", []), f"{where}.controls"))
            if _list(c, f"{where}.controls[{j}]", 3)
        ),
    )
