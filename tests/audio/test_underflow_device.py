"""Underflows on a real device (the PulseAudio null sink of scripts/null-audio.sh): a callback made
slow on purpose underflows, the underflows are counted, the stream reopens with a larger buffer
and the song plays on from where it was; the callback thread (not the main one) asked for
real-time scheduling and has it exactly when granted, and so has libpulse's client thread, which
carries the blocks to the server. Tolerant on purpose: behaviour, not timings."""

from __future__ import annotations

import os
import threading
import time

import pytest

from desktop_app.audio.buffer_policy import BufferPolicy
from desktop_app.audio.engine import Engine
from desktop_app.audio.schedule import build_schedule
from desktop_app.audio import stream as stream_module
from desktop_app.audio.stream import SOUND_CLIENT_THREADS, AudioOutput, output_devices

from audio_helpers import melody, song_of

RATE = 48_000


class SlowEngine(Engine):
    """Sleeps `slow` seconds in every block: starves the device like a loaded machine would."""

    slow = 0.0
    blocks = 0

    def process(self, out, frames, dac_time=0.0):
        super().process(out, frames, dac_time)
        self.blocks += 1
        if self.slow:
            time.sleep(self.slow)


class SilentSynth:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None

    def render(self, out, start, count):
        out[start : start + count] = 0.0


def wait_for(condition, timeout: float, poll=None) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        if poll is not None:
            poll()
        time.sleep(0.016)  # the GUI's 60 Hz poll
    return True


def scheduling_policy(tid: int) -> int:
    """The kernel's scheduling policy of thread `tid` of this process (0 normal, 1 FIFO, 2 RR)."""
    with open(f"/proc/self/task/{tid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[38])  # field 41 of stat, after "pid (comm)"


@pytest.fixture
def output():
    if not output_devices():
        pytest.skip("no audio output device (run scripts/null-audio.sh's start_null_audio first)")
    song = song_of(melody(*((60 + k % 12, k * 240, 240) for k in range(480))))  # a minute of eighths
    engine = SlowEngine(SilentSynth(), build_schedule(song, RATE))
    out = AudioOutput(engine, blocksize=256, policy=BufferPolicy(256, threshold=2, window=10.0, settle=1.0))
    # The idle null sink may sleep a couple of seconds before it pulls at the real-time pace.
    assert wait_for(lambda: engine.blocks > 40, 8.0), "the output stream never started"
    yield out
    out.close()


def test_a_starved_callback_underflows_and_the_buffer_is_raised(output):
    engine = output.engine
    engine.play()
    assert wait_for(lambda: engine.playing and engine.position > RATE // 2, 8.0)
    before = output.underflows + output.near_misses
    engine.slow = 0.02  # 20 ms of work for every 5.3 ms block
    raised = []

    def poll() -> None:  # what the GUI does at 60 Hz
        size = output.adapt()
        if size is not None:
            raised.append(size)

    assert wait_for(lambda: raised, 30.0, poll), f"never raised; {output.underflows} underflows counted"
    engine.slow = 0.0
    assert raised == [512] and output.blocksize == 512
    # the starving made the underflows or near misses that raised it (one may have come before it)
    assert output.underflows + output.near_misses - before >= 1 and output.underflows + output.near_misses >= 2
    assert output.stream.blocksize == 512 and output.active and output.lost is None
    # The song plays on from where the old stream stopped, on the new stream.
    at_reopen = engine.position
    assert engine.playing
    assert wait_for(lambda: output.heard_sample() > at_reopen + RATE // 4, 8.0), "the song did not go on"
    assert engine.playing and engine.position > at_reopen


def test_underflows_while_stopped_are_not_counted(output):
    engine = output.engine
    engine.slow = 0.02
    blocks = engine.blocks
    assert wait_for(lambda: engine.blocks > blocks + 20, 15.0)
    engine.slow = 0.0
    assert output.underflows == 0 and output.adapt() is None and output.blocksize == 256


def test_the_callback_thread_asks_for_real_time_and_gets_what_it_reports(output):
    assert output.realtime is not None
    granted, what = output.realtime
    tid = output.callback_thread
    assert tid is not None and tid != threading.get_native_id()
    if not os.path.exists(f"/proc/self/task/{tid}/stat"):
        pytest.skip("no /proc to read the thread's scheduling from")
    assert (scheduling_policy(tid) in (os.SCHED_FIFO, os.SCHED_RR)) == granted, what
    assert scheduling_policy(threading.get_native_id()) == os.SCHED_OTHER  # the caller stays normal


def sound_client_threads() -> dict[int, str]:
    names = {}
    for tid in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{tid}/comm") as f:
            name = f.read().strip()
        if name in SOUND_CLIENT_THREADS:
            names[int(tid)] = name
    return names


def test_the_sound_systems_client_thread_runs_in_real_time_when_permitted(output):
    if not os.path.exists("/proc/self/task"):
        pytest.skip("no /proc to read the threads from")
    threads = sound_client_threads()
    if not threads:
        pytest.skip("this sound system has no client thread of its own in the process")
    granted = output.realtime[0]
    if not granted:
        assert output.client_threads == []
        return
    assert "threaded-ml" in output.client_threads or "data-loop" in " ".join(output.client_threads)
    assert all(scheduling_policy(tid) == os.SCHED_FIFO for tid in threads), threads
    output.reopen(512)  # a new stream, a new client thread: raised too
    threads = sound_client_threads()
    assert output.client_threads and all(scheduling_policy(tid) == os.SCHED_FIFO for tid in threads)


def test_client_threads_stay_as_they_were_where_not_permitted(output, monkeypatch):
    def refuse(pid, policy, param):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    monkeypatch.setattr(os, "sched_getscheduler", lambda pid: os.SCHED_OTHER)
    assert stream_module.raise_sound_client_threads() == []
