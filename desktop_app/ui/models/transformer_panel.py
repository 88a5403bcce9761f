"""The transformer panel: continue the song (from its end or from the playhead), or fill the
selected bars anew, on the active track given the others or on every track, with the controls the
model learned (density, polyphony, pitch range) beside temperature and top-p.

The model runs on the runner's thread. Its notes stream into the piano roll as they are decoded
(the first variation's, in the take colours), at most 30 times a second. A run never writes into
the song: its variations, sampled in one batch, end as takes in the shared takes list, to audition
A/B and accept as one undo step. Cancel keeps nothing. Filling bars can reject a variation that
only copies the bars it replaces and sample it again with another seed. The ml modules (torch) are
imported on the runner's thread, so opening the app does not wait for them."""

from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterator

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
    QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from desktop_app.ml.progress import format_seconds
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.timing import BarBeat
from desktop_app.runner.jobs import Job, ModelRunner
from desktop_app.ui.document import Document
from desktop_app.ui.models.checkpoint_loading import CheckpointLoading
from desktop_app.ui.models.common import on_any_change, selected_bars
from desktop_app.ui.models.takes import NoteChanges, TakeDisplay, Takes, TakesList
from desktop_app.ui.piano_roll.state import RollState
from desktop_app.ui.settings import AppSettings

DRAW_MS = 33  # the roll shows a run's latest notes at most 30 times a second
EMIT_SECONDS = 0.03  # the runner sends the notes so far at most this often
LEVELS = ("any", "low", "medium", "high")
NO_MODEL = ("No transformer model yet: none is shipped with this build. Train one (Training panel) "
            "or choose a checkpoint folder…")


@dataclass(frozen=True)
class Knobs:
    """The panel's sampling knobs as plain values."""

    bars: int = 4
    variations: int = 2
    temperature: float = 1.0
    top_p: float = 0.95
    density: str | None = None
    polyphony: str | None = None
    pitch_range: tuple[int, int] | None = None
    seed: int | None = None

    def describe(self) -> str:
        parts = [f"{self.variations} variation{'s' * (self.variations != 1)}", f"temperature {self.temperature:g}",
                 f"top-p {self.top_p:g}"]
        if self.density:
            parts.append(f"density {self.density}")
        if self.polyphony:
            parts.append(f"polyphony {self.polyphony}")
        if self.pitch_range:
            parts.append(f"pitches {self.pitch_range[0]}-{self.pitch_range[1]}")
        return ", ".join(parts + [f"seed {self.seed}"])


@dataclass(frozen=True)
class Request:
    """What to write: continue by `bars` (from `from_bar`, None: after the song's end) or fill
    bars `first_bar`..`last_bar`; the tracks (None: every pitched track); retries of copies."""

    infill: bool
    tracks: tuple[int, ...] | None
    from_bar: int | None = None
    first_bar: int = 1
    last_bar: int = 1
    retries: int = 0

    def describe(self, knobs: Knobs) -> str:
        where = (f"fill bars {self.first_bar}-{self.last_bar}" if self.infill else
                 f"continue {knobs.bars} bar{'s' * (knobs.bars != 1)}"
                 + (f" from bar {self.from_bar}" if self.from_bar is not None else ""))
        whom = "all tracks" if self.tracks is None else f"track {self.tracks[0] + 1}"
        return f"Transformer: {where}, {whom}; {knobs.describe()}"


@dataclass
class RetryLog:
    """What the copy check did: variations rejected for copying the original, and those still
    copying when the retries ran out."""

    rejected: int = 0
    still_copying: int = 0


@dataclass(frozen=True)
class LiveNotes:
    """Sent from the runner while it decodes: the first variation's notes so far as (track, Note),
    how many notes every variation has written, and which retry pass it is (0: the first)."""

    notes: tuple
    count: int
    attempt: int = 0


@dataclass
class _Result:
    takes: tuple
    dropped: int
    log: RetryLog = field(default_factory=RetryLog)


