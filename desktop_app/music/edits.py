"""Pure edit operations shared by the editor and the models. Each takes a Track (or Song) and
returns a new one; notes are named by their index in `track.notes`. Moves, resizes and velocity
changes keep every index; additions go to the end; removals close the gaps."""

from __future__ import annotations

import bisect
import random
from dataclasses import replace
from typing import Iterable

from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import DRUM_CHANNEL, Track

MIN_PITCH, MAX_PITCH = 0, 127


def _clamp(value: int, low: int, high: int) -> int:
    return low if value < low else high if value > high else value


def _index_set(track: Track, indices: Iterable[int] | None) -> set[int]:
    return set(range(len(track.notes))) if indices is None else set(indices)


def _map_notes(track: Track, indices: Iterable[int] | None, change) -> Track:
    chosen = _index_set(track, indices)
    return track.with_notes([change(n) if i in chosen else n for i, n in enumerate(track.notes)])


def add_notes(track: Track, notes: Iterable[Note]) -> Track:
    return track.with_notes(track.notes + tuple(notes))


def remove_notes(track: Track, indices: Iterable[int]) -> Track:
    gone = set(indices)
    return track.with_notes([n for i, n in enumerate(track.notes) if i not in gone])


def move_notes(track: Track, indices: Iterable[int] | None, delta_ticks: int = 0, delta_pitch: int = 0) -> Track:
    """Shift notes in time and pitch; starts stop at 0 and pitches at the MIDI range."""
    return _map_notes(
        track,
        indices,
        lambda n: replace(
            n, start=max(0, n.start + delta_ticks), pitch=_clamp(n.pitch + delta_pitch, MIN_PITCH, MAX_PITCH)
        ),
    )


def transpose(track: Track, indices: Iterable[int] | None, semitones: int) -> Track:
    return move_notes(track, indices, 0, semitones)


def resize_notes(
    track: Track, indices: Iterable[int] | None, delta_start: int = 0, delta_end: int = 0, min_duration: int = 1
) -> Track:
    """Move the left edge by `delta_start` and the right edge by `delta_end`, keeping each note
    at least `min_duration` long and its start at 0 or later."""

    def change(n: Note) -> Note:
        end = n.end + delta_end
        # The right edge alone never moves the start; the left edge stops short of the end.
        start = n.start if delta_start == 0 else _clamp(n.start + delta_start, 0, max(0, end - min_duration))
        return replace(n, start=start, duration=max(min_duration, end - start))

    return _map_notes(track, indices, change)


def set_velocity(track: Track, indices: Iterable[int] | None, velocity: int) -> Track:
    v = _clamp(velocity, 1, 127)
    return _map_notes(track, indices, lambda n: replace(n, velocity=v))


def set_velocities(track: Track, velocities: dict[int, int]) -> Track:
    """Give each note its own velocity: {index: velocity} (a drawn ramp, say)."""
    return track.with_notes(
        [replace(n, velocity=_clamp(velocities[i], 1, 127)) if i in velocities else n for i, n in enumerate(track.notes)]
    )


