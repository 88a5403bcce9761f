"""`desktop-app bench audio`: offline render speed, the output latency at the audition default,
and output underflows during playback while a torch training job runs in a background thread of
the same process (the worst case for the interpreter lock). With `--load N`, instead: underflows
while N CPU-bound processes run beside the app, at the default buffer and then with the buffer
adapting (BufferPolicy), and the buffer size it ends at."""

from __future__ import annotations

import multiprocessing
import threading
import time

from desktop_app.audio.buffer_policy import BufferPolicy
from desktop_app.audio.engine import Engine
from desktop_app.audio.render import SynthSettings
from desktop_app.audio.schedule import build_schedule
from desktop_app.audio.stream import DEFAULT_BLOCKSIZE, AudioOutput, AudioUnavailable
from desktop_app.audio.synth import METRONOME_CHANNEL
from desktop_app.music.song import Song

POLL_SECONDS = 1 / 60  # the GUI polls the output at 60 Hz
STREAM_SETTLE_SECONDS = 3.0  # a new PulseAudio stream stalls for up to 2 s before it settles


def _chorale() -> Song:
    from music21 import corpus

    from desktop_app.music.formats import read_any

    return read_any(corpus.getWork("bach/bwv66.6")).song


def render_speed(song: Song, settings: SynthSettings, repeats: int = 3) -> dict:
    """Render the song through the engine (the playback code path) `repeats` times."""
    import numpy as np

    synth = settings.make_synth()
    seconds = song.duration_seconds + 2.0
    frames = int(seconds * settings.sample_rate)
    out = np.zeros((frames, 2), dtype=np.float32)
    times = []
    for _ in range(repeats):
        engine = Engine(synth, build_schedule(song, settings.sample_rate))
        engine.play()
        t0 = time.perf_counter()
        for offset in range(0, frames, 1024):
            engine.process(out[offset:], min(1024, frames - offset))
        times.append(time.perf_counter() - t0)
        synth.all_notes_off()
    synth.close()
    best = sorted(times)[len(times) // 2]
    return {"audio_seconds": round(seconds, 2), "render_seconds_median": round(best, 4),
            "times_real_time": round(seconds / best, 1), "goal_times_real_time": 100}


def _model():
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256))
    return model, torch.optim.Adam(model.parameters(), lr=1e-3), torch.randn(64, 256), torch.randn(64, 256)


def _step(model, optimiser, x, y) -> None:
    import torch

    optimiser.zero_grad()
    torch.nn.functional.mse_loss(model(x), y).backward()
    optimiser.step()


def _train(stop: threading.Event, steps: list[int], job) -> None:
    """A small network trained flat out: Python-heavy steps plus real kernels."""
    while not stop.is_set():
        _step(*job)
        steps[0] += 1


def playback_under_load(song: Song, settings: SynthSettings, seconds: float, blocksize: int,
                        realtime: bool = True) -> dict:
    # Start-up work first, as the app does it: torch's first step loads kernels and spins up its
    # threads holding the interpreter lock for about 2 s; that is not the training measured.
    job = _model()
    _step(*job)

    synth = settings.make_synth()
    engine = Engine(synth, build_schedule(song, settings.sample_rate))
    try:
        output = AudioOutput(engine, blocksize=blocksize, realtime=realtime)
    except AudioUnavailable as e:
        synth.close()
        return {"error": f"no audio output: {e}"}
    latency = output.latency
    end = int(song.duration_seconds * settings.sample_rate)
    engine.set_loop((0, end))
    time.sleep(STREAM_SETTLE_SECONDS)
    engine.play()
    stop, steps = threading.Event(), [0]
    trainer = threading.Thread(target=_train, args=(stop, steps, job), daemon=True)
    trainer.start()
    t0 = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    trainer.join()
    elapsed = time.perf_counter() - t0
    underflows = output.underflows
    heard = output.heard_sample()
    output.close()
    synth.close()
    return {
        "device": output.device_name,
        "blocksize": blocksize,
        "output_latency_ms": round(latency * 1000, 2),
        "goal_latency_ms": 12,
        "playback_seconds": round(elapsed, 1),
        "training_steps_meanwhile": steps[0],
        "underflows": underflows,
        "goal_underflows": 0,
        "playhead_inside_loop": 0 <= heard <= end,
        "realtime_priority": _realtime(output),
    }


def _realtime(output) -> dict:
    granted, what = output.realtime or (False, "no callback ran")
    return {"granted": granted, "detail": what, "sound_client_threads": output.client_threads}


