"""Ticks <-> seconds through the tempo map, ticks <-> bars:beats through the meter, model steps."""

from __future__ import annotations

import random

import numpy as np
import pytest

from desktop_app.music import Note, Song, TempoChange, TimeSignature, Track
from desktop_app.music.timing import BarBeat, Meter, TempoMap, step_to_tick, tick_to_step

EPS = 1e-9

# 480 PPQ: 120 BPM for 4 beats, 240 BPM for 4 beats, 60 BPM for 2 beats, then 100 BPM.
CHANGES = [(0, 500_000), (1920, 250_000), (3840, 1_000_000), (4800, 600_000)]
# (tick, seconds) pairs worked out by hand.
EXPECTED = [
    (0, 0.0),
    (480, 0.5),
    (960, 1.0),
    (1920, 2.0),  # first change
    (2400, 2.25),
    (2880, 2.5),
    (3840, 3.0),  # second change
    (4320, 4.0),
    (4800, 5.0),  # third change
    (5280, 5.6),
    (9600, 11.0),
]


@pytest.fixture
def tempo_map() -> TempoMap:
    return TempoMap(480, CHANGES)


@pytest.mark.parametrize("tick, seconds", EXPECTED)
def test_ticks_to_seconds_through_several_tempo_changes(tempo_map, tick, seconds):
    assert tempo_map.seconds(tick) == pytest.approx(seconds, abs=EPS)


@pytest.mark.parametrize("tick, seconds", EXPECTED)
def test_seconds_to_ticks_through_several_tempo_changes(tempo_map, tick, seconds):
    assert tempo_map.ticks(seconds) == pytest.approx(tick, abs=1e-6)


def test_conversions_take_arrays(tempo_map):
    ticks = np.array([t for t, _ in EXPECTED])
    seconds = np.array([s for _, s in EXPECTED])
    got_seconds = tempo_map.seconds(ticks)
    got_ticks = tempo_map.ticks(seconds)
    assert isinstance(got_seconds, np.ndarray) and got_seconds.shape == ticks.shape
    np.testing.assert_allclose(got_seconds, seconds, atol=EPS)
    np.testing.assert_allclose(got_ticks, ticks, atol=1e-6)
    assert isinstance(tempo_map.seconds(960), float)
    assert isinstance(tempo_map.ticks(1.0), float)


def test_fractional_ticks_inside_a_segment(tempo_map):
    # 240 BPM at 480 PPQ: a tick lasts 1/1920 s.
    assert tempo_map.seconds(1920.5) == pytest.approx(2.0 + 0.5 / 1920, abs=EPS)
    assert tempo_map.ticks(2.0 + 1 / 1920) == pytest.approx(1921, abs=1e-6)


def test_seconds_and_ticks_are_inverse_everywhere(tempo_map):
    rng = random.Random(7)
    ticks = [rng.randrange(0, 20_000) for _ in range(500)]
    for t in ticks:
        assert tempo_map.ticks(tempo_map.seconds(t)) == pytest.approx(t, abs=1e-6)
    times = sorted(tempo_map.seconds(t) for t in ticks)
    assert times == sorted(times)  # monotonic: later ticks, later seconds


def test_changes_are_sorted_and_first_tempo_holds_from_zero():
    shuffled = TempoMap(480, list(reversed(CHANGES)))
    for tick, seconds in EXPECTED:
        assert shuffled.seconds(tick) == pytest.approx(seconds, abs=EPS)
    late = TempoMap(480, [(960, 250_000)])  # nothing at 0: the first tempo reaches back to 0
    assert late.seconds(960) == pytest.approx(0.5, abs=EPS)
    assert late.bpm_at(0) == pytest.approx(240.0)


def test_no_changes_means_120_bpm():
    m = TempoMap(96, [])
    assert m.seconds(96) == pytest.approx(0.5, abs=EPS)
    assert m.bpm_at(10_000) == pytest.approx(120.0)


def test_bpm_at(tempo_map):
    assert tempo_map.bpm_at(0) == pytest.approx(120.0)
    assert tempo_map.bpm_at(1919) == pytest.approx(120.0)
    assert tempo_map.bpm_at(1920) == pytest.approx(240.0)
    assert tempo_map.bpm_at(4000) == pytest.approx(60.0)
    assert tempo_map.bpm_at(10**6) == pytest.approx(100.0)


def test_ppq_must_be_positive():
    with pytest.raises(ValueError):
        TempoMap(0, [])


def test_song_uses_its_tempo_map():
    song = Song(
        ppq=480,
        tempos=tuple(TempoChange(t, us) for t, us in CHANGES),
        tracks=(Track(notes=(Note(60, 4000, 800),)),),
    )
    assert song.end_tick == 4800
    assert song.duration_seconds == pytest.approx(5.0, abs=EPS)
    assert song.tempo_map.seconds(2880) == pytest.approx(2.5, abs=EPS)


def test_tempo_change_bpm():
    assert TempoChange.from_bpm(0, 120).us_per_beat == 500_000
    assert TempoChange.from_bpm(0, 90).us_per_beat == 666_667
    assert TempoChange(0, 600_000).bpm == pytest.approx(100.0)


# --- bars and beats --------------------------------------------------------------------------

