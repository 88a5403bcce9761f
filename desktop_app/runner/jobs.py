"""The model runner: one QThread that works through a queue of jobs (generate, evaluate, build a
dataset), each reporting progress with an ETA, cancellable at any time, its errors shown with the
reason. Inference runs in this thread (torch releases the interpreter lock in its kernels);
training is long and Python-heavy, so the runner starts it in a child process instead
(desktop_app.runner.training) and keeps track of it, so closing the app can stop it cleanly."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal

from desktop_app.ml.progress import Eta, one_line

KINDS = ("generate", "evaluate", "dataset", "other")


class JobCancelled(Exception):
    """Raised inside a job's function by `context.check()` once the job is cancelled."""


class JobContext:
    """What a job's function gets: report progress, and learn whether it should give up."""

    def __init__(self, job: "Job") -> None:
        self._job = job
        self._eta = Eta()
        self._last_done, self._last_time = 0, time.perf_counter()

    @property
    def cancelled(self) -> bool:
        return self._job._cancel.is_set()

    def check(self) -> None:
        """Raise JobCancelled if the job was cancelled: call it between two pieces of work."""
        if self.cancelled:
            raise JobCancelled

    def emit(self, value: Any) -> None:
        """Send a partial result (a state to draw while the job goes on) to the job's `partial` signal."""
        self._job.partial.emit(value)

    def report(self, done: int, total: int) -> None:
        """`done` of `total` units finished; emits progress with an ETA from the recent pace."""
        now = time.perf_counter()
        if done > self._last_done:
            self._eta.add(now - self._last_time, done - self._last_done)
            self._last_done, self._last_time = done, now
        self._job.progress.emit(done, total, self._eta.remaining(total - done))
        self.check()


class Job(QObject):
    """One piece of work for the runner: `fn(context)` returns the result.
    Signals: progress(done, total, eta_seconds), partial(value) from `context.emit`, finished(result),
    failed(reason), cancelled()."""

    progress = Signal(int, int, float)
    partial = Signal(object)
    started = Signal()
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, kind: str, title: str, fn: Callable[[JobContext], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        if kind not in KINDS:
            raise ValueError(f"unknown job kind {kind!r} (kinds: {', '.join(KINDS)})")
        self.kind, self.title, self.fn = kind, title, fn
        self.status = "queued"  # queued, running, finished, failed, cancelled
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Stop it: a queued job never starts, a running one ends at its next check."""
        self._cancel.set()


class ModelRunner(QThread):
    """Runs submitted jobs one after another on its own thread; starts training processes."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self.current: Job | None = None
        self.trainings: list = []  # TrainingProcess objects started here
        self.closed = False  # shut down: later jobs are cancelled at once instead of restarting the thread
        if parent is not None:  # a thread still running when its QThread is deleted aborts the app
            parent.destroyed.connect(self._parent_destroyed)

    def submit(self, job: Job) -> Job:
        """Queue a job (starting the thread if needed) and return it; connect its signals first.
        After `shutdown` the job is cancelled at once."""
        if self.closed:
            job.cancel()
            job.status = "cancelled"
            job.cancelled.emit()
            return job
        self._queue.put(job)
        if not self.isRunning():
            self.start()
        return job

    def run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            self._run_job(job)

    def _run_job(self, job: Job) -> None:
        if job._cancel.is_set():
            job.status = "cancelled"
            job.cancelled.emit()
            return
        self.current = job
        job.status = "running"
        job.started.emit()
        try:
            result = job.fn(JobContext(job))
        except JobCancelled:
            job.status = "cancelled"
            job.cancelled.emit()
        except Exception as e:  # shown to the user with its reason; the runner keeps going
            job.status = "failed"
            job.failed.emit(one_line(e))
        else:
            if job._cancel.is_set():
                job.status = "cancelled"
                job.cancelled.emit()
            else:
                job.status = "finished"
                job.finished.emit(result)
        finally:
            self.current = None

    def _parent_destroyed(self) -> None:
        """The owner is being deleted (without a close that shut us down): stop before we are deleted too."""
        if self.isRunning():
            self.shutdown(5)

    def start_training(self, config, pieces=None, **options):
        """Start a training run in a child process and return its TrainingProcess (see runner.training)."""
        from desktop_app.runner.training import TrainingProcess

        process = TrainingProcess(config, pieces, parent=self, **options)
        self.trainings = [t for t in self.trainings if t.running] + [process]
        process.start()
        return process

    @property
    def training_active(self) -> bool:
        """A training run is going: closing the app should ask first."""
        return any(t.running for t in self.trainings)

    def cancel_all(self) -> None:
        """Cancel the running job and everything queued."""
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.cancel()
                job.status = "cancelled"
                job.cancelled.emit()
        if self.current is not None:
            self.current.cancel()

    def shutdown(self, timeout: float = 15.0) -> bool:
        """Cancel the jobs, stop training runs (each saves a checkpoint) and end the thread.
        True when everything ended within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        self.closed = True
        self.cancel_all()
        for training in self.trainings:
            training.stop()
        stopped = all(t.wait(max(deadline - time.monotonic(), 0.1)) for t in self.trainings)
        self._queue.put(None)
        ended = self.wait(max(int((deadline - time.monotonic()) * 1000), 100)) if self.isRunning() else True
        return stopped and ended
