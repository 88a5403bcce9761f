"""Opening, saving, importing, exporting and bad input, driven through the main window."""

from __future__ import annotations

from pathlib import Path

from desktop_app.bench.io_bench import make_song
from desktop_app.music.edits import transpose
from desktop_app.music.formats import read_any
from desktop_app.music.midi_io import midi_bytes, write_midi
from desktop_app.music.project_file import read_project
from desktop_app.resources import DEMO_SEED
from desktop_app.ui.dialogs import SaveChoice


def wait_loaded(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.loading is None, timeout=60_000)


def test_demo_seed_opens_with_its_tracks(window):
    window.open_demo()
    song = window.document.song
    assert [t.name for t in song.tracks] == ["Melody", "Chords", "Bass"]
    assert song.note_count == read_any(DEMO_SEED).song.note_count > 40
    assert not window.document.dirty
    assert "Demo seed" in window.windowTitle()
    assert "3 tracks" in window.summary_label.text()


def test_open_midi_in_background(qtbot, window, tmp_path, small_song):
    path = tmp_path / "tune.mid"
    write_midi(small_song, path)
    assert window.open_file(path)
    assert window.loading == path
    wait_loaded(qtbot, window)
    assert [len(t.notes) for t in window.document.song.tracks] == [2, 1]
    assert window.document.path is None  # an imported MIDI file becomes an untitled project
    assert "tune" in window.windowTitle() or "small" in window.windowTitle()
    assert str(path.resolve()) in window.settings.recent_files()


def test_bad_files_leave_the_document_untouched(qtbot, window, tmp_path):
    window.open_demo()
    window.document.apply("Transpose", window.document.song.with_track(0, transpose(window.document.song.tracks[0], None, 2)))
    before_song, before_path, before_dirty = window.document.song, window.document.path, window.document.dirty
    window.dialogs.save_choice = SaveChoice.DISCARD
    bad = {
        "empty.mid": b"",
        "random.mid": bytes(range(256)) * 3,
        "text.mid": b"this is a shopping list, not music\n" * 10,
        "truncated.mid": midi_bytes(make_song(200))[:300],
        "promises.mid": b"MThd\x00\x00\x00\x06\x00\x01\x00\x05\x01\xe0" + b"MTrk\x00\x00\x00\x04\x00\xff\x2f\x00",
        "zero_division.mid": b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x00" + b"MTrk\x00\x00\x00\x04\x00\xff\x2f\x00",
        "broken.dap": b"{not json",
        "broken.musicxml": b"<?xml version='1.0'?><score-partwise><part id='P1'><measure>",
    }
    for name, data in bad.items():
        path = tmp_path / name
        path.write_bytes(data)
        window.dialogs.errors.clear()
        window.open_file(path)
        wait_loaded(qtbot, window)
        assert len(window.dialogs.errors) == 1, name
        title, text = window.dialogs.errors[0]
        assert str(path) in text and len(text.split("\n\n", 1)[1]) > 5, text
        assert window.document.song is before_song
        assert window.document.path == before_path and window.document.dirty == before_dirty


def test_open_asks_before_dropping_unsaved_work(qtbot, window, tmp_path, small_song):
    window.open_demo()
    song = window.document.song
    window.document.apply("Transpose", song.with_track(0, transpose(song.tracks[0], None, 1)))
    path = tmp_path / "other.mid"
    write_midi(small_song, path)
    window.dialogs.save_choice = SaveChoice.CANCEL
    assert not window.open_file(path)
    assert window.dialogs.asked_save and window.document.dirty
    window.dialogs.save_choice = SaveChoice.DISCARD
    assert window.open_file(path)
    wait_loaded(qtbot, window)
    assert window.document.song.note_count == 3


