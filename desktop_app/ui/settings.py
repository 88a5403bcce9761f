"""Settings kept between runs (QSettings): recent files, window layout, first start, folders."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from desktop_app import APP_NAME, ORG_NAME

MAX_RECENT = 10
DEFAULT_AUTOSAVE_SECONDS = 60


@dataclass
class AudioPrefs:
    """Sound and MIDI choices, kept under audio/ and midi/ in the settings file."""

    device: str = ""  # output device name; "" is the system default
    sample_rate: int = 48_000
    blocksize: int = 256
    soundfont: str = ""  # "" finds a General MIDI SoundFont in the standard places
    gain: float = 0.5
    reverb: bool = True
    audition: bool = True
    metronome: bool = False
    count_in: bool = False
    midi_input: str = ""
    midi_output: str = ""
    record_quantize: bool = False


class AppSettings:
    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings if qsettings is not None else QSettings(ORG_NAME, APP_NAME)

    def recent_files(self) -> list[str]:
        value = self.q.value("recent_files", [])
        if isinstance(value, str):  # QSettings gives a lone string for a one-item list
            value = [value]
        return [str(v) for v in value or []]

    def add_recent(self, path: Path) -> None:
        entry = str(path.resolve())
        files = [entry] + [f for f in self.recent_files() if f != entry]
        self.q.setValue("recent_files", files[:MAX_RECENT])

    def remove_recent(self, path: str) -> None:
        self.q.setValue("recent_files", [f for f in self.recent_files() if f != path])

    def clear_recent(self) -> None:
        self.q.setValue("recent_files", [])

    @property
    def first_start(self) -> bool:
        return not self.q.value("first_start_done", False, type=bool)

    def mark_started(self) -> None:
        self.q.setValue("first_start_done", True)

    @property
    def autosave_seconds(self) -> float:
        return float(self.q.value("autosave_seconds", DEFAULT_AUTOSAVE_SECONDS, type=float))

    @property
    def last_folder(self) -> str:
        return str(self.q.value("last_folder", str(Path.home())))

    def set_last_folder(self, folder: Path) -> None:
        self.q.setValue("last_folder", str(folder))

    def window_layout(self) -> tuple[QByteArray | None, QByteArray | None]:
        return self.q.value("window/geometry"), self.q.value("window/state")

    def set_window_layout(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("window/geometry", geometry)
        self.q.setValue("window/state", state)

    def model_checkpoint(self, model: str) -> str:
        """The checkpoint the editor uses for `model` ("" for the shipped one)."""
        return str(self.q.value(f"models/{model}/checkpoint", "") or "")

    def set_model_checkpoint(self, model: str, path: Path | str) -> None:
        self.q.setValue(f"models/{model}/checkpoint", str(path))

    def model_knobs(self, model: str) -> dict:
        """The knobs a model's panel was last left with ({} before the first time)."""
        try:
            value = json.loads(str(self.q.value(f"models/{model}/knobs", "{}") or "{}"))
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def set_model_knobs(self, model: str, knobs: dict) -> None:
        self.q.setValue(f"models/{model}/knobs", json.dumps(knobs))

    def sync(self) -> None:
        self.q.sync()

    def audio(self) -> AudioPrefs:
        prefs = AudioPrefs()
        for f in fields(AudioPrefs):
            default = getattr(prefs, f.name)
            value = self.q.value(f"audio/{f.name}", default, type=type(default))
            setattr(prefs, f.name, value)
        return prefs

    def set_blocksize(self, frames: int) -> None:
        """Remember a buffer size the output raised itself to (after repeated underflows or near misses)."""
        self.q.setValue("audio/blocksize", int(frames))

    def set_audio(self, prefs: AudioPrefs) -> None:
        for f in fields(AudioPrefs):
            self.q.setValue(f"audio/{f.name}", getattr(prefs, f.name))
