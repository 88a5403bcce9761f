"""The one training loop, in-process: curves logged as CSV and TensorBoard, the same seed gives the
same losses, a stopped or crashed run resumes onto the same curve, the best checkpoint is kept."""

from __future__ import annotations

import math
import shutil

import pytest
import torch

from desktop_app.ml import registry
from desktop_app.ml.checkpoints import CheckpointError, best_directory, latest_checkpoint, load_checkpoint, step_directory
from desktop_app.ml.models.tiny import demo_pieces
from desktop_app.ml.train import Control, TrainConfig, lr_at, read_metrics, train

PIECES = demo_pieces(12, seed=3)
DATA = (PIECES[:10], PIECES[10:])


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models train fastest on one thread, and a busy machine spins extra ones in vain."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def config(out, **changes) -> TrainConfig:
    values = dict(model="tiny", out=str(out), steps=80, lr=3e-3, batch_size=16, preset="tiny", seed=5,
                  eval_every=20, checkpoint_every=25)
    return TrainConfig(**{**values, **changes})


class StopAt(Control):
    """Asks for a stop once the metrics of `step` have arrived."""

    def __init__(self, step: int) -> None:
        self.step, self.seen = step, 0

    def stop_requested(self) -> bool:
        return self.seen >= self.step

    def __call__(self, row: dict) -> None:
        self.seen = row["step"]


def run(cfg, control=None) -> tuple[dict, dict[int, float]]:
    rows = []

    def hear(row):
        rows.append(row)
        if control is not None:
            control(row)

    result = train(cfg, DATA, hear, control)
    return result, {row["step"]: row["train/loss"] for row in rows}


def test_the_loss_falls_and_every_curve_is_logged_as_csv_and_tensorboard(tmp_path):
    result, losses = run(config(tmp_path, steps=150, eval_every=50))
    curves = read_metrics(tmp_path)
    assert [step for step, _ in curves["train/loss"]] == list(range(1, 151))
    assert [step for step, _ in curves["valid/loss"]] == [50, 100, 150]
    assert {"lr", "train/pitch_f1", "train/step_accuracy", "valid/pitch_f1"} <= set(curves)
    assert curves["valid/loss"][-1][1] < curves["valid/loss"][0][1]
    assert sum(list(losses.values())[-10:]) < sum(list(losses.values())[:10])
    assert result["best_valid_loss"] == min(v for _, v in curves["valid/loss"])

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    assert {"train/loss", "valid/loss", "lr"} <= set(events.Tags()["scalars"])
    assert [e.step for e in events.Scalars("valid/loss")] == [50, 100, 150]
    assert [e.value for e in events.Scalars("train/loss")] == pytest.approx([v for _, v in curves["train/loss"]], rel=1e-5)


def test_the_same_seed_gives_the_same_losses_and_another_seed_does_not(tmp_path):
    _, first = run(config(tmp_path / "a", steps=30))
    _, again = run(config(tmp_path / "b", steps=30))
    _, other = run(config(tmp_path / "c", steps=30, seed=6))
    assert first == again
    assert first != other


def test_a_stopped_run_saves_where_it_got_to_and_resumes_onto_the_same_curve(tmp_path):
    _, whole = run(config(tmp_path / "whole"))
    result, first_part = run(config(tmp_path / "part"), StopAt(33))
    assert result["stopped"] and result["step"] == 34  # asked during step 34, which it finishes
    assert latest_checkpoint(tmp_path / "part") == step_directory(tmp_path / "part", 34)
    result, second_part = run(config(tmp_path / "part", resume=True))
    assert result["step"] == 80 and min(second_part) == 35
    assert {**first_part, **second_part} == whole
    assert read_metrics(tmp_path / "part") == {
        name: [(step, value) for step, value in curve] for name, curve in read_metrics(tmp_path / "whole").items()}


def test_a_crash_after_a_checkpoint_resumes_from_it_and_the_log_drops_the_lost_steps(tmp_path):
    _, whole = run(config(tmp_path / "whole"))
    run(config(tmp_path / "crashed", steps=80))
    # as if the process had died at step 80 before writing its final checkpoint: the newest is step 75
    shutil.rmtree(step_directory(tmp_path / "crashed", 80))
    result, resumed = run(config(tmp_path / "crashed", resume=True))
    assert min(resumed) == 76 and resumed == {s: whole[s] for s in range(76, 81)}
    steps = [step for step, _ in read_metrics(tmp_path / "crashed")["train/loss"]]
    assert steps == list(range(1, 81))  # each step once: 76..80 were dropped, then written again


def test_the_best_checkpoint_holds_the_lowest_validation_loss(tmp_path):
    run(config(tmp_path, steps=100))
    valid = dict(read_metrics(tmp_path)["valid/loss"])
    best_step = min(valid, key=valid.get)
    best = load_checkpoint(best_directory(tmp_path))
    assert best.config["step"] == best_step
    assert best.config["card"]["last"]["valid/loss"] == pytest.approx(valid[best_step], rel=1e-5)
    assert "valid/loss" in best.card and "tiny" in best.card
    assert len(list((tmp_path / "checkpoints").glob("step-*"))) == 3  # keep_checkpoints


def test_resuming_another_model_or_nothing_is_refused_with_a_reason(tmp_path):
    with pytest.raises(CheckpointError, match="nothing to resume"):
        run(config(tmp_path, resume=True))
    run(config(tmp_path, steps=10))
    with pytest.raises(CheckpointError, match="cannot resume: it trained tiny \\(tiny\\), not tiny \\(small\\)"):
        run(config(tmp_path, preset="small", resume=True))


def test_no_training_windows_is_a_clear_error(tmp_path):
    short = [p for p in demo_pieces(3)]
    cfg = config(tmp_path, preset="medium")
    with pytest.raises(ValueError, match="no training examples"):
        train(cfg, ([], short))


def test_learning_rate_warms_up_then_decays_to_its_floor():
    cfg = TrainConfig(model="tiny", out="", steps=1000, lr=1e-3, warmup_steps=100, min_lr_ratio=0.1)
    assert lr_at(1, cfg) == pytest.approx(1e-5)
    assert lr_at(100, cfg) == pytest.approx(1e-3)
    assert lr_at(550, cfg) == pytest.approx(0.55e-3)
    assert lr_at(1000, cfg) == pytest.approx(1e-4)
    assert all(lr_at(s, cfg) >= lr_at(s + 1, cfg) for s in range(100, 1000))


def test_the_registry_names_models_and_presets_and_checks_modules(monkeypatch):
    assert "tiny" in registry.model_names()
    assert registry.make_config("tiny", "tiny", hidden=7).hidden == 7
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        registry.get_model("nope")
    with pytest.raises(ValueError, match="no preset 'huge'"):
        registry.make_config("tiny", "huge")
    monkeypatch.setitem(registry._MODELS, "broken", registry.ModelEntry("broken", "math", ""))
    with pytest.raises(TypeError, match="lacks Config, PRESETS, build, make_examples, loss"):
        registry.get_model("broken")


def test_device_auto_is_the_cpu_here_and_missing_devices_are_named():
    from desktop_app.ml.train import resolve_device

    if not torch.cuda.is_available():
        assert resolve_device("auto") == torch.device("cpu")
        with pytest.raises(ValueError, match="no CUDA GPU"):
            resolve_device("cuda")
    assert math.isfinite(lr_at(1, TrainConfig(model="tiny", out="", steps=1)))
