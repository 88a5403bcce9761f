"""Run a function on a worker thread and hear back on the GUI thread: file loading, autosave
and other work that could stall the window for more than a few milliseconds."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class BackgroundTask(QObject):
    """One call of `fn` on the shared thread pool. `finished` carries its result, `failed` the
    exception it raised; both arrive on the thread that created the task."""

    finished = Signal(object)
    failed = Signal(object)
    progress = Signal(float)  # 0..1, from tasks started with run_with_progress

    _running: set["BackgroundTask"] = set()  # keeps tasks alive until they report

    def __init__(self, fn: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn

    def start(self) -> "BackgroundTask":
        """Run it. Connect to `finished` and `failed` before this: the task lets go of itself
        in a slot connected here, which must be the last to run."""
        self.finished.connect(self._forget)
        self.failed.connect(self._forget)
        BackgroundTask._running.add(self)
        QThreadPool.globalInstance().start(_Runnable(self))
        return self

    def _forget(self, _result: object) -> None:
        BackgroundTask._running.discard(self)


class _Runnable(QRunnable):
    def __init__(self, task: BackgroundTask) -> None:
        super().__init__()
        self._task = task

    def run(self) -> None:
        try:
            try:
                result = self._task._fn()
            except Exception as e:  # reported to the GUI thread, which decides what to say
                self._task.failed.emit(e)
            else:
                self._task.finished.emit(result)
        except RuntimeError:
            pass  # the task's owner was deleted meanwhile: nobody is waiting for the answer


def run_in_background(
    fn: Callable[[], Any],
    on_finished: Callable[[Any], None],
    on_failed: Callable[[Exception], None],
    owner: QObject | None = None,
) -> BackgroundTask:
    """Call `fn` on a worker thread, then `on_finished(result)` or `on_failed(exception)` on this
    thread. With an `owner`, the callbacks are dropped if the owner is deleted first."""
    task = BackgroundTask(fn, owner)
    task.finished.connect(on_finished)
    task.failed.connect(on_failed)
    return task.start()


def run_with_progress(
    fn: Callable[[Callable[[float], None]], Any],
    on_progress: Callable[[float], None],
    on_finished: Callable[[Any], None],
    on_failed: Callable[[Exception], None],
    owner: QObject | None = None,
) -> BackgroundTask:
    """Like run_in_background, for work that reports how far it got: `fn` receives a function
    to call with a fraction from 0 to 1, and `on_progress` hears it on this thread."""
    holder: list[BackgroundTask] = []
    task = BackgroundTask(lambda: fn(lambda fraction: holder[0].progress.emit(fraction)), owner)
    holder.append(task)
    task.progress.connect(on_progress)
    task.finished.connect(on_finished)
    task.failed.connect(on_failed)
    return task.start()