PPQ = 480
# 4/4 for two bars (1920 ticks a bar), 3/4 for three bars (1440), then 6/8 (six 240-tick beats).
SIG_CHANGES = [(0, 4, 4), (3840, 3, 4), (3840 + 3 * 1440, 6, 8)]
SIX_EIGHT = 3840 + 3 * 1440  # 8160


@pytest.fixture
def meter() -> Meter:
    return Meter(PPQ, SIG_CHANGES)


@pytest.mark.parametrize(
    "tick, expected",
    [
        (0, BarBeat(1, 1)),
        (479, BarBeat(1, 1, 479)),
        (480, BarBeat(1, 2)),
        (1440, BarBeat(1, 4)),
        (1920, BarBeat(2, 1)),
        (1920 + 960 + 5, BarBeat(2, 3, 5)),
        (3840, BarBeat(3, 1)),  # 3/4 begins
        (3840 + 960, BarBeat(3, 3)),
        (3840 + 1440, BarBeat(4, 1)),
        (3840 + 1440 + 480, BarBeat(4, 2)),
        (3840 + 2 * 1440, BarBeat(5, 1)),
        (SIX_EIGHT - 1, BarBeat(5, 3, 479)),
        (SIX_EIGHT, BarBeat(6, 1)),  # 6/8 begins: the beat is an eighth, 240 ticks
        (SIX_EIGHT + 240, BarBeat(6, 2)),
        (SIX_EIGHT + 5 * 240 + 7, BarBeat(6, 6, 7)),
        (SIX_EIGHT + 1440, BarBeat(7, 1)),
        (SIX_EIGHT + 10 * 1440 + 3 * 240, BarBeat(16, 4)),
    ],
)
def test_bar_beat_across_time_signature_changes(meter, tick, expected):
    assert meter.bar_beat(tick) == expected
    assert meter.tick_of(expected) == tick


def test_tick_of_is_the_inverse_of_bar_beat(meter):
    for tick in range(0, SIX_EIGHT + 20 * 1440, 7):
        assert meter.tick_of(meter.bar_beat(tick)) == tick


def test_bar_beat_is_monotonic(meter):
    positions = [meter.bar_beat(t) for t in range(0, 20_000, 60)]
    keys = [(p.bar, p.beat, p.ticks) for p in positions]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_beat_and_bar_lengths(meter):
    assert (meter.ticks_per_beat(0), meter.ticks_per_bar(0)) == (480, 1920)
    assert (meter.ticks_per_beat(3840), meter.ticks_per_bar(3840)) == (480, 1440)
    assert (meter.ticks_per_beat(SIX_EIGHT), meter.ticks_per_bar(SIX_EIGHT)) == (240, 1440)
    assert meter.ticks_per_beat(SIX_EIGHT - 1) == 480


def test_bar_starts(meter):
    assert meter.bar_starts(SIX_EIGHT + 1500) == [0, 1920, 3840, 5280, 6720, 8160, 9600]
    assert meter.bar_starts(100) == [0]
    assert meter.bar_starts(1920) == [0, 1920]


def test_a_change_in_mid_bar_starts_a_new_bar():
    m = Meter(PPQ, [(0, 4, 4), (960, 3, 4)])
    assert m.bar_beat(959) == BarBeat(1, 2, 479)
    assert m.bar_beat(960) == BarBeat(2, 1)  # the partial first bar still counts as bar 1
    assert m.bar_beat(960 + 1440) == BarBeat(3, 1)
    assert m.tick_of(BarBeat(2, 1)) == 960


def test_default_meter_is_four_four_and_changes_may_come_unsorted():
    assert Meter(PPQ, []).bar_beat(1920 * 3 + 480) == BarBeat(4, 2)
    shuffled = Meter(PPQ, list(reversed(SIG_CHANGES)))
    assert shuffled.bar_beat(SIX_EIGHT + 240) == BarBeat(6, 2)


def test_song_meter_follows_time_signatures():
    song = Song(ppq=PPQ, time_signatures=tuple(TimeSignature(*c) for c in SIG_CHANGES))
    assert song.meter.bar_beat(SIX_EIGHT) == BarBeat(6, 1)


def test_bar_beat_text():
    assert str(BarBeat(3, 2)) == "3:2"
    assert str(BarBeat(3, 2, 15)) == "3:2:15"


# --- model grid steps ------------------------------------------------------------------------


def test_tick_to_step_and_back():
    assert int(tick_to_step(0, 480)) == 0
    assert int(tick_to_step(120, 480)) == 1
    assert int(tick_to_step(59, 480)) == 0
    assert int(tick_to_step(61, 480)) == 1
    assert int(tick_to_step(96, 96, steps_per_beat=8)) == 8
    np.testing.assert_array_equal(tick_to_step(np.array([0, 240, 480, 1919]), 480), [0, 2, 4, 16])
    np.testing.assert_array_equal(step_to_tick(np.array([0, 1, 4, 17]), 480), [0, 120, 480, 2040])
    assert int(step_to_tick(3, 96)) == 72
    steps = np.arange(0, 200)
    for ppq in (96, 480, 960):
        np.testing.assert_array_equal(tick_to_step(step_to_tick(steps, ppq), ppq), steps)
