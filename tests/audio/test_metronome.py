"""The metronome: a click on every beat of the meter (the signature's denominator note), the
downbeat accented (GM wood blocks 76, others 77), on the metronome channel, at the tempo map's
sample; and the count-in bar before a start."""

from __future__ import annotations

from dataclasses import replace

import pytest

from desktop_app.audio.engine import Engine
from desktop_app.audio.schedule import (
    CLICK_ACCENT_KEY,
    CLICK_ACCENT_VELOCITY,
    CLICK_KEY,
    CLICK_SECONDS,
    CLICK_VELOCITY,
    build_schedule,
    with_count_in,
)
from desktop_app.audio.synth import METRONOME_CHANNEL
from desktop_app.music.song import TimeSignature

from audio_helpers import FakeSynth, drive, melody, samples, song_of

RATE = 48_000


def _clicks(song, metronome=True, block=256, frames=None):
    synth = FakeSynth()
    engine = Engine(synth, build_schedule(song, RATE, metronome=metronome))
    engine.play()
    drive(engine, frames or samples(song, song.end_tick + 8 * song.ppq, RATE), block)
    return synth


def _expected(song, beat_ticks, beats_per_bar, bars):
    return [(samples(song, k * beat_ticks, RATE), METRONOME_CHANNEL,
             CLICK_ACCENT_KEY if k % beats_per_bar == 0 else CLICK_KEY,
             CLICK_ACCENT_VELOCITY if k % beats_per_bar == 0 else CLICK_VELOCITY)
            for k in range(bars * beats_per_bar)]


@pytest.mark.parametrize(
    ("meter", "beat_ticks", "beats_per_bar"),
    [((4, 4), 480, 4), ((3, 4), 480, 3), ((6, 8), 240, 6), ((2, 2), 960, 2)],
)
@pytest.mark.parametrize("bpm", [120.0, 137.5])
def test_a_click_on_every_beat_with_the_downbeat_accented(meter, beat_ticks, beats_per_bar, bpm):
    bar = beat_ticks * beats_per_bar
    song = song_of(melody((60, 0, bar + beat_ticks + 7)), bpm=bpm, meter=meter)  # ends in bar 2
    synth = _clicks(song)
    assert synth.ons(METRONOME_CHANNEL) == _expected(song, beat_ticks, beats_per_bar, bars=2)
    assert synth.intervals() == sorted(synth.intervals(), key=lambda r: r[2])
    for channel, key, on, off in synth.intervals():
        if channel == METRONOME_CHANNEL:
            assert off - on == int(CLICK_SECONDS * RATE)


def test_clicks_stop_at_the_barline_where_the_song_ends():
    song = song_of(melody((60, 0, 1920)))  # exactly one bar of 4/4
    assert len(_clicks(song).ons(METRONOME_CHANNEL)) == 4


def test_an_empty_song_clicks_one_bar():
    song = song_of()
    synth = _clicks(song, frames=3 * RATE)
    assert [k for _, _, k, _ in synth.ons(METRONOME_CHANNEL)] == [CLICK_ACCENT_KEY] + [CLICK_KEY] * 3


def test_no_clicks_without_the_metronome():
    song = song_of(melody((60, 0, 1920)))
    assert _clicks(song, metronome=False).ons(METRONOME_CHANNEL) == []
    assert METRONOME_CHANNEL not in build_schedule(song, RATE).channel


def test_clicks_follow_tempo_and_meter_changes():
    # A bar of 4/4 at 120, then 3/4 bars at 90 BPM (the change lands on the barline).
    song = replace(song_of(melody((60, 0, 1920 + 2 * 1440)), bpm=[(0, 120.0), (1920, 90.0)]),
                   time_signatures=(TimeSignature(0, 4, 4), TimeSignature(1920, 3, 4)))
    ticks = [0, 480, 960, 1440] + [1920 + 480 * k for k in range(6)]
    accents = {0, 1920, 3360}
    expected = [(samples(song, t, RATE), METRONOME_CHANNEL, CLICK_ACCENT_KEY if t in accents else CLICK_KEY,
                 CLICK_ACCENT_VELOCITY if t in accents else CLICK_VELOCITY) for t in ticks]
    assert _clicks(song, block=1000).ons(METRONOME_CHANNEL) == expected
    # 90 BPM after the change: two-thirds of a second a beat.
    assert samples(song, 2400, RATE) - samples(song, 1920, RATE) == 32_000


