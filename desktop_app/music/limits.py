"""The app's limits on what it reads and makes, in one place: files past them are refused with a
one-line reason instead of exhausting memory or time. docs/project-format.md lists them."""

from __future__ import annotations

import math
import os

from desktop_app.music.errors import MusicFileError
from desktop_app.music.song import Song

MiB = 2**20

MAX_FILE_BYTES = 64 * MiB  # any song file read: project, MIDI, MusicXML or .mxl archive
MAX_MUSICXML_BYTES = 64 * MiB  # the MusicXML text an .mxl archive unpacks to
MAX_SONG_SECONDS = 2 * 3600  # from the start to the end of the last note
MAX_TICK = 2**31 - 1  # any tick or duration stored in a project file
MAX_NOTES = 1_000_000  # notes in a song, all tracks together
MAX_JSON_DEPTH = 32  # nesting of the free-form "view" and "meta" objects of a project file
MIN_SAMPLE_RATE = 8_000  # FluidSynth renders from 8 kHz ...
MAX_SAMPLE_RATE = 96_000  # ... to 96 kHz


def describe_bytes(n: int) -> str:
    """A byte count the way a person reads it: "64 MB", "1.5 GB", "900 bytes". Rounded up, so a
    size just over a limit never reads as the limit itself."""
    for unit, size in (("GB", 2**30), ("MB", MiB), ("KB", 2**10)):
        if n >= size:
            return f"{_up(n / size)} {unit}"
    return f"{n} bytes"


def _up(value: float) -> str:
    """`value` rounded up to one decimal, without a trailing ".0"."""
    return f"{math.ceil(round(value * 10, 6)) / 10:.1f}".removesuffix(".0")


def describe_seconds(seconds: float) -> str:
    """A duration in the largest fitting unit, rounded up: "2 hours", "9.7 hours", "45 minutes"."""
    for unit, size in (("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{_up(seconds / size)} {unit}"
    return f"{math.ceil(seconds)} seconds"


def check_song(song: Song, source: str | os.PathLike[str]) -> Song:
    """Refuse a song too long or too large for the app to play, render and show; `source` names
    the file in the error. Returns the song, so that readers can end with it."""
    count = song.note_count
    if count > MAX_NOTES:
        raise MusicFileError(source, f"too many notes: {count:,}; the app takes songs of up to {MAX_NOTES:,} notes")
    seconds = song.duration_seconds
    if seconds > MAX_SONG_SECONDS:
        raise MusicFileError(
            source,
            f"too long: the song lasts {describe_seconds(seconds)}; "
            f"the app takes songs of up to {describe_seconds(MAX_SONG_SECONDS)}",
        )
    return song


def check_sample_rate(rate: int, target: str | os.PathLike[str]) -> int:
    """Refuse a sample rate FluidSynth cannot render at (it would write a broken file)."""
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise MusicFileError(
            target, f"cannot render at {rate} Hz; choose a sample rate from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz"
        )
    return rate
