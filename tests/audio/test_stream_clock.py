"""AudioOutput's playhead (heard_sample) against a scripted stream clock: at any moment it is the
song sample whose output frame is reaching the speaker, even across a loop wrap, a seek or the
start of play still in the output buffer. No device: sounddevice.OutputStream is replaced by a
fake whose callback the test calls with chosen DAC times."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from desktop_app.audio.engine import Engine
from desktop_app.audio.schedule import build_schedule

from audio_helpers import FakeSynth, melody, song_of

RATE = 48_000
BLOCK = 256
LATENCY = 2.5 * BLOCK / RATE  # the buffer holds two and a half blocks: not a whole number of them

sounddevice = pytest.importorskip("sounddevice", exc_type=OSError, reason="PortAudio is not installed")
from desktop_app.audio import stream as stream_module  # noqa: E402


class FakeStream:
    def __init__(self, callback, finished_callback, device=None, **settings):
        self.callback, self.finished_callback, self.device = callback, finished_callback, device
        self.settings = settings
        self.time = 0.0
        self.latency = LATENCY
        self.active = self.closed = False

    def start(self):
        self.active = True

    def stop(self):
        self.active = False

    def close(self):
        self.closed = True


@pytest.fixture
def output(monkeypatch):
    monkeypatch.setattr(sounddevice, "OutputStream", FakeStream)
    song = song_of(melody(*((60 + k % 12, k * 240, 240) for k in range(80))))
    engine = Engine(FakeSynth(), build_schedule(song, RATE))
    return stream_module.AudioOutput(engine)


def _block(output, k):
    """The callback for output block k: called at its time, its first frame heard LATENCY later."""
    stream = output.stream
    stream.time = k * BLOCK / RATE
    output.engine.synth.block_start = output.engine.synth.frame
    out = np.zeros((BLOCK, 2), np.float32)
    stream.callback(out, BLOCK, SimpleNamespace(outputBufferDacTime=stream.time + LATENCY, currentTime=stream.time),
                    SimpleNamespace(output_underflow=False))


def _check(output, blocks, song_sample_of_frame, first=0):
    """Run `blocks` blocks from block `first`; between callbacks, heard_sample() must be the song
    sample of the output frame the speaker plays then."""
    checked = 0
    for k in range(first, first + blocks):
        _block(output, k)
        for quarter in range(4):
            now = (k + quarter / 4) * BLOCK / RATE + 1e-7
            frame = (now - LATENCY) * RATE
            if frame < 0:
                continue
            output.stream.time = now
            assert output.heard_sample() == pytest.approx(song_sample_of_frame(frame), abs=1e-3), (k, quarter)
            checked += 1
    return checked


def test_the_settings_reach_the_stream(output):
    assert output.stream.settings["samplerate"] == RATE
    assert output.stream.settings["blocksize"] == 256 and output.stream.settings["latency"] == "low"
    assert output.stream.active and output.latency == LATENCY


def test_heard_sample_follows_the_speaker_through_loop_wraps(output):
    engine = output.engine
    a, b = 10_000, 10_000 + 3000  # not a whole number of blocks
    engine.set_loop((a, b))
    engine.seek(a)
    engine.play()
    checked = _check(output, 80, lambda f: a + f % (b - a))
    assert checked > 250


def test_heard_sample_reaches_a_seek_only_when_it_is_heard(output):
    engine = output.engine
    engine.play()
    _check(output, 20, lambda f: f)
    engine.seek(96_000)  # applied at block 20's start
    _check(output, 20, lambda f: f if f < 20 * BLOCK else 96_000 + f - 20 * BLOCK, first=20)


def test_heard_sample_starts_moving_when_the_first_played_block_is_heard(output):
    engine = output.engine
    engine.seek(5000)
    _check(output, 10, lambda f: 5000)
    engine.play()  # applied at block 10's start
    _check(output, 10, lambda f: 5000 + max(0.0, f - 10 * BLOCK), first=10)


def test_heard_sample_is_the_position_at_once_when_paused_or_stopped(output):
    engine = output.engine
    engine.seek(5000)
    engine.play()
    for k in range(10):
        _block(output, k)
    engine.pause()
    _block(output, 10)
    assert output.heard_sample() == 5000 + 10 * BLOCK  # where the engine stopped
    engine.stop()
    _block(output, 11)
    assert output.heard_sample() == 5000  # back where play began


def test_underflows_are_counted(output):
    output.engine.play()  # underflows count while playing (tests/audio/test_underflow_count.py)
    out = np.zeros((BLOCK, 2), np.float32)
    for underflow in (False, True, False, True):
        output.engine.synth.block_start = output.engine.synth.frame
        output.stream.callback(out, BLOCK, SimpleNamespace(outputBufferDacTime=1.0, currentTime=1.0 - LATENCY),
                               SimpleNamespace(output_underflow=underflow))
    assert output.underflows == 2


def test_a_stream_ending_by_itself_is_reported_as_lost(output):
    output.stream.finished_callback()
    assert output.lost and not output.active
