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
    A beat is the signature's denominator note; a change starts a new bar at its tick."""

    def __init__(self, ppq: int, changes: Sequence[tuple[int, int, int]]) -> None:
        self.ppq = ppq
        ordered = sorted(changes) or [(0, 4, 4)]
        if ordered[0][0] > 0:
            ordered.insert(0, (0, ordered[0][1], ordered[0][2]))
        self._segments: list[tuple[int, int, int, int]] = []  # (tick, first bar, beats/bar, ticks/beat)
        bar = 1
        for tick, num, den in ordered:
            if self._segments:
                prev_tick, prev_bar, prev_num, prev_beat = self._segments[-1]
                bar_ticks = prev_num * prev_beat
                bar = prev_bar + -(-(tick - prev_tick) // bar_ticks)  # a partial bar still counts
            self._segments.append((tick, bar, num, max(1, ppq * 4 // den)))

    def _segment_for_tick(self, tick: int) -> tuple[int, int, int, int]:
        seg = self._segments[0]
        for s in self._segments:
            if s[0] <= tick:
                seg = s
            else:
                break
        return seg

    def ticks_per_beat(self, tick: int = 0) -> int:
        return self._segment_for_tick(tick)[3]

    def ticks_per_bar(self, tick: int = 0) -> int:
        _, _, num, beat = self._segment_for_tick(tick)
        return num * beat

    def bar_beat(self, tick: int) -> BarBeat:
        start, bar, num, beat_ticks = self._segment_for_tick(tick)
        offset = tick - start
        bars, rest = divmod(offset, num * beat_ticks)
        beat, ticks = divmod(rest, beat_ticks)
        return BarBeat(bar + bars, beat + 1, ticks)

    def tick_of(self, position: BarBeat) -> int:
        seg = self._segments[0]
        for s in self._segments:
            if s[1] <= position.bar:
                seg = s
        start, bar, num, beat_ticks = seg
        return start + (position.bar - bar) * num * beat_ticks + (position.beat - 1) * beat_ticks + position.ticks

    def bar_starts(self, end_tick: int) -> list[int]:
        """Ticks where bars begin, up to and including the bar that holds `end_tick`."""
        starts: list[int] = []
        for i, (tick, _, num, beat_ticks) in enumerate(self._segments):
            stop = min(self._segments[i + 1][0], end_tick + 1) if i + 1 < len(self._segments) else end_tick + 1
            starts.extend(range(tick, max(stop, tick + 1), num * beat_ticks))
            if stop > end_tick:
                break
        return starts


def tick_to_step(tick, ppq: int, steps_per_beat: int = MODEL_STEPS_PER_BEAT):
    """The model grid step nearest to `tick` (a number or an array)."""
    return np.rint(np.asarray(tick, dtype=np.float64) * steps_per_beat / ppq).astype(np.int64)


def step_to_tick(step, ppq: int, steps_per_beat: int = MODEL_STEPS_PER_BEAT):
    """The tick where grid step `step` begins (a number or an array)."""
    return np.rint(np.asarray(step, dtype=np.float64) * ppq / steps_per_beat).astype(np.int64)
