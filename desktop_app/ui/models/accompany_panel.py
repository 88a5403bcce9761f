"""The Accompany panel: a conditional GAN (desktop_app.ml.models.gan) writes alto, tenor and bass
under the melody track, as AWS DeepComposer's accompaniment model did.

Choose the melody track, the voices to write, the instruments they play, a variety (how far the
noise strays: 0 writes the same voices for every seed) and how many variations; the GAN runs on
the runner's thread and each variation becomes a take that adds the voices as new tracks, to
audition A/B and accept as one undo step. Cancel keeps nothing. A melody longer than the model's
window is harmonised window by window, joined where the windows agree (gan.accompany does it).
The ml modules (torch) are imported on the runner's thread, so opening the app does not wait."""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
    QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from desktop_app.ml.progress import format_seconds
from desktop_app.music.song import Song
from desktop_app.runner.jobs import Job, ModelRunner
from desktop_app.ui.document import Document
from desktop_app.ui.models.checkpoint_loading import CheckpointLoading
from desktop_app.ui.models.common import on_any_change
from desktop_app.ui.models.takes import TakeDisplay, Takes, TakesList
from desktop_app.ui.settings import AppSettings

MODEL = "gan"
VOICES = ("alto", "tenor", "bass")  # gan.VOICES, named here so the panel opens without torch
NO_MODEL = ("No GAN model yet: none is shipped with this build. Train one (Training panel, model “gan”) "
            "or choose a checkpoint folder…")
# What the new voices play: (menu label, GM program of alto, tenor, bass; None keeps the model's own)
INSTRUMENTS = (
    ("Strings (viola, cello, contrabass)", None),
    ("Choir (choir aahs)", (52, 52, 52)),
    ("Church organ", (19, 19, 19)),
    ("Piano", (0, 0, 0)),
    ("Woodwinds (clarinet, bassoon, bassoon)", (71, 70, 70)),
)


@dataclass(frozen=True)
class Knobs:
    """What the panel asks the GAN for, as plain values."""

    melody_track: int = 0
    voices: tuple[str, ...] = VOICES
    variety: float = 1.0
    variations: int = 2
    seed: int = 0
    instruments: int = 0  # an index of INSTRUMENTS

    def describe(self) -> str:
        return (f"GAN: {', '.join(self.voices)} under track {self.melody_track + 1}; variety {self.variety:g}, "
                f"seed {self.seed}, {INSTRUMENTS[self.instruments][0].split(' (')[0].lower()}")


def with_instruments(tracks: tuple, instruments: int) -> tuple:
    """The new tracks playing the INSTRUMENTS choice (by voice name; the model's own for the first)."""
    programs = INSTRUMENTS[instruments][1]
    if programs is None:
        return tracks
    by_name = dict(zip(VOICES, programs))
    return tuple(dataclasses.replace(t, program=by_name.get(t.name.lower(), t.program)) for t in tracks)


def accompany_takes(net, song: Song, knobs: Knobs, report: Callable[[int, int], None] | None = None) -> list:
    """The variations as songs: `song` with each variation's voices added as new tracks. Variation r is
    written with seed + r, as gan.accompany numbers them; `report(done, total)` after each (it may
    raise to cancel). Runner thread: imports torch."""
    from desktop_app.ml.models import gan

    songs = []
    for r in range(knobs.variations):
        (take,) = gan.accompany(net, net.config, song, knobs.melody_track, voices=knobs.voices,
                                seed=knobs.seed + r, variety=knobs.variety, variations=1)
        songs.append(gan.with_accompaniment(song, with_instruments(take, knobs.instruments)))
        if report is not None:
            report(r + 1, knobs.variations)
    return songs


