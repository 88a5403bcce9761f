"""Which tracks sound (mute and solo) and on which synth channel, through the schedule and the
engine's channel set-up."""

from __future__ import annotations

from dataclasses import replace

import pytest

from desktop_app.audio.engine import Engine
from desktop_app.audio.schedule import audible_tracks, build_schedule, track_channel
from desktop_app.audio.synth import METRONOME_CHANNEL
from desktop_app.music.note import Note
from desktop_app.music.track import Track

from audio_helpers import FakeSynth, drive, melody, samples, song_of

RATE = 44_100


@pytest.fixture
def song():
    # Three tracks that share MIDI channel 0, and a drum track.
    return song_of(
        melody((60, 0, 480), program=0, channel=0),
        melody((64, 0, 480), program=40, channel=0),
        melody((67, 240, 480), program=73, channel=0, volume=80, pan=20),
        Track(name="Drums", is_drum=True, channel=9, program=25, notes=(Note(36, 0, 120), Note(38, 480, 120))),
    )


def _flags(song, mute=(), solo=()):
    return song.with_tracks([replace(t, mute=i in mute, solo=i in solo) for i, t in enumerate(song.tracks)])


def _channels_heard(song):
    synth = FakeSynth()
    engine = Engine(synth, build_schedule(song, RATE))
    engine.play()
    drive(engine, samples(song, song.end_tick, RATE) + 256, 1000)
    return {e[1] for e in synth.events}


@pytest.mark.parametrize(
    ("mute", "solo", "heard"),
    [
        ((), (), {0, 1, 2, 3}),
        ((1,), (), {0, 2, 3}),
        ((0, 1, 2, 3), (), set()),
        ((), (2,), {2}),
        ((), (0, 3), {0, 3}),
        ((2,), (0,), {0}),  # a solo silences the unsoloed tracks, muted or not
    ],
)
def test_mute_and_solo_choose_the_audible_tracks(song, mute, solo, heard):
    flagged = _flags(song, mute, solo)
    assert {i for i, _ in audible_tracks(flagged)} == heard
    assert set(build_schedule(flagged, RATE).channel.tolist()) == heard
    assert _channels_heard(flagged) == heard


def test_each_track_plays_on_its_own_channel(song):
    assert [track_channel(i) for i in range(4)] == [0, 1, 2, 3]
    schedule = build_schedule(song, RATE)
    keys_by_channel = {ch: sorted(set(schedule.key[schedule.channel == ch].tolist())) for ch in range(4)}
    assert keys_by_channel == {0: [60], 1: [64], 2: [67], 3: [36, 38]}


def test_the_engine_sets_up_each_tracks_instrument(song):
    synth = FakeSynth()
    Engine(synth, build_schedule(song, RATE))
    assert ("program", 0, 0) in synth.setup
    assert ("program", 1, 40) in synth.setup
    assert ("program", 2, 73) in synth.setup
    assert ("drum", 3, 25) in synth.setup
    assert ("cc", 2, 7, 80) in synth.setup and ("cc", 2, 10, 20) in synth.setup
    assert ("drum", METRONOME_CHANNEL, 0) in synth.setup


def test_muting_while_playing_silences_the_track_at_the_next_block(song):
    synth = FakeSynth()
    engine = Engine(synth, build_schedule(song, RATE))
    engine.play()
    at = samples(song, 300, RATE)
    drive(engine, at, 256)
    assert (2, 67) in synth.sounding
    engine.set_schedule(build_schedule(_flags(song, mute=(2,)), RATE))
    drive(engine, samples(song, 1000, RATE), 256)
    assert (at, 2, 67) in synth.offs()  # released at once, and never struck again
    assert [e for e in synth.ons() if e[1] == 2] == [(samples(song, 240, RATE), 2, 67, 100)]
    # The other tracks carry on: the snare of the drum track still comes in on time.
    assert (samples(song, 480, RATE), 3, 38, 100) in synth.ons()
