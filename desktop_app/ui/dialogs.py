"""The questions the window asks the user, in one object so tests can answer them instead."""

from __future__ import annotations

from enum import Enum

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget


class SaveChoice(Enum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


class Dialogs:
    """Modal dialogs parented to `parent`."""

    def __init__(self, parent: QWidget) -> None:
        self._parent = parent

    def ask_save_changes(self, name: str) -> SaveChoice:
        box = QMessageBox(self._parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Unsaved changes")
        box.setText(f"Save changes to “{name}” before closing it?")
        box.setInformativeText("Your changes will be lost if you don't save them.")
        box.setStandardButtons(
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Save:
            return SaveChoice.SAVE
        if answer == QMessageBox.StandardButton.Discard:
            return SaveChoice.DISCARD
        return SaveChoice.CANCEL

    def ask_restore(self, description: str) -> bool:
        answer = QMessageBox.question(
            self._parent,
            "Restore unsaved work?",
            f"The app closed without saving {description}.\nRestore the unsaved work?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        return answer == QMessageBox.StandardButton.Yes

    def ask_stop_training(self) -> bool:
        """Closing while a model trains: stop the run (it saves a checkpoint) and close?"""
        answer = QMessageBox.question(
            self._parent,
            "Training in progress",
            "A model is training. Stop it and close?\nIts checkpoint is saved; Resume Run… in the Training panel "
            "goes on from it.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def error(self, title: str, text: str) -> None:
        QMessageBox.critical(self._parent, title, text)

    def open_path(self, title: str, folder: str, filters: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self._parent, title, folder, filters)
        return path or None

    def save_path(self, title: str, suggested: str, filters: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self._parent, title, suggested, filters)
        return path or None
