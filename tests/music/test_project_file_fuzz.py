"""Seeded fuzzing of the project reader, and the damaged projects that once escaped it: mutated
files may be read or refused, but the only error allowed out of parse_project is MusicFileError,
and whatever it reads can be written back, as a project and as MIDI, without error."""

from __future__ import annotations

import json
import random
import traceback
from dataclasses import replace

import pytest

from desktop_app.music import MusicFileError, Song
from desktop_app.music.controls import ControlChange, ProgramChange
from desktop_app.music.limits import MAX_JSON_DEPTH, MAX_SONG_SECONDS
from desktop_app.music.midi_io import midi_bytes
from desktop_app.music.project_file import Project, parse_project, project_bytes, read_project, write_project

MUTATIONS_PER_FILE = 1000  # four base files: 4,000 mutated files in all


def base_files(make_random_song) -> dict[str, bytes]:
    view = {"active_track": 1, "zoom": 1.5, "scroll": [120, 40], "selected": {"track": 2, "notes": [0, 3, 5]}}
    meta = {"recovery_of": "/home/someone/Música/song.dap", "n": 3, "nested": {"a": [1, {"b": None}]}}
    small = make_random_song(1, ppq=96, n_tracks=2, notes_per_track=6)
    song = make_random_song(7, ppq=480, n_tracks=3, notes_per_track=12)
    changing = replace(song.tracks[0], programs=(ProgramChange(960, 40), ProgramChange(1920, 0)),
                       controls=(ControlChange(0, 64, 127), ControlChange(480, 64, 0), ControlChange(480, 64, 100)))
    return {
        "random": project_bytes(Project(song.with_track(0, changing), view, meta)),
        "small": project_bytes(Project(small)),
        "pretty": json.dumps(json.loads(project_bytes(Project(small, view, meta))), indent=2).encode(),
        "minimal": b'{"format": "desktop-app-project", "version": 1, "song": {"ppq": 480, "tracks": [{}]}}',
    }


# ----- structure-level mutations: change one value of the parsed document -----------------

STRINGS = ["", "x", "C", "Am", "F#m", "#a1b2c3", "Ünïcödé 🎹", "\ud800", "a\udfffb", "\x00", "€uro", "line\nbreak"]
NUMBERS = [0, 1, -1, 3, 4, 5, 7, 8, 12, 64, 127, 128, 255, 256, 480, 32767, 32768, 500_000, 2**24, 2**31 - 1,
           2**31, 2**63, -(2**31), 10**40, 0.5, 60.0, 1e308, -0.0]


def random_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(9 if depth < 3 else 5)
    if kind == 0:
        return rng.choice(NUMBERS)
    if kind == 1:
        return rng.choice(STRINGS)
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return rng.randrange(-1000, 100_000)
    if kind == 4:
        return rng.choice(["[" * 40 + "]" * 40, 10**rng.randint(1, 30)])
    if kind == 5:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if kind == 6:
        return {rng.choice(STRINGS): random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    if kind == 7:
        value: object = rng.choice([0, "x", []])
        for _ in range(rng.choice([MAX_JSON_DEPTH - 2, MAX_JSON_DEPTH + 1, 200])):
            value = [value] if rng.random() < 0.5 else {"k": value}
        return value
    return [rng.randrange(128), rng.randrange(10**6), rng.choice([0, 480, 10**7, 2**31 - 1]), rng.randrange(128)]


def containers(node, found: list) -> list:
    """Every list and dict in the document, the root first."""
    found.append(node)
    children = node.values() if isinstance(node, dict) else node
    for child in children:
        if isinstance(child, (dict, list)):
            containers(child, found)
    return found


def mutate_structure(doc, rng: random.Random):
    for _ in range(rng.choice([1, 1, 2, 3])):
        found = containers(doc, [])
        if rng.random() < 0.3:  # text fields: names, title, keys, colours
            texts = [(c, k) for c in found if isinstance(c, dict) for k, v in c.items() if isinstance(v, str)]
            if texts:
                target, key = rng.choice(texts)
                target[key] = rng.choice(STRINGS) if rng.random() < 0.7 else target[key] + rng.choice(STRINGS)
                continue
        target = rng.choice(found)
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        how = rng.randrange(5)
        if how == 0 and keys:  # replace a value
            target[rng.choice(keys)] = random_value(rng)
        elif how == 1 and keys:  # remove one
            del target[rng.choice(keys)]
        elif how == 2:  # add one
            if isinstance(target, dict):
                target[rng.choice(STRINGS + ["ppq", "tracks", "notes", "keys", "title", "view", "meta"])] = random_value(rng)
            else:
                target.insert(rng.randint(0, len(target)), random_value(rng))
        elif how == 3 and keys:  # repeat one, many times
            key = rng.choice(keys)
            if isinstance(target, list):
                target[key:key] = [target[key]] * rng.randint(1, 50)
        elif how == 4 and keys:  # swap a number for a neighbour or an extreme
            key = rng.choice(keys)
            if isinstance(target[key], int) and not isinstance(target[key], bool):
                target[key] = rng.choice([target[key] + rng.choice([-1, 1]), -target[key], target[key] * 2**20])
    return doc


def serialise(doc, rng: random.Random) -> bytes:
    text = json.dumps(doc, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 1]))
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate written raw is not UTF-8