def test_clicks_and_notes_play_together():
    song = song_of(melody((60, 0, 480), (62, 480, 480)))
    synth = _clicks(song, block=64)
    assert synth.ons(0) == [(0, 0, 60, 100), (24_000, 0, 62, 100)]
    assert [f for f, *_ in synth.ons(METRONOME_CHANNEL)] == [0, 24_000, 48_000, 72_000]


# ----- count-in ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meter", "beat_ticks", "beats"),
    [((4, 4), 480, 4), ((3, 4), 480, 3), ((6, 8), 240, 6)],
)
@pytest.mark.parametrize("start_tick", [0, 2 * 1440])
def test_count_in_puts_one_bar_of_clicks_before_the_start(meter, beat_ticks, beats, start_tick):
    # The tempo changes to 100 BPM at the start bar: the count-in takes the tempo of the start.
    song = song_of(melody((60, 0, 100), (67, start_tick, 480)), bpm=[(0, 120.0), (2 * 1440, 100.0)], meter=meter)
    schedule = build_schedule(song, RATE)
    start = samples(song, start_tick, RATE)
    merged, begin = with_count_in(schedule, song, start, start_tick)
    beat = round(60 / song.tempo_map.bpm_at(start_tick) * beat_ticks / song.ppq * RATE)
    assert begin == start - beats * beat

    synth = FakeSynth()
    engine = Engine(synth, merged)
    engine.seek(begin)
    engine.play()
    drive(engine, beats * beat + 1000, 256)
    clicks = synth.ons(METRONOME_CHANNEL)
    assert [f for f, *_ in clicks] == [k * beat for k in range(beats)]
    assert [k for _, _, k, _ in clicks] == [CLICK_ACCENT_KEY] + [CLICK_KEY] * (beats - 1)
    # The song itself comes in exactly one bar later, at the start.
    assert [on for on in synth.ons(0) if on[2] == 67] == [(beats * beat, 0, 67, 100)]
    assert all(f >= beats * beat for f, *_ in synth.ons(0))
    assert len(merged) == len(schedule) + 2 * beats


def test_count_in_then_the_metronome_carries_on():
    song = song_of(melody((60, 0, 1920)))
    schedule = build_schedule(song, RATE, metronome=True)
    merged, begin = with_count_in(schedule, song, 0, 0)
    synth = FakeSynth()
    engine = Engine(synth, merged)
    engine.seek(begin)
    engine.play()
    drive(engine, 4 * RATE + 100, 1000)
    frames = [f for f, *_ in synth.ons(METRONOME_CHANNEL)]
    assert frames == [k * 24_000 for k in range(8)]  # four count-in beats, then four in the song
    assert begin == -2 * RATE and engine.position == begin + 4 * RATE + 100


def _with_pickup(song):
    """`song` with a quarter-note pickup before its 4/4 bars (1/4 then 4/4, as MIDI files write it)."""
    return replace(song, time_signatures=(TimeSignature(0, 1, 4), TimeSignature(480, 4, 4)))


def test_a_pickup_beat_is_not_accented_and_the_first_full_bar_is():
    song = _with_pickup(song_of(melody((67, 0, 480), (60, 480, 2400))))  # ends in bar 2
    clicks = _clicks(song).ons(METRONOME_CHANNEL)
    assert [f for f, *_ in clicks][:6] == [samples(song, k * 480, RATE) for k in range(6)]
    assert [k for _, _, k, _ in clicks][:6] == [CLICK_KEY, CLICK_ACCENT_KEY, CLICK_KEY, CLICK_KEY, CLICK_KEY,
                                                CLICK_ACCENT_KEY]


def test_count_in_before_a_pickup_is_a_whole_bar_of_the_signature_after_it():
    song = _with_pickup(song_of(melody((67, 0, 480), (60, 480, 1920))))
    schedule = build_schedule(song, RATE)
    merged, begin = with_count_in(schedule, song, 0, 0)
    assert begin == -4 * 24_000  # four quarters at 120 BPM, not the pickup's one
    synth = FakeSynth()
    engine = Engine(synth, merged)
    engine.seek(begin)
    engine.play()
    drive(engine, 4 * 24_000 + 1000, 256)
    assert [k for _, _, k, _ in synth.ons(METRONOME_CHANNEL)] == [CLICK_ACCENT_KEY] + [CLICK_KEY] * 3

