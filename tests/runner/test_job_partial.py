"""A job streams partial results to the GUI thread in order, before its final result."""

from __future__ import annotations

from desktop_app.runner.jobs import Job, ModelRunner


def test_partial_results_arrive_in_order_before_the_result(qtbot):
    runner = ModelRunner()
    seen: list = []

    def work(ctx):
        for i in range(5):
            ctx.emit(("state", i))
        return "done"

    job = Job("generate", "stream", work)
    job.partial.connect(seen.append)
    job.finished.connect(lambda result: seen.append(result))
    try:
        with qtbot.waitSignal(job.finished, timeout=5000):
            runner.submit(job)
        qtbot.waitUntil(lambda: seen and seen[-1] == "done", timeout=2000)
    finally:
        assert runner.shutdown(5)
    assert seen == [("state", i) for i in range(5)] + ["done"]


def test_a_job_submitted_after_shutdown_is_cancelled_and_the_thread_stays_down(qtbot):
    runner = ModelRunner()
    first = Job("other", "first", lambda ctx: 1)
    with qtbot.waitSignal(first.finished, timeout=5000):
        runner.submit(first)
    assert runner.shutdown(5)
    late = Job("other", "late", lambda ctx: 2)
    cancelled: list = []
    late.cancelled.connect(lambda: cancelled.append(True))
    runner.submit(late)
    assert cancelled == [True] and late.status == "cancelled"
    assert not runner.isRunning(), "a thread left running would abort the app when the window goes"


def test_deleting_the_owner_without_a_shutdown_stops_the_thread_first(qtbot):
    from PySide6.QtCore import QCoreApplication, QEvent, QObject

    owner = QObject()
    runner = ModelRunner(owner)
    job = Job("other", "warm up", lambda ctx: 1)
    with qtbot.waitSignal(job.finished, timeout=5000):
        runner.submit(job)
    assert runner.isRunning()
    owner.deleteLater()  # before the fix: "QThread: Destroyed while thread is still running", abort
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert runner.closed
