"""`desktop-app bench io`: import and export times of a seeded 10,000-note MIDI file."""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

from desktop_app.music.midi_io import read_midi, write_midi
from desktop_app.music.note import Note
from desktop_app.music.song import Song, TempoChange
from desktop_app.music.track import Track


def make_song(n_notes: int, n_tracks: int = 4, seed: int = 0) -> Song:
    """A dense seeded song of `n_notes` notes over `n_tracks` tracks, with two tempos."""
    rng = random.Random(seed)
    per_track = n_notes // n_tracks
    tracks = []
    for t in range(n_tracks):
        count = per_track + (1 if t < n_notes % n_tracks else 0)
        notes, tick = [], 0
        for _ in range(count):
            tick += rng.choice((0, 0, 120, 240, 480))
            notes.append(Note(rng.randint(36, 96), tick, rng.choice((120, 240, 480, 960)), rng.randint(30, 127)))
        tracks.append(Track(name=f"Track {t + 1}", program=t * 8, channel=t, notes=tuple(notes)))
    return Song(ppq=480, tempos=(TempoChange(0, 500_000), TempoChange(480 * 64, 428_571)), tracks=tuple(tracks))


def run(n_notes: int = 10_000, runs: int = 9) -> dict:
    song = make_song(n_notes)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.mid"
        export_times, import_times = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            write_midi(song, path)
            export_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            loaded = read_midi(path)
            import_times.append(time.perf_counter() - t0)
        size = path.stat().st_size
    if loaded.note_count != n_notes:
        raise RuntimeError(f"benchmark round trip lost notes: {loaded.note_count} of {n_notes}")
    return {
        "benchmark": "io",
        "notes": n_notes,
        "runs": runs,
        "file_bytes": size,
        "import_median_s": round(statistics.median(import_times), 4),
        "export_median_s": round(statistics.median(export_times), 4),
        "import_s": [round(t, 4) for t in import_times],
        "export_s": [round(t, 4) for t in export_times],
        "import_goal_s": 0.5,
    }
