"""AudioOutput against a scripted stream (no device): the callback counts output underflows only
while playing; adapt() reopens the stream with the policy's larger buffer and the song plays on
from the same sample; a failed reopen falls back; the callback thread asks once per stream for
real-time scheduling, falling back silently where it is not permitted."""

from __future__ import annotations

import os
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from desktop_app.audio.buffer_policy import BufferPolicy
from desktop_app.audio.engine import Engine
from desktop_app.audio.schedule import build_schedule

from audio_helpers import FakeSynth, melody, song_of

RATE = 48_000

sounddevice = pytest.importorskip("sounddevice", exc_type=OSError, reason="PortAudio is not installed")
from desktop_app.audio import stream as stream_module  # noqa: E402


class FakeStreams:
    """Stands in for sounddevice.OutputStream and keeps every stream opened; `refuse` lists the
    blocksizes whose opening fails as PortAudio would."""

    def __init__(self) -> None:
        self.opened: list[SimpleNamespace] = []
        self.refuse: set[int] = set()
        self.tried: list[int] = []  # the blocksize of every opening, refused or not

    def __call__(self, callback, finished_callback, blocksize, **settings):
        self.tried.append(blocksize)
        if blocksize in self.refuse:
            raise sounddevice.PortAudioError(f"cannot open with {blocksize} frames")
        stream = SimpleNamespace(callback=callback, finished_callback=finished_callback, blocksize=blocksize,
                                 settings=settings, time=0.0, latency=2 * blocksize / RATE, active=False,
                                 closed=False, device=None, stopped=False)
        stream.start = lambda: setattr(stream, "active", True)
        stream.abort = lambda: (setattr(stream, "active", False), setattr(stream, "stopped", True))
        stream.close = lambda: setattr(stream, "closed", True)
        self.opened.append(stream)
        return stream


@pytest.fixture
def streams(monkeypatch):
    fake = FakeStreams()
    monkeypatch.setattr(sounddevice, "OutputStream", fake)
    return fake


def make_output(policy: BufferPolicy | None = None, realtime: bool = True) -> stream_module.AudioOutput:
    song = song_of(melody(*((60 + k % 12, k * 240, 240) for k in range(80))))  # 10 s of eighths
    engine = Engine(FakeSynth(), build_schedule(song, RATE))
    return stream_module.AudioOutput(engine, blocksize=256, policy=policy, realtime=realtime)


def soon(seconds: float) -> float:
    """A moment `seconds` from now on the clock the output stamps its reopenings with."""
    return time.monotonic() + seconds


def block(output, underflow: bool = False, dac_time: float = 1.0, queued: float | None = None) -> None:
    """One callback of the output's current stream, the size of its blocks, with `queued` seconds
    still to play before it (default: the whole latency, a healthy stream)."""
    stream, synth = output.stream, output.engine.synth
    synth.block_start = synth.frame
    out = np.zeros((stream.blocksize, 2), np.float32)
    queued = stream.latency if queued is None else queued
    stream.callback(out, stream.blocksize, SimpleNamespace(outputBufferDacTime=dac_time, currentTime=dac_time - queued),
                    SimpleNamespace(output_underflow=underflow))


def test_underflows_count_only_while_playing(streams):
    output = make_output()
    for underflow in (True, True, False):  # stopped: the stream starting up, nothing to hear
        block(output, underflow)
    assert output.underflows == 0
    output.engine.play()
    block(output)  # play is taken in this block
    for underflow in (True, False, True, True):
        block(output, underflow)
    assert output.underflows == 3
    output.engine.pause()
    block(output)
    block(output, True)
    assert output.underflows == 3


def test_near_misses_count_once_per_stall_while_playing(streams):
    output = make_output()
    latency = output.stream.latency  # 2 blocks of 256 frames: 10.7 ms
    block(output, dac_time=1.0, queued=0.0)
    assert output.near_misses == 0  # stopped
    output.engine.play()
    block(output, dac_time=1.0)
    for t in (1.01, 1.02, 1.03):  # one stall: the queue ran down, then refilled over a few blocks
        block(output, dac_time=t, queued=0.1 * latency)
    assert output.near_misses == 1
    block(output, dac_time=1.5, queued=0.5 * latency)  # half the buffer left: no near miss
    block(output, dac_time=1.6, queued=0.1 * latency)  # a second stall, later
    block(output, dac_time=1.7, queued=0.0, underflow=True)  # a gap is an underflow, not a near miss too
    block(output, dac_time=1.8, queued=-0.5)  # times the host cannot stamp are not read as stalls
    block(output, dac_time=0.0, queued=0.0)
    assert output.near_misses == 2 and output.underflows == 1


