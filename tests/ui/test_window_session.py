"""What lasts between runs: layout, closing with unsaved work, shortcuts (recovery after a crash:
test_recovery.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop_app.music.edits import transpose
from desktop_app.music.project_file import read_project
from desktop_app.ui.dialogs import SaveChoice
from desktop_app.ui.shortcuts_dialog import ShortcutsDialog, shortcut_rows


def edit(window, semitones: int = 1) -> None:
    song = window.document.song
    window.document.apply("Transpose", song.with_track(0, transpose(song.tracks[0], None, semitones)))


def test_close_with_unsaved_work_asks_and_can_cancel(window):
    window.open_demo()
    edit(window)
    window.dialogs.save_choice = SaveChoice.CANCEL
    assert not window.close()
    assert window.isVisible() and window.dialogs.asked_save == [window.document.display_name]
    window.dialogs.save_choice = SaveChoice.DISCARD
    assert window.close()


def test_close_can_save_first(window, tmp_path):
    window.open_demo()
    edit(window)
    window.dialogs.save_choice = SaveChoice.SAVE
    window.dialogs.save_answer = str(tmp_path / "closing.dap")
    assert window.close()
    assert read_project(tmp_path / "closing.dap").song.tracks[0].notes[0].pitch == 73


def test_close_without_changes_asks_nothing(window):
    window.open_demo()
    assert window.close()
    assert window.dialogs.asked_save == []


def test_no_recovery_file_is_written_without_changes(qtbot, make_window):
    window = make_window(autosave_seconds=0.02)
    window.open_demo()
    qtbot.wait(200)
    assert not window.autosaver.path.exists()


def test_layout_is_kept_between_runs(make_window):
    first = make_window()
    first.show()
    assert not first.docks["spectrogram"].isVisible() and first.docks["overview"].isVisible()
    first.docks["spectrogram"].show()
    first.docks["arcnn"].show()
    first.docks["overview"].hide()
    assert first.close()
    second = make_window()
    second.show()
    assert second.docks["spectrogram"].isVisible() and second.docks["arcnn"].isVisible()
    assert not second.docks["overview"].isVisible()
    second.reset_layout()
    assert second.docks["overview"].isVisible() and not second.docks["arcnn"].isVisible()


def test_view_menu_toggles_docks(window):
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    toggle = next(a for a in view_menu.actions() if a.text() == "AR-CNN")
    toggle.trigger()
    assert window.docks["arcnn"].isVisible()


def test_keyboard_undo_and_redo(qtbot, window):
    window.open_demo()
    original = window.document.song
    edit(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.document.song == original
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.document.song != original


def test_shortcut_sheet_lists_the_window_actions(window):
    rows = dict(shortcut_rows(window.shortcut_actions()))
    assert rows["Save"] == "Ctrl+S" and rows["Open"] == "Ctrl+O"
    assert rows["Import MIDI/MusicXML"] == "Ctrl+I"
    assert "Ctrl+Shift+Z" in rows["Redo"]
    assert rows["Quit"] == "Ctrl+Q" and rows["Keyboard Shortcuts"] == "F1"
    dialog = ShortcutsDialog(window.shortcut_actions(), window)
    assert dialog.table.rowCount() == len(rows)
