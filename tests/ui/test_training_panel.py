"""The training panel, driven with real clicks and typing: a tiny model trains in the runner's child
process on a small folder of MIDI files, its curves update live, it pauses, resumes and stops; a
stopped run resumed from the panel continues the same curve with a dashed line where it picked
up, and retraces a fresh run with the same seed; "Use in Editor" stores the checkpoint in the
settings and "Evaluate" shows the same numbers as `desktop-app evaluate`."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt

from desktop_app.ml.checkpoints import best_directory, latest_checkpoint
from desktop_app.ml.data import load_dataset
from desktop_app.ml.evaluate import evaluate_checkpoint
from desktop_app.ml.train import read_metrics
from desktop_app.music.midi_io import write_midi
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track
from desktop_app.runner.jobs import ModelRunner
from desktop_app.ui.models.evaluation_view import EvaluationView
from desktop_app.ui.models.training_panel import TrainingPanel
from desktop_app.ui.settings import AppSettings

PIECES = 24


@pytest.fixture(scope="module")
def tunes(tmp_path_factory) -> Path:
    """A folder of random two-voice tunes with pieces in every split, parsed once into the cache."""
    folder = tmp_path_factory.mktemp("data") / "tunes"
    folder.mkdir()
    rng = random.Random(3)
    for n in range(PIECES):
        melody = tuple(Note(rng.randint(60, 76), i * 240, 240, 90) for i in range(32))
        bass = tuple(Note(rng.randint(40, 55), i * 960, 960, 80) for i in range(8))
        write_midi(Song(tracks=(Track(name="Melody", notes=melody), Track(name="Bass", notes=bass)), title=f"t{n}"),
                   folder / f"tune{n:02d}.mid")
    dataset = load_dataset(str(folder), workers=1)
    assert all(dataset.split(s) for s in ("train", "valid", "test"))
    return folder


@pytest.fixture
def settings(tmp_path) -> AppSettings:
    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def runner():
    runner = ModelRunner()
    yield runner
    assert runner.shutdown(30)


@pytest.fixture
def panel(qtbot, tmp_path, runner, settings, tunes):
    chosen: list[str] = []
    widget = TrainingPanel(runner, settings, choose_folder=lambda start: chosen.pop(0) if chosen else "",
                           runs_folder=tmp_path / "runs")
    widget.chosen = chosen  # folders the "Resume Run…" dialog will answer, in order
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitUntil(lambda: "tiny" in widget.presets, timeout=60_000)  # the models' presets, read on the runner
    return widget


def type_into(qtbot, box, text: str) -> None:
    """Select what a field holds and type `text` over it, then Enter."""
    line = box.lineEdit() if hasattr(box, "lineEdit") and box.lineEdit() else box
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def fill_form(qtbot, panel: TrainingPanel, tunes: Path, steps: int, out: Path | None = None,
              eval_every: int = 5) -> None:
    panel.model_box.setCurrentText("tiny")
    type_into(qtbot, panel.data_box, str(tunes))
    panel.preset_box.setCurrentText("tiny")
    type_into(qtbot, panel.lr_box, "0.003")
    type_into(qtbot, panel.batch_box, "16")
    type_into(qtbot, panel.steps_box, str(steps))
    type_into(qtbot, panel.seed_box, "7")
    panel.device_box.setCurrentText("cpu")
    type_into(qtbot, panel.eval_box, str(eval_every))
    type_into(qtbot, panel.checkpoint_box, "10")
    if out is not None:
        type_into(qtbot, panel.out_edit, str(out))


def click(qtbot, button) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def points(panel: TrainingPanel, name: str) -> int:
    return len(panel.curves.curve(name)[0])


def run_until_finished(qtbot, panel: TrainingPanel, button) -> dict:
    with qtbot.waitSignal(panel.runFinished, timeout=180_000) as done:
        click(qtbot, button)
    return done.args[0]


def test_a_run_shows_live_curves_and_pauses_resumes_and_stops(qtbot, panel, tunes, tmp_path):
    fill_form(qtbot, panel, tunes, steps=100_000, out=tmp_path / "run")
    assert (panel.lr_box.value(), panel.batch_box.value(), panel.seed_box.value()) == (0.003, 16, 7)
    click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: points(panel, "valid/loss") >= 2, timeout=120_000)
    steps, losses = panel.curves.curve("train/loss")
    assert steps[0] == 1 and np.all(np.diff(steps) == 1) and np.all(np.isfinite(losses))
    assert points(panel, "lr") >= len(steps) - 1
    assert not panel.start_button.isEnabled() and not panel.steps_box.isEnabled()  # the form is locked while it runs

    click(qtbot, panel.pause_button)
    qtbot.waitUntil(lambda: panel.process.status == "paused" and panel.pause_button.text() == "Resume")
    taken = lambda: len(panel.curves.points["train/loss"][0])  # noqa: E731
    held = -1
    for _ in range(40):  # the step under way when the pause came, and rows still in the pipe, arrive first
        before = taken()
        qtbot.wait(500)
        if taken() == before:
            held = before
            break
    assert held > 0
    qtbot.wait(1500)
    assert taken() == held  # paused: no step is taken

    click(qtbot, panel.pause_button)
    qtbot.waitUntil(lambda: len(panel.curves.points["train/loss"][0]) > held + 5, timeout=60_000)
    summary = run_until_finished(qtbot, panel, panel.stop_button)
    assert summary["stopped"] and "Stopped at step" in panel.status.text()
    assert latest_checkpoint(tmp_path / "run").name == f"step-{summary['step']:07d}"
    assert panel.start_button.isEnabled() and panel.use_button.isEnabled()

    # the plots show what the run logged in metrics.csv (smoothing off: the raw values)
    panel.curves.smoothing.setValue(0)
    logged = read_metrics(tmp_path / "run")
    for name in ("train/loss", "valid/loss", "lr"):
        x, y = panel.curves.curve(name)
        assert [int(v) for v in x] == [s for s, _ in logged[name]]
        assert np.allclose(y, [v for _, v in logged[name]])
    assert (tmp_path / "run" / "tensorboard").is_dir() and any((tmp_path / "run" / "tensorboard").iterdir())

    # smoothing changes the training curve only; the log scale applies to the loss axis
    panel.curves.smoothing.setValue(90)
    assert not np.allclose(panel.curves.curve("train/loss")[1], [v for _, v in logged["train/loss"]])
    assert np.allclose(panel.curves.curve("valid/loss")[1], [v for _, v in logged["valid/loss"]])
    qtbot.mouseClick(panel.curves.log_scale, Qt.MouseButton.LeftButton)
    assert panel.curves.loss_plot.getAxis("left").logMode

    # hovering over the loss plot reads every curve at that step
    view = panel.curves.graphs
    scene_point = panel.curves.loss_plot.vb.mapViewToScene(panel.curves.loss_plot.vb.viewRect().center())
    qtbot.mouseMove(view.viewport(), view.mapFromScene(scene_point))
    qtbot.waitUntil(lambda: panel.curves.readout.text().startswith("step "))
    assert "train/loss" in panel.curves.readout.text()


def test_a_resumed_run_continues_the_curve_and_retraces_the_same_seed(qtbot, panel, tunes, tmp_path, settings):
    steps = 300  # enough that the run is still going when Stop is clicked
    fill_form(qtbot, panel, tunes, steps=steps, out=tmp_path / "part", eval_every=25)
    click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: len(panel.curves.points.get("train/loss", ([], []))[0]) >= 12, timeout=120_000)
    stopped = run_until_finished(qtbot, panel, panel.stop_button)
    stop_step = stopped["step"]
    assert stopped["stopped"] and stop_step < steps

    panel.chosen.append(str(tmp_path / "part"))
    fill_form(qtbot, panel, tunes, steps=999, out=tmp_path / "elsewhere", eval_every=25)  # the run's own settings win
    summary = run_until_finished(qtbot, panel, panel.resume_button)
    assert not summary["stopped"] and summary["step"] == steps
    assert panel.steps_box.value() == steps and panel.out_edit.text() == str(tmp_path / "part")
    x, resumed = panel.curves.curve("train/loss")
    assert [int(v) for v in x] == list(range(1, steps + 1))  # one curve: the logged part, then the new steps
    assert panel.curves.resume_steps() == [stop_step]
    line = panel.curves.resume_lines[0]
    assert line.pen.style() == Qt.PenStyle.DashLine and line.value() == stop_step

    # a fresh run with the same seed gives the same losses
    panel.curves.smoothing.setValue(0)
    resumed_raw = panel.curves.curve("train/loss")[1].copy()
    fill_form(qtbot, panel, tunes, steps=steps, out=tmp_path / "whole", eval_every=25)
    run_until_finished(qtbot, panel, panel.start_button)
    assert panel.curves.resume_steps() == []
    assert np.array_equal(panel.curves.curve("train/loss")[1], resumed_raw)

    # "Use in Editor" keeps the run's best checkpoint for the model's panel
    with qtbot.waitSignal(panel.useInEditor) as used:
        click(qtbot, panel.use_button)
    best = best_directory(tmp_path / "whole")
    assert used.args == ["tiny", str(best)]
    assert settings.model_checkpoint("tiny") == str(best)

    # "Evaluate" shows what `desktop-app evaluate` computes
    click(qtbot, panel.evaluate_button)
    qtbot.waitUntil(lambda: panel.evaluation.result is not None, timeout=120_000)
    expected = evaluate_checkpoint(best, str(tunes))
    table = panel.evaluation.losses
    rows = {table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text())
            for r in range(table.rowCount())}
    assert rows["loss"] == (f"{expected['valid']['loss']:.4f}", f"{expected['test']['loss']:.4f}")
    assert rows["examples"] == (str(expected["valid"]["examples"]), str(expected["test"]["examples"]))
    assert panel.tabs.currentWidget() is panel.evaluation


def test_a_bad_dataset_is_reported_in_one_line_and_the_panel_stays_usable(qtbot, panel, tmp_path):
    fill_form(qtbot, panel, tmp_path / "nowhere", steps=10, out=tmp_path / "bad")
    with qtbot.waitSignal(panel.message, timeout=120_000, check_params_cb=lambda t: "failed" in t) as said:
        click(qtbot, panel.start_button)
    assert "nowhere" in said.args[0] and "\n" not in said.args[0]
    qtbot.waitUntil(lambda: panel.start_button.isEnabled())
    assert panel.steps_box.isEnabled() and not panel.stop_button.isEnabled()


def test_the_evaluation_view_shows_each_music_metric_beside_the_data(qtbot):
    view = EvaluationView()
    qtbot.addWidget(view)
    metrics = {"pitch_classes_used": {"original_mean": 6.5, "input_mean": 9.0, "output_mean": 7.0,
                                      "input_overlap": 0.4, "output_overlap": 0.8},
               "note_density": {"original_mean": 12.0, "input_mean": 20.0, "output_mean": math.nan,
                                "input_overlap": 0.3, "output_overlap": math.nan}}
    view.show_result({"checkpoint": "c", "model": "arcnn", "data": "chorales", "pieces": {"valid": 3, "test": 4},
                      "valid": {"examples": 10, "loss": 0.5}, "test": {"examples": 12, "loss": 0.6},
                      "samples": {"cell_f1_after": 0.9, "windows": 5, "metrics": metrics}})
    assert [view.metrics.item(r, 0).text() for r in range(view.metrics.rowCount())] == list(metrics)
    assert view.metrics.item(0, 2).text() == "6.5000" and view.metrics.item(1, 4).text() == "–"
    assert [b.opts["height"][0] for b in view.bars["pitch_classes_used"]] == [6.5, 9.0, 7.0]
    assert "0.8000" in view.plots["pitch_classes_used"].plotItem.titleLabel.text
    assert view.samples.item(0, 0).text() == "cell_f1_after" and view.samples.rowCount() == 2


def test_closing_the_window_while_training_asks_then_stops_the_run_cleanly(qtbot, window, tunes, tmp_path):
    window.docks["training"].show()
    panel = window.training_panel
    qtbot.waitUntil(lambda: "tiny" in panel.presets and panel.start_button.height() > 0, timeout=60_000)
    fill_form(qtbot, panel, tunes, steps=100_000, out=tmp_path / "run")
    click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: len(panel.curves.points.get("train/loss", ([], []))[0]) >= 3, timeout=120_000)

    window.dialogs.stop_training = False
    window.close()
    assert window.dialogs.asked_stop_training == 1
    assert window.isVisible() and panel.process.status == "running"  # "No": the window stays, training goes on

    window.dialogs.stop_training = True
    window.close()
    assert window.dialogs.asked_stop_training == 2 and not window.isVisible()
    assert panel.process.status == "finished" and panel.process.result["stopped"]
    step = panel.process.result["step"]
    assert latest_checkpoint(tmp_path / "run").name == f"step-{step:07d}"  # stopped cleanly: its checkpoint is whole


def test_the_evaluation_view_draws_each_metrics_distribution_when_the_values_come_with_it(qtbot):
    view = EvaluationView()
    qtbot.addWidget(view)
    values = {"original": [1.0, 1.0, 2.0, 3.0], "input": [3.0, 3.0, 3.0, 2.0], "output": [1.0, 2.0, 2.0, 3.0]}
    metrics = {"polyphony": {"original_mean": 1.75, "input_mean": 2.75, "output_mean": 2.0,
                             "input_overlap": 0.3, "output_overlap": 0.7, "values": values}}
    view.show_result({"checkpoint": "c", "model": "arcnn", "data": "chorales", "pieces": {"valid": 3, "test": 4},
                      "valid": {"examples": 10, "loss": 0.5}, "test": {"examples": 12, "loss": 0.6},
                      "samples": {"windows": 4, "metrics": metrics}})
    data, damaged, model = view.distributions["polyphony"]
    for item, key in ((data, "original"), (damaged, "input"), (model, "output")):
        x, share = item.getData()
        assert share.sum() == pytest.approx(1.0)
        assert share[0] == pytest.approx(values[key].count(1.0) / 4)  # the first bin holds the 1.0s
        assert share[-1] == pytest.approx(values[key].count(3.0) / 4)  # the last the 3.0s
    assert "polyphony" not in view.bars