def test_a_host_whose_times_never_show_a_queue_has_no_near_misses(streams):
    output = make_output(BufferPolicy(256, threshold=2, window=10.0, settle=0.0))
    output.engine.play()
    for t in range(1, 40):  # current time and play-out time always equal: not a stall, no timing
        block(output, dac_time=t / 10, queued=0.0)
    assert output.near_misses == 0 and output.adapt(now=soon(1.0)) is None


def test_repeated_near_misses_raise_the_buffer_before_a_gap_is_heard(streams):
    output = make_output(BufferPolicy(256, threshold=2, window=10.0, settle=0.0))
    output.engine.play()
    block(output)
    block(output, dac_time=2.0, queued=0.001)
    assert output.adapt(now=soon(1.0)) is None  # one stall
    block(output, dac_time=3.0, queued=0.001)
    assert output.adapt(now=soon(2.0)) == 512
    assert output.underflows == 0 and streams.opened[-1].blocksize == 512
    block(output, dac_time=3.5)
    block(output, dac_time=4.0, queued=0.003)  # 3 ms of 21 ms queued: still a near miss at 512
    assert output.near_misses == 3 and output.adapt(now=soon(3.0)) is None  # one, since the reopen


def test_without_a_policy_the_buffer_never_changes(streams):
    output = make_output()
    output.engine.play()
    block(output)
    for _ in range(10):
        block(output, True)
    assert output.adapt(now=soon(100.0)) is None
    assert len(streams.opened) == 1 and output.blocksize == 256


def test_repeated_underflows_reopen_the_stream_with_a_larger_buffer(streams):
    output = make_output(BufferPolicy(256, threshold=2, window=10.0, settle=0.0))
    engine = output.engine
    schedule = engine.schedule
    engine.play()
    for _ in range(40):
        block(output)
    assert output.adapt(now=soon(1.0)) is None
    block(output, True)
    assert output.adapt(now=soon(2.0)) is None  # one underflow
    block(output, True)
    position = engine.position
    assert output.adapt(now=soon(3.0)) == 512
    old, new = streams.opened
    assert old.stopped and old.closed and not old.active
    assert new.active and new.blocksize == 512 and output.blocksize == 512
    assert new.settings["latency"] == old.settings["latency"] and new.settings["samplerate"] == RATE
    assert output.latency == 2 * 512 / RATE
    # The song plays on: same schedule, still playing, from exactly where the old stream stopped.
    assert engine.playing and engine.schedule is schedule and engine.position == position
    assert output.heard_sample() == position  # nothing of the new stream is heard yet
    ons_before = len(engine.synth.ons())
    for _ in range(40):
        block(output, dac_time=5.0)
    assert engine.position == position + 40 * 512
    ons = engine.synth.ons()
    assert len(ons) > ons_before and [f for f, *_ in ons] == sorted(f for f, *_ in ons)
    assert output.underflows == 2  # the count runs on across the reopen


def test_the_old_streams_end_is_not_a_lost_device(streams):
    output = make_output(BufferPolicy(256, threshold=1, settle=0.0))
    output.engine.play()
    block(output)
    block(output, True)
    assert output.adapt(now=soon(1.0)) == 512
    streams.opened[0].finished_callback()
    assert output.lost is None and output.active
    streams.opened[1].finished_callback()  # the current stream ending by itself is
    assert output.lost and not output.active


def test_a_refused_larger_buffer_keeps_playing_at_the_old_size(streams):
    output = make_output(BufferPolicy(256, threshold=1, settle=0.0))
    output.engine.play()
    block(output)
    streams.refuse = {512}
    block(output, True)
    assert output.adapt(now=soon(1.0)) is None
    assert output.active and output.lost is None and streams.opened[-1].blocksize == 256
    assert output.blocksize == 256 and output.policy.at_cap  # it does not try again and again
    block(output, True)
    block(output, True)
    assert output.adapt(now=soon(2.0)) is None and streams.tried == [256, 512, 256]


def test_a_device_that_cannot_reopen_is_reported_lost(streams):
    output = make_output(BufferPolicy(256, threshold=1, settle=0.0))
    output.engine.play()
    block(output)
    streams.refuse = {256, 512}
    block(output, True)
    assert output.adapt(now=soon(1.0)) is None
    assert output.lost and "reopen" in output.lost and not output.active
    assert output.adapt(now=soon(2.0)) is None


