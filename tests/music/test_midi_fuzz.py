"""Seeded fuzzing of the MIDI reader: mutated files may be read or refused, but the only error
allowed out of parse_midi is MusicFileError, and what it does read must be a sound Song."""

from __future__ import annotations

import random
import struct
import traceback

import pytest

from desktop_app.music import MusicFileError, Song
from desktop_app.music.midi_io import midi_bytes, parse_midi

MUTATIONS_PER_FILE = 1000  # five base files: 5,000 mutated files in all


def base_files(smf, make_random_song) -> dict[str, bytes]:
    conductor = smf.track(
        [
            (0, smf.track_name("Conductor")),
            (0, smf.tempo(500_000)),
            (0, smf.time_signature(4, 4)),
            (0, smf.key_signature(-3, True)),
            (960, smf.tempo(300_000)),
            (0, smf.time_signature(6, 8)),
        ]
    )
    piano = smf.track(
        [(0, smf.track_name("Piano")), (0, smf.program(0, 1)), (0, smf.control(0, 7, 90))]
        + [(0 if i == 0 else 60, smf.note_on(0, 60 + i % 12, 100)) for i in range(12)]
        + [(60, smf.note_off(0, 60 + i % 12)) for i in range(12)]
    )
    drums = smf.track(
        [
            (0, smf.note_on(9, 36, 127)),
            (10, smf.note_on(9, 36, 0)),
            (50, smf.note_on(9, 42, 90)),
            (60, smf.note_off(9, 42)),
        ]
    )
    running = smf.chunk(
        b"MTrk",
        smf.vlq(0) + bytes([0x92, 50, 80])
        + smf.vlq(10) + bytes([52, 81])
        + smf.vlq(10) + bytes([50, 0])
        + smf.vlq(0) + bytes([0xF0, 3, 0x7E, 0x01, 0xF7])  # a sysex event
        + smf.vlq(10) + bytes([0x82, 52, 0])
        + smf.vlq(0) + smf.meta(0x01, b"some text")
        + smf.vlq(0) + smf.end_of_track(),
    )
    unfinished = smf.track([(0, smf.note_on(3, 70, 70)), (100, smf.program(3, 50))], end_of_track=False)
    junk = smf.chunk(b"XFIH", b"\x00\x01\x02\x03")
    return {
        "type1": smf.file(1, 480, [conductor, piano, drums]),
        "type0": smf.file(0, 96, [running]),
        "mixed": smf.file(1, 960, [conductor, junk, running, unfinished, junk, drums]),
        "exported": midi_bytes(make_random_song(5, ppq=96, n_tracks=3, notes_per_track=15)),
        "long_header": smf.header(1, 2, 480, extra=b"\x00\x00\x00") + piano + drums,
    }


def chunk_offsets(data: bytes) -> list[int]:
    """Where the length fields of MThd/MTrk chunks lie."""
    offsets = []
    for name in (b"MThd", b"MTrk"):
        at = data.find(name)
        while at != -1:
            offsets.append(at + 4)
            at = data.find(name, at + 1)
    return offsets


def track_bodies(data: bytes) -> list[tuple[int, int]]:
    """(length field offset, body start) of each whole chunk after the header, walking lengths."""
    found = []
    if len(data) < 8:
        return found
    pos = 8 + struct.unpack(">I", data[4:8])[0]
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos + 4 : pos + 8])
        if pos + 8 + length > len(data):
            break
        found.append((pos + 4, pos + 8))
        pos += 8 + length
    return found


