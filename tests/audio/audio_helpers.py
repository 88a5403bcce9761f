"""Shared pieces of the audio tests: a recording fake synth, a block-by-block driver for the
engine, and small songs. Imported by name (pytest puts this folder on sys.path)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from desktop_app.audio.engine import Engine
from desktop_app.music.note import Note
from desktop_app.music.song import Song, TempoChange, TimeSignature
from desktop_app.music.track import Track


@dataclass
class FakeSynth:
    """Records every call with the absolute output frame where it happens. `frame` counts the frames
    rendered so far; the driver tells it where each block begins, and render() checks that the
    engine fills each block exactly once, in order, without gaps."""

    frame: int = 0
    block_start: int = 0
    events: list[tuple] = field(default_factory=list)  # ("on", ch, key, vel, frame) / ("off", ch, key, frame)
    setup: list[tuple] = field(default_factory=list)  # program / drum / control calls
    sounding: set[tuple[int, int]] = field(default_factory=set)  # like a synth: a note-off releases the key

    def note_on(self, channel: int, key: int, velocity: int) -> None:
        self.events.append(("on", channel, key, velocity, self.frame))
        self.sounding.add((channel, key))

    def note_off(self, channel: int, key: int) -> None:
        self.events.append(("off", channel, key, self.frame))
        self.sounding.discard((channel, key))

    def control(self, channel: int, control: int, value: int) -> None:
        self.setup.append(("cc", channel, control, value))

    def set_program(self, channel: int, program: int) -> None:
        self.setup.append(("program", channel, program))

    def set_drum_channel(self, channel: int, program: int = 0) -> None:
        self.setup.append(("drum", channel, program))

    def render(self, out: np.ndarray, start: int, count: int) -> None:
        assert count > 0, "render of an empty span"
        assert self.block_start + start == self.frame, (
            f"render at block frame {start} but {self.frame - self.block_start} frames of the block are done")
        out[start : start + count] = 0.0
        self.frame += count

    # ----- views of the log -------------------------------------------------------------

    def ons(self, channel: int | None = None) -> list[tuple[int, int, int, int]]:
        """(frame, channel, key, velocity) of every note-on."""
        return [(e[4], e[1], e[2], e[3]) for e in self.events if e[0] == "on" and channel in (None, e[1])]

    def offs(self, channel: int | None = None) -> list[tuple[int, int, int]]:
        """(frame, channel, key) of every note-off."""
        return [(e[3], e[1], e[2]) for e in self.events if e[0] == "off" and channel in (None, e[1])]

    def intervals(self) -> list[tuple[int, int, int, int]]:
        """(channel, key, on frame, off frame) of every sounded note: each note-on paired with the
        next note-off of its key. Note-offs of keys not sounding (harmless) are ignored."""
        held: dict[tuple[int, int], int] = {}
        result = []
        for e in self.events:
            if e[0] == "on":
                assert (e[1], e[2]) not in held, f"key {e[1:3]} struck again while sounding at frame {e[4]}"
                held[(e[1], e[2])] = e[4]
            elif (e[1], e[2]) in held:
                result.append((e[1], e[2], held.pop((e[1], e[2])), e[3]))
        result += [(ch, key, on, None) for (ch, key), on in held.items()]
        return sorted(result, key=lambda r: (r[2], r[0], r[1]))

    def clear(self) -> None:
        self.events.clear()


def drive(engine: Engine, frames: int, block: int | list[int] = 256, dac_time: float = 0.0) -> np.ndarray:
    """Run the engine for `frames` output frames in blocks of `block` (or cycling through a list of
    sizes), checking each block is fully rendered. Returns the output."""
    synth = engine.synth
    sizes = block if isinstance(block, list) else [block]
    out = np.full((frames, 2), np.nan, dtype=np.float32)
    done, k = 0, 0
    while done < frames:
        n = min(sizes[k % len(sizes)], frames - done)
        k += 1
        synth.block_start = synth.frame
        engine.process(out[done:], n, dac_time)
        assert synth.frame == synth.block_start + n, "the engine left part of the block unrendered"
        done += n
    assert not np.isnan(out).any()
    return out


def samples(song: Song, tick: int, rate: int) -> int:
    """The sample of `tick`: the one reference every scheduling test checks against."""
    return round(song.tempo_map.seconds(tick) * rate)


def song_of(*tracks: Track, bpm: float | list[tuple[int, float]] = 120.0, meter: tuple[int, int] = (4, 4),
            ppq: int = 480) -> Song:
    tempos = [(0, bpm)] if isinstance(bpm, (int, float)) else bpm
    return Song(ppq=ppq, tempos=tuple(TempoChange.from_bpm(t, b) for t, b in tempos),
                time_signatures=(TimeSignature(0, *meter),), tracks=tuple(tracks))


def melody(*notes: tuple[int, int, int], program: int = 0, **kw) -> Track:
    """A track of (pitch, start, duration) notes, velocity 100."""
    return Track(program=program, notes=tuple(Note(p, s, d, 100) for p, s, d in notes), **kw)


def peak_frequency(audio: np.ndarray, rate: int, low: float = 30.0) -> float:
    """The frequency of the strongest spectral peak above `low` Hz of a mono or stereo signal
    (Hann window, zero-padded to about 0.05 Hz a bin)."""
    mono = audio.mean(axis=1) if audio.ndim == 2 else audio
    n = 1 << int(np.ceil(np.log2(rate * 20)))
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono)), n))
    freqs = np.fft.rfftfreq(n, 1 / rate)
    spectrum[freqs < low] = 0
    return float(freqs[np.argmax(spectrum)])


def cents(f: float, reference: float) -> float:
    return 1200 * float(np.log2(f / reference))


def midi_hz(pitch: int) -> float:
    return 440.0 * 2 ** ((pitch - 69) / 12)
