"""`desktop-app bench runner`: what training in the runner's child process costs the app. While the
tiny model trains flat out in the child, a chorale loops on the output device and a 1 ms timer
ticks on the GUI thread (which also drains the child's metrics, as the training panel will):
the longest GUI stall (goal under 50 ms), the output underflows (goal 0), how fast a stop takes
effect, and the child's training throughput against the same loop run in this process.

The playback is cut into segments that alternate between training running and training paused
(the child waits, using no CPU), so both conditions meet the same host and the same buffer: on a
virtual machine the host itself pauses the guest now and then, and the stream underflows with no
training at all. A thread that sleeps 1 ms, real-time where permitted as the audio callback is,
measures those pauses in each condition (how late it wakes). The output is opened as the app
opens it: at the default buffer, with the buffer policy polled from the GUI thread (raising the
buffer when underflows or near misses repeat); the start-up of the stream and of the child is not
measured as either condition, and its underflows and near misses are reported apart."""

from __future__ import annotations

import os
import tempfile
import threading
import time

WATCH_MS = 16  # the app polls the output for underflows on each playhead frame (ui.playback.FRAME_MS)
STREAM_SETTLE_SECONDS = 3.0  # a new PulseAudio stream stalls for up to 2 s before it settles
SEGMENTS = 6  # per condition: training running, training paused, in turn
PRESET, BATCH = "small", 64


def _pieces():
    from desktop_app.ml.models.tiny import demo_pieces

    pieces = demo_pieces(40, seed=0)
    return pieces[:36], pieces[36:]


def _config(out: str, steps: int):
    from desktop_app.ml.train import TrainConfig

    return TrainConfig(model="tiny", out=out, steps=steps, preset=PRESET, batch_size=BATCH, lr=1e-3,
                       eval_every=250, checkpoint_every=1000)


def _in_process(folder: str, steps: int, threads: int | None = None) -> dict:
    """The same loop on this process's GUI thread, with torch's own thread count or `threads`."""
    import torch

    from desktop_app.ml.train import train

    default = torch.get_num_threads()
    torch.set_num_threads(threads or default)
    try:
        result = train(_config(os.path.join(folder, f"in_process_{threads}"), steps), _pieces())
        return {"windows_per_second": round(result["windows_per_second"], 1), "torch_threads": torch.get_num_threads(),
                "steps": steps}
    finally:
        torch.set_num_threads(default)


def _start_playback():
    """A chorale looping on the default output; (output, synth) or (error text, None)."""
    from music21 import corpus

    from desktop_app.audio.buffer_policy import BufferPolicy
    from desktop_app.audio.engine import Engine
    from desktop_app.audio.render import SynthSettings
    from desktop_app.audio.schedule import build_schedule
    from desktop_app.audio.stream import DEFAULT_BLOCKSIZE, AudioOutput, AudioUnavailable
    from desktop_app.music.formats import read_any

    song = read_any(corpus.getWork("bach/bwv66.6")).song
    settings = SynthSettings()
    synth = settings.make_synth()
    engine = Engine(synth, build_schedule(song, settings.sample_rate))
    try:
        output = AudioOutput(engine, policy=BufferPolicy(DEFAULT_BLOCKSIZE))
    except AudioUnavailable as e:
        synth.close()
        return f"no audio output: {e}", None
    engine.set_loop((0, int(song.duration_seconds * settings.sample_rate)))
    return output, synth


