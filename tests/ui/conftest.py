from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from desktop_app.ui.dialogs import SaveChoice
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.settings import AppSettings


class ScriptedDialogs:
    """Answers the window's questions from attributes the test sets, and records what was asked."""

    def __init__(self) -> None:
        self.save_choice = SaveChoice.DISCARD
        self.restore = True
        self.open_answer: str | None = None
        self.save_answer: str | None = None
        self.errors: list[tuple[str, str]] = []
        self.asked_save: list[str] = []
        self.asked_restore: list[str] = []
        self.stop_training = True
        self.asked_stop_training = 0

    def ask_save_changes(self, name: str) -> SaveChoice:
        self.asked_save.append(name)
        return self.save_choice

    def ask_restore(self, description: str) -> bool:
        self.asked_restore.append(description)
        return self.restore

    def ask_stop_training(self) -> bool:
        self.asked_stop_training += 1
        return self.stop_training

    def error(self, title: str, text: str) -> None:
        self.errors.append((title, text))

    def open_path(self, title: str, folder: str, filters: str) -> str | None:
        return self.open_answer

    def save_path(self, title: str, suggested: str, filters: str) -> str | None:
        return self.save_answer


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    return tmp_path / "settings.ini"


@pytest.fixture
def make_window(qtbot, tmp_path: Path, settings_path: Path):
    """Build main windows that share one settings file and one recovery folder, like two runs."""

    def make(autosave_seconds: float | None = None) -> MainWindow:
        q = QSettings(str(settings_path), QSettings.Format.IniFormat)
        if autosave_seconds is not None:
            q.setValue("autosave_seconds", autosave_seconds)
        window = MainWindow(settings=AppSettings(q), dialogs=ScriptedDialogs(), recovery_folder=tmp_path / "recovery")
        qtbot.addWidget(window)
        return window

    return make


@pytest.fixture
def window(make_window) -> MainWindow:
    w = make_window()
    w.show()
    return w
