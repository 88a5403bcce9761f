"""The training panel: the "train" step made visible. Choose a model (every registered one), a
dataset and the hyperparameters, then start, pause, resume and stop a run that trains in the
runner's child process, with live curves (desktop_app.ui.models.curves). A run folder keeps its
checkpoints (every N steps and the best by validation loss) and its log as metrics.csv and
TensorBoard event files; "Resume Run…" continues a run on the same curve, with a dashed line where
it picked up. A model with rolls to preview (the GAN) adds a strip of them under the curves, refreshed at
each evaluation and read back from the run folder on resume. A finished model can be evaluated (the same as `desktop-app evaluate`) and made the
one the editor uses.

Everything that imports torch (the model presets, the training configuration, checkpoints) runs
on the runner's thread, so the panel opens at once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton,
    QScrollArea, QSpinBox, QTabWidget, QToolButton, QVBoxLayout, QWidget,
)

from desktop_app.ml.progress import format_seconds
from desktop_app.runner.jobs import Job, ModelRunner
from desktop_app.ui.models.curves import TrainingCurves
from desktop_app.ui.models.evaluation_view import EvaluationView
from desktop_app.ui.models.roll_strip import RollStrip
from desktop_app.ui.settings import AppSettings

DEVICES = ("auto", "cpu", "cuda", "mps")
EVAL_MAX_WINDOWS = 64  # the panel judges at most this many test windows, so an evaluation takes seconds


def default_runs_folder() -> Path:
    """Where new runs go: runs/ in the user data folder."""
    import platformdirs

    from desktop_app import APP_NAME, ORG_NAME

    return platformdirs.user_data_path(APP_NAME, ORG_NAME) / "runs"


def model_presets(_ctx=None) -> dict[str, list[str]]:
    """Every registered model's size presets (imports the model modules: run it on the runner)."""
    import desktop_app.ml.train  # noqa: F401  (torch, loaded here rather than when Start is pressed)
    from desktop_app.ml.registry import get_model, model_names

    return {name: list(get_model(name).PRESETS) for name in model_names()}


def prepare_resume(run_dir: Path) -> dict:
    """What resuming `run_dir` needs: its configuration (resume on), the step of its latest
    checkpoint and the curves logged up to it."""
    from desktop_app.ml import checkpoints
    from desktop_app.ml.train import TrainConfig, read_metrics, read_previews

    latest = checkpoints.latest_checkpoint(run_dir)
    if latest is None:
        raise checkpoints.CheckpointError(run_dir, "nothing to resume: the run folder holds no checkpoint")
    saved = checkpoints.read_config(latest)
    known = set(TrainConfig.__dataclass_fields__)
    values = {k: v for k, v in saved.get("train", {}).items() if k in known}
    config = TrainConfig(**{**values, "out": str(run_dir), "resume": True, "command": ""})
    try:
        curves = read_metrics(run_dir)
    except OSError:
        curves = {}
    step = int(saved.get("step", 0))
    return {"config": config, "step": step, "curves": curves, "previews": read_previews(run_dir, upto=step)}