def _gui_stalls(app, seconds: float, output=None) -> dict:
    """Run the event loop for `seconds` with a 1 ms timer; the longest gap beyond 1 ms is a stall.
    With `output`, the timer also polls its buffer policy every WATCH_MS, as the app's playback does."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    gaps, last, polled = [], [time.perf_counter()], [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now
        if output is not None and now - polled[0] >= WATCH_MS / 1000:
            polled[0] = now
            output.adapt()

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(1)
    timer.timeout.connect(tick)
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    last[0] = time.perf_counter()
    timer.start()
    loop.exec()
    timer.stop()
    gaps.sort()
    return {"longest_stall_ms": round(max(gaps[-1] - 0.001, 0) * 1000, 2),
            "p99_gap_ms": round(gaps[int(len(gaps) * 0.99)] * 1000, 2), "ticks": len(gaps)}


class _WakeUps(threading.Thread):
    """How late a thread sleeping 1 ms wakes, per condition: what the audio callback's thread meets
    from the machine itself (real-time scheduling where permitted, as the callback asks)."""

    def __init__(self) -> None:
        super().__init__(name="wake-ups", daemon=True)
        self.condition: str | None = None
        self.late: dict[str, list[float]] = {}
        self.done = threading.Event()

    def run(self) -> None:
        from desktop_app.audio.stream import request_realtime

        self.realtime = request_realtime()[0]
        last = time.perf_counter()
        while not self.done.is_set():
            time.sleep(0.001)
            now = time.perf_counter()
            if self.condition is not None:
                self.late.setdefault(self.condition, []).append(now - last - 0.001)
            last = now

    def summary(self, condition: str) -> dict:
        late = sorted(self.late.get(condition, [0.0]))
        return {"max_ms": round(late[-1] * 1000, 2), "p999_ms": round(late[int(len(late) * 0.999)] * 1000, 2),
                "over_10_ms": sum(x > 0.010 for x in late), "real_time": self.realtime}


def _wait(app, condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    return condition()


def run(seconds: float = 30.0, child_threads: int = 1) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from desktop_app.audio.stream import DEFAULT_BLOCKSIZE
    from desktop_app.runner.training import TrainingProcess

    app = QApplication.instance() or QApplication([])
    folder = tempfile.mkdtemp(prefix="desktop-app-bench-runner-")
    result: dict = {"benchmark": "runner", "model": f"tiny ({PRESET}), batch {BATCH}", "cpu_cores": os.cpu_count(),
                    "playback_seconds_per_condition": seconds, "segments_per_condition": SEGMENTS,
                    "load_average_at_start": round(os.getloadavg()[0], 2)}

    output, synth = _start_playback()
    playing = synth is not None
    if playing:
        _gui_stalls(app, STREAM_SETTLE_SECONDS)
        output.engine.play()
    process = TrainingProcess(_config(os.path.join(folder, "child"), 10**9), _pieces(), threads=child_threads)
    rows: list[dict] = []
    process.metrics.connect(rows.append)
    process.start()  # the event loop keeps running (and the song playing) while the child starts
    if not _wait(app, lambda: len(rows) > 0 or not process.running, 120):
        process.stop()
        return result | {"error": "the training process did not start within 120 s"}
    if not process.running:
        return result | {"error": f"training failed: {process.error}"}

    wakeups = _WakeUps()
    wakeups.start()
    start_block = output.blocksize if playing else 0
    startup = {"underflows": output.underflows, "near_misses": output.near_misses} if playing else {}
    gui = {c: {"longest_stall_ms": 0.0, "p99_gap_ms": 0.0, "ticks": 0} for c in ("training", "paused")}
    underflows = {"training": 0, "paused": 0}
    near_misses = {"training": 0, "paused": 0}
    training_steps, training_seconds = 0, 0.0
    for k in range(2 * SEGMENTS):
        condition = "training" if k % 2 == 0 else "paused"
        process.resume() if condition == "training" else process.pause()
        wakeups.condition = condition
        before_rows, before_xruns, t0 = len(rows), (output.underflows if playing else 0), time.perf_counter()
        before_near = output.near_misses if playing else 0
        stalls = _gui_stalls(app, seconds / SEGMENTS, output if playing else None)
        if condition == "training":
            training_steps += len(rows) - before_rows
            training_seconds += time.perf_counter() - t0
        underflows[condition] += (output.underflows if playing else 0) - before_xruns
        near_misses[condition] += (output.near_misses if playing else 0) - before_near
        g = gui[condition]
        g["longest_stall_ms"] = max(g["longest_stall_ms"], stalls["longest_stall_ms"])
        g["p99_gap_ms"] = max(g["p99_gap_ms"], stalls["p99_gap_ms"])
        g["ticks"] += stalls["ticks"]
    wakeups.condition = None
    wakeups.done.set()
    result["gui_while_training"] = gui["training"] | {"goal_longest_stall_ms": 50}
    result["gui_training_paused"] = gui["paused"]
    if playing:
        result["audio"] = {"device": output.device_name, "blocksize_opened": DEFAULT_BLOCKSIZE,
                           "during_start_up": startup, "blocksize_at_start": start_block,
                           "blocksize_at_end": output.blocksize, "output_latency_ms": round(output.latency * 1000, 2)}
        result["audio_while_training"] = {"underflows": underflows["training"], "goal_underflows": 0,
                                          "near_misses": near_misses["training"],
                                          "thread_wake_up_late": wakeups.summary("training")}
        result["audio_training_paused"] = {"underflows": underflows["paused"], "near_misses": near_misses["paused"],
                                           "thread_wake_up_late": wakeups.summary("paused")}
        result["audio"]["underflows_training_minus_paused"] = underflows["training"] - underflows["paused"]
        output.close()
        synth.close()
    else:
        result["audio"] = {"error": output}

    process.resume()
    asked = time.perf_counter()
    process.stop()
    _wait(app, lambda: not process.running, 60)
    result["stop"] = {"seconds_to_stop": round(time.perf_counter() - asked, 3), "goal_seconds": 1.0,
                      "status": process.status, "checkpoint": (process.result or {}).get("checkpoint", "")}
    child_rate = training_steps * BATCH / max(training_seconds, 1e-9)
    result["throughput"] = {
        "child_process": {"windows_per_second": round(child_rate, 1), "torch_threads": child_threads,
                          "nice": process.nice, "steps": len(rows)},
    }
    steps = max(50, int(child_rate / BATCH * 5))  # about 5 s at the child's pace
    result["throughput"]["gui_process"] = _in_process(folder, steps)
    result["throughput"]["gui_process_one_thread"] = _in_process(folder, steps, threads=1)
    return result
