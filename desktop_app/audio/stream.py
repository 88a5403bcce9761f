"""The one real-time output stream (sounddevice over PortAudio). Its callback hands the
PortAudio buffer straight to Engine.process; the playhead comes from the audio clock."""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.audio.engine import Engine

AUDITION_LATENCY = "low"  # about 10 ms on PulseAudio: clicks and drawn notes feel immediate
DEFAULT_BLOCKSIZE = 256
CLOCK_HISTORY = 64  # engine clocks of the latest blocks: enough to span the output latency


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
    """Plays an Engine on an output device until closed."""

    def __init__(self, engine: Engine, device: int | str | None = None, blocksize: int = DEFAULT_BLOCKSIZE,
                 latency: str | float = AUDITION_LATENCY) -> None:
        sd = _sounddevice()
        self.engine = engine
        self.underflows = 0
        self.lost: str | None = None  # why the stream ended by itself, if it did
        self._closing = False
        self._clocks = [engine.clock] * CLOCK_HISTORY  # a ring the callback writes, newest at _clock_index
        self._clock_index = 0
        try:
            self.stream = sd.OutputStream(
                samplerate=engine.sample_rate, blocksize=blocksize, channels=2, dtype="float32",
                latency=latency, device=device, callback=self._callback, finished_callback=self._finished,
            )
            self.stream.start()
        except Exception as e:  # PortAudioError, ValueError for a bad device, ...
            raise AudioUnavailable(_reason(e)) from None

    def _callback(self, outdata, frames, time, status) -> None:
        if status.output_underflow:
            self.underflows += 1
        self.engine.process(outdata, frames, time.outputBufferDacTime)
        index = self._clock_index + 1
        if index == CLOCK_HISTORY:
            index = 0
        self._clocks[index] = self.engine.clock
        self._clock_index = index

    def _finished(self) -> None:
        if not self._closing:
            self.lost = "the audio device stopped (was it unplugged?)"

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
        smoothly; the blocks still in the buffer (a loop wrap, a seek) count only once heard."""
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
            heard = loop[0] + (heard - loop[1])
        return heard

    def close(self) -> None:
        self._closing = True
        try:
            self.stream.stop()
            self.stream.close()
        except Exception:
            pass


def _reason(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    if "Error querying device" in text or "No Default Output Device" in text or "Invalid device" in text:
        return f"no audio output device ({text})"
    return text