class TrainingPanel(QWidget):
    """Signals: message(text) for the status bar, useInEditor(model, checkpoint folder),
    runFinished(summary)."""

    message = Signal(str)
    useInEditor = Signal(str, str)
    runFinished = Signal(dict)

    def __init__(self, runner: ModelRunner, settings: AppSettings, parent: QWidget | None = None,
                 pieces_for: Callable[[str], tuple[list, list] | None] | None = None,
                 choose_folder: Callable[[str], str] | None = None, runs_folder: Path | None = None) -> None:
        super().__init__(parent)
        self.runner, self.settings = runner, settings
        self.pieces_for = pieces_for or (lambda name: None)
        self.choose_folder = choose_folder or (
            lambda start: QFileDialog.getExistingDirectory(self, "Choose a run folder to resume", start))
        self.runs_folder = runs_folder
        self.process = None  # the TrainingProcess of the run going on or last run
        self.run_dir: Path | None = None
        self.model: str = ""
        self.data: str = ""
        self.presets: dict[str, list[str]] = {}
        self._build_widgets()
        self.refresh_datasets()
        self._update_buttons()
        job = Job("other", "Read the models' presets", model_presets, self)
        job.finished.connect(self._presets_loaded)
        job.failed.connect(lambda reason: self._say(f"Cannot read the models: {reason}"))
        self._submit(job)

    # ----- construction -------------------------------------------------------------------

    def _build_widgets(self) -> None:
        from desktop_app.ml.registry import model_names  # the names only: no model module is imported

        self.model_box = QComboBox(self)
        self.model_box.addItems(model_names())
        if "arcnn" in model_names():
            self.model_box.setCurrentText("arcnn")
        self.model_box.currentTextChanged.connect(self._fill_presets)
        self.data_box = QComboBox(self)
        self.data_box.setEditable(True)
        self.data_box.setToolTip("A built-in dataset, a registered folder (Dataset view), or a folder path")
        self.preset_box = QComboBox(self)
        self.preset_box.addItem("small")
        self.preset_box.setToolTip("The model's size")
        self.lr_box = QDoubleSpinBox(self)
        self.lr_box.setDecimals(6)
        self.lr_box.setRange(1e-6, 1.0)
        self.lr_box.setSingleStep(1e-4)
        self.lr_box.setValue(1e-3)
        self.batch_box = self._spin(1, 4096, 32)
        self.steps_box = self._spin(1, 10_000_000, 1000)
        self.seed_box = self._spin(0, 2**31 - 1, 0)
        self.device_box = QComboBox(self)
        self.device_box.addItems(DEVICES)
        self.eval_box = self._spin(1, 1_000_000, 100)
        self.checkpoint_box = self._spin(1, 1_000_000, 500)
        self.out_edit = QLineEdit(self)
        self.out_edit.setPlaceholderText("a new folder under runs/ (default)")
        self.out_button = QToolButton(self)
        self.out_button.setText("…")
        self.out_button.clicked.connect(self._choose_out)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(self.out_button)

        form = QFormLayout()
        form.addRow("Model:", self.model_box)
        form.addRow("Dataset:", self.data_box)
        form.addRow("Size preset:", self.preset_box)
        form.addRow("Learning rate:", self.lr_box)
        form.addRow("Batch size:", self.batch_box)
        form.addRow("Steps:", self.steps_box)
        form.addRow("Seed:", self.seed_box)
        form.addRow("Device:", self.device_box)
        form.addRow("Validate every:", self.eval_box)
        form.addRow("Checkpoint every:", self.checkpoint_box)
        form.addRow("Run folder:", out_row)
        self.form_widgets = [self.model_box, self.data_box, self.preset_box, self.lr_box, self.batch_box,
                             self.steps_box, self.seed_box, self.device_box, self.eval_box, self.checkpoint_box,
                             self.out_edit, self.out_button]

        self.start_button = QPushButton("Start", self)
        self.start_button.setToolTip("Train a new run with these settings")
        self.start_button.clicked.connect(self.start)
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Save a checkpoint and end the run; Resume Run… goes on from it")
        self.stop_button.clicked.connect(self.stop)
        self.resume_button = QPushButton("Resume Run…", self)
        self.resume_button.setToolTip("Continue a stopped run from its latest checkpoint, on the same curve")
        self.resume_button.clicked.connect(self.choose_and_resume)
        self.use_button = QPushButton("Use in Editor", self)
        self.use_button.setToolTip("Make this run's best checkpoint the model the editor uses")
        self.use_button.clicked.connect(self.use_in_editor)
        self.evaluate_button = QPushButton("Evaluate", self)
        self.evaluate_button.setToolTip("Losses on the validation and test splits and the model's music metrics")
        self.evaluate_button.clicked.connect(self.evaluate)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button, self.resume_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        results = QHBoxLayout()
        results.addWidget(self.evaluate_button)
        results.addWidget(self.use_button)
        results.addStretch(1)

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.status = QLabel("Choose a model and a dataset, then Start.", self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.curves = TrainingCurves(self)
        self.strip = RollStrip(self)
        curves_tab = QWidget(self)
        curves_box = QVBoxLayout(curves_tab)
        curves_box.setContentsMargins(0, 0, 0, 0)
        curves_box.addWidget(self.curves, 1)
        curves_box.addWidget(self.strip)
        self.evaluation = EvaluationView(self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(curves_tab, "Curves")
        self.tabs.addTab(self.evaluation, "Evaluation")

        settings = QWidget(self)
        left = QVBoxLayout(settings)
        left.setContentsMargins(0, 0, 0, 0)
        left.addLayout(form)
        left.addLayout(results)
        left.addStretch(1)
        scroll = QScrollArea(self)  # the dock may be small: the settings scroll rather than squeeze
        scroll.setWidgetResizable(True)
        scroll.setWidget(settings)
        scroll.setMinimumWidth(180)
        scroll.setMaximumWidth(settings.sizeHint().width() + 24)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        right = QVBoxLayout()
        right.addWidget(self.progress)
        right.addWidget(self.status)
        right.addWidget(self.tabs, 1)
        body = QHBoxLayout()
        body.addWidget(scroll)
        body.addLayout(right, 1)
        outer = QVBoxLayout(self)
        outer.addLayout(buttons)
        outer.addLayout(body, 1)

    def _spin(self, low: int, high: int, value: int) -> QSpinBox:
        box = QSpinBox(self)
        box.setRange(low, high)
        box.setValue(value)
        box.setGroupSeparatorShown(True)
        return box

    def refresh_datasets(self, select: str | None = None) -> None:
        """Fill the dataset list from the built-in and registered datasets."""
        from desktop_app.ml.data.user_datasets import list_datasets

        current = select or self.data_box.currentText()
        self.data_box.clear()
        self.data_box.addItems([row["name"] for row in list_datasets()])
        if current:
            self.data_box.setCurrentText(current)

    def _presets_loaded(self, presets: dict[str, list[str]]) -> None:
        self.presets = presets
        self._fill_presets(self.model_box.currentText())

    def _fill_presets(self, model: str) -> None:
        current = self.preset_box.currentText()
        names = self.presets.get(model, [current or "small"])
        self.preset_box.clear()
        self.preset_box.addItems(names)
        self.preset_box.setCurrentText(current if current in names else ("small" if "small" in names else names[0]))

    def _choose_out(self) -> None:
        start = self.out_edit.text() or str(self.runs_folder or default_runs_folder())
        folder = QFileDialog.getExistingDirectory(self, "Run folder", start)
        if folder:
            self.out_edit.setText(folder)

    # ----- running ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.running

    def new_run_folder(self, model: str) -> Path:
        base = self.runs_folder or default_runs_folder()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        folder, n = base / f"{model}-{stamp}", 1
        while folder.exists():
            n += 1
            folder = base / f"{model}-{stamp}-{n}"
        return folder

    def start(self) -> None:
        """Start a new run with the settings in the form."""
        if self.running:
            return
        data = self.data_box.currentText().strip()
        if not data:
            self._say("Choose a dataset first (or build one in the Dataset view).")
            return
        model = self.model_box.currentText()
        out = Path(self.out_edit.text()) if self.out_edit.text().strip() else self.new_run_folder(model)
        values = dict(model=model, out=str(out), data=data, steps=self.steps_box.value(), lr=self.lr_box.value(),
                      batch_size=self.batch_box.value(), preset=self.preset_box.currentText(),
                      seed=self.seed_box.value(), device=self.device_box.currentText(),
                      eval_every=self.eval_box.value(), checkpoint_every=self.checkpoint_box.value())

        def make(_ctx):
            from desktop_app.ml.train import TrainConfig

            return TrainConfig(**values)

        self._prepare(make, lambda config: self._launch(config, None))

    def choose_and_resume(self) -> None:
        start = str(self.run_dir or self.runs_folder or default_runs_folder())
        folder = self.choose_folder(start)
        if folder:
            self.resume(Path(folder))

    def resume(self, run_dir: Path) -> None:
        """Continue the run in `run_dir` from its latest checkpoint: the curve so far is read back
        from its log, and a dashed line marks where it goes on."""
        if self.running:
            return
        self._prepare(lambda _ctx: prepare_resume(run_dir), lambda found: self._launch(found["config"], found))

    def _prepare(self, fn, then) -> None:
        """Work that imports torch, on the runner; `then(result)` on the GUI thread."""
        self.start_button.setEnabled(False)
        self.resume_button.setEnabled(False)
        job = Job("other", "Prepare a training run", fn, self)
        job.finished.connect(then)
        job.failed.connect(lambda reason: (self._say(f"Cannot start training: {reason}"), self._update_buttons()))
        self._submit(job)

    def _launch(self, config, resumed: dict | None) -> None:
        self._show_config(config)
        self.model, self.data, self.run_dir = config.model, config.data, Path(config.out)
        self.curves.set_model(config.model)
        self.strip.clear()
        if resumed is not None:
            self.curves.set_history(resumed["curves"], resumed["step"])
            self.curves.mark_resume(resumed["step"])
            self.strip.set_history(resumed.get("previews", []))
        self.curves.redraw()
        self.progress.setRange(0, config.steps)
        self.progress.setValue(resumed["step"] if resumed else 0)
        process = self.runner.start_training(config, self.pieces_for(config.data))
        self.process = process
        process.metrics.connect(self.curves.add_row)
        process.metrics.connect(self.strip.add_row)
        process.progress.connect(self._progress)
        process.state.connect(lambda state: self._update_buttons())
        process.finished.connect(self._finished)
        process.failed.connect(self._failed)
        where = f"from step {resumed['step']} " if resumed else ""
        self.status.setText(f"Training {config.model} ({config.preset}) on {config.data} {where}in {config.out}")
        self._update_buttons()

    def _show_config(self, config) -> None:
        """Put a run's settings in the form (a resumed run shows the ones it was started with)."""
        self.model_box.setCurrentText(config.model)
        self.data_box.setCurrentText(config.data)
        if self.preset_box.findText(config.preset) < 0:
            self.preset_box.addItem(config.preset)
        self.preset_box.setCurrentText(config.preset)
        self.lr_box.setValue(config.lr)
        self.batch_box.setValue(config.batch_size)
        self.steps_box.setValue(config.steps)
        self.seed_box.setValue(config.seed)
        self.device_box.setCurrentText(config.device)
        self.eval_box.setValue(config.eval_every)
        self.checkpoint_box.setValue(config.checkpoint_every)
        self.out_edit.setText(config.out)

    def toggle_pause(self) -> None:
        if self.process is None:
            return
        if self.process.status == "paused":
            self.process.resume()
        else:
            self.process.pause()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def _progress(self, step: int, total: int, eta: float) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(step)
        self.progress.setFormat(f"step {step:,} / {total:,} · {format_seconds(eta)} left")

    def _finished(self, summary: dict) -> None:
        self.curves.redraw()  # the last steps, without waiting for the next redraw
        best = summary.get("best_valid_loss")
        best_text = f", best validation loss {best:.4f}" if isinstance(best, float) and best < float("inf") else ""
        verb = "Stopped" if summary.get("stopped") else "Finished"
        text = f"{verb} at step {summary.get('step', 0):,} of {summary.get('total_steps', 0):,}{best_text}."
        if summary.get("stopped") and summary.get("checkpoint"):
            text += " A checkpoint was saved: Resume Run… goes on from it."
        self.status.setText(text)
        self._say(f"Training {verb.lower()}: {self.run_dir}")
        self._update_buttons()
        self.runFinished.emit(summary)

    def _failed(self, reason: str) -> None:
        self.curves.redraw()
        self.status.setText(f"Training failed: {reason}")
        self._say(f"Training failed: {reason}")
        self._update_buttons()

    def _update_buttons(self) -> None:
        status = self.process.status if self.process is not None else "idle"
        active = status in ("running", "paused", "stopping")
        for widget in self.form_widgets:
            widget.setEnabled(not active)
        self.start_button.setEnabled(not active)
        self.resume_button.setEnabled(not active)
        self.pause_button.setEnabled(status in ("running", "paused"))
        self.pause_button.setText("Resume" if status == "paused" else "Pause")
        self.stop_button.setEnabled(status in ("running", "paused"))
        has_checkpoint = self.checkpoint() is not None
        self.use_button.setEnabled(has_checkpoint)
        self.evaluate_button.setEnabled(has_checkpoint and not active)
        if status == "paused":
            self.status.setText(f"Paused at step {self.progress.value():,}. Resume or Stop.")

    # ----- the result ---------------------------------------------------------------------

    def checkpoint(self) -> Path | None:
        """The run's best checkpoint by validation loss, else its latest one."""
        if self.run_dir is None:
            return None
        from desktop_app.ml import checkpoints  # loaded on the runner before any run started

        best = checkpoints.best_directory(self.run_dir)
        return best if (best / checkpoints.CONFIG).is_file() else checkpoints.latest_checkpoint(self.run_dir)

    def use_in_editor(self) -> None:
        """Make the run's checkpoint the one the editor uses for its model (kept in the settings)."""
        checkpoint = self.checkpoint()
        if checkpoint is None or not self.model:
            return
        self.settings.set_model_checkpoint(self.model, checkpoint)
        self.useInEditor.emit(self.model, str(checkpoint))
        self._say(f"The editor now uses {checkpoint} for {self.model}")

    def evaluate(self) -> Job | None:
        """Evaluate the run's checkpoint on its dataset, on the runner; the result shows in the Evaluation tab."""
        checkpoint = self.checkpoint()
        if checkpoint is None:
            return None
        data = self.data or self.data_box.currentText()

        def run(ctx):
            from desktop_app.ml.evaluate import evaluate_checkpoint

            return evaluate_checkpoint(checkpoint, data, max_windows=EVAL_MAX_WINDOWS, progress=ctx.report)

        job = Job("evaluate", f"Evaluate {checkpoint}", run, self)
        job.progress.connect(lambda done, total, eta: self.status.setText(
            f"Evaluating {checkpoint.name}: {done}/{total} windows, {format_seconds(eta)} left"))
        job.finished.connect(self._evaluated)
        job.failed.connect(lambda reason: (self.status.setText(f"Evaluation failed: {reason}"),
                                           self._say(f"Evaluation failed: {reason}")))
        self.status.setText(f"Evaluating {checkpoint} on {data}…")
        self.evaluate_button.setEnabled(False)
        self._submit(job)
        return job

    def _evaluated(self, result: dict) -> None:
        self.evaluation.show_result(result)
        self.tabs.setCurrentWidget(self.evaluation)
        self.status.setText(f"Evaluated {result.get('checkpoint', '')}.")
        self._update_buttons()

    # ----- helpers ------------------------------------------------------------------------

    def _submit(self, job: Job) -> None:
        for signal in (job.finished, job.failed, job.cancelled):
            signal.connect(job.deleteLater)
        self.runner.submit(job)

    def _say(self, text: str) -> None:
        self.message.emit(text)
