"""Offline render: the song through the same engine as playback, block by block, into an array
or streamed into a WAV or FLAC file with soundfile (atomically, like every save)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from desktop_app.audio.engine import Engine
from desktop_app.audio.schedule import build_schedule
from desktop_app.audio.soundfont import find_soundfont
from desktop_app.audio.synth import Synth, SynthUnavailable
from desktop_app.music.errors import MusicFileError
from desktop_app.music.files import atomic_output
from desktop_app.music.limits import check_sample_rate, check_song
from desktop_app.music.song import Song

AUDIO_EXTENSIONS = {".wav": "WAV", ".flac": "FLAC"}
RENDER_BLOCK = 1024  # frames per engine call, as in playback
CHUNK_FRAMES = 64 * RENDER_BLOCK  # frames per block handed out (about 1.4 s at 48 kHz)
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


def render_blocks(
    song: Song,
    settings: SynthSettings = SynthSettings(),
    start_tick: int = 0,
    end_tick: int | None = None,
    progress: Callable[[float], None] | None = None,
    tail_seconds: float = 2.0,
) -> Iterator[np.ndarray]:
    """The song from `start_tick` to `end_tick` (default: its end), plus the release tail until
    it falls silent (at most `tail_seconds`), as consecutive (frames, 2) float32 blocks of at
    most CHUNK_FRAMES: memory stays the same however long the song is."""
    rate = settings.sample_rate
    synth = settings.make_synth()
    try:
        engine = Engine(synth, build_schedule(song, rate))
        tempo = song.tempo_map
        first = round(tempo.seconds(start_tick) * rate)
        last_tick = song.end_tick if end_tick is None else end_tick
        body = max(first, round(tempo.seconds(last_tick) * rate)) - first
        tail = int(tail_seconds * rate)
        total = body + tail
        engine.seek(first)
        engine.play()
        chunk = np.zeros((CHUNK_FRAMES, 2), dtype=np.float32)
        done = 0
        while done < body:
            n = min(CHUNK_FRAMES, body - done)
            _process(engine, chunk, n)
            done += n
            if progress is not None:
                progress(done / total)
            yield chunk[:n].copy()
        if end_tick is not None:
            engine.pause()  # releases the notes still held at the range's end
        out = np.zeros((tail, 2), dtype=np.float32)
        _process(engine, out, tail)
        if progress is not None:
            progress(1.0)
    finally:
        synth.close()
    loud = np.flatnonzero(np.abs(out).max(axis=1) > SILENCE)
    if len(loud):
        yield out[: int(loud[-1]) + 1]


def _process(engine: Engine, out: np.ndarray, frames: int) -> None:
    """Fill out[:frames] through the engine, RENDER_BLOCK frames at a time, as playback does."""
    for offset in range(0, frames, RENDER_BLOCK):
        engine.process(out[offset:], min(RENDER_BLOCK, frames - offset))


def render_song(
    song: Song,
    settings: SynthSettings = SynthSettings(),
    start_tick: int = 0,
    end_tick: int | None = None,
    progress: Callable[[float], None] | None = None,
    tail_seconds: float = 2.0,
) -> np.ndarray:
    """The whole render (see `render_blocks`) as one (frames, 2) float32 array."""
    blocks = list(render_blocks(song, settings, start_tick, end_tick, progress, tail_seconds))
    return np.concatenate(blocks) if blocks else np.zeros((0, 2), dtype=np.float32)


def audio_format(path: str | os.PathLike[str]) -> str:
    fmt = AUDIO_EXTENSIONS.get(Path(path).suffix.lower())
    if fmt is None:
        raise MusicFileError(path, "cannot write audio there; choose a .wav or .flac file")
    return fmt


def _write_blocks(path: str | os.PathLike[str], blocks: Iterable[np.ndarray], sample_rate: int, channels: int = 2) -> None:
    """Stream (frames, channels) or mono (frames,) blocks into a 16-bit WAV or FLAC file, chosen by
    extension, atomically."""
    import soundfile

    fmt = audio_format(path)
    check_sample_rate(sample_rate, path)
    with atomic_output(path) as tmp:
        try:
            with soundfile.SoundFile(tmp, "w", sample_rate, channels, subtype="PCM_16", format=fmt) as out:
                for block in blocks:
                    out.write(np.clip(block, -1.0, 1.0))
        except (RuntimeError, soundfile.SoundFileError) as e:  # libsndfile: a full disk, a bad rate
            raise MusicFileError(path, f"cannot write: {e}") from None


def write_audio(path: str | os.PathLike[str], audio: np.ndarray, sample_rate: int) -> None:
    """Write an array (frames, channels), or (frames,) for mono, as 16-bit WAV or FLAC, chosen by
    extension, atomically."""
    blocks = (audio[i : i + CHUNK_FRAMES] for i in range(0, len(audio), CHUNK_FRAMES))
    _write_blocks(path, blocks, sample_rate, audio.shape[1] if audio.ndim == 2 else 1)


def render_to_file(
    path: str | os.PathLike[str],
    song: Song,
    settings: SynthSettings = SynthSettings(),
    start_tick: int = 0,
    end_tick: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Render straight into a WAV or FLAC file block by block, so a long song needs no more
    memory than a short one; the song must be within the app's limits."""
    audio_format(path)
    check_sample_rate(settings.sample_rate, path)
    check_song(song, path)
    _write_blocks(path, render_blocks(song, settings, start_tick, end_tick, progress), settings.sample_rate)
