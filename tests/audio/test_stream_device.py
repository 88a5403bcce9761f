"""The real-time stream on a real device (PortAudio on the PulseAudio null sink that
scripts/null-audio.sh starts): the playhead from the audio clock follows play, pause, seek, loop
and stop. Tolerant on purpose: these check behaviour, not timings."""

from __future__ import annotations

import time

import numpy as np
import pytest

from desktop_app.audio.engine import Engine
from desktop_app.audio.schedule import build_schedule
from desktop_app.audio.soundfont import find_soundfont
from desktop_app.audio.stream import AudioOutput, AudioUnavailable, output_devices
from desktop_app.audio.synth import Synth, SynthUnavailable

from audio_helpers import melody, song_of

RATE = 48_000
TOLERANCE = 0.15  # of real time


class CountingEngine(Engine):
    """Counts the blocks the stream asks for, so a test can wait for the callback."""

    blocks = 0

    def process(self, out, frames, dac_time=0.0):
        super().process(out, frames, dac_time)
        self.blocks += 1


class SilentSynth:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None

    def render(self, out, start, count):
        out[start : start + count] = 0.0


def _wait_blocks(engine, count, timeout=5.0):
    """Wait until the callback has run `count` more blocks; False on timeout."""
    target = engine.blocks + count
    deadline = time.monotonic() + timeout
    while engine.blocks < target:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def _apply(engine):
    """Wait until the commands queued so far are applied and a block has run after them."""
    deadline = time.monotonic() + 2.0
    while engine.commands and time.monotonic() < deadline:
        time.sleep(0.002)
    assert not engine.commands, "the audio callback stopped taking commands"
    assert _wait_blocks(engine, 2, 2.0)


@pytest.fixture(scope="module")
def output():
    if not output_devices():
        pytest.skip("no audio output device (run scripts/null-audio.sh's start_null_audio first)")
    song = song_of(*[melody(*((60 + k % 12, k * 240, 240) for k in range(160)))])  # 20 s of eighths
    path = find_soundfont()
    synth = None
    if path is not None:
        try:
            synth = Synth(path, RATE)
        except SynthUnavailable:
            synth = None
    engine = CountingEngine(synth or SilentSynth(), build_schedule(song, RATE))
    out = AudioOutput(engine)
    # PulseAudio's idle null sink sleeps up to a couple of seconds before it starts pulling:
    # wait until blocks come at the real-time pace (far more than the first burst of a few).
    assert _wait_blocks(engine, 40, timeout=8.0), "the output stream never started"
    yield out
    out.close()
    if synth is not None:
        synth.close()


@pytest.fixture
def player(output):
    engine = output.engine
    engine.set_loop(None)
    engine.pause()
    engine.seek(0)
    _apply(engine)
    assert output.heard_sample() == 0.0
    return output


def _rate_of(output, seconds):
    h0, t0 = output.heard_sample(), time.monotonic()
    time.sleep(seconds)
    h1, t1 = output.heard_sample(), time.monotonic()
    return (h1 - h0) / (t1 - t0) / RATE


def test_latency_is_positive_and_low(player):
    assert 0 < player.latency < 0.05
    assert player.active and player.lost is None
    assert player.device_name


def test_heard_sample_advances_at_real_time_while_playing(player):
    engine = player.engine
    engine.play()
    _apply(engine)
    time.sleep(0.1)
    assert abs(_rate_of(player, 0.8) - 1) < TOLERANCE
    # Smooth between callbacks: sampled every few ms it never steps back by more than a block.
    seen = []
    for _ in range(60):
        seen.append(player.heard_sample())
        time.sleep(0.003)
    assert min(np.diff(seen)) > -256


def test_pause_freezes_the_playhead(player):
    engine = player.engine
    engine.play()
    _apply(engine)
    time.sleep(0.2)
    before = player.heard_sample()
    engine.pause()
    _apply(engine)
    frozen = player.heard_sample()
    assert before <= frozen <= before + 0.2 * RATE
    time.sleep(0.2)
    assert player.heard_sample() == frozen
    engine.play()
    _apply(engine)
    time.sleep(0.2)
    assert player.heard_sample() > frozen + 0.1 * RATE


def test_seek_jumps_the_playhead(player):
    engine = player.engine
    engine.seek(5 * RATE)  # paused: exactly there
    _apply(engine)
    assert player.heard_sample() == 5 * RATE
    engine.play()
    _apply(engine)
    time.sleep(0.2)
    engine.seek(10 * RATE)  # playing: from there on, once the new block is heard
    sought = time.monotonic()
    seen = [player.heard_sample()]
    # Poll until the new block is heard (a sink stalled by an underrun may take a second or so).
    while seen[-1] < 10 * RATE and time.monotonic() - sought < 3.0:
        time.sleep(0.003)
        seen.append(player.heard_sample())
    assert all(h < 6 * RATE or h >= 10 * RATE for h in seen), "the playhead showed a sample never played"
    heard = player.heard_sample()
    assert 10 * RATE <= heard <= 10 * RATE + (time.monotonic() - sought + 0.1) * RATE
    assert abs(_rate_of(player, 0.3) - 1) < TOLERANCE


def test_loop_keeps_the_playhead_inside_the_loop(player):
    engine = player.engine
    a, b = 2 * RATE, int(2.25 * RATE)
    engine.set_loop((a, b))
    engine.seek(a)
    engine.play()
    _apply(engine)
    time.sleep(0.05)
    seen = []
    for _ in range(200):  # 1 s: four wraps
        seen.append(player.heard_sample())
        time.sleep(0.005)
    seen = np.array(seen)
    outside = seen[(seen < a) | (seen >= b)]
    assert len(outside) == 0, f"heard {outside[:5]} outside the loop [{a}, {b})"
    wraps = int(np.sum(np.diff(seen) < -(b - a) / 2))
    assert 3 <= wraps <= 5
    assert a <= engine.position < b


def test_stop_returns_the_playhead_to_where_play_began(player):
    engine = player.engine
    start = 3 * RATE
    engine.seek(start)
    _apply(engine)
    engine.play()
    _apply(engine)
    time.sleep(0.3)
    assert player.heard_sample() > start + 0.2 * RATE
    engine.stop()
    _apply(engine)
    assert player.heard_sample() == start
    assert not engine.playing and engine.position == start


def test_closing_is_clean():
    if not output_devices():
        pytest.skip("no audio output device (run scripts/null-audio.sh's start_null_audio first)")
    engine = CountingEngine(SilentSynth(), build_schedule(song_of(melody((60, 0, 480))), RATE))
    out = AudioOutput(engine)
    assert out.active
    out.close()
    assert out.stream.closed and not out.active
    assert out.lost is None  # closing on purpose is not losing the device
    out.close()  # a second close is harmless


def test_a_missing_device_says_so():
    engine = Engine(SilentSynth(), build_schedule(song_of(melody((60, 0, 480))), RATE))
    with pytest.raises(AudioUnavailable):
        AudioOutput(engine, device=999)
