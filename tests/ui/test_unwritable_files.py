"""Projects the reader used to accept but the app could not write (Export MIDI and Save As then
failed with no dialog) are refused on open, with a dialog; what the app holds always saves, and
a save that cannot happen says why in a dialog."""

from __future__ import annotations

from dataclasses import replace

import pytest

from desktop_app.music.formats import read_any
from desktop_app.music.project_file import read_project
from desktop_app.ui.dialogs import SaveChoice

HEAD = '{"format": "desktop-app-project", "version": 1, "song": {"ppq": 480, '
NOTES = '"tracks": [{"name": "Lead", "notes": [[60, 0, 480, 100], [64, 480, 480, 90]]}]'

UNWRITABLE = {
    "surrogate.dap": (HEAD + '"title": "Lied \\ud800", ' + NOTES + "}}", "song.title holds a lone surrogate"),
    "three.dap": (HEAD + '"time_signatures": [[0, 4, 3]], ' + NOTES + "}}", "denominator must be 1, 2, 4"),
    "deep.dap": (HEAD + NOTES + '}, "view": ' + "[" * 5000 + "]" * 5000 + "}", "nested too deeply"),
    "digits.dap": (HEAD + NOTES + '}, "view": {"zoom": ' + "7" * 5000 + "}}", "thousands of digits"),
    "longnote.dap": (HEAD + '"tracks": [{"notes": [[60, 0, 2147483647, 100]]}]}}', "too long"),
}


def wait_loaded(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.loading is None, timeout=60_000)


@pytest.mark.parametrize("name", sorted(UNWRITABLE))
def test_an_unwritable_project_is_refused_on_open_with_a_dialog(qtbot, window, tmp_path, name):
    window.open_demo()
    before = window.document.song
    window.dialogs.save_choice = SaveChoice.DISCARD
    text, reason = UNWRITABLE[name]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    window.open_file(path)
    wait_loaded(qtbot, window)
    assert len(window.dialogs.errors) == 1
    title, message = window.dialogs.errors[0]
    assert title == "Cannot open file" and str(path) in message and reason.lower() in message.lower(), message
    assert window.document.song is before
    # The song that stayed open exports and saves through the menu actions, without a dialog.
    window.dialogs.errors.clear()
    window.dialogs.save_answer = str(tmp_path / "out.mid")
    window.act_export_midi.trigger()
    window.dialogs.save_answer = str(tmp_path / "out.dap")
    window.act_save_as.trigger()
    assert window.dialogs.errors == []
    assert read_project(tmp_path / "out.dap").song == before
    assert read_any(tmp_path / "out.mid").song.note_count == before.note_count


def test_any_track_name_the_app_holds_exports_to_midi_and_saves(window, tmp_path):
    """Once, a name outside Latin-1 made Export MIDI raise, with no dialog."""
    window.open_demo()
    song = window.document.song
    named = song.with_track(0, replace(song.tracks[0], name="Мелодия 🎹 “lead”"))
    window.document.apply("Rename", replace(named, title="Lied — ♫"))
    window.dialogs.save_answer = str(tmp_path / "names.mid")
    window.act_export_midi.trigger()
    window.dialogs.save_answer = str(tmp_path / "names.dap")
    window.act_save_as.trigger()
    assert window.dialogs.errors == []
    assert read_project(tmp_path / "names.dap").song.tracks[0].name == "Мелодия 🎹 “lead”"
    assert (tmp_path / "names.mid").exists()


def test_export_midi_and_save_as_that_cannot_write_show_a_dialog(window, tmp_path):
    window.open_demo()
    before = window.document.song
    for action, title, name in ((window.act_export_midi, "Cannot export MIDI", "x.mid"),
                                (window.act_save_as, "Cannot save", "x.dap")):
        window.dialogs.errors.clear()
        window.dialogs.save_answer = str(tmp_path / "no" / "such" / "folder" / name)
        action.trigger()
        assert len(window.dialogs.errors) == 1
        got_title, message = window.dialogs.errors[0]
        assert got_title == title and "folder" in message and "cannot write" in message
    assert window.document.song is before and window.document.path is None
