"""Offline render: the song through the same engine as playback, block by block, into an
array; and writing WAV or FLAC files with soundfile (atomically, like every save)."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from desktop_app.audio.engine import Engine
from desktop_app.audio.schedule import build_schedule
from desktop_app.audio.soundfont import find_soundfont
from desktop_app.audio.synth import Synth, SynthUnavailable
from desktop_app.music.errors import MusicFileError
from desktop_app.music.files import atomic_write_bytes
from desktop_app.music.song import Song

AUDIO_EXTENSIONS = {".wav": "WAV", ".flac": "FLAC"}
RENDER_BLOCK = 1024
SILENCE = 1e-4  # -80 dBFS: the tail ends where the sound falls below this


@dataclass(frozen=True)
class SynthSettings:
    """What shapes the sound, shared by playback and render so both sound the same."""

    soundfont: str | None = None
    sample_rate: int = 48_000
    gain: float = 0.5
    reverb: bool = True

    def make_synth(self) -> Synth:
        path = find_soundfont(self.soundfont)
        if path is None:
            raise SynthUnavailable("no General MIDI SoundFont found; install one (apt: fluid-soundfont-gm) "
                                   "or choose a .sf2/.sf3 file in Settings")
        synth = Synth(path, self.sample_rate, self.gain)
        synth.set_reverb(self.reverb)
        return synth


def render_song(
    song: Song,
    settings: SynthSettings = SynthSettings(),
    start_tick: int = 0,
    end_tick: int | None = None,
    progress: Callable[[float], None] | None = None,
    tail_seconds: float = 2.0,
) -> np.ndarray:
    """The song from `start_tick` to `end_tick` (default: its end) as (frames, 2) float32, plus the
    release tail until it falls silent (at most `tail_seconds`)."""
    synth = settings.make_synth()
    try:
        schedule = build_schedule(song, settings.sample_rate)
        engine = Engine(synth, schedule)
        tempo = song.tempo_map
        first = round(tempo.seconds(start_tick) * settings.sample_rate)
        last_tick = song.end_tick if end_tick is None else end_tick
        last = max(first, round(tempo.seconds(last_tick) * settings.sample_rate))
        total = last - first + int(tail_seconds * settings.sample_rate)
        out = np.zeros((total, 2), dtype=np.float32)
        engine.seek(first)
        engine.play()
        for offset in range(0, total, RENDER_BLOCK):
            n = min(RENDER_BLOCK, total - offset)
            if end_tick is not None and offset <= last - first < offset + n:
                engine.process(out[offset:], last - first - offset)
                engine.pause()  # releases the notes still held at the range's end
                done = last - first - offset
                engine.process(out[offset + done :], n - done)
            else:
                engine.process(out[offset:], n)
            if progress is not None:
                progress((offset + n) / total)
    finally:
        synth.close()
    tail = out[last - first :]
    loud = np.flatnonzero(np.abs(tail).max(axis=1) > SILENCE)
    return out[: last - first + (int(loud[-1]) + 1 if len(loud) else 0)]


def audio_format(path: str | os.PathLike[str]) -> str:
    fmt = AUDIO_EXTENSIONS.get(Path(path).suffix.lower())
    if fmt is None:
        raise MusicFileError(path, "cannot write audio there; choose a .wav or .flac file")
    return fmt


def write_audio(path: str | os.PathLike[str], audio: np.ndarray, sample_rate: int) -> None:
    """Write 16-bit WAV or FLAC, chosen by extension, atomically."""
    import soundfile

    fmt = audio_format(path)
    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(audio, -1.0, 1.0), sample_rate, format=fmt, subtype="PCM_16")
    atomic_write_bytes(path, buffer.getvalue())