def test_raises_step_by_step_to_the_cap(streams):
    output = make_output(BufferPolicy(256, threshold=2, window=10.0, settle=0.0))
    output.engine.play()
    block(output)
    sizes = []
    for second in range(1, 30):
        block(output, True)
        size = output.adapt(now=soon(float(second)))
        if size:
            sizes.append(size)
    assert sizes == [512, 1024, 2048] and output.blocksize == 2048
    assert [s.blocksize for s in streams.opened] == [256, 512, 1024, 2048]


def _in_thread(fn):
    result = []
    thread = threading.Thread(target=lambda: result.append(fn()))
    thread.start()
    thread.join()
    return result[0]


def test_realtime_is_asked_once_per_stream_from_the_callback_thread(streams, monkeypatch):
    asked = []
    monkeypatch.setattr(stream_module, "request_realtime",
                        lambda: asked.append(threading.get_native_id()) or (True, "SCHED_FIFO priority 10"))
    output = make_output(BufferPolicy(256, threshold=1, settle=0.0))
    assert output.realtime is None  # no callback yet
    tid = _in_thread(lambda: (block(output), block(output), threading.get_native_id())[-1])
    assert asked == [tid] and output.callback_thread == tid and output.realtime == (True, "SCHED_FIFO priority 10")
    output.engine.play()
    _in_thread(lambda: (block(output), block(output, True)))
    assert output.adapt(now=soon(1.0)) == 512
    tid = _in_thread(lambda: (block(output), threading.get_native_id())[-1])  # the new stream's thread
    assert asked[-1] == tid and len(asked) == 2


def test_realtime_off_asks_nothing(streams, monkeypatch):
    monkeypatch.setattr(stream_module, "request_realtime", lambda: pytest.fail("asked for real time"))
    monkeypatch.setattr(stream_module, "raise_sound_client_threads", lambda: pytest.fail("raised client threads"))
    output = make_output(realtime=False)
    _in_thread(lambda: block(output))
    assert output.realtime == (False, "not asked") and output.client_threads == []


def test_realtime_refused_leaves_the_thread_as_it_was(monkeypatch):
    tried = []

    def refuse(pid, policy, param):
        tried.append(policy)
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    monkeypatch.setattr(os, "sched_getscheduler", lambda pid: os.SCHED_OTHER)
    granted, what = _in_thread(stream_module.request_realtime)
    assert not granted and what == "not permitted (Operation not permitted)"
    assert tried == [os.SCHED_FIFO, os.SCHED_RR]


def test_realtime_granted_names_the_policy(monkeypatch):
    set_to = []
    monkeypatch.setattr(os, "sched_setscheduler", lambda pid, policy, param: set_to.append((pid, policy, param)))
    monkeypatch.setattr(os, "sched_getscheduler", lambda pid: os.SCHED_OTHER)
    granted, what = _in_thread(stream_module.request_realtime)
    assert granted and what == f"SCHED_FIFO priority {stream_module.REALTIME_PRIORITY}"
    assert set_to == [(0, os.SCHED_FIFO, os.sched_param(stream_module.REALTIME_PRIORITY))]  # 0: this thread


def test_realtime_is_never_asked_for_the_main_thread(monkeypatch):
    monkeypatch.setattr(os, "sched_setscheduler", lambda *a: pytest.fail("asked for the main thread"))
    assert stream_module.request_realtime() == (False, "not asked for the main thread")


def play_blocks(output, first: int, count: int) -> None:
    """Callbacks for blocks first..first+count-1 at the real-time pace of the stream clock: block k
    is made at k blocks of time and heard one latency later."""
    stream = output.stream
    for k in range(first, first + count):
        stream.time = k * stream.blocksize / RATE
        block(output, dac_time=stream.time + stream.latency)


def test_a_stalled_stream_keeps_the_playhead_inside_the_loop(streams):
    output = make_output()
    engine = output.engine
    a, b = 48_000, 48_000 + 2_000  # a loop shorter than the stall
    engine.set_loop((a, b))
    engine.seek(a)
    engine.play()
    play_blocks(output, 0, 30)
    for stall in (0.01, 0.05, 0.3, 0.6, 2.0):
        output.stream.time = 29 * 256 / RATE + stall
        assert a <= output.heard_sample() < b, stall