def bar_ticks(song: Song, first_bar: int, last_bar: int) -> tuple[int, int]:
    """Ticks [start, stop) of bars `first_bar`..`last_bar` (as the app numbers them)."""
    meter = song.meter
    return max(meter.tick_of(BarBeat(first_bar, 1)), 0), max(meter.tick_of(BarBeat(last_bar + 1, 1)), 0)


def notes_in(song: Song, tracks: tuple[int, ...], start: int, stop: int) -> set[tuple[int, int, int, int]]:
    """(track, pitch, start, end) of the notes of `tracks` that begin in ticks [start, stop)."""
    return {(t, n.pitch, n.start, n.end) for t in tracks if t < len(song.tracks)
            for n in song.tracks[t].notes if start <= n.start < stop}


def written_tracks(song: Song, tracks: tuple[int, ...] | None) -> tuple[int, ...]:
    """The tracks a request writes: those given, else every pitched track (as the model does)."""
    if tracks is not None:
        return tracks
    return tuple(i for i, track in enumerate(song.tracks) if not track.is_drum)


def copies_original(original: Song, take: Song, tracks: tuple[int, ...], start: int, stop: int) -> bool:
    """True when the take's notes that begin in ticks [start, stop) of `tracks` are the original's
    (same pitches, starts and ends; velocities aside)."""
    return notes_in(original, tracks, start, stop) == notes_in(take, tracks, start, stop)


def generate(net, config, song: Song, request: Request, knobs: Knobs, log: RetryLog | None = None) -> Iterator:
    """The model's GenerationUpdates for `request`, as `continue_song` and `infill_song` yield
    them, with the variation of each note. When filling with retries, a variation whose notes in
    the gap copy the original's is sampled again with another seed, up to `request.retries`
    times; its notes stream again (with the variation's own index) and the last update holds the
    takes that passed (or the last tries). Runner thread: imports torch."""
    from desktop_app.ml.models import transformer as M

    controls = M.Controls(knobs.density, knobs.polyphony, knobs.pitch_range)
    common = dict(temperature=knobs.temperature, top_p=knobs.top_p, controls=controls)
    if not request.infill:
        yield from M.continue_song(net, config, song, request.tracks, bars=knobs.bars, variations=knobs.variations,
                                   seed=knobs.seed, from_bar=request.from_bar, **common)
        return
    log = log if log is not None else RetryLog()
    tracks = written_tracks(song, request.tracks)
    start, stop = bar_ticks(song, request.first_bar, request.last_bar)
    rows = list(range(knobs.variations))  # which variation each row of the pass stands for
    takes: list = [None] * knobs.variations
    dropped = 0
    for attempt in range(request.retries + 1):
        seed = knobs.seed if attempt == 0 or knobs.seed is None else knobs.seed + 7919 * attempt
        final = None
        for update in M.infill_song(net, config, song, request.first_bar, request.last_bar, request.tracks,
                                    variations=len(rows), seed=seed, **common):
            if update.takes:
                final = update
            else:
                yield M.GenerationUpdate(tuple((rows[v], t, n) for v, t, n in update.notes), update.progress)
        dropped += final.dropped
        for row, take in zip(rows, final.takes):
            takes[row] = take
        copying = [row for row in rows if request.retries and copies_original(song, takes[row], tracks, start, stop)]
        if not copying or attempt == request.retries:
            log.still_copying = len(copying)
            break
        log.rejected += len(copying)
        rows = copying
        yield LiveRetry(attempt + 1, tuple(copying))
    yield M.GenerationUpdate((), 1.0, tuple(takes), dropped)


@dataclass(frozen=True)
class LiveRetry:
    """A retry pass starts: these variations copied the original and are written again."""

    attempt: int
    variations: tuple[int, ...]


