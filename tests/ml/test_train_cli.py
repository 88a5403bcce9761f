"""`desktop-app train`: a folder of MIDI files in, checkpoints and logs out, a progress line per
evaluation; Ctrl+C stops after the step with a checkpoint that --resume continues; bad input is
one line with exit code 2."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from desktop_app.cli import main
from desktop_app.ml.checkpoints import best_directory, latest_checkpoint, load_checkpoint
from desktop_app.ml.train import read_metrics
from train_helpers import write_demo_folder

ARGS = ["--preset", "tiny", "--batch-size", "8", "--device", "cpu", "--threads", "1", "--lr", "0.003"]


@pytest.fixture(scope="module")
def midi_folder(tmp_path_factory):
    return write_demo_folder(tmp_path_factory.mktemp("midi"))


def test_train_writes_checkpoints_logs_and_a_card_naming_the_command(midi_folder, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "tiny", "--data", str(midi_folder), "--out", str(out), "--steps", "40",
                 "--eval-every", "20", "--checkpoint-every", "20", *ARGS])
    assert code == 0
    err = capsys.readouterr().err
    assert "step 20/40" in err and "step 40/40" in err and "valid" in err and "ETA" in err
    assert f"finished at step 40: checkpoint {out / 'checkpoints' / 'step-0000040'}" in err
    assert [p.name for p in sorted((out / "checkpoints").iterdir())] == ["best", "step-0000020", "step-0000040"]
    card = load_checkpoint(best_directory(out)).card
    assert f"`desktop-app train tiny --data {midi_folder} --out {out} --steps 40" in card
    assert any((out / "tensorboard").iterdir())
    assert [s for s, _ in read_metrics(out)["valid/loss"]] == [20, 40]


def test_ctrl_c_stops_with_a_checkpoint_and_resume_finishes_the_run(midi_folder, tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "desktop_app", "train", "tiny", "--data", str(midi_folder), "--out", str(out),
               "--steps", "1000000", "--eval-every", "10", "--checkpoint-every", "100000", *ARGS]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert "step 10/1000000" in process.stderr.readline()  # training is under way
    process.send_signal(signal.SIGINT)
    err = process.communicate(timeout=120)[1]
    assert process.returncode == 0, err
    assert "stopped at step" in err
    stopped_at = load_checkpoint(latest_checkpoint(out)).config["step"]
    assert 10 <= stopped_at < 1_000_000

    code = main(["train", "tiny", "--data", str(midi_folder), "--out", str(out), "--steps", str(stopped_at + 5),
                 "--eval-every", "10", "--checkpoint-every", "100000", "--resume", *ARGS])
    assert code == 0
    assert load_checkpoint(latest_checkpoint(out)).config["step"] == stopped_at + 5
    steps = [s for s, _ in read_metrics(out)["train/loss"]]
    assert steps == list(range(1, stopped_at + 6))


@pytest.mark.parametrize("args, message", [
    (["nosuch", "--data", "chorales"], "unknown model 'nosuch'"),
    (["tiny", "--data", "chorales", "--preset", "huge"], "model 'tiny' has no preset 'huge'"),
    (["tiny", "--data", "/no/such/folder"], "/no/such/folder: no such folder"),
])
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, capsys, args, message):
    assert main(["train", *args, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("desktop-app: error: ") and message in err and err.count("\n") == 1


def test_resume_with_nothing_to_resume_names_the_folder(midi_folder, tmp_path, capsys):
    assert main(["train", "tiny", "--data", str(midi_folder), "--out", str(tmp_path / "empty"), "--resume", *ARGS]) == 2
    assert f"desktop-app: error: {tmp_path / 'empty'}: nothing to resume" in capsys.readouterr().err
