"""Training in a child process, watched from the GUI thread.

The runner starts the loop of desktop_app.ml.train in a spawned process at a lower CPU priority
with few threads, so that neither the GUI nor the audio callback ever waits for it. The child
streams each step's metrics over a queue; a QTimer drains it and re-emits them as signals for
the training panel. Stop sets an event the loop checks every step: it saves a checkpoint and
ends, and a child that does not end in time is terminated (its last checkpoint stays whole)."""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import time

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from desktop_app.ml.data.piece import Piece
from desktop_app.ml.train import TrainConfig, train_in_child

CHILD_NICE = 10  # added to the app's niceness: the scheduler serves the GUI and audio first
CHILD_THREADS = 1  # torch threads in the child: leaves a core for the app on small machines
POLL_MS = 50
STOP_GRACE_S = 10.0  # after a stop, how long the child may take to save before it is terminated


class TrainingProcess(QObject):
    """One training run in a child process, with signals for the training panel:
    metrics(row) every step (train/loss, valid/loss at evaluations, lr, the model's metrics),
    progress(step, total, eta_seconds), state(text) on start/pause/resume/stop,
    finished(summary) when the loop ends or is stopped (summary["stopped"] tells which) and
    failed(reason) with one line when it breaks."""

    metrics = Signal(dict)
    progress = Signal(int, int, float)
    state = Signal(str)
    finished = Signal(dict)
    failed = Signal(str)

    def __init__(self, config: TrainConfig, pieces: tuple[list[Piece], list[Piece]] | None = None,
                 threads: int = CHILD_THREADS, nice: int = CHILD_NICE, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config, self.pieces, self.threads, self.nice = config, pieces, threads, nice
        self.status = "idle"  # idle, running, paused, stopping, finished, failed
        self.result: dict | None = None
        self.error: str | None = None
        context = multiprocessing.get_context("spawn")
        self._queue = context.Queue()
        self._stop, self._pause = context.Event(), context.Event()
        self._process = context.Process(
            target=train_in_child, name="desktop-app training", daemon=False,  # it may start dataset workers
            args=(config, pieces, self._queue, self._stop, self._pause, nice, threads))
        self._stop_deadline: float | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        app = QCoreApplication.instance()
        if app is not None:  # a non-daemon child would hold the app's exit: stop it cleanly first
            app.aboutToQuit.connect(self._stop_and_wait)

    # ------------------------------------------------------------------ control

    @property
    def running(self) -> bool:
        return self.status in ("running", "paused", "stopping")

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def start(self) -> None:
        self._process.start()
        self._timer.start()
        self._set_status("running")

    def pause(self) -> None:
        if self.status == "running":
            self._pause.set()
            self._set_status("paused")

    def resume(self) -> None:
        if self.status == "paused":
            self._pause.clear()
            self._set_status("running")

    def stop(self) -> None:
        """Ask the loop to save a checkpoint and end; `finished` follows within about a step."""
        if self.running and self.status != "stopping":
            self._stop.set()
            self._pause.clear()
            self._stop_deadline = time.monotonic() + STOP_GRACE_S
            self._set_status("stopping")

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until the child has ended and its last messages are emitted (closing the app, tests)."""
        deadline = time.monotonic() + timeout
        while self.running and time.monotonic() < deadline:
            self.poll()
            time.sleep(0.01)
        return not self.running

    def _stop_and_wait(self) -> None:
        self.stop()
        if not self.wait(STOP_GRACE_S + 5):
            self._process.terminate()

    # ------------------------------------------------------------------ watching

    def poll(self) -> None:
        """Emit what the child sent; notice a child that died or overstayed a stop."""
        while True:
            try:
                kind, payload = self._queue.get_nowait()
            except queue_module.Empty:
                break
            if kind == "metrics":
                self.metrics.emit(payload)
                self.progress.emit(payload["step"], payload["total_steps"], payload["eta_seconds"])
            elif kind == "finished":
                self._end("finished", result=payload)
                return
            elif kind == "failed":
                self._end("failed", error=payload)
                return
        if not self.running:
            return
        if not self._process.is_alive():
            time.sleep(0.05)  # its last message may still be in the pipe
            if not self._queue.empty():
                self.poll()
                return
            self._end("failed", error=f"the training process ended unexpectedly (exit code {self._process.exitcode})")
        elif self._stop_deadline is not None and time.monotonic() > self._stop_deadline:
            self._process.terminate()
            self._process.join(5)
            self._end("failed", error=f"training did not stop within {STOP_GRACE_S:.0f} s and was terminated; "
                                      "its last checkpoint is kept")

    def _end(self, status: str, result: dict | None = None, error: str | None = None) -> None:
        self._timer.stop()  # the child exits by itself once its queue is flushed; nobody waits for it here
        self.result, self.error = result, error
        self._set_status(status)
        if status == "finished":
            self.finished.emit(result)
        else:
            self.failed.emit(error)

    def _set_status(self, status: str) -> None:
        self.status = status
        self.state.emit(status)
