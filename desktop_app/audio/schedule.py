"""The song as sample-stamped synth events: note-ons and note-offs of audible tracks, metronome
clicks, and the channel set-up. Pure numpy, built off the audio thread and swapped in whole."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from desktop_app.music.song import Song
from desktop_app.music.track import Track

NOTE_OFF, NOTE_ON = 0, 1
CLICK_ACCENT_KEY, CLICK_KEY = 76, 77  # GM Hi and Low Wood Block
CLICK_ACCENT_VELOCITY, CLICK_VELOCITY = 127, 90
CLICK_SECONDS = 0.05


@dataclass(frozen=True)
class ChannelSetup:
    """How one synth channel is set up for a track."""

    channel: int
    program: int
    is_drum: bool
    volume: int
    pan: int


@dataclass(frozen=True)
class Schedule:
    """Events sorted by sample time; at one sample, note-offs come before note-ons."""

    time: np.ndarray  # int64 sample times
    kind: np.ndarray  # NOTE_OFF or NOTE_ON
    channel: np.ndarray
    key: np.ndarray
    velocity: np.ndarray
    channels: tuple[ChannelSetup, ...]
    sample_rate: int
    end: int  # sample where the last note ends

    def __len__(self) -> int:
        return len(self.time)

    def index_at(self, sample: int) -> int:
        """Index of the first event at or after `sample`."""
        return int(np.searchsorted(self.time, sample, side="left"))


def audible_tracks(song: Song) -> list[tuple[int, Track]]:
    """(index, track) of the tracks that sound: the soloed ones if any, else all unmuted ones."""
    soloed = [(i, t) for i, t in enumerate(song.tracks) if t.solo]
    return soloed if soloed else [(i, t) for i, t in enumerate(song.tracks) if not t.mute]


def track_channel(index: int) -> int:
    """Each track gets its own synth channel, so tracks sharing a MIDI channel keep their
    instruments apart."""
    return index


def click_events(song: Song, sample_rate: int, start_tick: int, end_tick: int, offset_samples: int = 0):
    """Metronome clicks on every beat from `start_tick` to `end_tick`, accented on downbeats,
    as arrays (time, kind, key, velocity); `offset_samples` shifts them all."""
    meter, tempo = song.meter, song.tempo_map
    beats, accents = [], []
    for bar in meter.bar_starts(end_tick):
        beat = meter.ticks_per_beat(bar)
        for k in range(meter.ticks_per_bar(bar) // beat):
            tick = bar + k * beat
            if start_tick <= tick < end_tick:
                beats.append(tick)
                accents.append(k == 0)
    on = np.rint(np.asarray(tempo.seconds(np.array(beats, dtype=np.float64))) * sample_rate).astype(np.int64) + offset_samples
    accent = np.array(accents, dtype=bool)
    off = on + int(CLICK_SECONDS * sample_rate)
    key = np.where(accent, CLICK_ACCENT_KEY, CLICK_KEY)
    velocity = np.where(accent, CLICK_ACCENT_VELOCITY, CLICK_VELOCITY)
    return on, off, key, velocity


def build_schedule(song: Song, sample_rate: int, metronome: bool = False, metronome_channel: int = 255) -> Schedule:
    """Every audible note of `song` as events at `sample_rate`; with `metronome`, a click on each
    beat up to the end of the last bar."""
    times, kinds, channels, keys, velocities = [], [], [], [], []
    setups = []
    tempo = song.tempo_map
    audible = {i for i, _ in audible_tracks(song)}
    for index, track in enumerate(song.tracks):
        channel = track_channel(index)
        # Every track's channel is set up, so a muted track still auditions with its instrument.
        setups.append(ChannelSetup(channel, track.program, track.is_drum, track.volume, track.pan))
        if not track.notes or index not in audible:
            continue
        arr = track.note_array
        on = np.rint(np.asarray(tempo.seconds(arr[:, 1].astype(np.float64))) * sample_rate).astype(np.int64)
        off = np.rint(np.asarray(tempo.seconds(arr[:, 2].astype(np.float64))) * sample_rate).astype(np.int64)
        off = np.maximum(off, on + 1)  # a zero-length note still sounds for a moment
        n = len(arr)
        times += [on, off]
        kinds += [np.full(n, NOTE_ON, np.int8), np.full(n, NOTE_OFF, np.int8)]
        channels += [np.full(n, channel, np.int64)] * 2
        keys += [arr[:, 0], arr[:, 0]]
        velocities += [arr[:, 3], np.zeros(n, np.int64)]
    if metronome:
        on, off, key, vel = click_events(song, sample_rate, 0, _end_of_last_bar(song))
        n = len(on)
        times += [on, off]
        kinds += [np.full(n, NOTE_ON, np.int8), np.full(n, NOTE_OFF, np.int8)]
        channels += [np.full(n, metronome_channel, np.int64)] * 2
        keys += [key, key]
        velocities += [vel, np.zeros(n, np.int64)]
    return _sorted(times, kinds, channels, keys, velocities, tuple(setups), sample_rate)


def _end_of_last_bar(song: Song) -> int:
    """The tick where the bar holding the song's last note ends (one bar for an empty song)."""
    last = song.meter.bar_starts(song.end_tick)[-1]
    if song.end_tick == last and song.end_tick > 0:
        return last
    return last + song.meter.ticks_per_bar(last)


def with_count_in(schedule: Schedule, song: Song, start_sample: int, start_tick: int, metronome_channel: int = 255) -> tuple[Schedule, int]:
    """The schedule plus one bar of clicks just before `start_sample` (the tempo and meter at
    `start_tick`); returns it and the sample where playback should begin."""
    tempo, meter = song.tempo_map, song.meter
    beat_ticks = meter.ticks_per_beat(start_tick)
    beats = meter.ticks_per_bar(start_tick) // beat_ticks
    beat_samples = round(60.0 / tempo.bpm_at(start_tick) * beat_ticks / song.ppq * schedule.sample_rate)
    begin = start_sample - beats * beat_samples
    on = begin + beat_samples * np.arange(beats, dtype=np.int64)
    off = on + int(CLICK_SECONDS * schedule.sample_rate)
    accent = np.arange(beats) == 0
    key = np.where(accent, CLICK_ACCENT_KEY, CLICK_KEY)
    vel = np.where(accent, CLICK_ACCENT_VELOCITY, CLICK_VELOCITY)
    n = beats
    merged = _sorted(
        [schedule.time, on, off],
        [schedule.kind, np.full(n, NOTE_ON, np.int8), np.full(n, NOTE_OFF, np.int8)],
        [schedule.channel, np.full(n, metronome_channel, np.int64), np.full(n, metronome_channel, np.int64)],
        [schedule.key, key, key],
        [schedule.velocity, vel, np.zeros(n, np.int64)],
        schedule.channels,
        schedule.sample_rate,
    )
    return merged, begin


def _sorted(times, kinds, channels, keys, velocities, setups, sample_rate) -> Schedule:
    if times:
        time = np.concatenate(times)
        kind = np.concatenate(kinds)
        order = np.lexsort((kind, time))  # by time, offs (0) before ons (1)
        channel, key, velocity = (np.concatenate(x)[order] for x in (channels, keys, velocities))
        time, kind = time[order], kind[order]
    else:
        time = np.zeros(0, np.int64)
        kind = np.zeros(0, np.int8)
        channel = key = velocity = np.zeros(0, np.int64)
    end = int(time.max()) if len(time) else 0
    return Schedule(time, kind, channel.astype(np.int64), key.astype(np.int64), velocity.astype(np.int64),
                    setups, sample_rate, end)