# ----- byte-level mutations -----------------------------------------------------------------


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 3])):
        if not b:
            b = bytearray(rng.randbytes(rng.randrange(1, 20)))
            continue
        pos = rng.randrange(len(b))
        kind = rng.randrange(8)
        if kind == 0:  # flip bits
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        elif kind == 1:  # truncate
            del b[pos:]
        elif kind == 2:  # insert JSON-ish tokens
            token = rng.choice([b"[", b"]", b"{", b"}", b",", b":", b'"', b"\\", b"\\u", b"\\ud800", b"-", b"e9",
                                b"NaN", b"Infinity", b"1e400", b"null", b"9" * rng.choice([20, 400, 5000]),
                                b"[" * rng.choice([50, 5000]), b"\xc3", b"\xff"])
            b[pos:pos] = token
        elif kind == 3:  # delete a region
            del b[pos : pos + rng.randint(1, 12)]
        elif kind == 4:  # duplicate a region
            region = b[pos : pos + rng.randint(1, 40)]
            at = rng.randrange(len(b) + 1)
            b[at:at] = region
        elif kind == 5:  # change a digit
            digits = [i for i, c in enumerate(b) if 48 <= c <= 57]
            if digits:
                b[rng.choice(digits)] = rng.randrange(48, 58)
        elif kind == 6:  # lengthen a number
            digits = [i for i, c in enumerate(b) if 48 <= c <= 57]
            if digits:
                at = rng.choice(digits)
                b[at:at] = b"9" * rng.randint(1, 12)
        else:  # random bytes
            b[pos:pos] = rng.randbytes(rng.randint(1, 6))
    return bytes(b)


# ----- the check --------------------------------------------------------------------------


def check_writable(project: Project) -> None:
    """What the reader accepted must save as a project (reading back the same) and as MIDI."""
    song = project.song
    assert isinstance(song, Song) and song.duration_seconds <= MAX_SONG_SECONDS
    song.meter.bar_beat(song.end_tick)
    again = parse_project(project_bytes(project))
    assert again.song == song and again.view == project.view and again.meta == project.meta
    midi_bytes(song)


@pytest.mark.parametrize("name", ["random", "small", "pretty", "minimal"])
def test_mutated_projects_raise_only_music_file_error(make_random_song, name):
    base = base_files(make_random_song)[name]
    check_writable(parse_project(base))  # the base file itself is sound
    rng = random.Random(f"project-fuzz-{name}")
    read = refused = 0
    failures = []
    for i in range(MUTATIONS_PER_FILE):
        if rng.random() < 0.5:
            data = serialise(mutate_structure(json.loads(base), rng), rng)
        else:
            data = mutate_bytes(base, rng)
        source = f"mutant-{i}.dap"
        try:
            project = parse_project(data, source)
        except MusicFileError as e:
            if not (e.path == source and e.reason and "\n" not in e.reason):
                failures.append((i, data[:300], f"bad message: {e.reason!r}"))
            refused += 1
            continue
        except Exception:
            failures.append((i, data[:300], traceback.format_exc(limit=3)))
            continue
        read += 1
        try:
            check_writable(project)
        except Exception:
            failures.append((i, data[:300], traceback.format_exc(limit=3)))
    assert not failures, f"{len(failures)} of {MUTATIONS_PER_FILE} mutants escaped; first: {failures[0]}"
    assert refused > 50 and read > 50  # the mutations reach both outcomes


# ----- the damaged projects of issue 8, each once a traceback or an unwritable song ----------

HEAD = '{"format": "desktop-app-project", "version": 1, '


def doc_with(song: str = '"ppq": 480', tail: str = "") -> bytes:
    return (HEAD + '"song": {' + song + "}" + tail + "}").encode("utf-8", "surrogatepass")