def quantize(
    track: Track,
    indices: Iterable[int] | None,
    grid: int,
    strength: float = 1.0,
    starts: bool = True,
    ends: bool = False,
) -> Track:
    """Pull starts (and/or ends) toward the nearest multiple of `grid` ticks by `strength` (0..1).
    A note never shrinks below one grid step when its end is quantized."""
    if grid <= 0:
        raise ValueError("grid must be positive")

    def toward(t: int) -> int:
        target = (t + grid // 2) // grid * grid  # halfway goes to the later line (round() would go to the even one)
        return round(t + (target - t) * strength)

    def change(n: Note) -> Note:
        start = toward(n.start) if starts else n.start
        end = n.end + (start - n.start)
        if ends:
            end = max(toward(n.end), start + max(1, round(grid * strength)))
        return replace(n, start=max(0, start), duration=max(1, end - start))

    return _map_notes(track, indices, change)


def humanize(
    track: Track, indices: Iterable[int] | None, timing_ticks: int, velocity_amount: int, seed: int
) -> Track:
    """Nudge starts by up to ±`timing_ticks` and velocities by up to ±`velocity_amount`,
    from a seeded generator so the same seed gives the same result."""
    rng = random.Random(seed)
    chosen = _index_set(track, indices)
    notes = []
    for i, n in enumerate(track.notes):
        if i in chosen:
            dt = rng.randint(-timing_ticks, timing_ticks) if timing_ticks else 0
            dv = rng.randint(-velocity_amount, velocity_amount) if velocity_amount else 0
            n = replace(n, start=max(0, n.start + dt), velocity=_clamp(n.velocity + dv, 1, 127))
        notes.append(n)
    return track.with_notes(notes)


def legato(track: Track, indices: Iterable[int] | None) -> Track:
    """Stretch each chosen note to the start of the next later chord in the track."""
    starts = sorted({n.start for n in track.notes})

    def change(n: Note) -> Note:
        j = bisect.bisect_right(starts, n.start)
        return replace(n, duration=starts[j] - n.start) if j < len(starts) else n

    return _map_notes(track, indices, change)


def merge_tracks(song: Song, indices: Iterable[int]) -> Song:
    """Join the chosen tracks into the first of them (its name and instrument), in place of it."""
    chosen = sorted(set(indices))
    if len(chosen) < 2:
        return song
    first = song.tracks[chosen[0]]
    notes = [n for i in chosen for n in song.tracks[i].notes]
    merged = first.with_notes(sorted(notes, key=lambda n: (n.start, n.pitch)))
    tracks = [merged if i == chosen[0] else t for i, t in enumerate(song.tracks) if i == chosen[0] or i not in chosen]
    return song.with_tracks(tracks)


def split_track_at_pitch(song: Song, index: int, split_pitch: int) -> Song:
    """Split a track in two: notes at or above `split_pitch` stay, lower notes go to a new track
    right after it (a piano's two hands, say)."""
    track = song.tracks[index]
    upper = [n for n in track.notes if n.pitch >= split_pitch]
    lower = [n for n in track.notes if n.pitch < split_pitch]
    tracks = list(song.tracks)
    tracks[index] = track.with_notes(upper)
    tracks.insert(index + 1, replace(track, name=f"{track.name} (low)".strip(), notes=tuple(lower)))
    return song.with_tracks(tracks)


def insert_track(song: Song, index: int, track: Track) -> Song:
    tracks = list(song.tracks)
    tracks.insert(index, track)
    return song.with_tracks(tracks)


def remove_track(song: Song, index: int) -> Song:
    return song.with_tracks([t for i, t in enumerate(song.tracks) if i != index])


def move_track(song: Song, index: int, new_index: int) -> Song:
    tracks = list(song.tracks)
    tracks.insert(new_index, tracks.pop(index))
    return song.with_tracks(tracks)


def free_channel(song: Song) -> int:
    """The lowest melodic channel no track uses yet (channel 10 is for drums), or 0 when all are taken."""
    used = {t.channel for t in song.tracks}
    return next((c for c in range(16) if c != DRUM_CHANNEL and c not in used), 0)


def split_note(track: Track, index: int, tick: int) -> Track:
    """Cut note `index` in two at `tick`; the second half goes to the end of the list.
    Nothing changes unless `tick` lies strictly inside the note."""
    n = track.notes[index]
    if not n.start < tick < n.end:
        return track
    notes = list(track.notes)
    notes[index] = replace(n, duration=tick - n.start)
    notes.append(replace(n, start=tick, duration=n.end - tick))
    return track.with_notes(notes)


def next_same_pitch(track: Track, index: int) -> int | None:
    """The note of the same pitch that starts soonest at or after note `index` ends, if any."""
    n = track.notes[index]
    best = None
    for i, m in enumerate(track.notes):
        if i != index and m.pitch == n.pitch and m.start >= n.end and (
            best is None or m.start < track.notes[best].start
        ):
            best = i
    return best


def glue_notes(track: Track, first: int, second: int) -> Track:
    """Join two notes of one pitch into one from the earlier start to the later end, keeping the
    earlier note's velocity and index; the other note is removed."""
    a, b = track.notes[first], track.notes[second]
    if a.start > b.start:
        first, second, a, b = second, first, b, a
    joined = replace(a, duration=max(a.end, b.end) - a.start)
    notes = list(track.notes)
    notes[first] = joined
    del notes[second]
    return track.with_notes(notes)


def copy_notes(track: Track, indices: Iterable[int], delta_ticks: int = 0, delta_pitch: int = 0) -> tuple[Track, list[int]]:
    """Append moved copies of the chosen notes; returns the track and the copies' indices."""
    chosen = sorted(set(indices))
    moved = move_notes(Track(notes=tuple(track.notes[i] for i in chosen)), None, delta_ticks, delta_pitch)
    first = len(track.notes)
    return add_notes(track, moved.notes), list(range(first, first + len(chosen)))