def _busy(seconds: float) -> None:
    """A CPU-bound process: spins until `seconds` have passed."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


class _CountingEngine(Engine):
    """Counts the frames played, so a stalled stream shows as audio that fell behind the clock."""

    frames_played = 0

    def process(self, out, frames, dac_time=0.0):
        super().process(out, frames, dac_time)
        if self.playing:
            self.frames_played += frames


def _play_looped(song: Song, settings: SynthSettings, seconds: float, policy: BufferPolicy | None,
                 blocksize: int, realtime: bool) -> dict:
    """Loop the song with metronome clicks for `seconds`, polling the output like the GUI does;
    with a policy the buffer adapts. Underflows are those while playing."""
    synth = settings.make_synth()
    engine = _CountingEngine(synth, build_schedule(song, settings.sample_rate, True, METRONOME_CHANNEL))
    try:
        output = AudioOutput(engine, blocksize=blocksize, policy=policy, realtime=realtime)
    except AudioUnavailable as e:
        synth.close()
        return {"error": f"no audio output: {e}"}
    end = int(song.duration_seconds * settings.sample_rate)
    engine.set_loop((0, end))
    time.sleep(STREAM_SETTLE_SECONDS)
    engine.play()
    raises: list[dict] = []
    last_raise_at, underflows_at_last_raise = 0.0, 0
    t0 = time.monotonic()
    while (now := time.monotonic()) - t0 < seconds:
        size = output.adapt(now)
        if size is not None:
            last_raise_at, underflows_at_last_raise = now - t0, output.underflows
            raises.append({"at_seconds": round(last_raise_at, 1), "blocksize": size,
                           "underflows_so_far": output.underflows})
        time.sleep(POLL_SECONDS)
    elapsed = time.monotonic() - t0
    played = engine.frames_played / settings.sample_rate
    result = {
        "playback_seconds": round(elapsed, 1),
        "audio_played_seconds": round(played, 1),  # less than playback_seconds: the stream stalled
        "underflows": output.underflows,
        "final_blocksize": output.blocksize,
        "final_output_latency_ms": round(output.latency * 1000, 2),
        "still_playing": engine.playing and output.active,
        "realtime_priority": _realtime(output),
    }
    if policy is not None:
        result |= {"raises": raises, "underflows_after_last_raise": output.underflows - underflows_at_last_raise,
                   "seconds_after_last_raise": round(elapsed - last_raise_at, 1)}
    output.close()
    synth.close()
    return result


def playback_beside_busy_processes(song: Song, settings: SynthSettings, seconds: float, load: int,
                                   blocksize: int, realtime: bool = True) -> dict:
    """`load` busy-looping processes run beside playback for both phases: `seconds` at the
    default buffer, then `seconds` with the buffer adapting from the same default. Without
    `realtime`, no thread asks for real-time scheduling, as where the system does not permit it."""
    spawn = multiprocessing.get_context("spawn")  # no fork of a process holding audio threads
    workers = [spawn.Process(target=_busy, args=(2 * (seconds + STREAM_SETTLE_SECONDS) + 30,), daemon=True)
               for _ in range(load)]
    for worker in workers:
        worker.start()
    try:
        default = _play_looped(song, settings, seconds, None, blocksize, realtime)
        adaptive = _play_looped(song, settings, seconds, BufferPolicy(blocksize), blocksize, realtime)
    finally:
        for worker in workers:
            worker.terminate()
            worker.join()
    return {
        "busy_processes": load,
        "realtime_asked": realtime,
        "cpu_cores": multiprocessing.cpu_count(),
        "default_blocksize": blocksize,
        "at_default_settings": default,
        "adapting": adaptive,
        "goal_underflows_after_adaptation": 0,
    }


def run(seconds: float = 60.0, load: int = 0, realtime: bool = True) -> dict:
    song = _chorale()
    settings = SynthSettings()
    result = {
        "benchmark": "audio",
        "song": "bwv66.6",
        "sample_rate": settings.sample_rate,
        "render": render_speed(song, settings),
    }
    if load:
        result["playback_beside_busy_processes"] = playback_beside_busy_processes(
            song, settings, seconds, load, DEFAULT_BLOCKSIZE, realtime)
    else:
        result["playback_with_training"] = playback_under_load(song, settings, seconds, DEFAULT_BLOCKSIZE, realtime)
    return result
