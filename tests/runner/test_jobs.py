"""The model runner's job queue: jobs run in order off the GUI thread, report progress with an ETA
on the GUI thread, cancel at their next check, fail with a one-line reason; training runs it
starts are stopped cleanly on shutdown."""

from __future__ import annotations

import math
import threading
import time

import pytest
from PySide6.QtCore import QThread

from desktop_app.ml.models.tiny import demo_pieces
from desktop_app.ml.train import TrainConfig
from desktop_app.runner.jobs import Job, ModelRunner


@pytest.fixture
def runner(qtbot):
    runner = ModelRunner()
    yield runner
    assert runner.shutdown(timeout=60)


def test_jobs_run_in_order_off_the_gui_thread_and_report_on_it(qtbot, runner):
    gui = QThread.currentThread()
    ran_on, heard = [], []

    def work(context):
        ran_on.append(threading.current_thread() is threading.main_thread())
        for done in range(1, 6):
            time.sleep(0.01)
            context.report(done, 5)
        return "done"

    first = Job("generate", "first", work)
    second = Job("evaluate", "second", lambda context: 42)
    first.progress.connect(lambda done, total, eta: heard.append((done, total, eta, QThread.currentThread() is gui)))
    order = []
    first.finished.connect(lambda result: order.append(("first", result)))
    second.finished.connect(lambda result: order.append(("second", result)))
    with qtbot.waitSignal(second.finished, timeout=10_000):
        runner.submit(first)
        runner.submit(second)
    assert order == [("first", "done"), ("second", 42)]
    assert ran_on == [False]
    assert [h[:2] for h in heard] == [(d, 5) for d in range(1, 6)]
    assert all(h[3] for h in heard)  # delivered on the GUI thread
    assert math.isfinite(heard[1][2]) and heard[-1][2] == 0
    assert first.status == second.status == "finished"


def test_cancel_stops_a_running_job_at_its_next_check_and_the_queue_goes_on(qtbot, runner):
    started = threading.Event()
    steps = []

    def endless(context):
        started.set()
        while True:
            steps.append(1)
            time.sleep(0.005)
            context.check()

    never_called = []
    running = Job("dataset", "endless", endless)
    queued = Job("generate", "queued", lambda context: never_called.append(1))
    after = Job("evaluate", "after", lambda context: "still works")
    results = []
    after.finished.connect(results.append)
    runner.submit(running)
    runner.submit(queued)
    runner.submit(after)
    assert started.wait(10)
    queued.cancel()
    with qtbot.waitSignal(running.cancelled, timeout=5_000):
        running.cancel()
    qtbot.waitUntil(lambda: results == ["still works"], timeout=5_000)
    assert running.status == "cancelled" and queued.status == "cancelled" and not never_called


def test_a_failing_job_reports_one_line_and_the_runner_keeps_going(qtbot, runner):
    def broken(context):
        raise ValueError("the seed track is empty\nsecond line of detail")

    bad = Job("generate", "broken", broken)
    good = Job("generate", "good", lambda context: "ok")
    with qtbot.waitSignal(bad.failed, timeout=5_000) as blocker:
        runner.submit(bad)
        runner.submit(good)
    assert blocker.args == ["the seed track is empty"]
    qtbot.waitUntil(lambda: good.status == "finished", timeout=5_000)

    crash = Job("other", "crash", lambda context: {}["missing"])
    with qtbot.waitSignal(crash.failed, timeout=5_000) as blocker:
        runner.submit(crash)
    assert blocker.args == ["KeyError: 'missing'"]


def test_an_unknown_job_kind_is_refused():
    with pytest.raises(ValueError, match="unknown job kind 'paint'"):
        Job("paint", "x", lambda context: None)


def test_shutdown_stops_training_cleanly_with_a_checkpoint(qtbot, tmp_path):
    runner = ModelRunner()
    pieces = demo_pieces(8)
    config = TrainConfig(model="tiny", out=str(tmp_path / "run"), steps=10**9, preset="tiny", batch_size=8,
                         checkpoint_every=10**6, eval_every=10**6)
    process = runner.start_training(config, (pieces[:6], pieces[6:]))
    rows = []
    process.metrics.connect(rows.append)
    assert runner.training_active
    qtbot.waitUntil(lambda: len(rows) > 3, timeout=60_000)
    assert runner.shutdown(timeout=30)
    assert not runner.training_active
    assert process.status == "finished" and process.result["stopped"]
    assert (tmp_path / "run" / "checkpoints" / f"step-{process.result['step']:07d}" / "model.safetensors").is_file()