def edit_inside_a_chunk(b: bytearray, rng: random.Random) -> None:
    """Insert, delete or repeat bytes inside one chunk and fix its length, so the chunk
    structure stays sound and the damage reaches the event parser."""
    bodies = track_bodies(bytes(b))
    if not bodies:
        return
    field, body = rng.choice(bodies)
    (length,) = struct.unpack(">I", b[field : field + 4])
    pos = body + rng.randrange(length + 1)
    how = rng.randrange(3)
    if how == 0:
        piece = rng.randbytes(rng.randint(1, 6))
        b[pos:pos] = piece
        delta = len(piece)
    elif how == 1:
        gone = min(rng.randint(1, 6), body + length - pos)
        del b[pos : pos + gone]
        delta = -gone
    else:
        piece = b[pos : min(pos + rng.randint(1, 24), body + length)]
        b[pos:pos] = piece
        delta = len(piece)
    b[field : field + 4] = struct.pack(">I", length + delta)


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        kind = rng.choice([0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 8, 8])
        if not b:
            b = bytearray(rng.randbytes(rng.randrange(1, 30)))
            continue
        pos = rng.randrange(len(b))
        if kind == 0:  # flip bits
            for _ in range(rng.randint(1, 8)):
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(rng.choice([7, 8]))
        elif kind == 1:  # overwrite bytes with anything, or with data bytes (below 0x80)
            top = rng.choice([128, 256])
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] = rng.randrange(top)
        elif kind == 2:  # truncate
            del b[pos:]
        elif kind == 3:  # insert
            b[pos:pos] = rng.randbytes(rng.randint(1, 16))
        elif kind == 4:  # delete a region
            del b[pos : pos + rng.randint(1, 16)]
        elif kind == 5:  # tweak a chunk length
            offsets = [o for o in chunk_offsets(bytes(b)) if o + 4 <= len(b)]
            if offsets:
                o = rng.choice(offsets)
                (length,) = struct.unpack(">I", b[o : o + 4])
                near = length + rng.randint(-20, 20)
                new = rng.choice([0, 1, 5, 6, 7, length - 1, length + 1, near, 0x7FFFFFFF, 0xFFFFFFFF])
                b[o : o + 4] = struct.pack(">I", new % 2**32)
        elif kind == 6:  # duplicate a region somewhere else
            size = rng.randint(1, 64)
            region = b[pos : pos + size]
            at = rng.randrange(len(b) + 1)
            b[at:at] = region
        elif kind == 7:  # tweak a header field: format, track count or division
            field = rng.choice([8, 10, 12])
            if field + 2 <= len(b):
                value = rng.choice([0, 1, 2, 3, 0x7FFF, 0x8000, 0xFFFF, rng.randrange(65536)])
                b[field : field + 2] = struct.pack(">H", value)
        else:
            edit_inside_a_chunk(b, rng)
    return bytes(b)


def check_song(song: Song) -> None:
    assert isinstance(song, Song)
    assert song.ppq > 0
    for track in song.tracks:
        assert 0 <= track.channel <= 15 and 0 <= track.program <= 127
        for n in track.notes:
            assert 0 <= n.pitch <= 127 and 1 <= n.velocity <= 127
            assert n.start >= 0 and n.duration >= 0
    # What was read must work everywhere a song goes: timing, bars, and writing it back.
    song.duration_seconds
    song.meter.bar_beat(song.end_tick)
    again = parse_midi(midi_bytes(song))
    assert again.note_count == song.note_count


@pytest.mark.parametrize("name", ["type1", "type0", "mixed", "exported", "long_header"])
def test_mutated_files_raise_only_music_file_error(smf, make_random_song, name):
    base = base_files(smf, make_random_song)[name]
    check_song(parse_midi(base))  # the base file itself is sound
    rng = random.Random(f"fuzz-{name}")
    read = refused = 0
    failures = []
    for i in range(MUTATIONS_PER_FILE):
        data = mutate(base, rng)
        try:
            song = parse_midi(data, f"mutant-{i}.mid")
        except MusicFileError as e:
            assert e.path == f"mutant-{i}.mid" and e.reason
            refused += 1
            continue
        except Exception:
            failures.append((i, data.hex(), traceback.format_exc(limit=3)))
            continue
        try:
            check_song(song)
        except Exception:
            failures.append((i, data.hex(), traceback.format_exc(limit=3)))
        read += 1
    assert not failures, f"{len(failures)} mutants escaped; first: {failures[0]}"
    assert read + refused == MUTATIONS_PER_FILE
    assert refused > 0 and read > 0  # the mutations reach both outcomes