class AccompanyPanel(CheckpointLoading, QWidget):
    """The Accompany panel; `net` is the loaded GAN (None until one is chosen or shipped)."""

    MODEL = MODEL
    MODEL_TITLE = "GAN"
    NO_MODEL = NO_MODEL

    message = Signal(str)  # for the status bar
    runEnded = Signal(str)  # "finished", "cancelled" or "failed"

    def __init__(self, document: Document, runner: ModelRunner, takes: Takes, display: TakeDisplay,
                 settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document, self.runner, self.takes, self.display, self.settings = document, runner, takes, display, settings
        self.net = None
        self.model_name = ""
        self.job: Job | None = None
        self._load_generation = 0
        self._looked_for_model = False  # looked for when the panel first shows (torch loads then)
        self.choose_folder: Callable[[str], str] = lambda start: QFileDialog.getExistingDirectory(
            self, "Choose a GAN checkpoint folder", start)
        self._build()
        self._restore_knobs()
        on_any_change(self._knob_widgets(), self._save_knobs)
        document.songChanged.connect(self._fill_tracks)
        document.loaded.connect(self._document_loaded)
        takes.changed.connect(self._update_buttons)
        self._fill_tracks()
        self._update_buttons()

    # ----- construction -------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.model_label = QLabel(NO_MODEL, self)
        self.model_label.setWordWrap(True)
        self.choose_button = QPushButton("Choose Checkpoint…", self)
        self.choose_button.setToolTip("A checkpoint folder (model.safetensors + config.json) of a trained GAN")
        self.choose_button.clicked.connect(self.choose_checkpoint)
        layout.addWidget(self.model_label)
        layout.addWidget(self.choose_button)

        what = QGroupBox("Harmonise", self)
        form = QFormLayout(what)
        self.melody = QComboBox(what)
        self.melody.setToolTip("The track that carries the melody (the soprano); it is left as it is")
        self.voice_boxes: dict[str, QCheckBox] = {}
        voices = QHBoxLayout()
        for voice in VOICES:
            box = QCheckBox(voice.capitalize(), what)
            box.setChecked(True)
            box.setToolTip(f"Write a {voice} voice under the melody, as a new track")
            box.toggled.connect(self._update_buttons)
            self.voice_boxes[voice] = box
            voices.addWidget(box)
        voices.addStretch(1)
        self.instruments = QComboBox(what)
        self.instruments.addItems([label for label, _ in INSTRUMENTS])
        self.instruments.setToolTip("The instruments (General MIDI programs) the new tracks play; change them "
                                    "later in the track list")
        form.addRow("Melody track", self.melody)
        form.addRow("Voices", voices)
        form.addRow("Instruments", self.instruments)
        layout.addWidget(what)

        knobs = QGroupBox("Sampling", self)
        kform = QFormLayout(knobs)
        self.variety = QDoubleSpinBox(knobs, minimum=0.0, maximum=3.0, singleStep=0.1, value=1.0, decimals=2)
        self.variety.setToolTip("How far the GAN's noise strays (its scale): 0 writes the same voices for every "
                                "seed, 1 samples as the GAN learned, more takes more chances")
        self.variations = QSpinBox(knobs, minimum=1, maximum=8, value=2)
        self.variations.setToolTip("Takes to write (1 to 8), each from its own noise, to audition A/B")
        self.seed_edit = QLineEdit(knobs, placeholderText="random")
        self.seed_edit.setToolTip("A whole number repeats a run exactly; blank draws a new seed (shown in the take)")
        kform.addRow("Variety", self.variety)
        kform.addRow("Variations", self.variations)
        kform.addRow("Seed", self.seed_edit)
        layout.addWidget(knobs)

        self.run_action = QAction("Accompany Melody with GAN", self)
        self.run_action.setShortcut(QKeySequence("Ctrl+Shift+A"))
        self.run_action.setToolTip("Let the GAN write alto, tenor and bass under the melody track (Ctrl+Shift+A); "
                                   "each variation becomes a take")
        self.run_action.triggered.connect(lambda _c=False: self.run())
        buttons = QHBoxLayout()
        self.run_button = QPushButton("Accompany", self)
        self.run_button.setToolTip(self.run_action.toolTip())
        self.run_button.clicked.connect(lambda: self.run())
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the run; nothing of it is kept")
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
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

    def _knob_widgets(self) -> list[QWidget]:
        return [*self.voice_boxes.values(), self.instruments, self.variety, self.variations, self.seed_edit]

    def _fill_tracks(self) -> None:
        """List the song's tracks as melody choices, keeping the one chosen while it exists."""
        tracks = self.document.song.tracks
        current = self.melody.currentIndex()
        labels = [f"{i + 1}: {t.name or 'unnamed'}{' (drums)' if t.is_drum else ''} · {len(t.notes)} notes"
                  for i, t in enumerate(tracks)]
        if labels == [self.melody.itemText(i) for i in range(self.melody.count())]:
            return
        self.melody.blockSignals(True)
        self.melody.clear()
        self.melody.addItems(labels)
        chosen = current if 0 <= current < len(labels) else min(self.document.active_track, len(labels) - 1)
        self.melody.setCurrentIndex(max(chosen, 0) if labels else -1)
        self.melody.blockSignals(False)
        self._update_buttons()

    # ----- settings -----------------------------------------------------------------------

    def _knob_values(self) -> dict:
        return {"voices": [v for v, box in self.voice_boxes.items() if box.isChecked()],
                "instruments": self.instruments.currentIndex(), "variety": self.variety.value(),
                "variations": self.variations.value(), "seed": self.seed_edit.text()}

    def _save_knobs(self, *_args) -> None:
        self.settings.set_model_knobs(MODEL, self._knob_values())

    def _restore_knobs(self) -> None:
        """Put back the knobs as the panel was last left; values of the wrong kind are ignored."""
        saved = self.settings.model_knobs(MODEL)
        defaults = self._knob_values()
        setters = {"instruments": self.instruments.setCurrentIndex, "variety": self.variety.setValue,
                   "variations": self.variations.setValue, "seed": self.seed_edit.setText}
        for key, value in saved.items():
            if key in setters and type(value) is type(defaults[key]):
                setters[key](value)
        voices = saved.get("voices")
        if isinstance(voices, list) and all(isinstance(v, str) for v in voices):
            for voice, box in self.voice_boxes.items():
                box.setChecked(voice in voices)

    # ----- the model ----------------------------------------------------------------------

    def set_model(self, net, name: str = "") -> None:
        """Use `net` (a GanNet) from now on."""
        self._load_generation += 1
        self.net, self.model_name = net, name
        self.model_label.setText(f"Model: {name}" if name else "Model loaded")
        self._update_buttons()

    def _use_loaded(self, loaded, name: str) -> None:
        """Make a loaded checkpoint the panel's model (CheckpointLoading calls this)."""
        self.set_model(loaded.net, name=name)

    # ----- running ------------------------------------------------------------------------

    def knobs(self) -> Knobs:
        """The knobs as set; a blank seed draws one now, so the take can say which it was. ValueError
        with the reason when they ask for nothing the GAN can do."""
        text = self.seed_edit.text().strip()
        if text and not text.isdigit():
            raise ValueError(f"seed {text!r}: a whole number (0 or more), or blank for a random one")
        voices = tuple(v for v, box in self.voice_boxes.items() if box.isChecked())
        if not voices:
            raise ValueError("no voice chosen: tick alto, tenor or bass")
        return Knobs(self.melody.currentIndex(), voices, self.variety.value(), self.variations.value(),
                     int(text) if text else random.randrange(2**31), self.instruments.currentIndex())

    @property
    def running(self) -> bool:
        return self.job is not None

    def run(self) -> bool:
        """Harmonise the melody track; False with a reason in the status line when it cannot start."""
        if self.running:
            return False
        if self.net is None:
            if not self._looked_for_model:
                self.find_model()
            return self._refuse(NO_MODEL)
        song = self.document.song
        if not song.tracks:
            return self._refuse("The song has no track: open or write a melody first.")
        try:
            knobs = self.knobs()
        except ValueError as e:
            text = str(e)
            return self._refuse(text[:1].upper() + text[1:] + ".")
        melody = song.tracks[knobs.melody_track]
        if not melody.notes:
            return self._refuse(f"Track {knobs.melody_track + 1} ({melody.name or 'unnamed'}) has no notes: choose "
                                "the track that holds the melody.")
        net, base = self.net, song

        job = Job("generate", "GAN: accompany the melody", lambda ctx: accompany_takes(net, base, knobs, ctx.report),
                  self)
        job.progress.connect(self._progress)
        job.finished.connect(lambda songs: self._finished(songs, base, knobs))
        job.cancelled.connect(lambda: self._ended("cancelled", "Cancelled: nothing was kept."))
        job.failed.connect(lambda reason: self._ended("failed", f"The GAN failed: {reason}"))
        self.job = job
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.status.setText(f"Writing {', '.join(knobs.voices)} under track {knobs.melody_track + 1}…")
        self._update_buttons()
        self._submit(job)
        return True

    def cancel(self) -> None:
        """Stop the run: it ends after the variation under way and leaves nothing behind."""
        if self.job is not None:
            self.job.cancel()

    def _progress(self, done: int, total: int, eta: float) -> None:
        if self.job is None:
            return
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat(f"{done}/{total} variations · {format_seconds(eta)} left" if math.isfinite(eta)
                                else f"{done}/{total} variations")

    def _finished(self, songs: list, base: Song, knobs: Knobs) -> None:
        self._end_job()
        if not songs:
            self._ended("failed", "The GAN ended without a result.")
            return
        made = [self.takes.add(base, song, knobs.melody_track, f"{knobs.describe()} (variation {i + 1})",
                               audition=i == 0)
                for i, song in enumerate(songs)]
        names = made[0].name if len(made) == 1 else f"{made[0].name} to {made[-1].name}"
        counts = [len(take.all_changes().added) for take in made]
        notes = ", ".join(str(c) for c in counts[:-1]) + (" and " if len(counts) > 1 else "") + str(counts[-1])
        voices = len(knobs.voices)
        text = (f"{names}: {len(made)} variation{'s' * (len(made) != 1)} of {voices} new track"
                f"{'s' * (voices != 1)}, {notes} notes. Click a take to audition it; Accept keeps it.")
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
        self.progress.setVisible(False)
        self._update_buttons()

    # ----- state --------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        running = self.running
        voices = any(box.isChecked() for box in self.voice_boxes.values())
        ready = self.net is not None and self.melody.count() > 0 and voices
        self.run_button.setEnabled(ready and not running)
        self.run_action.setEnabled(not running)  # without a model it opens the panel, which says so
        self.cancel_button.setEnabled(running)
        self.takes_view.set_busy(running)

    def _document_loaded(self) -> None:
        """A new document stops a run and drops the takes; the melody is the new song's active track."""
        self.cancel()
        if self.takes.takes:
            self.takes.clear()
        self.melody.clear()
        self._fill_tracks()
