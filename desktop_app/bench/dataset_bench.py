"""`desktop-app bench dataset`: files per second building a dataset from a folder of seeded MIDI files,
with a cold cache and then a warm one, beside symusic (MidiTok's C++ reader) on the same files."""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path

from desktop_app.ml.data import load_dataset
from desktop_app.ml.data.build import available_cores
from desktop_app.music.midi_io import write_midi
from desktop_app.music.note import Note
from desktop_app.music.song import Song, TempoChange, TimeSignature
from desktop_app.music.track import Track


def make_song(seed: int) -> Song:
    """A seeded song of two to four tracks, 16 to 64 bars, in 4/4 or 3/4: the size of a typical MIDI file."""
    rng = random.Random(seed)
    numerator = rng.choice((4, 4, 3))
    bars = rng.randint(16, 64)
    tracks = []
    for t in range(rng.randint(2, 4)):
        notes, tick = [], 0
        while tick < bars * numerator * 480:
            length = rng.choice((120, 240, 240, 480, 960))
            notes.append(Note(rng.randint(40 + 8 * t, 64 + 8 * t), tick, length, rng.randint(50, 110)))
            tick += length
        tracks.append(Track(name=f"Voice {t + 1}", program=rng.randint(0, 80), channel=t, notes=tuple(notes)))
    return Song(ppq=480, tempos=(TempoChange.from_bpm(0, rng.randint(60, 160)),),
                time_signatures=(TimeSignature(0, numerator, 4),), tracks=tuple(tracks))


def make_folder(folder: Path, n_files: int) -> int:
    """Write `n_files` seeded MIDI files into nested folders; returns the notes written."""
    notes = 0
    for i in range(n_files):
        song = make_song(i)
        sub = folder / f"set{i % 10}"
        sub.mkdir(exist_ok=True)
        write_midi(song, sub / f"piece{i:05d}.mid")
        notes += song.note_count
    return notes


def _symusic_rate(files: list[Path]) -> dict:
    try:
        import symusic
    except ImportError as e:
        return {"available": False, "reason": str(e)}
    t0 = time.perf_counter()
    notes = sum(sum(len(track.notes) for track in symusic.Score(str(f)).tracks) for f in files)
    seconds = time.perf_counter() - t0
    return {"available": True, "version": getattr(symusic, "__version__", "?"), "seconds": round(seconds, 3),
            "files_per_s": round(len(files) / seconds, 1), "notes": notes, "processes": 1}


def run(n_files: int = 2000, workers: int | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="dataset-bench-") as tmp:
        folder, cache = Path(tmp) / "midi", Path(tmp) / "cache"
        folder.mkdir()
        t0 = time.perf_counter()
        notes_written = make_folder(folder, n_files)
        generate_s = time.perf_counter() - t0
        files = sorted(folder.rglob("*.mid"))
        symusic = _symusic_rate(files)  # first, so neither reader finds the files colder than the other
        timings = {}
        for run_name in ("cold", "warm"):
            t0 = time.perf_counter()
            dataset = load_dataset(str(folder), workers=workers, cache=cache)
            seconds = time.perf_counter() - t0
            timings[run_name] = {"seconds": round(seconds, 3), "files_per_s": round(n_files / seconds, 1)}
        notes_read = sum(len(p.notes) for p in dataset.all_pieces)
    return {
        "benchmark": "dataset",
        "files": n_files,
        "notes_written": notes_written,
        "generate_s": round(generate_s, 2),
        "cpu_count": os.cpu_count(),
        "workers": workers or available_cores(),
        "pieces": len(dataset.all_pieces),
        "unreadable": len(dataset.failures),
        "notes_read": notes_read,
        "build_cold": timings["cold"],
        "build_warm": timings["warm"],
        "symusic_read": symusic,
        "note": "cold: parse with the app's MIDI reader (mido) in worker processes and write the cache; "
                "warm: hash each file and load its cached arrays; symusic only reads, in this process",
    }
