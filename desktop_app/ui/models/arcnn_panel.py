"""The AR-CNN panel: DeepComposer's four knobs and a seed, Run / Again / Cancel on the active track
(or on the selected bars and pitches only), the run animated into the piano roll as it edits, the
results kept as takes, and the model's heat layer.

The model runs on the runner's thread: each edit event is sent to the GUI, which draws the latest
state at most 30 times a second. A run never writes into the song: it ends as a take, which the
composer auditions and accepts as one undo step, or discards. Cancel keeps nothing. "Again" runs
on the active take (or the newest one), so edits build on the model's own output.

"Selection only" edits the bars and pitches the selected notes span; with no notes selected, the
bars of the loop region (every pitch). The ml modules (torch) are imported on the runner's thread,
so opening the app does not wait for them."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton,
    QSpinBox, QToolButton, QVBoxLayout, QWidget,
)

from desktop_app.music.song import Song
from desktop_app.music.timing import MODEL_STEPS_PER_BEAT, step_to_tick, tick_to_step
from desktop_app.runner.jobs import Job, ModelRunner
from desktop_app.ui.document import Document
from desktop_app.ui.models.checkpoint_loading import CheckpointLoading
from desktop_app.ui.models.common import Span, selection_span
from desktop_app.ui.models.takes import TakeDisplay, Takes, TakesList, note_changes
from desktop_app.ui.piano_roll.overlays import HeatLayer, HeatMap
from desktop_app.ui.piano_roll.viewport import RollViewport
from desktop_app.ui.settings import AppSettings

DRAW_MS = 33  # the roll shows a run's latest state at most 30 times a second
HEAT_SECONDS = 0.1  # during a run, the worker refreshes the heat map at most this often
HEAT_DELAY_MS = 120  # after a hand edit or a scroll, the heat map is asked for once things settle
NO_MODEL = "No AR-CNN model yet: train one (Training panel) or choose a checkpoint…"


@dataclass(frozen=True)
class Knobs:
    """The panel's knobs as plain values (SamplerKnobs is built on the runner's thread)."""

    iterations: int = 100
    max_remove: float = 1.0
    max_add: int = 500
    temperature: float = 1.0
    seed: int | None = None

    def describe(self) -> str:
        return (f"AR-CNN: {self.iterations} iterations, remove ≤ {self.max_remove:.0%}, add ≤ {self.max_add}, "
                f"risk {self.temperature:g}, seed {self.seed}")


@dataclass(frozen=True)
class LiveState:
    """A running model's state, sent from the runner: the track's notes after `events` edit events,
    and the heat map for them when it was refreshed."""

    events: int
    notes: tuple
    heat: HeatMap | None = None


def heat_map(song: Song, track: int, net, span: Span, centre_step: int, temperature: float) -> HeatMap:
    """The model's next-edit probabilities over the window nearest `centre_step` (runner thread)."""
    from desktop_app.ml.models.arcnn_track import Region, TrackEditor

    editor = TrackEditor(song, track, net, Region(span.start, span.stop, span.low, span.high))
    start, probs = editor.heat(centre_step=centre_step, temperature=temperature)
    sounding = editor.seed_roll[start:start + probs.shape[0]]
    return HeatMap(int(step_to_tick(start, song.ppq)), song.ppq / MODEL_STEPS_PER_BEAT, net.config.low_pitch,
                   probs, sounding.copy())


