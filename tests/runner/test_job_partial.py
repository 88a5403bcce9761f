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