class TransformerPanel(CheckpointLoading, QWidget):
    """The transformer panel; `net` is the loaded model (None until one is chosen or shipped)."""

    MODEL = "transformer"
    MODEL_TITLE = "transformer"
    NO_MODEL = NO_MODEL

    message = Signal(str)  # for the status bar
    runEnded = Signal(str)  # "finished", "cancelled" or "failed"
    notesStreamed = Signal(int)  # notes decoded so far in the running job (all variations)

    def __init__(self, document: Document, runner: ModelRunner, takes: Takes, display: TakeDisplay,
                 roll_state: RollState, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document, self.runner, self.takes, self.display = document, runner, takes, display
        self.roll_state, self.settings = roll_state, settings
        self.net = self.config = None
        self.model_name = ""
        self.job: Job | None = None
        self.partials_received = 0  # partial updates of the current or last run
        self._latest: LiveNotes | None = None
        self._removed: tuple[Note, ...] = ()  # the notes a running request replaces, drawn struck out
        self._load_generation = 0
        self._looked_for_model = False  # looked for when the panel first shows (torch loads then)
        self.choose_folder: Callable[[str], str] = lambda start: QFileDialog.getExistingDirectory(
            self, "Choose a transformer checkpoint folder", start)
        self._draw_timer = QTimer(self, singleShot=True, interval=DRAW_MS, timeout=self._draw_latest)
        self._build()
        self._restore_knobs()
        on_any_change(self._knob_widgets(), self._save_knobs)
        document.songChanged.connect(self._show_fill_bars)
        document.loaded.connect(self._document_loaded)
        document.selectionChanged.connect(self._show_fill_bars)
        roll_state.loopChanged.connect(self._show_fill_bars)
        takes.changed.connect(self._update_buttons)
        self._update_buttons()
        self._show_fill_bars()

    # ----- construction -------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.model_label = QLabel(NO_MODEL, self)
        self.model_label.setWordWrap(True)
        self.choose_button = QPushButton("Choose Checkpoint…", self)
        self.choose_button.setToolTip("A checkpoint folder (model.safetensors + config.json) of a trained transformer")
        self.choose_button.clicked.connect(self.choose_checkpoint)
        layout.addWidget(self.model_label)
        layout.addWidget(self.choose_button)

        self.scope = QComboBox(self)
        self.scope.addItems(["Active track (given the others)", "All tracks together"])
        self.scope.setToolTip("Write only the active track, hearing the other tracks as they are, or every "
                              "pitched track at once")
        scope_form = QFormLayout()
        scope_form.addRow("Write", self.scope)
        layout.addLayout(scope_form)

        cont = QGroupBox("Continue", self)
        form = QFormLayout(cont)
        self.bars = QSpinBox(cont, minimum=1, maximum=32, value=4, suffix=" bars")
        self.bars.setToolTip("How many bars to write (1 to 32)")
        self.start_from = QComboBox(cont)
        self.start_from.addItems(["End of the song", "Playhead"])
        self.start_from.setToolTip("Continue after the last bar with notes, or from the start of the bar the "
                                   "playhead is in (the written tracks' notes in the new bars are replaced; "
                                   "nothing after that point is heard)")
        form.addRow("Length", self.bars)
        form.addRow("From", self.start_from)
        layout.addWidget(cont)

        fill = QGroupBox("Fill bars", self)
        fill.setToolTip("Fill Bars writes anew the bars the selected notes span or, with no notes selected, "
                        "the bars of the loop region, hearing what comes before and after")
        fill_box = QVBoxLayout(fill)
        self.fill_bars_label = QLabel("", fill)
        self.fill_bars_label.setWordWrap(True)
        fill_box.addWidget(self.fill_bars_label)
        fill_row = QHBoxLayout()
        fill_box.addLayout(fill_row)
        self.retry = QCheckBox("Retry copies of the original, up to", fill)
        self.retry.setChecked(True)
        self.retry.setToolTip("A variation whose notes in the bars are the ones it replaces is sampled again "
                              "with another seed")
        self.retries = QSpinBox(fill, minimum=1, maximum=10, value=3, suffix=" times")
        self.retries.setToolTip("At most this many new tries per copying variation")
        self.retry.toggled.connect(self.retries.setEnabled)
        fill_row.addWidget(self.retry)
        fill_row.addWidget(self.retries)
        fill_row.addStretch(1)
        layout.addWidget(fill)

        knobs = QGroupBox("Sampling", self)
        kform = QFormLayout(knobs)
        self.variations = QSpinBox(knobs, minimum=1, maximum=8, value=2)
        self.variations.setToolTip("Takes sampled together in one batch (1 to 8), to audition A/B")
        self.temperature = QDoubleSpinBox(knobs, minimum=0.0, maximum=2.0, singleStep=0.05, value=1.0, decimals=2)
        self.temperature.setToolTip("Sampling temperature: 0 always takes the likeliest token (greedy), 1 samples "
                                    "as the model learned, up to 2 takes more chances")
        self.top_p = QDoubleSpinBox(knobs, minimum=0.05, maximum=1.0, singleStep=0.05, value=0.95, decimals=2)
        self.top_p.setToolTip("Nucleus sampling: only the likeliest tokens whose chances add up to this are kept "
                              "(1 keeps all)")
        self.density = self._levels(knobs, "Notes per bar in the written bars: low (sparse) to high (dense); "
                                           "any lets the model choose")
        self.polyphony = self._levels(knobs, "Notes sounding at once in the written bars: low to high; any lets "
                                             "the model choose")
        self.pitch_limit = QCheckBox("Limit", knobs)
        self.pitch_limit.setToolTip("Ask for pitches between the lowest and highest given (MIDI numbers; 60 is "
                                    "middle C)")
        self.pitch_low = QSpinBox(knobs, minimum=0, maximum=127, value=48)
        self.pitch_high = QSpinBox(knobs, minimum=0, maximum=127, value=84)
        for box, tip in ((self.pitch_low, "Lowest pitch asked for"), (self.pitch_high, "Highest pitch asked for")):
            box.setToolTip(tip)
            box.setEnabled(False)
            self.pitch_limit.toggled.connect(box.setEnabled)
        pitches = QHBoxLayout()
        pitches.addWidget(self.pitch_limit)
        pitches.addWidget(self.pitch_low)
        pitches.addWidget(QLabel("to", knobs))
        pitches.addWidget(self.pitch_high)
        self.seed_edit = QLineEdit(knobs, placeholderText="random")
        self.seed_edit.setToolTip("A whole number repeats a run exactly; blank draws a new seed (shown in the take)")
        kform.addRow("Variations", self.variations)
        kform.addRow("Temperature", self.temperature)
        kform.addRow("Top-p", self.top_p)
        kform.addRow("Density", self.density)
        kform.addRow("Polyphony", self.polyphony)
        kform.addRow("Pitch range", pitches)
        kform.addRow("Seed", self.seed_edit)
        layout.addWidget(knobs)

        self.continue_action = QAction("Continue with Transformer", self)
        self.continue_action.setShortcut(QKeySequence("Ctrl+Shift+T"))
        self.continue_action.setToolTip("Let the transformer continue the song (Ctrl+Shift+T); each variation "
                                        "becomes a take")
        self.continue_action.triggered.connect(lambda _c=False: self.run(infill=False))
        self.fill_action = QAction("Fill Bars with Transformer", self)
        self.fill_action.setShortcut(QKeySequence("Ctrl+Shift+F"))
        self.fill_action.setToolTip("Write the selected bars (or the loop region's) anew, given what comes before "
                                    "and after (Ctrl+Shift+F); each variation becomes a take")
        self.fill_action.triggered.connect(lambda _c=False: self.run(infill=True))
        buttons = QHBoxLayout()
        self.continue_button = QPushButton("Continue", self)
        self.continue_button.setToolTip(self.continue_action.toolTip())
        self.continue_button.clicked.connect(lambda: self.run(infill=False))
        self.fill_button = QPushButton("Fill Bars", self)
        self.fill_button.setToolTip(self.fill_action.toolTip())
        self.fill_button.clicked.connect(lambda: self.run(infill=True))
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the run; nothing of it is kept")
        self.cancel_button.clicked.connect(self.cancel)
        for b in (self.continue_button, self.fill_button, self.cancel_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.takes_view = TakesList(self.takes, self)
        self.takes_view.list.setMinimumHeight(5 * self.takes_view.list.fontMetrics().height() + 8)
        layout.addWidget(self.takes_view, 1)

    def _levels(self, parent: QWidget, tip: str) -> QComboBox:
        box = QComboBox(parent)
        box.addItems(LEVELS)
        box.setToolTip(tip)
        return box

    def _knob_widgets(self) -> list[QWidget]:
        return [self.scope, self.bars, self.start_from, self.retry, self.retries, self.variations, self.temperature,
                self.top_p, self.density, self.polyphony, self.pitch_limit, self.pitch_low, self.pitch_high,
                self.seed_edit]

    # ----- settings -----------------------------------------------------------------------

    def _knob_values(self) -> dict:
        return {"scope": self.scope.currentIndex(), "bars": self.bars.value(),
                "from": self.start_from.currentIndex(), "retry": self.retry.isChecked(),
                "retries": self.retries.value(), "variations": self.variations.value(),
                "temperature": self.temperature.value(), "top_p": self.top_p.value(),
                "density": self.density.currentIndex(), "polyphony": self.polyphony.currentIndex(),
                "pitch_limit": self.pitch_limit.isChecked(), "pitch_low": self.pitch_low.value(),
                "pitch_high": self.pitch_high.value(), "seed": self.seed_edit.text()}

    def _save_knobs(self, *_args) -> None:
        self.settings.set_model_knobs("transformer", self._knob_values())

    def _restore_knobs(self) -> None:
        """Put back the knobs as the panel was last left; values of the wrong kind are ignored."""
        saved = self.settings.model_knobs("transformer")
        setters = {"scope": self.scope.setCurrentIndex, "bars": self.bars.setValue,
                   "from": self.start_from.setCurrentIndex, "retry": self.retry.setChecked,
                   "retries": self.retries.setValue, "variations": self.variations.setValue,
                   "temperature": self.temperature.setValue, "top_p": self.top_p.setValue,
                   "density": self.density.setCurrentIndex, "polyphony": self.polyphony.setCurrentIndex,
                   "pitch_limit": self.pitch_limit.setChecked, "pitch_low": self.pitch_low.setValue,
                   "pitch_high": self.pitch_high.setValue, "seed": self.seed_edit.setText}
        defaults = self._knob_values()
        for key, value in saved.items():
            if key in setters and type(value) is type(defaults[key]):
                setters[key](value)

    # ----- the model ----------------------------------------------------------------------

    def set_model(self, net, config=None, name: str = "") -> None:
        """Use `net` (a TransformerNet) from now on; `config` defaults to the net's own."""
        self._load_generation += 1
        self.net, self.config, self.model_name = net, config if config is not None else net.config, name
        self.model_label.setText(f"Model: {name}" if name else "Model loaded")
        self._update_buttons()

    def _use_loaded(self, loaded, name: str) -> None:
        """Make a loaded checkpoint the panel's model (CheckpointLoading calls this)."""
        self.set_model(loaded.net, loaded.config, name=name)

    # ----- running ------------------------------------------------------------------------

    def knobs(self) -> Knobs:
        """The knobs as set; a blank seed draws one now, so the take can say which it was."""
        text = self.seed_edit.text().strip()
        if text and not text.isdigit():
            raise ValueError(f"seed {text!r}: a whole number (0 or more), or blank for a random one")
        low, high = self.pitch_low.value(), self.pitch_high.value()
        if self.pitch_limit.isChecked() and low > high:
            raise ValueError(f"pitch range {low} to {high}: the lowest pitch is above the highest")
        level = lambda box: None if box.currentIndex() == 0 else box.currentText()  # noqa: E731
        return Knobs(self.bars.value(), self.variations.value(), self.temperature.value(), self.top_p.value(),
                     level(self.density), level(self.polyphony), (low, high) if self.pitch_limit.isChecked() else None,
                     int(text) if text else random.randrange(2**31))

    def request(self, infill: bool) -> Request:
        """What the panel asks for now; ValueError with the reason when it cannot ask anything."""
        doc = self.document
        tracks = (doc.active_track,) if self.scope.currentIndex() == 0 else None
        song = doc.song
        if infill:
            bars = selected_bars(song, doc.active_track, doc.selection, self.roll_state.loop)
            if bars is None:
                raise ValueError("fill bars: select notes in the bars to fill, or set a loop region on the ruler")
            retries = self.retries.value() if self.retry.isChecked() else 0
            return Request(True, tracks, first_bar=bars[0], last_bar=bars[1], retries=retries)
        from_bar = song.meter.bar_beat(max(self.roll_state.playhead, 0)).bar if self.start_from.currentIndex() else None
        return Request(False, tracks, from_bar=from_bar)

    @property
    def running(self) -> bool:
        return self.job is not None

    def run(self, infill: bool = False) -> bool:
        """Continue the song, or fill the selected bars (`infill`); False with a reason in the
        status line when it cannot start."""
        doc = self.document
        if self.running:
            return False
        if self.net is None:
            if not self._looked_for_model:
                self.find_model()
            return self._refuse(NO_MODEL)
        if not doc.song.tracks:
            return self._refuse("The song has no track to write: add a track first.")
        try:
            knobs = self.knobs()
            request = self.request(infill)
        except ValueError as e:
            text = str(e)
            return self._refuse(text[:1].upper() + text[1:] + ".")
        base = doc.song
        tracks = written_tracks(base, request.tracks)
        if not tracks:
            return self._refuse("Every track is a drum track; the transformer writes pitched tracks. Choose "
                                "“Active track” to write a drum track.")
        if infill:
            start, stop = bar_ticks(base, request.first_bar, request.last_bar)
        elif request.from_bar is not None:
            start, stop = bar_ticks(base, request.from_bar, request.from_bar + knobs.bars - 1)
        else:
            start = stop = 0
        self._removed = tuple(n for t in tracks for n in base.tracks[t].notes if start <= n.start < stop)
        net, config, log = self.net, self.config, RetryLog()
        self.partials_received = 0
        self._latest = None

        def work(ctx):
            shown: list = []  # the first variation's notes so far
            count, attempt, last_emit = 0, 0, 0.0
            result = None
            for update in generate(net, config, base, request, knobs, log):
                if isinstance(update, LiveRetry):
                    attempt = update.attempt
                    if 0 in update.variations:
                        shown = []
                    ctx.emit(LiveNotes(tuple(shown), count, attempt))
                    continue
                if update.takes:
                    result = _Result(update.takes, update.dropped, log)
                    break
                count += len(update.notes)
                shown += [(t, n) for v, t, n in update.notes if v == 0]
                now = time.perf_counter()
                if update.notes and now - last_emit >= EMIT_SECONDS:
                    ctx.emit(LiveNotes(tuple(shown), count, attempt))
                    last_emit = now
                ctx.report(int(update.progress * 1000), 1000)
            ctx.emit(LiveNotes(tuple(shown), count, attempt))
            return result

        what = "Filling bars" if infill else "Continuing"
        job = Job("generate", f"Transformer: {what.lower()}", work, self)
        job.partial.connect(self._partial)
        job.progress.connect(self._progress)
        job.finished.connect(lambda result: self._finished(result, base, request, knobs))
        job.cancelled.connect(lambda: self._ended("cancelled", "Cancelled: nothing was kept."))
        job.failed.connect(lambda reason: self._ended("failed", f"The transformer failed: {reason}"))
        self.job = job
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.status.setText(f"{what}…")
        self.display.show_live(NoteChanges((), self._removed))
        self._update_buttons()
        self._submit(job)
        return True

    def cancel(self) -> None:
        """Stop the run: it ends at its next note and leaves nothing behind."""
        if self.job is not None:
            self.job.cancel()

    def _progress(self, done: int, total: int, eta: float) -> None:
        if self.job is None:
            return
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat(f"%p% · {format_seconds(eta)} left" if math.isfinite(eta) else "%p%")

    def _partial(self, live: LiveNotes) -> None:
        """Notes arrived: keep the latest; the roll draws them at the next frame."""
        if self.job is None:
            return
        self.partials_received += 1
        self._latest = live
        self.notesStreamed.emit(live.count)
        if not self._draw_timer.isActive():
            self._draw_timer.start()

    def _draw_latest(self) -> None:
        live = self._latest
        if live is None or self.job is None:
            return
        self.display.show_live(NoteChanges(tuple(n for _t, n in live.notes), self._removed))
        retry = f" (retry {live.attempt}: a variation copied the original)" if live.attempt else ""
        self.status.setText(f"Writing: {live.count} notes so far{retry}")

    def _finished(self, result: _Result | None, base: Song, request: Request, knobs: Knobs) -> None:
        self._end_job()
        if result is None or not result.takes:
            self._ended("failed", "The transformer ended without a result.")
            return
        source = request.describe(knobs)
        track = self.document.active_track if request.tracks is None else request.tracks[0]
        made = []
        for i, song in enumerate(result.takes):
            made.append(self.takes.add(base, song, track, f"{source} (variation {i + 1})", audition=i == 0))
        names = f"{made[0].name}" if len(made) == 1 else f"{made[0].name} to {made[-1].name}"
        counts = [len(take.all_changes().added) for take in made]
        notes = ", ".join(str(c) for c in counts[:-1]) + (" and " if len(counts) > 1 else "") + str(counts[-1])
        text = (f"{names}: {len(made)} variation{'s' * (len(made) != 1)}, {notes} new notes. Click a take to "
                f"audition it; Accept keeps it.")
        if result.log.rejected:
            text += f" {result.log.rejected} tr{'ies' if result.log.rejected != 1 else 'y'} rejected as copies."
        if result.log.still_copying:
            text += f" {result.log.still_copying} still copy the original after {request.retries} retries."
        if result.dropped:
            text += f" {result.dropped} notes fell outside the song's grid and were left out."
        self.status.setText(text)
        self.message.emit(text)
        self.runEnded.emit("finished")

    def _ended(self, how: str, text: str) -> None:
        self._end_job()
        self.status.setText(text)
        self.message.emit(text)
        self.runEnded.emit(how)

    def _end_job(self) -> None:
        self.job = None
        self._draw_timer.stop()
        self._latest = None
        self._removed = ()
        self.progress.setVisible(False)
        self.display.end_live()
        self._update_buttons()

    # ----- takes --------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        has_model, running = self.net is not None, self.running
        for button in (self.continue_button, self.fill_button):
            button.setEnabled(has_model and not running)
        for action in (self.continue_action, self.fill_action):  # without a model they open the panel, which says so
            action.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.takes_view.set_busy(running)

    def _show_fill_bars(self) -> None:
        """Say which bars Fill Bars would write: the selection's, else the loop region's."""
        doc = self.document
        bars = selected_bars(doc.song, doc.active_track, doc.selection, self.roll_state.loop) if doc.song.tracks else None
        if bars is None:
            self.fill_bars_label.setText("No bars chosen: select notes, or set a loop region on the ruler.")
            return
        where = "the selected notes" if doc.selection else "the loop region"
        span = f"Bar {bars[0]}" if bars[0] == bars[1] else f"Bars {bars[0]}–{bars[1]}"
        self.fill_bars_label.setText(f"{span} ({where})")

    def _document_loaded(self) -> None:
        """A new document stops a run and drops the takes (the first edit of a song does not)."""
        self.cancel()
        if self.takes.takes:
            self.takes.clear()