class ArcnnPanel(CheckpointLoading, QWidget):
    """The AR-CNN panel; `net` is the loaded model (None until one is chosen or shipped)."""

    MODEL = "arcnn"
    MODEL_TITLE = "AR-CNN"
    NO_MODEL = NO_MODEL

    message = Signal(str)  # for the status bar
    runEnded = Signal(str)  # "finished", "cancelled" or "failed"
    heatUpdated = Signal()

    def __init__(self, document: Document, runner: ModelRunner, takes: Takes, display: TakeDisplay,
                 heat_layer: HeatLayer, viewport: RollViewport, settings: AppSettings,
                 loop: Callable[[], tuple[int, int] | None] = lambda: None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document, self.runner, self.takes, self.display = document, runner, takes, display
        self.heat_layer, self.viewport, self.settings, self.loop = heat_layer, viewport, settings, loop
        self.net = None
        self.model_name = ""
        self.job: Job | None = None
        self.states_received = 0  # edit events streamed by the current or last run
        self._latest: LiveState | None = None
        self._run_base: Song | None = None
        self._run_track = 0
        self._heat_job: Job | None = None
        self._heat_again = False
        self._heat_centre: int | None = None
        self._heat_wanted = False  # read by the runner's thread during a run
        self._load_generation = 0
        self.choose_folder: Callable[[str], str] = lambda start: QFileDialog.getExistingDirectory(
            self, "Choose an AR-CNN checkpoint folder", start)
        self._draw_timer = QTimer(self, singleShot=True, interval=DRAW_MS, timeout=self._draw_latest)
        self._heat_timer = QTimer(self, singleShot=True, interval=HEAT_DELAY_MS, timeout=self.refresh_heat)
        self._build()
        document.songChanged.connect(self._song_changed)
        document.loaded.connect(self._document_loaded)
        document.selectionChanged.connect(self.schedule_heat)  # another track, or a region to show
        self.risk.valueChanged.connect(self.schedule_heat)  # the temperature shapes the heat too
        self.selection_only.toggled.connect(self.schedule_heat)
        takes.changed.connect(self._update_buttons)
        takes.activeChanged.connect(self._active_take_changed)
        viewport.changed.connect(self._viewport_changed)
        self._update_buttons()
        self._looked_for_model = False  # the model is looked for when the panel first shows (torch loads then)

    # ----- construction -------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.model_label = QLabel(NO_MODEL, self)
        self.model_label.setWordWrap(True)
        self.choose_button = QPushButton("Choose Checkpoint…", self)
        self.choose_button.setToolTip("A checkpoint folder (model.safetensors + config.json) of a trained AR-CNN")
        self.choose_button.clicked.connect(self.choose_checkpoint)
        layout.addWidget(self.model_label)
        layout.addWidget(self.choose_button)

        form = QFormLayout()
        self.iterations = self._spin(1, 100_000, 100, "", "Sampling iterations: how many edit events the model makes "
                                     "(one note cell added or removed each), per 8 bars")
        self.max_remove = self._spin(0, 100, 100, " %", "Maximum input notes to remove: the share of the seed's "
                                     "notes the model may shorten or delete (counts notes, not cells)")
        self.max_add = self._spin(0, 100_000, 500, "", "Maximum notes to add: how many new notes the model may "
                                  "write (counts notes, not cells)")
        self.risk = QDoubleSpinBox(self, minimum=0.0, maximum=6.0, singleStep=0.1, value=1.0, decimals=2)
        self.risk.setToolTip("Creative risk: the sampling temperature. Low values take the model's surest edits "
                             "(0 is greedy); high values take chances. Also shapes the heat layer.")
        self.seed_edit = QLineEdit(self, placeholderText="random")
        self.seed_edit.setToolTip("A whole number repeats a run exactly; blank draws a new seed (shown in the take)")
        form.addRow("Sampling iterations", self.iterations)
        form.addRow("Maximum input notes to remove", self.max_remove)
        form.addRow("Maximum notes to add", self.max_add)
        form.addRow("Creative risk", self.risk)
        form.addRow("Seed", self.seed_edit)
        layout.addLayout(form)
        self.selection_only = QCheckBox("Selection only", self)
        self.selection_only.setToolTip("Edit only the bars and pitches the selected notes span; with no notes "
                                       "selected, the bars of the loop region")
        layout.addWidget(self.selection_only)

        self.run_action = QAction("Run AR-CNN", self)
        self.run_action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        self.run_action.setToolTip("Let the AR-CNN edit the active track (Ctrl+Shift+R); the result is a new take")
        self.run_action.triggered.connect(lambda _c=False: self.run())
        self.heat_action = QAction("Show AR-CNN Heat", self, checkable=True)
        self.heat_action.setShortcut(QKeySequence("Ctrl+Shift+H"))
        self.heat_action.setToolTip("Colour each cell by the model's chance of editing it next: cyan = add here, "
                                    "magenta = remove this (Ctrl+Shift+H)")
        self.heat_action.toggled.connect(self.set_heat_visible)
        buttons = QHBoxLayout()
        self.run_button = QPushButton("Run", self)
        self.run_button.setToolTip(self.run_action.toolTip())
        self.run_button.clicked.connect(lambda: self.run())
        self.again_button = QPushButton("Again", self)
        self.again_button.setToolTip("Run once more on the active take (the model edits its own output)")
        self.again_button.clicked.connect(lambda: self.run(again=True))
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the run; nothing of it is kept")
        self.cancel_button.clicked.connect(self.cancel)
        for b in (self.run_button, self.again_button, self.cancel_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.heat_button = QToolButton(self)
        self.heat_button.setDefaultAction(self.heat_action)
        self.heat_button.setText("Heat layer")
        layout.addWidget(self.heat_button)
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        self.takes_view = TakesList(self.takes, self)
        layout.addWidget(self.takes_view, 1)

    def _spin(self, low: int, high: int, value: int, suffix: str, tip: str) -> QSpinBox:
        box = QSpinBox(self, minimum=low, maximum=high, value=value, suffix=suffix)
        box.setToolTip(tip)
        return box

    # ----- the model ----------------------------------------------------------------------

    def set_model(self, net, name: str = "") -> None:
        """Use `net` (an ArcnnNet) from now on."""
        self._load_generation += 1
        self.net, self.model_name = net, name
        self.model_label.setText(f"Model: {name}" if name else "Model loaded")
        self._update_buttons()
        self.schedule_heat()

    def _use_loaded(self, loaded, name: str) -> None:
        """Make a loaded checkpoint the panel's model (CheckpointLoading calls this)."""
        self.set_model(loaded.net, name)

    # ----- running ------------------------------------------------------------------------

    def knobs(self) -> Knobs:
        """The knobs as set; a blank seed draws one now, so the take can say which it was."""
        text = self.seed_edit.text().strip()
        if text and not text.isdigit():
            raise ValueError(f"seed {text!r}: a whole number (0 or more), or blank for a random one")
        seed = int(text) if text else random.randrange(2**31)
        return Knobs(self.iterations.value(), self.max_remove.value() / 100, self.max_add.value(), self.risk.value(),
                     seed)

    def span(self) -> Span | None:
        """The region to edit: everything, or the selection's bars and pitches (None: nothing selected)."""
        if not self.selection_only.isChecked():
            return Span()
        doc = self.document
        return selection_span(doc.song, doc.active_track, doc.selection, self.loop())

    @property
    def running(self) -> bool:
        return self.job is not None

    def run(self, again: bool = False) -> bool:
        """Start a run on the active track (on the active take's output with `again`); False with a
        reason in the status line when it cannot start."""
        doc = self.document
        if self.running:
            return False
        if self.net is None:
            if not self._looked_for_model:
                self.find_model()
            return self._refuse(NO_MODEL)
        if not doc.song.tracks:
            return self._refuse("The song has no track to edit.")
        try:
            knobs = self.knobs()
        except ValueError as e:
            return self._refuse(str(e).capitalize() + ".")
        span = self.span()
        if span is None:
            return self._refuse("Selection only: select notes, or set a loop region on the ruler.")
        track = doc.active_track
        base = doc.song
        seed_song = base
        if again:
            take = self.takes.active or (self.takes.takes[-1] if self.takes.takes else None)
            if take is None:
                return self._refuse("Again runs on a take: run once first.")
            seed_song, track = self.takes.current_song(take), take.track
        net, panel, centre = self.net, self, self._heat_centre_step()
        self._run_base, self._run_track, self._latest = base, track, None
        self.states_received = 0

        def work(ctx):
            from desktop_app.ml.models.arcnn import SamplerKnobs
            from desktop_app.ml.models.arcnn_track import Region, TrackEditor

            editor = TrackEditor(seed_song, track, net, Region(span.start, span.stop, span.low, span.high))
            window = net.config.steps
            cores = editor.cores() if editor.n_steps > window else [(0, 0, window)]
            total = max(1, sum(knobs.iterations if len(cores) == 1 else round(knobs.iterations * (b - a) / window)
                               for _, a, b in cores))
            per_pass = max(net.config.edits_per_pass, 1)  # the model's own setting, as `generate arcnn` uses
            sampler = SamplerKnobs(knobs.iterations, knobs.max_remove, knobs.max_add, knobs.temperature, per_pass,
                                   knobs.seed)
            notes, count, heat_time = seed_song.tracks[track].notes, 0, 0.0
            for state in editor.run(sampler):
                count += 1
                notes = state.notes
                heat = None
                now = time.perf_counter()
                if panel._heat_wanted and now - heat_time >= HEAT_SECONDS:  # read across threads: a bool
                    heat = heat_map(seed_song.with_track(track, seed_song.tracks[track].with_notes(notes)), track,
                                    net, span, centre, knobs.temperature)
                    heat_time = now
                ctx.emit(LiveState(count, notes, heat))
                ctx.report(min(count, total), total)
            return LiveState(count, notes)

        job = Job("generate", "AR-CNN", work, self)
        job.partial.connect(self._partial)
        job.progress.connect(self._progress)
        job.finished.connect(lambda state: self._finished(state, seed_song, knobs))
        job.cancelled.connect(lambda: self._ended("cancelled", "Cancelled: nothing was kept."))
        job.failed.connect(lambda reason: self._ended("failed", f"The AR-CNN run failed: {reason}"))
        self.job = job
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.status.setText(f"Running on {'the take' if again else 'the track'}…")
        self._update_buttons()
        self._submit(job)
        return True

    def cancel(self) -> None:
        """Stop the run: it ends at its next edit event and leaves nothing behind."""
        if self.job is not None:
            self.job.cancel()

    def _progress(self, done: int, total: int, eta: float) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _partial(self, state: LiveState) -> None:
        """An edit event arrived: keep the latest; the roll draws it at the next frame."""
        if self.job is None:
            return
        self.states_received += 1
        heat = state.heat or (self._latest.heat if self._latest is not None else None)
        self._latest = LiveState(state.events, state.notes, heat)
        if state.heat is not None:
            self.heat_layer.set_heat(state.heat)
            self.heatUpdated.emit()
        if not self._draw_timer.isActive():
            self._draw_timer.start()

    def _draw_latest(self) -> None:
        state, base = self._latest, self._run_base
        if state is None or base is None or self.job is None:
            return
        self.display.show_live(note_changes(base.tracks[self._run_track].notes, state.notes))
        self.status.setText(f"Running: {state.events} edit events")

    def _finished(self, state: LiveState, seed_song: Song, knobs: Knobs) -> None:
        base, track = self._run_base, self._run_track
        self._end_job()
        if state.events == 0:
            self._ended("finished", "The model made no edits: the region holds no cell it may change, or the "
                                    "caps allow none.")
            return
        song = seed_song.with_track(track, seed_song.tracks[track].with_notes(state.notes))
        take = self.takes.add(base, song, track, knobs.describe())
        changes = take.changes()
        text = (f"{take.name}: {state.events} edit events, {len(changes.added)} notes added, "
                f"{len(changes.removed)} removed. Click a take to audition it; Accept keeps it.")
        self.status.setText(text)
        self.message.emit(text)
        self.runEnded.emit("finished")
        self.schedule_heat()

    def _ended(self, how: str, text: str) -> None:
        self._end_job()
        self.status.setText(text)
        self.message.emit(text)
        self.runEnded.emit(how)
        self.schedule_heat()

    def _end_job(self) -> None:
        self.job = None
        self._draw_timer.stop()
        self._latest = None
        self.progress.setVisible(False)
        self.display.end_live()
        self._update_buttons()

    # ----- takes --------------------------------------------------------------------------

    def _active_take_changed(self) -> None:
        self._update_buttons()
        self.schedule_heat()

    def _update_buttons(self) -> None:
        has_model, running = self.net is not None, self.running
        self.run_button.setEnabled(has_model and not running)
        self.run_action.setEnabled(has_model and not running)
        self.again_button.setEnabled(has_model and not running and bool(self.takes.takes))
        self.cancel_button.setEnabled(running)
        self.takes_view.set_busy(running)

    def _song_changed(self) -> None:
        """Any change refreshes the heat map."""
        self.schedule_heat()

    def _document_loaded(self) -> None:
        """A new document drops the takes and stops a run (the first edit of a song does not)."""
        self.cancel()
        if self.takes.takes:
            self.takes.clear()

    # ----- the heat layer -----------------------------------------------------------------

    def set_heat_visible(self, on: bool) -> None:
        self._heat_wanted = on
        self.heat_layer.set_visible(on)
        if self.heat_action.isChecked() != on:
            self.heat_action.setChecked(on)
        if on:
            self.refresh_heat()

    def _heat_centre_step(self) -> int:
        """The middle of the model window nearest the middle of the view; windows start on the
        same grid of half windows (4 bars) that a run edits by."""
        vp = self.viewport
        middle = int(tick_to_step((vp.left_tick + vp.right_tick) / 2, self.document.song.ppq))
        window = self.net.config.steps if self.net is not None else 128
        half = window // 2
        return max(round((middle - half) / half), 0) * half + half

    def _viewport_changed(self) -> None:
        if not self._heat_wanted or self.net is None or self._heat_centre is None:
            return
        window = self.net.config.steps
        if abs(self._heat_centre_step() - self._heat_centre) >= window // 4:
            self.schedule_heat()

    def schedule_heat(self) -> None:
        """Refresh the heat map soon (after a burst of changes settles)."""
        if self._heat_wanted and self.net is not None:
            self._heat_timer.start()

    def refresh_heat(self) -> None:
        """Ask the runner for the heat map of what the roll shows (the active take or the song),
        over the window nearest the middle of the view. One request at a time: a change while one
        is out asks again when it returns. During a run the run itself refreshes it."""
        if not self._heat_wanted or self.net is None or self.running:
            return
        if self._heat_job is not None:
            self._heat_again = True
            return
        doc = self.document
        if not doc.song.tracks:
            self.heat_layer.set_heat(None)
            return
        take = self.takes.active
        song = self.takes.current_song()
        track = take.track if take is not None else doc.active_track
        span = self.span() or Span()
        centre = self._heat_centre = self._heat_centre_step()
        net, temperature = self.net, self.risk.value()
        job = Job("other", "AR-CNN heat", lambda _ctx: heat_map(song, track, net, span, centre, temperature), self)
        job.finished.connect(self._heat_done)
        job.failed.connect(lambda reason: self._heat_done(None, reason))
        job.cancelled.connect(lambda: self._heat_done(None))
        self._heat_job = job
        self._submit(job)

    def _heat_done(self, heat: HeatMap | None, reason: str = "") -> None:
        self._heat_job = None
        if reason:
            self.status.setText(f"Heat layer: {reason}")
        if heat is not None and not self.running:
            self.heat_layer.set_heat(heat)
            self.heatUpdated.emit()
        if self._heat_again:
            self._heat_again = False
            self.refresh_heat()


def build_arcnn(window: QObject, document: Document, runner: ModelRunner, piano_roll, playback,
                settings: AppSettings) -> tuple[ArcnnPanel, Takes]:
    """The takes of `document`, the roll's take and heat layers, and the panel, wired together."""
    from desktop_app.ui.piano_roll.overlays import TakeLayer

    takes = Takes(document, window)
    take_layer, heat_layer = TakeLayer(window), HeatLayer(window)
    piano_roll.area.add_layer(heat_layer)
    piano_roll.area.add_layer(take_layer)
    display = TakeDisplay(takes, take_layer, playback, window)
    panel = ArcnnPanel(document, runner, takes, display, heat_layer, piano_roll.viewport, settings,
                       loop=lambda: piano_roll.state.loop)
    return panel, takes
