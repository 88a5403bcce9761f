"""Preferences ▸ Audio and MIDI: output device, sample rate, buffer size, SoundFont, audition,
reverb, MIDI input and output ports, recording quantize."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from desktop_app.audio.midi_ports import input_names, output_names
from desktop_app.audio.soundfont import find_soundfont
from desktop_app.audio.stream import output_devices
from desktop_app.ui.settings import AudioPrefs

SAMPLE_RATES = (44_100, 48_000, 96_000)
BLOCK_SIZES = (64, 128, 256, 512, 1024, 2048)


def _combo(items: list[tuple[str, object]], current: object) -> QComboBox:
    box = QComboBox()
    for label, value in items:
        box.addItem(label, value)
    index = box.findData(current)
    box.setCurrentIndex(max(0, index))
    return box


class AudioSettingsDialog(QDialog):
    def __init__(self, prefs: AudioPrefs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audio and MIDI Settings")
        self._prefs = prefs
        devices = [("System default", "")] + [(d.name, d.name) for d in output_devices()]
        self.device = _combo(devices, prefs.device)
        self.rate = _combo([(f"{r:,} Hz", r) for r in SAMPLE_RATES], prefs.sample_rate)
        self.block = _combo([(f"{b} frames", b) for b in BLOCK_SIZES], prefs.blocksize)
        self.block.setToolTip("Smaller buffers answer faster; larger ones are safer on a busy machine")
        self.soundfont = QLineEdit(prefs.soundfont)
        found = find_soundfont(None)
        self.soundfont.setPlaceholderText(f"Automatic: {found}" if found else "None found: choose a .sf2 or .sf3 file")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        sf_row = QHBoxLayout()
        sf_row.addWidget(self.soundfont)
        sf_row.addWidget(browse)
        self.audition = QCheckBox("Sound notes as they are drawn, moved or resized")
        self.audition.setChecked(prefs.audition)
        self.reverb = QCheckBox("Reverb")
        self.reverb.setChecked(prefs.reverb)
        ins, outs = input_names(), output_names()
        self.midi_in = _combo([("None", "")] + [(n, n) for n in ins], prefs.midi_input)
        self.midi_out = _combo([("None", "")] + [(n, n) for n in outs], prefs.midi_output)
        if not ins:
            self.midi_in.setToolTip("No MIDI input ports were found")
        self.quantize = QCheckBox("Quantize recorded notes to the snap grid")
        self.quantize.setChecked(prefs.record_quantize)
        form = QFormLayout(self)
        form.addRow("Output device", self.device)
        form.addRow("Sample rate", self.rate)
        form.addRow("Buffer size", self.block)
        form.addRow("SoundFont", sf_row)
        form.addRow("", self.audition)
        form.addRow("", self.reverb)
        form.addRow("MIDI input", self.midi_in)
        form.addRow("MIDI output", self.midi_out)
        form.addRow("", self.quantize)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                   parent=self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a SoundFont", self.soundfont.text(),
                                              "SoundFonts (*.sf2 *.sf3)")
        if path:
            self.soundfont.setText(path)

    def prefs(self) -> AudioPrefs:
        """The choices made in the dialog."""
        return replace(
            self._prefs,
            device=self.device.currentData(),
            sample_rate=self.rate.currentData(),
            blocksize=self.block.currentData(),
            soundfont=self.soundfont.text().strip(),
            audition=self.audition.isChecked(),
            reverb=self.reverb.isChecked(),
            midi_input=self.midi_in.currentData(),
            midi_output=self.midi_out.currentData(),
            record_quantize=self.quantize.isChecked(),
        )
