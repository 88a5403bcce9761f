"""The one real-time output stream (sounddevice over PortAudio). Its callback hands the
PortAudio buffer straight to Engine.process; the playhead comes from the audio clock. The callback
counts output underflows (xruns) while playing into a preallocated counter that the GUI polls,
and near misses: blocks handed over when what the device still held to play had run down to a
fraction of the buffer (a stall that almost became a gap). When they repeat, the stream reopens
with a larger buffer (BufferPolicy) and plays on, so a machine that stalls now and then (a busy or
virtual one) gets a buffer that absorbs its stalls before the listener hears many gaps."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from functools import partial

import numpy as np

from desktop_app.audio.buffer_policy import BufferPolicy
from desktop_app.audio.engine import Engine

AUDITION_LATENCY = "low"  # about 10 ms on PulseAudio: clicks and drawn notes feel immediate
DEFAULT_BLOCKSIZE = 256
CLOCK_HISTORY = 64  # engine clocks of the latest blocks: enough to span the output latency
NEAR_MISS_SHARE = 0.2  # a block handed over with less than this share of the latency still queued
NEAR_MISS_GAP_S = 0.1  # one stall leaves several short blocks behind it: count it once
REALTIME_PRIORITY = 4  # for the callback thread: just under PulseAudio's own 5, never preempting the mixer
SOUND_CLIENT_THREADS = ("threaded-ml", "pw-data-loop", "data-loop")  # libpulse's and PipeWire's I/O threads


class AudioUnavailable(RuntimeError):
    """No output device could be opened; the message says why, for the status bar."""


def _sounddevice():
    try:
        import sounddevice
    except OSError as e:  # PortAudio's library is missing
        raise AudioUnavailable(f"PortAudio is not installed ({e})") from None
    return sounddevice


@dataclass(frozen=True)
class OutputDevice:
    index: int
    name: str
    default_rate: float


def output_devices() -> list[OutputDevice]:
    """Devices that can play sound; empty when there are none or PortAudio is missing."""
    try:
        sd = _sounddevice()
        return [OutputDevice(i, d["name"], d["default_samplerate"]) for i, d in enumerate(sd.query_devices())
                if d["max_output_channels"] >= 2]
    except Exception:  # PortAudio reports a missing sound system in many ways
        return []


class AudioOutput:
    """Plays an Engine on an output device until closed. With a policy, `adapt()` (polled by the
    GUI) reopens the stream with a larger buffer when underflows repeat; the engine, and so the
    song, the transport and the position, carries on across the reopen. With `realtime` its
    threads ask for real-time scheduling (off: as on a system that does not permit it)."""

    def __init__(self, engine: Engine, device: int | str | None = None, blocksize: int = DEFAULT_BLOCKSIZE,
                 latency: str | float = AUDITION_LATENCY, policy: BufferPolicy | None = None,
                 realtime: bool = True) -> None:
        self.engine = engine
        self.policy = policy
        self.ask_realtime = realtime
        self.lost: str | None = None  # why the stream ended by itself, if it did
        self.realtime: tuple[bool, str] | None = None  # the callback thread's real-time request: granted, what
        self.callback_thread: int | None = None  # native id of the thread running the callback
        self.client_threads: list[str] = []  # the sound system's threads in this process raised to real time
        self._device, self._latency = device, latency
        self._xruns = np.zeros(1, dtype=np.int64)  # output underflows while playing: the callback counts
        self._near = np.zeros(1, dtype=np.int64)  # near misses while playing: the callback counts
        self._near_at = np.zeros(1, dtype=np.float64)  # stream time of the last near miss
        self._near_limit = 0.0  # seconds still queued below which a block is a near miss
        self._stamps_ok = False  # this stream's times have shown a healthy queue: they can be read
        self._generation = 0  # which stream a finished callback belongs to
        self._reset_clock()
        self.stream = self._open(blocksize)
        self.blocksize = blocksize
        if policy is not None:
            policy.opened(blocksize, 0, time.monotonic())

    def _open(self, blocksize: int):
        sd = _sounddevice()
        self._generation += 1
        self._asked_realtime = False
        try:
            stream = sd.OutputStream(
                samplerate=self.engine.sample_rate, blocksize=blocksize, channels=2, dtype="float32",
                latency=self._latency, device=self._device, callback=self._callback,
                finished_callback=partial(self._finished, self._generation),
            )
            stream.start()
        except Exception as e:  # PortAudioError, ValueError for a bad device, ...
            raise AudioUnavailable(_reason(e)) from None
        self._near_limit = NEAR_MISS_SHARE * float(stream.latency)
        self._near_at[0] = float("-inf")
        self._stamps_ok = False
        self.client_threads = raise_sound_client_threads() if self.ask_realtime else []
        return stream

    def _reset_clock(self) -> None:
        """No block of a new stream is heard yet: the playhead holds at the engine's position."""
        engine = self.engine
        engine.clock = (engine.position, 0.0, engine.playing)
        self._clocks = [engine.clock] * CLOCK_HISTORY  # a ring the callback writes, newest at _clock_index
        self._clock_index = 0

    def _callback(self, outdata, frames, stamps, status) -> None:
        if not self._asked_realtime:  # once per stream, in its own thread
            self._asked_realtime = True
            self.callback_thread = threading.get_native_id()
            self.realtime = request_realtime() if self.ask_realtime else (False, "not asked")
        engine = self.engine
        now = stamps.currentTime
        queued = stamps.outputBufferDacTime - now  # what the device holds before this block plays
        if queued >= 2.5 * self._near_limit:  # half the latency queued: this host's times are real
            self._stamps_ok = True
        if status.output_underflow and engine.playing:
            self._xruns[0] += 1
        elif (engine.playing and self._stamps_ok and now > 0.0 and 0.0 <= queued < self._near_limit
              and now - self._near_at[0] >= NEAR_MISS_GAP_S):
            self._near[0] += 1
            self._near_at[0] = now
        engine.process(outdata, frames, stamps.outputBufferDacTime)
        index = self._clock_index + 1
        if index == CLOCK_HISTORY:
            index = 0
        self._clocks[index] = engine.clock
        self._clock_index = index

    def _finished(self, generation: int) -> None:
        if generation == self._generation:
            self.lost = "the audio device stopped (was it unplugged?)"

    @property
    def underflows(self) -> int:
        """Output underflows (xruns, each a gap in the sound) while playing since the output opened."""
        return int(self._xruns[0])

    @property
    def near_misses(self) -> int:
        """Stalls while playing that left less than NEAR_MISS_SHARE of the latency queued, no gap heard."""
        return int(self._near[0])

    def adapt(self, now: float | None = None) -> int | None:
        """Poll from the GUI: when underflows or near misses repeat, reopen with the policy's
        larger buffer. Returns the new blocksize, or None when nothing changed."""
        if self.policy is None or self.lost is not None:
            return None
        size = self.policy.report(self.underflows + self.near_misses, time.monotonic() if now is None else now)
        if size is None:
            return None
        return size if self.reopen(size) else None

    def reopen(self, blocksize: int) -> bool:
        """Play on with a new buffer size; False when the device refused it (then it plays on at
        the old size, which becomes the policy's cap, or is lost). The engine keeps the song, the
        transport and the position: the new stream goes on from the next sample, after a gap of
        a few milliseconds (the reopen) minus what the old one still held."""
        self._stop(self.stream)
        self._reset_clock()
        done = True
        try:
            self.stream = self._open(blocksize)
        except AudioUnavailable as e:
            done, blocksize = False, self.blocksize
            if self.policy is not None:
                self.policy.cap = blocksize
            try:
                self.stream = self._open(blocksize)
            except AudioUnavailable:
                self.lost = f"the audio device could not be reopened ({e})"
                return False
        self.blocksize = blocksize
        if self.policy is not None:
            self.policy.opened(blocksize, self.underflows + self.near_misses, time.monotonic())
        return done

    @property
    def active(self) -> bool:
        return self.stream.active and self.lost is None

    @property
    def latency(self) -> float:
        """Seconds from a sample leaving the callback to the speaker, as PortAudio reports it."""
        return float(self.stream.latency)

    @property
    def device_name(self) -> str:
        sd = _sounddevice()
        try:
            return sd.query_devices(self.stream.device)["name"]
        except Exception:
            return str(self.stream.device)

    def heard_sample(self) -> float:
        """The song sample reaching the speaker now: the start of the latest block whose DAC time
        has come, plus the time since on the stream clock. Between callbacks this extrapolates
        smoothly; the blocks still in the buffer (a loop wrap, a seek) count only once heard. When
        the stream stalls (an underflow) for longer than the loop, it still stays inside the loop."""
        position, dac_time, playing = self.engine.clock
        if not playing or dac_time == 0.0:
            return float(position)
        now = self.stream.time
        clocks, index = self._clocks, self._clock_index
        for k in range(CLOCK_HISTORY):  # newest first
            clock = clocks[index - k]
            if clock[1] != 0.0 and clock[1] <= now:
                position, dac_time, playing = clock
                break
        if not playing:  # the first played block has not reached the speaker yet
            return float(position)
        heard = position + (now - dac_time) * self.engine.sample_rate
        loop = self.engine.loop
        if loop is not None and heard >= loop[1] > position:
            heard = loop[0] + (heard - loop[1]) % (loop[1] - loop[0])
        return heard

    def close(self) -> None:
        self._stop(self.stream)

    def _stop(self, stream) -> None:
        """Abort, not stop: stopping waits for PulseAudio to drain, which can take a second on the
        GUI thread; aborting drops the few milliseconds still buffered."""
        self._generation += 1  # its finished callback is ours, not a lost device
        try:
            stream.abort()
            stream.close()
        except Exception:
            pass


