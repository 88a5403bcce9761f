"""Every note-on and note-off reaches the synth at the exact output frame the tempo map gives,
whatever the tempo, sample rate or block size (pure scheduling: a fake synth logs the frames)."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from desktop_app.audio.engine import Engine
from desktop_app.audio.schedule import NOTE_OFF, NOTE_ON, build_schedule

from audio_helpers import FakeSynth, drive, melody, samples, song_of

TEMPOS = {
    "60bpm": 60.0,
    "120bpm": 120.0,
    "137.5bpm": 137.5,
    "change": [(0, 120.0), (1000, 75.0), (2400, 137.5)],  # changes mid-note and off the beat
}

# Starts and lengths off any grid, overlapping across tracks, a note spanning each tempo change.
LEAD = ((60, 0, 480), (62, 1, 239), (64, 37, 1), (65, 479, 481), (67, 960, 1500), (69, 2399, 2),
        (71, 3001, 997))
BASS = ((36, 0, 1920), (43, 1920, 1919), (38, 3839, 161))


def _song(tempo):
    return song_of(melody(*LEAD), melody(*BASS, program=32), bpm=tempo)


def _expected(song, rate):
    """(frame, kind, channel, key) of every event, from the notes and the tempo map alone."""
    events = []
    for channel, track in enumerate(song.tracks):
        for n in track.notes:
            events.append((samples(song, n.start, rate), "on", channel, n.pitch))
            events.append((samples(song, n.end, rate), "off", channel, n.pitch))
    return sorted(events)


def _logged(synth):
    return sorted([(f, "on", ch, k) for f, ch, k, _ in synth.ons()] + [(f, "off", ch, k) for f, ch, k in synth.offs()])


@pytest.mark.parametrize("rate", [44_100, 48_000])
@pytest.mark.parametrize("block", [64, 256, 1000, 4096])
@pytest.mark.parametrize("tempo", list(TEMPOS.values()), ids=list(TEMPOS))
def test_events_land_on_the_tempo_maps_sample(tempo, block, rate):
    song = _song(tempo)
    synth = FakeSynth()
    engine = Engine(synth, build_schedule(song, rate))
    engine.play()
    end = samples(song, song.end_tick, rate)
    drive(engine, end + 3 * block, block)
    assert _logged(synth) == _expected(song, rate)
    assert {vel for *_, vel in synth.ons()} == {100}


def test_a_tempo_change_by_hand():
    # 1000 ticks at 120 BPM (1/960 s each), then 75 BPM (1/600 s each): tick 1600 is at 2.0417 s.
    song = song_of(melody((60, 1000, 500), (62, 1600, 10)), bpm=[(0, 120.0), (1000, 75.0)])
    synth = FakeSynth()
    engine = Engine(synth, build_schedule(song, 48_000))
    engine.play()
    drive(engine, 100_000, 1000)
    assert synth.intervals() == [(0, 60, 50_000, 90_000), (0, 62, 98_000, 98_800)]


@pytest.mark.parametrize("rate", [44_100, 48_000])
@pytest.mark.parametrize("tempo", list(TEMPOS.values()), ids=list(TEMPOS))
def test_event_frames_do_not_depend_on_block_size(tempo, rate):
    song = _song(tempo)
    frames = samples(song, song.end_tick, rate) + 5000

    def run(block, frames=frames):
        synth = FakeSynth()
        engine = Engine(synth, build_schedule(song, rate))
        engine.play()
        drive(engine, frames, block)
        return synth.events

    reference = run(64)
    for block in (7, 256, 1000, 4096, [13, 512, 1, 4096, 100, 64]):
        assert run(block) == reference, f"block size {block}"
    prefix = samples(song, 1000, rate)  # a block of one frame is slow: compare the first bars
    assert run(1, prefix) == [e for e in reference if e[-1] < prefix]


def test_at_one_sample_note_offs_come_before_note_ons():
    # The same key ends and starts again at tick 480: the release must not cut the new note.
    song = song_of(melody((60, 0, 480), (60, 480, 480), (64, 480, 480)))
    schedule = build_schedule(song, 48_000)
    at = schedule.time == samples(song, 480, 48_000)
    assert list(schedule.kind[at]) == [NOTE_OFF, NOTE_ON, NOTE_ON]
    synth = FakeSynth()
    engine = Engine(synth, schedule)
    engine.play()
    drive(engine, 60_000, 1000)
    at_frame = [e[:3] for e in synth.events if e[-1] == 24_000]
    assert at_frame == [("off", 0, 60), ("on", 0, 60), ("on", 0, 64)]
    assert synth.intervals() == [(0, 60, 0, 24_000), (0, 60, 24_000, 48_000), (0, 64, 24_000, 48_000)]


def test_zero_length_note_still_sounds_for_one_sample():
    song = song_of(melody((60, 100, 0)))
    synth = FakeSynth()
    engine = Engine(synth, build_schedule(song, 48_000))
    engine.play()
    drive(engine, 10_000, 256)
    on = samples(song, 100, 48_000)
    assert synth.intervals() == [(0, 60, on, on + 1)]


def test_events_in_the_first_frame_of_a_block_and_the_last():
    # Notes at frames 255, 256 and 257 with blocks of 256: the split happens on either side.
    one_tick_a_sample = {"bpm": 60.0, "ppq": 48_000}
    song = song_of(melody((60, 255, 1), (62, 256, 1), (64, 257, 254), (65, 511, 1)), **one_tick_a_sample)
    synth = FakeSynth()
    engine = Engine(synth, build_schedule(song, 48_000))
    engine.play()
    drive(engine, 1024, 256)
    assert synth.intervals() == [(0, 60, 255, 256), (0, 62, 256, 257), (0, 64, 257, 511), (0, 65, 511, 512)]


def test_clock_reports_the_block_start_and_dac_time():
    song = song_of(melody((60, 0, 480)))
    synth = FakeSynth()
    engine = Engine(synth, build_schedule(song, 48_000))
    assert engine.clock == (0, 0.0, False)
    buffer = np.zeros((256, 2), np.float32)
    synth.block_start = synth.frame
    engine.process(buffer, 256, 1.5)
    assert engine.clock == (0, 1.5, False)  # stopped: the clock does not move
    engine.play()
    for k in range(3):
        synth.block_start = synth.frame
        engine.process(buffer, 256, 2.0 + k)
        assert engine.clock == (256 * k, 2.0 + k, True)
    assert engine.position == 768


def test_applied_events_go_to_the_midi_out_queue():
    song = song_of(melody((60, 0, 480), (64, 240, 480)))
    synth = FakeSynth()
    engine = Engine(synth, build_schedule(song, 48_000))
    engine.events_out = deque()
    engine.play()
    drive(engine, 20_000, 256)
    engine.pause()  # releases the two held notes, which MIDI out must hear too
    drive(engine, 256, 256)
    assert list(engine.events_out) == [(NOTE_ON, 0, 60, 100), (NOTE_ON, 0, 64, 100), (NOTE_OFF, 0, 60, 0),
                                       (NOTE_OFF, 0, 64, 0)]
    assert [e[:3] for e in synth.events] == [("on", 0, 60), ("on", 0, 64), ("off", 0, 60), ("off", 0, 64)]
