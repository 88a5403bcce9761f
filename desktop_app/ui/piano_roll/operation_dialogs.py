"""Small dialogs that ask for an operation's settings: quantize, humanize, set velocity.
The editor calls them through one object so tests can answer instead."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QSpinBox,
    QWidget,
)

from desktop_app.music import snap


def _run(parent: QWidget, title: str, rows: list[tuple[str, QWidget]]) -> bool:
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    form = QFormLayout(dialog)
    for label, widget in rows:
        widget.setParent(dialog)
        form.addRow(label, widget)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, parent=dialog)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)
    return dialog.exec() == QDialog.DialogCode.Accepted


class OperationDialogs:
    def __init__(self, parent: QWidget) -> None:
        self._parent = parent

    def quantize(self, default_division: str) -> dict | None:
        grid = QComboBox()
        grid.addItems(list(snap.DIVISIONS))
        grid.setCurrentText(default_division if default_division in snap.DIVISIONS else "1/16")
        strength = QSpinBox()
        strength.setRange(0, 100)
        strength.setValue(100)
        strength.setSuffix(" %")
        starts, ends = QCheckBox("Starts"), QCheckBox("Lengths")
        starts.setChecked(True)
        if not _run(self._parent, "Quantize", [("Grid", grid), ("Strength", strength), ("Move", starts), ("", ends)]):
            return None
        return {"division": grid.currentText(), "strength": strength.value() / 100,
                "starts": starts.isChecked(), "ends": ends.isChecked()}

    def humanize(self) -> dict | None:
        timing, velocity = QSpinBox(), QSpinBox()
        timing.setRange(0, 240)
        timing.setValue(10)
        timing.setSuffix(" ticks")
        velocity.setRange(0, 64)
        velocity.setValue(8)
        seed = QSpinBox()
        seed.setRange(0, 1_000_000)
        if not _run(self._parent, "Humanize", [("Timing ±", timing), ("Velocity ±", velocity), ("Seed", seed)]):
            return None
        return {"timing": timing.value(), "velocity": velocity.value(), "seed": seed.value()}

    def velocity(self, current: int) -> int | None:
        box = QDoubleSpinBox()
        box.setDecimals(0)
        box.setRange(1, 127)
        box.setValue(current)
        return int(box.value()) if _run(self._parent, "Set Velocity", [("Velocity", box)]) else None
