"""The song as sample-stamped synth events: note-ons and note-offs of audible tracks (the same key
events MIDI export writes, music/sounding.py), their program changes and sustain pedal, metronome
clicks, and the channel set-up. Pure numpy, built off the audio thread and swapped in whole."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from desktop_app.music.song import Song
from desktop_app.music.sounding import CONTROL, OFF, ON, ZERO_OFF, ZERO_ON, note_event_array
from desktop_app.music.track import Track

# Event kinds. For PROGRAM, `key` is the program and `velocity` 1 on a drum channel; for CONTROL,
# `key` is the controller and `velocity` its value.
NOTE_OFF, NOTE_ON, PROGRAM, CONTROL_CHANGE = 0, 1, 2, 3
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
    """Events sorted by sample time; at one sample, note-offs come first, then program and
    controller changes, then zero-length notes, then note-ons (`rank`, music/sounding.py)."""

    time: np.ndarray  # int64 sample times
    kind: np.ndarray  # NOTE_OFF, NOTE_ON, PROGRAM or CONTROL_CHANGE
    channel: np.ndarray
    key: np.ndarray
    velocity: np.ndarray
    channels: tuple[ChannelSetup, ...]
    sample_rate: int
    end: int  # sample where the last note ends
    rank: np.ndarray | None = None  # order at one sample

    def __len__(self) -> int:
        return len(self.time)

    def index_at(self, sample: int) -> int:
        """Index of the first event at or after `sample`."""
        return int(np.searchsorted(self.time, sample, side="left"))

    def changes_before(self, sample: int) -> list[tuple[int, int, int, int]]:
        """(kind, channel, key, velocity) of the last program change of each channel and the last
        value of each controller before `sample`: what a player chases to start there."""
        i = self.index_at(sample)
        picked = np.flatnonzero(self.kind[:i] >= PROGRAM)
        last: dict[tuple[int, int, int], tuple[int, int, int, int]] = {}
        for j in picked:
            kind, channel, key = int(self.kind[j]), int(self.channel[j]), int(self.key[j])
            last[(kind, channel, -1 if kind == PROGRAM else key)] = (kind, channel, key, int(self.velocity[j]))
        return list(last.values())


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
    as arrays (time, kind, key, velocity); `offset_samples` shifts them all. A pickup bar holds
    the last beats of a bar: none of its clicks is a downbeat."""
    meter, tempo = song.meter, song.tempo_map
    beats, accents = [], []
    for bar in meter.bar_starts(end_tick):
        beat = meter.ticks_per_beat(bar)
        pickup = bar < meter.pickup_ticks
        for k in range(meter.ticks_per_bar(bar) // beat):
            tick = bar + k * beat
            if start_tick <= tick < end_tick:
                beats.append(tick)
                accents.append(k == 0 and not pickup)
    on = np.rint(np.asarray(tempo.seconds(np.array(beats, dtype=np.float64))) * sample_rate).astype(np.int64) + offset_samples
    accent = np.array(accents, dtype=bool)
    off = on + int(CLICK_SECONDS * sample_rate)
    key = np.where(accent, CLICK_ACCENT_KEY, CLICK_KEY)
    velocity = np.where(accent, CLICK_ACCENT_VELOCITY, CLICK_VELOCITY)
    return on, off, key, velocity


def build_schedule(song: Song, sample_rate: int, metronome: bool = False, metronome_channel: int = 255) -> Schedule:
    """Every audible note of `song` as events at `sample_rate`; with `metronome`, a click on each
    beat up to the end of the last bar."""
    times, kinds, channels, keys, velocities, ranks = [], [], [], [], [], []
    setups = []
    tempo = song.tempo_map
    audible = {i for i, _ in audible_tracks(song)}
    for index, track in enumerate(song.tracks):
        channel = track_channel(index)
        # Every track's channel is set up, so a muted track still auditions with its instrument.
        setups.append(ChannelSetup(channel, track.program, track.is_drum, track.volume, track.pan))
        if not track.notes or index not in audible:
            continue
        events = _track_events(track)
        tick = events[:, 0]
        time = np.rint(np.asarray(tempo.seconds(tick.astype(np.float64))) * sample_rate).astype(np.int64)
        rank = events[:, 1]
        # A zero-length note sounds for one sample, unless a note of its key starts with it.
        zero_off = rank == ZERO_OFF
        if zero_off.any():
            where = tick * 128 + events[:, 2]
            time[zero_off & ~np.isin(where, where[rank == ON])] += 1
        times.append(time)
        kinds.append(events[:, 4].astype(np.int8))
        channels.append(np.full(len(events), channel, np.int64))
        keys.append(events[:, 2])
        velocities.append(events[:, 3])
        ranks.append(rank)
    if metronome:
        on, off, key, vel = click_events(song, sample_rate, 0, _end_of_last_bar(song))
        n = len(on)
        times += [on, off]
        kinds += [np.full(n, NOTE_ON, np.int8), np.full(n, NOTE_OFF, np.int8)]
        channels += [np.full(n, metronome_channel, np.int64)] * 2
        keys += [key, key]
        velocities += [vel, np.zeros(n, np.int64)]
        ranks += [np.full(n, ON, np.int64), np.full(n, OFF, np.int64)]
    return _sorted(times, kinds, channels, keys, velocities, tuple(setups), sample_rate, ranks)


def _track_events(track: Track) -> np.ndarray:
    """The track's key events, program changes and controller moves as an (n, 5) int64 array of
    tick, rank, key, velocity (or value) and kind."""
    keys = note_event_array(track.note_array)
    kind = np.where((keys[:, 1] == ON) | (keys[:, 1] == ZERO_ON), NOTE_ON, NOTE_OFF)
    rows = [(p.tick, CONTROL, p.program, int(track.is_drum), PROGRAM) for p in track.programs]
    rows += [(c.tick, CONTROL, c.control, c.value, CONTROL_CHANGE) for c in track.controls]
    changes = np.array(rows, dtype=np.int64).reshape(-1, 5)
    return np.concatenate([np.column_stack([keys, kind]), changes])


def _end_of_last_bar(song: Song) -> int:
    """The tick where the bar holding the song's last note ends (one bar for an empty song)."""
    last = song.meter.bar_starts(song.end_tick)[-1]
    if song.end_tick == last and song.end_tick > 0:
        return last
    return last + song.meter.ticks_per_bar(last)


def with_count_in(schedule: Schedule, song: Song, start_sample: int, start_tick: int, metronome_channel: int = 255) -> tuple[Schedule, int]:
    """The schedule plus one bar of clicks just before `start_sample` (the tempo and meter at
    `start_tick`; in a pickup, a whole bar of the signature after it); returns it and the sample
    where playback should begin."""
    tempo, meter = song.tempo_map, song.meter
    beat_ticks = meter.ticks_per_beat(start_tick)
    beats = meter.ticks_per_bar(max(start_tick, meter.pickup_ticks)) // beat_ticks
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
        [_ranks(schedule), np.full(n, ON, np.int64), np.full(n, OFF, np.int64)],
    )
    return merged, begin


def _ranks(schedule: Schedule) -> np.ndarray:
    if schedule.rank is not None:
        return schedule.rank
    return np.where(schedule.kind == NOTE_ON, ON, np.where(schedule.kind == NOTE_OFF, OFF, CONTROL)).astype(np.int64)


def _sorted(times, kinds, channels, keys, velocities, setups, sample_rate, ranks) -> Schedule:
    if times:
        time = np.concatenate(times)
        rank = np.concatenate(ranks).astype(np.int64)
        order = np.lexsort((rank, time))  # by time, then offs, changes, zero-length notes, ons (stable)
        kind, channel, key, velocity = (np.concatenate(x)[order] for x in (kinds, channels, keys, velocities))
        time, rank = time[order], rank[order]
    else:
        time = np.zeros(0, np.int64)
        kind = np.zeros(0, np.int8)
        channel = key = velocity = rank = np.zeros(0, np.int64)
    notes = kind <= NOTE_ON
    end = int(time[notes].max()) if notes.any() else 0
    return Schedule(time, kind.astype(np.int8), channel.astype(np.int64), key.astype(np.int64),
                    velocity.astype(np.int64), setups, sample_rate, end, rank)
