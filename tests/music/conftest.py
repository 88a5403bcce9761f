"""Fixtures for the music core tests: a hand-rolled standard MIDI file builder (so every byte of
a test file is under the test's control) and a seeded random-song maker."""

from __future__ import annotations

import random
import struct

import pytest

from desktop_app.music import Note, Song, TempoChange, TimeSignature, Track
from desktop_app.music.song import KeySignature


class SMF:
    """Builds standard MIDI files byte by byte. Events are (delta ticks, raw event bytes) pairs."""

    @staticmethod
    def vlq(value: int) -> bytes:
        """A MIDI variable-length quantity: 7 bits a byte, high bit set on all but the last."""
        if value < 0:
            raise ValueError("negative delta")
        out = [value & 0x7F]
        value >>= 7
        while value:
            out.append(0x80 | (value & 0x7F))
            value >>= 7
        return bytes(reversed(out))

    @staticmethod
    def chunk(kind: bytes, body: bytes, length: int | None = None) -> bytes:
        return kind + struct.pack(">I", len(body) if length is None else length) + body

    @classmethod
    def header(cls, fmt: int, n_tracks: int, division: int, extra: bytes = b"") -> bytes:
        return cls.chunk(b"MThd", struct.pack(">HHH", fmt, n_tracks, division) + extra)

    @classmethod
    def track(cls, events, end_of_track: bool = True) -> bytes:
        body = b"".join(cls.vlq(delta) + data for delta, data in events)
        if end_of_track:
            body += cls.vlq(0) + cls.end_of_track()
        return cls.chunk(b"MTrk", body)

    @classmethod
    def file(cls, fmt: int, division: int, tracks: list[bytes], n_tracks: int | None = None) -> bytes:
        """A header then the given chunks (tracks or anything else) in order. `n_tracks` defaults
        to the number of MTrk chunks among them."""
        if n_tracks is None:
            n_tracks = sum(t[:4] == b"MTrk" for t in tracks)
        return cls.header(fmt, n_tracks, division) + b"".join(tracks)

    # Channel events (channel counted from 0).
    @staticmethod
    def note_on(channel: int, pitch: int, velocity: int) -> bytes:
        return bytes([0x90 | channel, pitch, velocity])

    @staticmethod
    def note_off(channel: int, pitch: int, velocity: int = 64) -> bytes:
        return bytes([0x80 | channel, pitch, velocity])

    @staticmethod
    def program(channel: int, program: int) -> bytes:
        return bytes([0xC0 | channel, program])

    @staticmethod
    def control(channel: int, control: int, value: int) -> bytes:
        return bytes([0xB0 | channel, control, value])

    # Meta events.
    @classmethod
    def meta(cls, kind: int, data: bytes) -> bytes:
        return bytes([0xFF, kind]) + cls.vlq(len(data)) + data

    @classmethod
    def tempo(cls, us_per_beat: int) -> bytes:
        return cls.meta(0x51, us_per_beat.to_bytes(3, "big"))

    @classmethod
    def time_signature(cls, numerator: int, denominator: int) -> bytes:
        power = denominator.bit_length() - 1
        assert 1 << power == denominator
        return cls.meta(0x58, bytes([numerator, power, 24, 8]))

    @classmethod
    def key_signature(cls, sharps: int, minor: bool) -> bytes:
        return cls.meta(0x59, bytes([sharps & 0xFF, int(minor)]))

    @classmethod
    def track_name(cls, name: str) -> bytes:
        return cls.meta(0x03, name.encode("latin-1"))

    @classmethod
    def end_of_track(cls) -> bytes:
        return cls.meta(0x2F, b"")


@pytest.fixture
def smf() -> type[SMF]:
    return SMF


def random_song(seed: int, ppq: int = 480, n_tracks: int = 4, notes_per_track: int = 60) -> Song:
    """A seeded random song whose notes MIDI can hold unambiguously: notes of one pitch on one
    channel may overlap, but never one inside another (what starts first also ends first)."""
    rng = random.Random(seed)
    tracks = []
    used_channels = set()
    for i in range(n_tracks):
        is_drum = i == n_tracks - 1 and n_tracks > 1 and rng.random() < 0.7
        if is_drum:
            channel = 9
        else:
            channel = rng.choice([c for c in range(16) if c != 9 and c not in used_channels])
        used_channels.add(channel)
        last_end: dict[int, int] = {}
        notes = []
        t = 0
        while len(notes) < notes_per_track:
            t += rng.choice([0, 0, 1, ppq // 4, ppq // 3, ppq // 2, ppq, rng.randrange(1, 2 * ppq)])
            pitch = rng.randint(35, 81) if is_drum else rng.randint(0, 127)
            duration = rng.choice([0, 1, ppq // 8, ppq // 4, ppq // 2, ppq, 3 * ppq, rng.randrange(1, 4 * ppq)])
            # Keep first-on-first-off order for this pitch: a later start must not end earlier.
            if pitch in last_end:
                duration = max(duration, last_end[pitch] - t)
            notes.append(Note(pitch, t, duration, rng.randint(1, 127)))
            last_end[pitch] = t + duration
        rng.shuffle(notes)  # the file must not depend on the order edits left the notes in
        tracks.append(
            Track(
                name=f"Track {i + 1}",
                program=rng.randrange(128),
                channel=channel,
                is_drum=is_drum,
                notes=tuple(notes),
                volume=rng.randrange(128),
                pan=rng.randrange(128),
            )
        )
    end = max(n.end for t in tracks for n in t.notes)
    tempo_ticks = sorted({0, *(rng.randrange(1, end + 1) for _ in range(3))})
    sig_ticks = [0, 4 * ppq * rng.randint(1, 4), 4 * ppq * rng.randint(5, 8)]
    return Song(
        ppq=ppq,
        tempos=tuple(TempoChange(t, rng.randint(250_000, 1_500_000)) for t in tempo_ticks),
        time_signatures=tuple(
            TimeSignature(t, *rng.choice([(4, 4), (3, 4), (6, 8), (7, 8), (2, 2), (5, 16)])) for t in sig_ticks
        ),
        keys=(KeySignature(0, rng.choice(["C", "F#m", "Bb", "Ebm", "A"])),),
        tracks=tuple(tracks),
        title=f"Random {seed}",
    )


@pytest.fixture
def make_random_song():
    return random_song
