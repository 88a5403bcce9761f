"""A Song becomes a Piece: notes quantised to the model grid, barlines as steps, an id from the notes."""

from __future__ import annotations

import hashlib

import numpy as np

from desktop_app.music.song import Song
from desktop_app.ml.data.piece import Piece
from desktop_app.music.timing import tick_to_step


def barline_ticks(song: Song, end_tick: int) -> list[int]:
    """Ticks of every barline from the first up to the one at or after `end_tick`.
    The one place that asks the meter where bars begin, so a pickup-aware meter drops in here."""
    meter = song.meter
    ticks = list(meter.barlines(end_tick)) if hasattr(meter, "barlines") else list(meter.bar_starts(end_tick))
    ticks = sorted(set(ticks))
    if not ticks:
        ticks = [0]
    while ticks[-1] < end_tick:
        ticks.append(ticks[-1] + meter.ticks_per_bar(ticks[-1]))
    return ticks


def piece_id(notes: np.ndarray) -> str:
    """A hash of voice, pitch above the lowest, and start and end from the first note of every note:
    velocity, key and leading silence are left out, so one chorale stored twice (even in another key,
    or after an instrumental bar) gets one id."""
    content = np.asarray(notes, dtype=np.int32)[:, :4].copy()
    if len(content):
        content[:, 1] -= content[:, 1].min()
        content[:, 2:4] -= content[:, 2].min()
    return hashlib.sha256(content.tobytes()).hexdigest()[:16]


def quantised_notes(song: Song) -> np.ndarray:
    """All pitched notes of `song` as an (n, 5) int32 array on the model grid (drum tracks left out):
    each note covers at least one step, and notes of one voice and pitch that land on the same step
    are merged into the longest."""
    rows = []
    for voice, track in enumerate(song.tracks):
        if track.is_drum or not track.notes:
            continue
        arr = track.note_array
        start = tick_to_step(arr[:, 1], song.ppq)
        end = np.maximum(tick_to_step(arr[:, 2], song.ppq), start + 1)
        rows.append(np.column_stack([np.full(len(arr), voice), arr[:, 0], start, end, arr[:, 3]]))
    if not rows:
        return np.zeros((0, 5), dtype=np.int32)
    notes = np.concatenate(rows).astype(np.int32)
    # Sort so the longest of each (voice, pitch, start) comes first, keep it, then order for readers.
    notes = notes[np.lexsort((-notes[:, 3], notes[:, 1], notes[:, 0], notes[:, 2]))]
    key = notes[:, [2, 0, 1]]
    keep = np.ones(len(notes), dtype=bool)
    keep[1:] = np.any(key[1:] != key[:-1], axis=1)
    return np.ascontiguousarray(notes[keep])


def piece_from_song(song: Song, name: str, source: str, *, has_meter: bool = True) -> Piece:
    """The Piece the models read for `song`; `has_meter` False marks a source without a time
    signature (an ABC tune with "M:none"), whose barlines mean nothing."""
    notes = quantised_notes(song)
    end_tick = int(max(song.end_tick, 1))
    downbeats = np.unique(tick_to_step(np.array(barline_ticks(song, end_tick)), song.ppq)).astype(np.int32)
    # A pickup is written as a short first signature (1/4 before 4/4): the piece's meter is the next.
    pickup = bool(getattr(song.meter, "pickup_ticks", 0))
    meters = song.time_signatures[1:] if pickup and len(song.time_signatures) > 1 else song.time_signatures
    signatures = tuple((int(tick_to_step(ts.tick, song.ppq)), ts.numerator, ts.denominator) for ts in meters)
    first = meters[0] if meters else None
    seconds = float(song.tempo_map.seconds(song.end_tick)) if song.tracks else 0.0
    return Piece(
        id=piece_id(notes),
        name=name,
        source=source,
        notes=notes,
        downbeats=downbeats,
        numerator=first.numerator if first else 4,
        denominator=first.denominator if first else 4,
        key=song.key.key if song.key else "",
        tempo_bpm=round(song.tempos[0].bpm, 3) if song.tempos else 120.0,
        voice_names=tuple(t.name for t in song.tracks),
        title=song.title,
        time_signatures=signatures if has_meter else (),
        seconds=seconds,
    )
