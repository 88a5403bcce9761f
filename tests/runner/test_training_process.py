"""Training in the runner's child process: curves arrive through Qt signals; pause holds the
loop; stop leaves a checkpoint from which a resumed run retraces the uninterrupted curve exactly."""

from __future__ import annotations

import os
import signal
import time

import pytest

from desktop_app.ml.checkpoints import latest_checkpoint, load_checkpoint
from desktop_app.ml.models.tiny import demo_pieces
from desktop_app.ml.train import TrainConfig, read_metrics
from desktop_app.runner.training import TrainingProcess

PIECES = demo_pieces(12, seed=1)
DATA = (PIECES[:10], PIECES[10:])
STEPS = 400


def config(out, **changes) -> TrainConfig:
    values = dict(model="tiny", out=str(out), steps=STEPS, lr=3e-3, batch_size=32, preset="small", seed=7,
                  eval_every=25, checkpoint_every=100)
    return TrainConfig(**{**values, **changes})


class Recorder:
    """Everything a training panel would hear from the process."""

    def __init__(self, process: TrainingProcess) -> None:
        self.rows, self.progress, self.states = [], [], []
        process.metrics.connect(self.rows.append)
        process.progress.connect(lambda step, total, eta: self.progress.append((step, total, eta)))
        process.state.connect(self.states.append)

    def losses(self) -> dict[int, float]:
        return {row["step"]: row["train/loss"] for row in self.rows}


def run_to_end(qtbot, process: TrainingProcess) -> dict:
    with qtbot.waitSignal(process.finished, timeout=120_000) as blocker:
        process.start()
    return blocker.args[0]


def test_stopped_run_resumes_onto_the_uninterrupted_curve(qtbot, tmp_path):
    whole = TrainingProcess(config(tmp_path / "whole"), DATA)
    heard_whole = Recorder(whole)
    result = run_to_end(qtbot, whole)
    assert not result["stopped"] and result["step"] == STEPS
    assert sorted(heard_whole.losses()) == list(range(1, STEPS + 1))
    assert heard_whole.progress[-1][:2] == (STEPS, STEPS)
    valid = [row["valid/loss"] for row in heard_whole.rows if "valid/loss" in row]
    assert len(valid) == STEPS // 25 and valid[-1] < valid[0]  # the validation curve updates and falls

    part = TrainingProcess(config(tmp_path / "part"), DATA)
    heard_part = Recorder(part)
    part.metrics.connect(lambda row: row["step"] >= 20 and part.stop())
    result = run_to_end(qtbot, part)
    stopped_at = result["step"]
    assert result["stopped"] and 20 <= stopped_at < STEPS
    assert heard_part.states[-2:] == ["stopping", "finished"]
    assert latest_checkpoint(tmp_path / "part").name == f"step-{stopped_at:07d}"  # a usable checkpoint at the stop
    assert load_checkpoint(latest_checkpoint(tmp_path / "part")).config["step"] == stopped_at

    resumed = TrainingProcess(config(tmp_path / "part", resume=True), DATA)
    heard_resumed = Recorder(resumed)
    result = run_to_end(qtbot, resumed)
    assert result["step"] == STEPS and not result["stopped"]
    assert min(heard_resumed.losses()) == stopped_at + 1
    whole_losses = heard_whole.losses()
    assert {**heard_part.losses(), **heard_resumed.losses()} == whole_losses  # bit for bit
    assert read_metrics(tmp_path / "part")["train/loss"] == read_metrics(tmp_path / "whole")["train/loss"]
    assert read_metrics(tmp_path / "part")["valid/loss"] == read_metrics(tmp_path / "whole")["valid/loss"]


def test_pause_holds_the_loop_and_resume_continues(qtbot, tmp_path):
    process = TrainingProcess(config(tmp_path / "run", steps=100_000), DATA)
    heard = Recorder(process)
    process.start()
    qtbot.waitUntil(lambda: len(heard.rows) >= 5, timeout=60_000)
    process.pause()
    time.sleep(0.5)  # the step under way ends, its metrics arrive
    qtbot.wait(200)
    held = len(heard.rows)
    time.sleep(0.5)
    qtbot.wait(200)
    assert len(heard.rows) == held
    process.resume()
    qtbot.waitUntil(lambda: len(heard.rows) > held + 5, timeout=30_000)
    with qtbot.waitSignal(process.finished, timeout=30_000):
        process.stop()
    assert heard.states[:4] == ["running", "paused", "running", "stopping"]
    assert process.result["stopped"]


def test_a_bad_setting_fails_with_a_one_line_reason(qtbot, tmp_path):
    process = TrainingProcess(config(tmp_path / "run", preset="huge"), DATA)
    with qtbot.waitSignal(process.failed, timeout=60_000) as blocker:
        process.start()
    reason = blocker.args[0]
    assert "huge" in reason and "\n" not in reason
    assert process.status == "failed"


def test_resume_without_a_checkpoint_fails_naming_the_folder(qtbot, tmp_path):
    process = TrainingProcess(config(tmp_path / "empty", resume=True), DATA)
    with qtbot.waitSignal(process.failed, timeout=60_000) as blocker:
        process.start()
    assert str(tmp_path / "empty") in blocker.args[0] and "nothing to resume" in blocker.args[0]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_child_is_reported_and_its_last_checkpoint_still_loads(qtbot, tmp_path):
    process = TrainingProcess(config(tmp_path / "run", steps=100_000, checkpoint_every=20), DATA)
    heard = Recorder(process)
    process.start()
    qtbot.waitUntil(lambda: any(row["step"] >= 60 for row in heard.rows), timeout=60_000)
    with qtbot.waitSignal(process.failed, timeout=10_000) as blocker:
        os.kill(process.pid, signal.SIGKILL)
    assert "ended unexpectedly" in blocker.args[0]
    checkpoint = load_checkpoint(latest_checkpoint(tmp_path / "run"))
    assert checkpoint.config["step"] >= 20 and checkpoint.weights


def test_the_child_runs_at_a_lower_priority_than_the_app(qtbot, tmp_path):
    process = TrainingProcess(config(tmp_path / "run", steps=100_000), DATA, nice=7)
    heard = Recorder(process)
    process.start()
    qtbot.waitUntil(lambda: len(heard.rows) >= 1, timeout=60_000)
    assert os.getpriority(os.PRIO_PROCESS, process.pid) == os.getpriority(os.PRIO_PROCESS, 0) + 7
    with qtbot.waitSignal(process.finished, timeout=30_000):
        process.stop()
