"""The spectrogram dock: source (the rendered song, the active track, or an imported audio
file), scale, window, FFT size, hop, dB range, colour map and presets; the read-out under the
mouse; Griffin-Lim reconstruction to hear, and export, what the magnitudes alone give back.
All computing runs on the worker pool, debounced after edits."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.audio import spectrogram as sg
from desktop_app.audio.render import render_song
from desktop_app.runner.background import run_in_background
from desktop_app.ui.document import Document
from desktop_app.ui.piano_roll import PianoRoll
from desktop_app.ui.playback import Playback
from desktop_app.ui.spectrogram.colormaps import COLORMAPS
from desktop_app.ui.spectrogram.view import SpectrogramView

SOURCES = {"song": "Song (all tracks)", "track": "Active track", "audio": "Imported audio"}
DEBOUNCE_MS = 600
ANALYSIS_RATE = 22_050  # the song is rendered at this rate for analysis: up to C8 and beyond


class SpectrogramPanel(QWidget):
    computed = Signal()  # a new spectrogram is on screen
    message = Signal(str)

    def __init__(self, document: Document, roll: PianoRoll, playback: Playback, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.playback = playback
        self.settings = sg.MELODIC_RANGE
        self.source = "song"
        self.audio: tuple[np.ndarray, int] | None = None  # what the spectrogram shows, mono, and its rate
        self.imported: tuple[np.ndarray, int, Path] | None = None
        self.reconstruction: sg.Reconstruction | None = None
        self.busy = False
        self._again = False
        self._rendered_for: tuple | None = None  # (source, song, active track) of the last render
        self.view = SpectrogramView(document, roll.viewport, roll.state, roll.area, self)
        self.readout = QLabel("Move the mouse over the spectrogram for time, frequency, note and level", self)
        self.view.readout.connect(self.readout.setText)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.recompute)
        document.songChanged.connect(self._song_changed)
        document.selectionChanged.connect(self._active_track_changed)
        self._build()

    def _build(self) -> None:
        def combo(items: dict, current, tip: str) -> QComboBox:
            box = QComboBox(self)
            for value, label in items.items():
                box.addItem(label, value)
            box.setCurrentIndex(max(0, box.findData(current)))
            box.setToolTip(tip)
            return box

        def spin(low: int, high: int, value: int, tip: str, step: int = 1) -> QSpinBox:
            box = QSpinBox(self)
            box.setRange(low, high)
            box.setSingleStep(step)
            box.setValue(value)
            box.setToolTip(tip)
            return box

        self.source_box = combo(SOURCES, self.source, "What the spectrogram shows")
        self.scale_box = combo(sg.SCALE_LABELS, self.settings.scale, "Frequency scale; log and constant-Q rows sit on piano-roll pitches")
        self.preset_box = combo({"": "Preset…", **{k: k for k in sg.PRESETS}}, "", "Full range or melodic range")
        self.colour_box = combo({c: c.capitalize() if c != "cmrmap" else "CMRmap" for c in COLORMAPS}, "magma", "Colour map")
        self.window_box = combo({"hann": "Hann", "hamming": "Hamming", "blackmanharris": "Blackman-Harris"}, "hann", "Window")
        self.fft_box = combo({n: str(n) for n in (512, 1024, 2048, 4096, 8192)}, self.settings.n_fft, "FFT size")
        self.hop_box = combo({n: str(n) for n in (128, 256, 512, 1024)}, self.settings.hop, "Hop between frames")
        self.range_box = spin(20, 140, int(self.settings.top_db), "dB range shown below the loudest cell", 10)
        self.range_box.setSuffix(" dB")
        self.iterations_box = spin(1, 1000, 32, "Griffin-Lim iterations: more give a closer match")
        import_button = QPushButton("Import Audio…", self)
        import_button.setToolTip("Open a WAV, FLAC, OGG or MP3 file: see it here and hear it with the song")
        import_button.clicked.connect(self.choose_audio)
        self.rebuild_button = QPushButton("Rebuild from Magnitudes", self)
        self.rebuild_button.setToolTip("Griffin-Lim: audio from the magnitude spectrogram alone, then hear it")
        self.rebuild_button.clicked.connect(self.reconstruct)
        self.export_rebuild_button = QPushButton("Export Rebuilt…", self)
        self.export_rebuild_button.clicked.connect(self.export_reconstruction)
        self.export_png_button = QPushButton("Export PNG…", self)
        self.export_png_button.clicked.connect(self.export_png)
        self.status = QLabel("", self)
        for box in (self.source_box, self.scale_box, self.window_box, self.fft_box, self.hop_box):
            box.currentIndexChanged.connect(self._settings_changed)
        self.range_box.valueChanged.connect(self._settings_changed)
        self.colour_box.currentIndexChanged.connect(lambda _i: self.view.set_colormap(self.colour_box.currentData()))
        self.preset_box.currentIndexChanged.connect(self._preset)
        # Two rows of controls, so the dock does not force the window wider than a laptop screen.
        top, analysis = QHBoxLayout(), QHBoxLayout()
        for row, label, widget in ((top, "Source", self.source_box), (top, "Scale", self.scale_box),
                                   (top, "", self.preset_box), (analysis, "Window", self.window_box),
                                   (analysis, "FFT", self.fft_box), (analysis, "Hop", self.hop_box),
                                   (analysis, "Range", self.range_box), (analysis, "Colours", self.colour_box)):
            if label:
                row.addWidget(QLabel(label, self))
            row.addWidget(widget)
        top.addWidget(import_button)
        top.addStretch(1)
        analysis.addStretch(1)
        # The read-out has a line of its own, the dock's full width, so all it measures shows (the
        # dock's width never depends on it); the status sits at the line's right end.
        readout_line = QHBoxLayout()
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        readout_line.addWidget(self.readout, 1)
        readout_line.addWidget(self.status)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(QLabel("Iterations", self))
        bottom.addWidget(self.iterations_box)
        for button in (self.rebuild_button, self.export_rebuild_button, self.export_png_button):
            bottom.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)  # the read-out's line costs the image no height
        layout.addLayout(top)
        layout.addLayout(analysis)
        layout.addWidget(self.view, 1)
        layout.addLayout(readout_line)
        layout.addLayout(bottom)

    # ----- settings -----------------------------------------------------------------------

    def _settings_changed(self, *_args) -> None:
        self.source = self.source_box.currentData()
        self.settings = replace(self.settings, scale=self.scale_box.currentData(), window=self.window_box.currentData(),
                                n_fft=self.fft_box.currentData(), hop=self.hop_box.currentData(),
                                top_db=float(self.range_box.value()))
        self.recompute(render=False)

    def _preset(self, index: int) -> None:
        name = self.preset_box.itemData(index)
        if not name:
            return
        preset = sg.PRESETS[name]
        self.settings = replace(preset, window=self.settings.window, n_fft=self.settings.n_fft, hop=self.settings.hop,
                                top_db=self.settings.top_db)
        self.scale_box.blockSignals(True)
        self.scale_box.setCurrentIndex(self.scale_box.findData(preset.scale))
        self.scale_box.blockSignals(False)
        self.preset_box.setCurrentIndex(0)
        self.recompute(render=False)

    def set_scale(self, scale: str) -> None:
        self.scale_box.setCurrentIndex(self.scale_box.findData(scale))

    def _song_changed(self) -> None:
        if self.source != "audio" and self.isVisible():
            self._debounce.start()

    def _active_track_changed(self) -> None:
        if self.source == "track":
            self._debounce.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        doc = self.document
        # Edits made while hidden were not followed: catch up with the song as it is now.
        stale = (self.source != "audio" and self._rendered_for is not None
                 and self._rendered_for != (self.source, doc.song, doc.active_track))
        if self.view.spectrogram is None or stale:
            self._debounce.start()

    # ----- computing ----------------------------------------------------------------------

    def recompute(self, render: bool = True) -> None:
        """Render the source if needed, then compute the spectrogram, on a worker thread."""
        if self.busy:
            self._again = True
            return
        doc = self.document
        settings = self.settings
        source = self.source
        if source == "audio":
            if self.imported is None:
                self.view.set_spectrogram(None)
                self.status.setText("Import an audio file first")
                return
            audio, rate = sg.to_mono(self.imported[0]), self.imported[1]
            job_audio = (audio, rate)
        elif not render and self.audio is not None and self._rendered_for == (source, doc.song, doc.active_track):
            job_audio = self.audio
        else:
            job_audio = None
        song, active = doc.song, doc.active_track
        if job_audio is None and not (song.tracks[active].notes if source == "track" and song.tracks else song.note_count):
            self.view.set_spectrogram(None)
            self.status.setText("Nothing to show: no notes")
            return
        synth = replace(self.playback.settings, sample_rate=ANALYSIS_RATE)

        def work():
            audio = job_audio
            if audio is None:
                only = song.with_tracks([song.tracks[active]]) if source == "track" and song.tracks else song
                audio = (sg.to_mono(render_song(only, synth)), ANALYSIS_RATE)
            return audio, sg.compute(audio[0], audio[1], settings)

        self.busy = True
        self.status.setText("Computing…")
        self._rendered_for = (source, song, active)
        run_in_background(work, self._computed, self._failed, owner=self)

    def _computed(self, result) -> None:
        self.busy = False
        self.audio, spectrogram = result
        self.reconstruction = None
        self.view.set_spectrogram(spectrogram)
        self.status.setText(f"{spectrogram.n_rows} rows × {spectrogram.n_frames} frames")
        self.computed.emit()
        if self._again:
            self._again = False
            self.recompute()

    def _failed(self, error: Exception) -> None:
        self.busy = False
        self.status.setText("Failed")
        self.message.emit(f"Spectrogram: {error}")
        if self._again:  # a request (an import, a new setting) came in meanwhile: do it now
            self._again = False
            self.recompute()

    # ----- import, reconstruct, export ----------------------------------------------------

    def choose_audio(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self, "Import Audio", "", "Audio (*.wav *.flac *.ogg *.mp3)")
        if path:
            self.import_audio(Path(path))

    def import_audio(self, path: Path) -> None:
        """Show an audio file and play it along with the song; the file is read on a worker, and
        errors go to the status bar."""
        from desktop_app.music.errors import MusicFileError

        def failed(error: Exception) -> None:
            if isinstance(error, MusicFileError):
                self.message.emit(f"{error.path}: {error.reason}")
            else:
                self.message.emit(f"{path}: cannot read this audio file ({error})")

        run_in_background(lambda: sg.read_audio(path), lambda result: self._imported(path, *result), failed,
                          owner=self)

    def _imported(self, path: Path, audio: np.ndarray, rate: int) -> None:
        self.imported = (audio, rate, path)
        self.playback.set_clip(audio, rate)
        self.source_box.blockSignals(True)
        self.source_box.setCurrentIndex(self.source_box.findData("audio"))
        self.source_box.blockSignals(False)
        self.source = "audio"
        self.message.emit(f"Imported {path.name}: {len(audio) / rate:.1f} s at {rate} Hz")
        self.recompute()

    def reconstruct(self, iterations: int | None = None) -> None:
        """Griffin-Lim from the magnitudes of what is shown; the result plays with the transport."""
        if self.audio is None or self.busy:
            return
        audio, rate = self.audio
        settings = self.settings
        n_iter = iterations or self.iterations_box.value()

        def work():
            magnitude = sg.magnitude_stft(audio, settings)
            return sg.griffin_lim(magnitude, settings, n_iter, length=len(audio))

        self.busy = True
        self.status.setText(f"Griffin-Lim, {n_iter} iterations…")
        run_in_background(work, lambda r: self._reconstructed(r, rate), self._failed, owner=self)

    def _reconstructed(self, result: sg.Reconstruction, rate: int) -> None:
        self.busy = False
        self.reconstruction = result
        self._reconstruction_rate = rate
        self.status.setText(f"Rebuilt: {result.iterations} iterations, spectral convergence "
                            f"{result.spectral_convergence:.3f}")
        self.message.emit("Rebuilt audio plays with the transport; import or switch source to hear the song again")
        self.playback.set_clip(result.audio, rate)
        self.computed.emit()

    def export_reconstruction(self, path: Path | None = None) -> bool:
        from desktop_app.audio.render import write_audio
        from desktop_app.music.errors import MusicFileError

        if self.reconstruction is None:
            self.message.emit("Rebuild from magnitudes first")
            return False
        if path is None:
            from PySide6.QtWidgets import QFileDialog

            chosen, _ = QFileDialog.getSaveFileName(self, "Export Rebuilt Audio", "rebuilt.wav", "Audio (*.wav *.flac)")
            if not chosen:
                return False
            path = Path(chosen)
        try:
            write_audio(path, self.reconstruction.audio, self._reconstruction_rate)
        except MusicFileError as e:
            self.message.emit(f"{e.path}: {e.reason}")
            return False
        return True

    def export_png(self, path: Path | None = None) -> bool:
        if path is None:
            from PySide6.QtWidgets import QFileDialog

            chosen, _ = QFileDialog.getSaveFileName(self, "Export Spectrogram", "spectrogram.png", "PNG (*.png)")
            if not chosen:
                return False
            path = Path(chosen)
        from desktop_app.music.errors import MusicFileError
        from desktop_app.ui.image_files import save_image

        try:
            save_image(self.view.grab(), path)
        except MusicFileError as e:
            self.message.emit(f"{e.path}: {e.reason}")
            return False
        return True