def test_save_as_writes_a_project_and_clears_the_dirty_flag(qtbot, window, tmp_path):
    window.open_demo()
    song = window.document.song
    window.document.apply("Transpose", song.with_track(2, transpose(song.tracks[2], None, -12)))
    assert window.isWindowModified()
    window.dialogs.save_answer = str(tmp_path / "mine")  # the extension is added
    assert window.save()
    saved = tmp_path / "mine.dap"
    assert window.document.path == saved and not window.isWindowModified()
    assert "mine.dap" in window.windowTitle()
    assert read_project(saved).song == window.document.song
    assert str(saved.resolve()) == window.settings.recent_files()[0]
    # Save again goes to the same file without asking.
    window.dialogs.save_answer = None
    window.document.apply("Transpose", window.document.song.with_track(0, transpose(window.document.song.tracks[0], None, 1)))
    assert window.save()
    assert read_project(saved).song == window.document.song


def test_undo_back_to_the_saved_state_is_clean(window):
    window.open_demo()
    song = window.document.song
    window.document.apply("Transpose", song.with_track(0, transpose(song.tracks[0], None, 1)))
    assert window.document.dirty and "Transpose" in window.act_undo.text()
    window.act_undo.trigger()
    assert window.document.song == song and not window.document.dirty
    window.act_redo.trigger()
    assert window.document.song.tracks[0].notes[0].pitch == song.tracks[0].notes[0].pitch + 1


def test_export_midi_round_trips(window, tmp_path):
    window.open_demo()
    window.dialogs.save_answer = str(tmp_path / "out.mid")
    assert window.export_midi()
    exported = read_any(tmp_path / "out.mid").song
    key = lambda s: sorted((t.channel, n.pitch, n.start, n.duration, n.velocity) for t in s.tracks for n in t.notes)  # noqa: E731
    assert key(exported) == key(window.document.song)


def test_project_keeps_track_settings_and_view_state(qtbot, window, tmp_path):
    window.open_demo()
    window.overview.trackActivated.emit(2)
    assert window.document.active_track == 2
    window.dialogs.save_answer = str(tmp_path / "view.dap")
    assert window.save()
    window.open_file(tmp_path / "view.dap")
    wait_loaded(qtbot, window)
    assert window.document.active_track == 2 and window.overview.active_track == 2
    assert window.document.song.tracks[1].volume == 90


def test_huge_file_loads_while_the_window_keeps_running(qtbot, window, tmp_path):
    path = tmp_path / "huge.mid"
    path.write_bytes(midi_bytes(make_song(100_000, n_tracks=8)))
    ticks = []
    from PySide6.QtCore import QTimer

    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(window.loading is not None))
    timer.start(10)
    window.open_file(path)
    wait_loaded(qtbot, window)
    timer.stop()
    assert window.document.song.note_count == 100_000
    assert sum(ticks) >= 3, ticks  # the event loop ran while the file was being read


def test_dropping_a_file_opens_it(qtbot, window, tmp_path, small_song):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    path = tmp_path / "dropped.mid"
    write_midi(small_song, path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(window.rect().center(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(window.rect().center()), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    wait_loaded(qtbot, window)
    assert window.document.song.note_count == 3

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    mime.setUrls([QUrl.fromLocalFile(str(text))])
    enter = QDragEnterEvent(window.rect().center(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter.setAccepted(False)
    window.dragEnterEvent(enter)
    assert not enter.isAccepted()


def test_recent_menu_reopens_and_prunes(qtbot, window, tmp_path, small_song):
    path = tmp_path / "recent.mid"
    write_midi(small_song, path)
    window.open_file(path)
    wait_loaded(qtbot, window)
    window.document.load(window.document.song.with_tracks([]), None)
    window._fill_recent_menu()
    entry = next(a for a in window.recent_menu.actions() if a.text().endswith("recent.mid"))
    entry.trigger()
    wait_loaded(qtbot, window)
    assert window.document.song.note_count == 3
    path.unlink()
    window._fill_recent_menu()
    next(a for a in window.recent_menu.actions() if a.text().endswith("recent.mid")).trigger()
    assert window.dialogs.errors and "no longer exists" in window.dialogs.errors[-1][1]
    assert str(path.resolve()) not in window.settings.recent_files()