DAMAGED = {
    "nested thousands deep": (doc_with(tail=', "view": ' + "[" * 5000 + "]" * 5000), "nested too deeply"),
    "nested thousands deep in the song": (doc_with('"ppq": 480, "tracks": ' + "[" * 3000 + "]" * 3000),
                                          "nested too deeply"),
    "view nested 800 deep": (doc_with(tail=', "view": {"a": ' + "[" * 800 + "]" * 800 + "}"),
                             f"more than {MAX_JSON_DEPTH} levels"),
    "a 5,000-digit number": (doc_with('"ppq": ' + "9" * 5000), "thousands of digits"),
    "a 5,000-digit number in the view": (doc_with(tail=', "view": {"zoom": ' + "1" * 5000 + "}"),
                                         "thousands of digits"),
    "a key that is a list": (doc_with('"ppq": 480, "keys": [[0, ["C"]]]'), "song.keys[0] key"),
    "a key that is an object": (doc_with('"ppq": 480, "keys": [[0, {"C": 1}]]'), "song.keys[0] key"),
    "a denominator of 3": (doc_with('"ppq": 480, "time_signatures": [[0, 4, 3]]'),
                           "song.time_signatures[0] denominator must be 1, 2, 4, 8, 16, 32 or 64"),
    "a denominator of 48": (doc_with('"ppq": 480, "time_signatures": [[0, 4, 4], [960, 5, 48]]'),
                            "song.time_signatures[1] denominator"),
    "a lone surrogate in the title": (doc_with('"ppq": 480, "title": "Song \\ud800"'), "song.title holds a lone"),
    "a raw lone surrogate in the title": (doc_with('"ppq": 480, "title": "Song \ud800"'), "not UTF-8"),
    "a lone surrogate in a track name": (doc_with('"ppq": 480, "tracks": [{"name": "\\udc80"}]'),
                                         "song.tracks[0].name holds a lone"),
    "a lone surrogate in a view key": (doc_with(tail=', "view": {"\\ud83c": 1}'), "a key in view"),
    "a lone surrogate deep in meta": (doc_with(tail=', "meta": {"a": [{"b": "\\udfff"}]}'), "meta.a[0].b"),
    "NaN": (doc_with(tail=', "view": {"zoom": NaN}'), "NaN is not a number JSON allows"),
    "Infinity": (doc_with(tail=', "view": {"zoom": -Infinity}'), "-Infinity is not a number JSON allows"),
    "a number past a double": (doc_with(tail=', "view": {"zoom": 1e400}'), "view.zoom is a number too large"),
    "recovery_of that is not text": (doc_with(tail=', "meta": {"recovery_of": 5}'), "meta.recovery_of must be text"),
    "a note of 2^31 ticks": (doc_with('"ppq": 480, "tracks": [{"notes": [[60, 0, 2147483647, 100]]}]'),
                             "too long: the song lasts 621.4 hours; the app takes songs of up to 2 hours"),
    "a 9.7-hour note": (doc_with('"ppq": 480, "tracks": [{"notes": [[60, 0, 33523200, 100]]}]'),
                        "the song lasts 9.7 hours"),
    "a slow tempo past the limit": (doc_with('"ppq": 1, "tempos": [[0, 16777215]], '
                                             '"tracks": [{"notes": [[60, 0, 500, 100]]}]'), "the song lasts 2.4 hours"),
}


@pytest.mark.parametrize("name", sorted(DAMAGED))
def test_damaged_projects_are_refused_in_one_line(tmp_path, name):
    data, reason = DAMAGED[name]
    path = tmp_path / "damaged.dap"
    path.write_bytes(data)
    with pytest.raises(MusicFileError) as info:
        read_project(path)
    assert info.value.path == str(path)
    assert reason in info.value.reason and "\n" not in info.value.reason, info.value.reason


def test_a_song_at_the_length_limit_is_read_and_written(tmp_path):
    ticks = MAX_SONG_SECONDS * 2 * 480  # 120 BPM
    path = tmp_path / "long.dap"
    path.write_bytes(doc_with(f'"ppq": 480, "tracks": [{{"notes": [[60, 0, {ticks}, 100]]}}]'))
    project = read_project(path)
    assert project.song.duration_seconds == MAX_SONG_SECONDS
    check_writable(project)


def test_a_view_within_the_depth_limit_is_kept(tmp_path):
    nested: object = 0
    for _ in range(MAX_JSON_DEPTH - 1):
        nested = [nested]
    path = tmp_path / "deep.dap"
    write_project(Project(Song(), {"deep": nested}), path)
    assert read_project(path).view == {"deep": nested}


def test_an_unwritable_view_is_a_music_file_error_on_save(tmp_path):
    path = tmp_path / "x.dap"
    with pytest.raises(MusicFileError) as info:
        write_project(Project(Song(), {"bad": object()}), path)
    assert info.value.path == str(path) and "cannot write the project" in info.value.reason
    assert not path.exists()
