"""Loop playback: the engine wraps at the loop end at the exact sample, repeats the notes inside at
the right output frames, and releases notes held across the loop end exactly at the wrap."""

from __future__ import annotations

import pytest

from desktop_app.audio.engine import Engine
from desktop_app.audio.schedule import build_schedule

from audio_helpers import FakeSynth, drive, melody, samples, song_of

NOTES = (
    (60, 0, 700),  # starts before the loop, ends inside it: sounds in the first pass only
    (62, 600, 200),  # inside
    (64, 1200, 600),  # held across the loop end: cut at every wrap
    (65, 480, 240),  # starts exactly at the loop start
    (67, 2000, 400),  # after the loop: never heard
    (69, 1440, 100),  # starts exactly at the loop end: never heard (the end is exclusive)
)
LOOP_TICKS = (480, 1440)


def _expected(notes, a, b, start, frames):
    """(channel, key, on frame, off frame) of the notes the loop plays, in output frames: pass one
    runs from `start` to `b`, every later pass from `a` to `b`; a note still held at `b` ends there."""
    result, base, pos = [], 0, start
    while base < frames:
        for channel, key, on, off in notes:
            if pos <= on < b and base + on - pos < frames:
                result.append((channel, key, base + on - pos, base + min(off, b) - pos))
        base += b - pos
        pos = a
    return sorted(result, key=lambda r: (r[2], r[0], r[1]))


def _note_samples(song, rate):
    return [(ch, n.pitch, samples(song, n.start, rate), samples(song, n.end, rate))
            for ch, t in enumerate(song.tracks) for n in t.notes]


def _complete(intervals, frames):
    """The logged intervals, with a note still sounding when the run stopped cut at `frames`."""
    return [(ch, key, on, frames if off is None else off) for ch, key, on, off in intervals]


@pytest.mark.parametrize("rate", [44_100, 48_000])
@pytest.mark.parametrize("block", [64, 256, 1000, 4096])
@pytest.mark.parametrize("bpm", [120.0, 137.5])
def test_notes_repeat_at_the_right_frames_over_several_passes(bpm, block, rate):
    song = song_of(melody(*NOTES), bpm=bpm)
    a, b = (samples(song, t, rate) for t in LOOP_TICKS)
    synth = FakeSynth()
    engine = Engine(synth, build_schedule(song, rate))
    engine.set_loop((a, b))
    engine.play()
    frames = b + 5 * (b - a) + 123  # the first pass, five more, and into a sixth
    drive(engine, frames, block)
    expected = _expected(_note_samples(song, rate), a, b, 0, frames)
    assert _complete(synth.intervals(), frames) == [(ch, k, on, min(off, frames)) for ch, k, on, off in expected]
    # The note across the loop end is cut exactly at each wrap frame.
    wraps = [b + k * (b - a) for k in range(6)]
    assert [off for ch, k, on, off in synth.intervals() if k == 64] == wraps[:6]
    assert all(e[2] not in (67, 69) for e in synth.events)
    assert a <= engine.position < b


@pytest.mark.parametrize("block", [64, 4096])
def test_a_loop_shorter_than_a_block_wraps_many_times_in_one_block(block):
    one_tick_a_sample = {"bpm": 60.0, "ppq": 48_000}
    song = song_of(melody((60, 1000, 100), (62, 1250, 200), (64, 900, 200)), **one_tick_a_sample)
    a, b = 1000, 1300
    synth = FakeSynth()
    engine = Engine(synth, build_schedule(song, 48_000))
    engine.set_loop((a, b))
    engine.play()
    frames = 3 * 4096
    drive(engine, frames, block)
    expected = _expected(_note_samples(song, 48_000), a, b, 0, frames)
    assert len(expected) > 60
    assert _complete(synth.intervals(), frames) == [(ch, k, on, min(off, frames)) for ch, k, on, off in expected]


def test_playing_from_inside_the_loop_starts_the_first_pass_there():
    song = song_of(melody(*NOTES))
    rate = 48_000
    a, b = (samples(song, t, rate) for t in LOOP_TICKS)
    start = samples(song, 700, rate)  # in the middle of the loop, after note 62 has started
    synth = FakeSynth()
    engine = Engine(synth, build_schedule(song, rate))
    engine.set_loop((a, b))
    engine.seek(start)
    engine.play()
    frames = 3 * (b - a)
    drive(engine, frames, 256)
    expected = _expected(_note_samples(song, rate), a, b, start, frames)
    assert _complete(synth.intervals(), frames) == [(ch, k, on, min(off, frames)) for ch, k, on, off in expected]


def test_loop_set_and_cleared_while_playing_takes_effect_at_the_next_block():
    song = song_of(melody(*NOTES))
    rate = 48_000
    a, b = (samples(song, t, rate) for t in LOOP_TICKS)
    synth = FakeSynth()
    engine = Engine(synth, build_schedule(song, rate))
    engine.play()
    drive(engine, 1024, 256)
    engine.set_loop((a, b))
    drive(engine, b - 1024 + 100, 256)  # wraps once
    assert engine.position == a + 100
    engine.set_loop(None)
    drive(engine, b - a, 256)  # runs through the old loop end this time
    assert engine.position == b + 100
    late = samples(song, 2000, rate)
    drive(engine, late - engine.position + 10, 256)
    # One pass repeated: the output runs b - a frames behind the song from then on.
    assert synth.intervals()[-1] == (0, 67, late + (b - a), None)
