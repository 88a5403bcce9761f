"""A folder of MIDI files made from the tiny model's demo pieces: a dataset for the headless and
distributed training tests that goes through load_dataset like a user's folder."""

from __future__ import annotations

from pathlib import Path

from desktop_app.ml.models.tiny import demo_pieces
from desktop_app.music.midi_io import write_midi
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track

TICKS_PER_STEP = 120  # 480 per quarter note, 4 steps per quarter


def write_demo_folder(folder: Path, n: int = 16) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for piece in demo_pieces(n, seed=0):
        tracks = tuple(
            Track(name=name, channel=voice, notes=tuple(
                Note(int(pitch), int(start) * TICKS_PER_STEP, int(end - start) * TICKS_PER_STEP, int(velocity))
                for v, pitch, start, end, velocity in piece.notes if v == voice))
            for voice, name in enumerate(piece.voice_names))
        write_midi(Song(tracks=tracks, title=piece.name), folder / f"{piece.name.replace(' ', '_')}.mid")
    return folder