def request_realtime() -> tuple[bool, str]:
    """Ask the kernel to schedule the calling thread (the audio callback's) in real time, so
    busy processes cannot starve it. Returns (granted, what): where the system does not permit
    it (no CAP_SYS_NICE or RLIMIT_RTPRIO) the thread stays as it was. Never the main thread: a
    GUI running in real time could starve the whole machine."""
    if threading.current_thread() is threading.main_thread():
        return False, "not asked for the main thread"
    if not hasattr(os, "sched_setscheduler"):
        return False, "not available on this system"
    try:
        if os.sched_getscheduler(0) in (os.SCHED_FIFO, os.SCHED_RR):
            return True, "already real-time"
    except OSError:
        pass
    why = "not permitted"
    for policy, name in ((os.SCHED_FIFO, "SCHED_FIFO"), (os.SCHED_RR, "SCHED_RR")):
        try:
            priority = min(REALTIME_PRIORITY, os.sched_get_priority_max(policy))
            os.sched_setscheduler(0, policy, os.sched_param(priority))
            return True, f"{name} priority {priority}"
        except OSError as e:
            why = f"not permitted ({e.strerror or e})"
    return False, why


def raise_sound_client_threads() -> list[str]:
    """Real-time scheduling for the sound system's client threads in this process: libpulse's
    mainloop carries every block to the server, and starved by busy processes it underflows as
    surely as a slow callback. Returns the names of the threads raised; none where the system
    does not permit it or has no /proc."""
    raised = []
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return raised
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                name = f.read().strip()
            if name in SOUND_CLIENT_THREADS and os.sched_getscheduler(int(tid)) == os.SCHED_OTHER:
                os.sched_setscheduler(int(tid), os.SCHED_FIFO, os.sched_param(REALTIME_PRIORITY))
                raised.append(name)
        except (OSError, ValueError, AttributeError):  # gone meanwhile, not permitted, not Linux
            continue
    return raised


def _reason(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    if "Error querying device" in text or "No Default Output Device" in text or "Invalid device" in text:
        return f"no audio output device ({text})"
    return text
