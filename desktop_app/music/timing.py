"""Time conversions: ticks to seconds through the tempo map, ticks to bars:beats through the meter,
and ticks to model grid steps. Every conversion of the app goes through here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

MODEL_STEPS_PER_BEAT = 4  # the models see sixteenth notes


class TempoMap:
    """Piecewise-constant tempo: `changes` are (tick, microseconds per quarter note) pairs."""

    def __init__(self, ppq: int, changes: Sequence[tuple[int, int]]) -> None:
        if ppq <= 0:
            raise ValueError("ppq must be positive")
        self.ppq = ppq
        ordered = sorted(changes) or [(0, 500_000)]
        if ordered[0][0] > 0:
            ordered.insert(0, (0, ordered[0][1]))
        self._ticks = np.array([t for t, _ in ordered], dtype=np.float64)
        self._us = np.array([us for _, us in ordered], dtype=np.float64)
        seconds_per_tick = self._us / 1e6 / ppq
        spans = np.diff(self._ticks) * seconds_per_tick[:-1]
        self._seconds = np.concatenate([[0.0], np.cumsum(spans)])
        self._seconds_per_tick = seconds_per_tick

    def seconds(self, ticks):
        """Seconds at `ticks` (a number or an array)."""
        t = np.asarray(ticks, dtype=np.float64)
        i = np.clip(np.searchsorted(self._ticks, t, side="right") - 1, 0, None)
        result = self._seconds[i] + (t - self._ticks[i]) * self._seconds_per_tick[i]
        return float(result) if result.ndim == 0 else result

    def ticks(self, seconds):
        """Ticks (fractional) at `seconds` (a number or an array)."""
        s = np.asarray(seconds, dtype=np.float64)
        i = np.clip(np.searchsorted(self._seconds, s, side="right") - 1, 0, None)
        result = self._ticks[i] + (s - self._seconds[i]) / self._seconds_per_tick[i]
        return float(result) if result.ndim == 0 else result

    def bpm_at(self, tick: float) -> float:
        i = max(int(np.searchsorted(self._ticks, tick, side="right")) - 1, 0)
        return 60e6 / self._us[i]


@dataclass(frozen=True, slots=True)
class BarBeat:
    """A position in bars and beats, both counted from 1, plus the ticks past the beat."""

    bar: int
    beat: int
    ticks: int = 0

    def __str__(self) -> str:
        return f"{self.bar}:{self.beat}" if self.ticks == 0 else f"{self.bar}:{self.beat}:{self.ticks}"


class Meter:
    """Bars and beats from time signatures: `changes` are (tick, numerator, denominator).
    A beat is the signature's denominator note; a change starts a new bar at its tick.

    A pickup (anacrusis) is written as MIDI files write it: a first signature that lasts exactly
    one of its bars, a bar shorter than one of the signature after it (1/4 then 4/4 for a quarter
    pickup). That first bar is bar 0 and holds the last beats of a bar of the next signature, so
    its notes count up to the first downbeat (a quarter pickup in 4/4 is at 0:4), and bar 1 is
    the first full bar, as scores number them. Without a pickup the first bar is bar 1."""

    def __init__(self, ppq: int, changes: Sequence[tuple[int, int, int]]) -> None:
        self.ppq = ppq
        ordered = sorted(changes) or [(0, 4, 4)]
        if ordered[0][0] > 0:
            ordered.insert(0, (0, ordered[0][1], ordered[0][2]))
        self.pickup_ticks = 0
        if len(ordered) > 1:
            (t0, n0, d0), (t1, n1, d1) = ordered[0], ordered[1]
            first_bar = n0 * max(1, ppq * 4 // d0)
            if t1 - t0 == first_bar < n1 * max(1, ppq * 4 // d1):
                self.pickup_ticks = first_bar
        self._segments: list[tuple[int, int, int, int]] = []  # (tick, first bar, beats/bar, ticks/beat)
        bar = 0 if self.pickup_ticks else 1
        for tick, num, den in ordered:
            if self._segments:
                prev_tick, prev_bar, prev_num, prev_beat = self._segments[-1]
                bar_ticks = prev_num * prev_beat
                bar = prev_bar + -(-(tick - prev_tick) // bar_ticks)  # a partial bar still counts
            self._segments.append((tick, bar, num, max(1, ppq * 4 // den)))

    @property
    def first_bar(self) -> int:
        """The number of the song's first bar: 0 for a pickup, else 1."""
        return self._segments[0][1]

    def _segment_for_tick(self, tick: int) -> tuple[int, int, int, int]:
        seg = self._segments[0]
        for s in self._segments:
            if s[0] <= tick:
                seg = s
            else:
                break
        return seg

    def _pickup_bar(self) -> tuple[int, int, int, int]:
        """The pickup as the tail of a full bar of the next signature: that bar's segment, which
        begins before tick 0 (where the bar's downbeat would have been)."""
        tick, _, num, beat = self._segments[1]
        return (tick - num * beat, 0, num, beat)

    def ticks_per_beat(self, tick: int | None = None) -> int:
        """The beat at `tick` (a pickup counts in the beats of the bar after it); without a tick,
        the first full bar's."""
        tick = self.pickup_ticks if tick is None else tick
        if self.pickup_ticks and tick < self.pickup_ticks:
            return self._pickup_bar()[3]
        return self._segment_for_tick(tick)[3]

    def ticks_per_bar(self, tick: int | None = None) -> int:
        """The length of the bar at `tick` (a pickup bar's own, short length); without a tick,
        the first full bar's: the song's usual bar."""
        _, _, num, beat = self._segment_for_tick(self.pickup_ticks if tick is None else tick)
        return num * beat

    def bar_beat(self, tick: int) -> BarBeat:
        if self.pickup_ticks and tick < self.pickup_ticks:
            start, bar, num, beat_ticks = self._pickup_bar()
        else:
            start, bar, num, beat_ticks = self._segment_for_tick(tick)
        offset = tick - start
        bars, rest = divmod(offset, num * beat_ticks)
        beat, ticks = divmod(rest, beat_ticks)
        return BarBeat(bar + bars, beat + 1, ticks)

    def tick_of(self, position: BarBeat) -> int:
        if self.pickup_ticks and position.bar <= 0:
            seg = self._pickup_bar()
        else:
            seg = self._segments[0]
            for s in self._segments:
                if s[1] <= position.bar:
                    seg = s
        start, bar, num, beat_ticks = seg
        return start + (position.bar - bar) * num * beat_ticks + (position.beat - 1) * beat_ticks + position.ticks

    def bar_starts(self, end_tick: int) -> list[int]:
        """Ticks where bars begin in the song (a pickup bar's at tick 0), up to and including
        the bar that holds `end_tick`: where the views draw their bar lines."""
        starts: list[int] = []
        for i, (tick, _, num, beat_ticks) in enumerate(self._segments):
            stop = min(self._segments[i + 1][0], end_tick + 1) if i + 1 < len(self._segments) else end_tick + 1
            starts.extend(range(tick, max(stop, tick + 1), num * beat_ticks))
            if stop > end_tick:
                break
        return starts

    def barlines(self, end_tick: int) -> list[int]:
        """The downbeat tick of every bar, from the first bar's to the first at or after
        `end_tick`. A pickup bar's downbeat lies before the song's start (a negative tick), so
        that `tick - barline` is a note's position in its bar in every piece, pickup or not."""
        lines = self.bar_starts(max(end_tick, 0))
        if self.pickup_ticks:
            lines[0] = self._pickup_bar()[0]
        if lines[-1] < end_tick:
            last = max(lines[-1], 0)
            lines.append(next(t for t in self.bar_starts(last + self.ticks_per_bar(last)) if t > last))
        return lines

    def beat_starts(self, bar_start: int) -> list[int]:
        """Ticks of the beats inside the bar that begins at `bar_start` (a pickup holds the last
        beats of its bar, so its first beat may come after the bar begins)."""
        bar_end = bar_start + self.ticks_per_bar(bar_start)
        beat = self.ticks_per_beat(bar_start)
        downbeat = self.tick_of(BarBeat(self.bar_beat(bar_start).bar, 1))
        first = bar_start + (downbeat - bar_start) % beat
        return list(range(first, bar_end, beat))


def tick_to_step(tick, ppq: int, steps_per_beat: int = MODEL_STEPS_PER_BEAT):
    """The model grid step nearest to `tick` (a number or an array)."""
    return np.rint(np.asarray(tick, dtype=np.float64) * steps_per_beat / ppq).astype(np.int64)


def step_to_tick(step, ppq: int, steps_per_beat: int = MODEL_STEPS_PER_BEAT):
    """The tick where grid step `step` begins (a number or an array)."""
    return np.rint(np.asarray(step, dtype=np.float64) * ppq / steps_per_beat).astype(np.int64)
