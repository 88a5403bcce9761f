"""Write resources/seeds/demo.mid: the eight-bar demo seed the app opens on first start.
Our own tune (melody, chords, bass in C major at 100 BPM); run again after changing it."""

from __future__ import annotations

from pathlib import Path

from desktop_app.music.midi_io import write_midi
from desktop_app.music.note import Note
from desktop_app.music.song import KeySignature, Song, TempoChange, TimeSignature
from desktop_app.music.track import Track

PPQ = 480
NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def pitch(name: str) -> int:
    """'C5' -> 72, 'F#4' -> 66."""
    step, rest = name[0], name[1:]
    accidental = rest.count("#") - rest.count("b")
    return 12 * (int(rest.strip("#b")) + 1) + NAMES[step] + accidental


def line(spec: str, velocity: int) -> list[Note]:
    """Notes from 'C5:1 E5:1 ...' where the number after the colon is the length in beats."""
    notes, tick = [], 0
    for item in spec.split():
        name, beats = item.split(":")
        length = round(float(beats) * PPQ)
        notes.append(Note(pitch(name), tick, length, velocity))
        tick += length
    return notes


MELODY = (
    "C5:1 E5:1 D5:1 G4:1  A4:1.5 B4:0.5 C5:2  D5:1 F5:1 E5:1 C5:1  B4:2 G4:2 "
    "A4:1 C5:1 B4:1 E4:1  F4:1.5 G4:0.5 A4:2  G4:1 E5:1 D5:0.5 C5:0.5 B4:1  C5:4"
)
BASS = "C3:2 G2:2 A2:2 E3:2 F2:2 C3:2 G2:2 D3:2 A2:2 E3:2 F2:2 C3:2 G2:2 B2:2 C3:4"
CHORDS = [("C4", "E4", "G4"), ("A3", "C4", "E4"), ("F3", "A3", "C4"), ("G3", "B3", "D4"),
          ("A3", "C4", "E4"), ("F3", "A3", "C4"), ("G3", "B3", "D4"), ("E3", "G3", "C4")]


def demo_song() -> Song:
    bar = 4 * PPQ
    chords = [Note(pitch(p), i * bar, bar, 62) for i, chord in enumerate(CHORDS) for p in chord]
    return Song(
        ppq=PPQ,
        tempos=(TempoChange.from_bpm(0, 100),),
        time_signatures=(TimeSignature(0, 4, 4),),
        keys=(KeySignature(0, "C"),),
        title="Demo seed",
        tracks=(
            Track(name="Melody", program=73, channel=0, notes=tuple(line(MELODY, 96))),
            Track(name="Chords", program=0, channel=1, notes=tuple(chords), volume=90),
            Track(name="Bass", program=32, channel=2, notes=tuple(line(BASS, 88))),
        ),
    )


if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "resources" / "seeds" / "demo.mid"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_midi(demo_song(), out)
    print(f"wrote {out}")
