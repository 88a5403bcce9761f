"""Crash recovery with several instances: each keeps its own recovery file, only the work of an
instance that died is offered, and a recovery file that cannot be used is reported once, set
aside, and does not stop start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool

from desktop_app.music.edits import transpose
from desktop_app.music.midi_io import write_midi
from desktop_app.music.note import Note
from desktop_app.music.project_file import Project, project_bytes, read_project
from desktop_app.music.song import Song
from desktop_app.music.track import Track
from desktop_app.ui.app import open_first
from desktop_app.ui.dialogs import SaveChoice
from desktop_app.ui.recovery import move_legacy_recovery_file, orphaned_recovery_files

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The recovery folder that make_window's windows share."""
    return tmp_path / "recovery"


def edit(window, semitones: int = 1) -> None:
    song = window.document.song
    window.document.apply("Transpose", song.with_track(0, transpose(song.tracks[0], None, semitones)))


def autosaved(qtbot, window) -> Path:
    """Wait until the window's recovery file holds its current song."""
    path = window.autosaver.path
    qtbot.waitUntil(lambda: path.exists() and read_project(path).song == window.document.song, timeout=10_000)
    return path


def crash(window) -> None:
    """What the death of the process does: autosave stops and the operating system drops the
    lock; the recovery file and the lock file stay on disk."""
    window.autosaver.stop()
    QThreadPool.globalInstance().waitForDone(5000)
    window.autosaver.recovery.lock.release()


def recovery_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.dap"))


# ----- one recovery file per instance ---------------------------------------------------------


def test_each_window_has_its_own_recovery_file_and_closing_one_keeps_the_other(qtbot, make_window, folder):
    first, second = make_window(autosave_seconds=0.05), make_window(autosave_seconds=0.05)
    assert first.autosaver.path != second.autosaver.path
    assert first.autosaver.path.parent == second.autosaver.path.parent == folder
    for window, semitones in ((first, 3), (second, -2)):
        window.open_demo()
        edit(window, semitones)
    first_file, second_file = autosaved(qtbot, first), autosaved(qtbot, second)
    assert read_project(first_file).song != read_project(second_file).song

    second.dialogs.save_choice = SaveChoice.DISCARD
    assert second.close()
    assert not second_file.exists()
    assert read_project(first_file).song == first.document.song  # the running one's work is kept


def test_the_work_of_a_running_window_is_not_offered(qtbot, make_window, folder):
    first = make_window(autosave_seconds=0.05)
    first.open_demo()
    edit(first, 5)
    path = autosaved(qtbot, first)

    second = make_window()
    assert not second.offer_recovery()
    assert second.dialogs.asked_restore == [] and second.dialogs.errors == []
    assert second.document.song.tracks == ()
    assert read_project(path).song == first.document.song
    assert first.autosaver.recovery.lock.held


def test_a_crashed_windows_work_is_offered_and_carried_on_in_its_file(qtbot, make_window, folder):
    first = make_window(autosave_seconds=0.05)
    first.open_demo()
    edit(first, 5)
    recovery = autosaved(qtbot, first)
    edited = first.document.song
    crash(first)

    second = make_window()
    own = second.autosaver.path
    assert second.offer_recovery()
    assert "untitled" in second.dialogs.asked_restore[0]
    assert second.document.song == edited and second.document.dirty
    assert second.autosaver.path == recovery  # restored work stays in its file until it is saved
    assert not own.with_suffix(".lock").exists()

    third = make_window()  # started while the second runs: the work is the second's now
    assert not third.offer_recovery() and third.dialogs.asked_restore == []

    second.dialogs.save_choice = SaveChoice.DISCARD
    assert second.close()
    assert recovery_files(folder) == []
    assert not recovery.with_suffix(".lock").exists()


def test_declining_recovery_removes_it(qtbot, make_window, folder):
    first = make_window(autosave_seconds=0.05)
    first.open_demo()
    edit(first)
    recovery = autosaved(qtbot, first)
    crash(first)
    second = make_window()
    second.dialogs.restore = False
    assert not second.offer_recovery()
    assert not recovery.exists() and not recovery.with_suffix(".lock").exists()
    assert second.document.song.tracks == ()
    assert not make_window().offer_recovery()


def test_recovery_of_a_saved_project_keeps_its_path(qtbot, make_window, tmp_path):
    first = make_window(autosave_seconds=0.05)
    first.open_demo()
    first.dialogs.save_answer = str(tmp_path / "kept.dap")
    assert first.save()
    edit(first)
    autosaved(qtbot, first)
    crash(first)
    second = make_window()
    assert second.offer_recovery()
    assert "kept.dap" in second.dialogs.asked_restore[0]
    assert second.document.path == tmp_path / "kept.dap" and second.isWindowModified()


def test_several_crashed_windows_are_offered_newest_first_one_per_start(qtbot, make_window, folder):
    older, newer = make_window(autosave_seconds=0.05), make_window(autosave_seconds=0.05)
    older.open_demo()
    edit(older, 1)
    older_file = autosaved(qtbot, older)
    newer.open_demo()
    edit(newer, 7)
    newer_file = autosaved(qtbot, newer)
    os.utime(older_file, (1_000_000, 1_000_000))
    older_song, newer_song = older.document.song, newer.document.song
    crash(older)
    crash(newer)

    second = make_window()
    assert second.offer_recovery()
    assert second.document.song == newer_song and second.autosaver.path == newer_file
    assert older_file.exists()  # left for the next start
    third = make_window()
    assert third.offer_recovery()
    assert third.document.song == older_song and third.autosaver.path == older_file


def test_an_offered_file_is_held_until_it_is_dealt_with(qtbot, make_window, folder):
    first = make_window(autosave_seconds=0.05)
    first.open_demo()
    edit(first)
    recovery = autosaved(qtbot, first)
    crash(first)
    taken = orphaned_recovery_files(folder)
    assert [r.path for r in taken] == [recovery]
    assert orphaned_recovery_files(folder) == []  # another instance starting now does not see it
    taken[0].let_go()
    assert [r.path for r in orphaned_recovery_files(folder)] == [recovery]


def test_a_write_in_flight_when_the_work_is_saved_does_not_bring_the_file_back(qtbot, make_window, monkeypatch):
    from desktop_app.ui import recovery as recovery_module

    release = threading.Event()
    real_write = recovery_module.write_project

    def slow_write(project, path) -> None:
        release.wait(10)
        real_write(project, path)

    monkeypatch.setattr(recovery_module, "write_project", slow_write)
    window = make_window()
    window.open_demo()
    edit(window)
    window.autosaver.save_now()  # the write starts on a worker ...
    window.autosaver.discard()  # ... and the work is saved (or thrown away) before it lands
    release.set()
    QThreadPool.globalInstance().waitForDone(10_000)  # the late write has landed by now
    qtbot.waitUntil(lambda: not window.autosaver.path.exists(), timeout=5_000)


# ----- a live owner in another process ---------------------------------------------------------

OTHER_INSTANCE = """
import sys
import threading
from pathlib import Path
from desktop_app.music.formats import read_any
from desktop_app.music.project_file import Project, write_project
from desktop_app.resources import DEMO_SEED
from desktop_app.ui.recovery import claim_recovery_file

recovery = claim_recovery_file(Path(sys.argv[1]))
write_project(Project(read_any(DEMO_SEED).song, {}, {}), recovery.path)
print(recovery.path, flush=True)
sys.stdin.read()  # runs, holding its lock, until killed
"""


def test_another_process_work_is_offered_only_after_it_dies(qtbot, make_window, folder):
    other = subprocess.Popen(
        [sys.executable, "-c", OTHER_INSTANCE, str(folder)],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        path = Path(other.stdout.readline().strip())
        assert path.parent == folder and path.name.startswith(f"{other.pid}-")
        work = read_project(path).song

        alive = make_window()
        assert not alive.offer_recovery()
        assert alive.dialogs.asked_restore == [] and alive.dialogs.errors == []
        assert alive.close()
        assert read_project(path).song == work  # neither offering nor closing touched it
    finally:
        other.kill()  # SIGKILL: no clean-up runs in that process
        other.wait()
        other.stdin.close()
        other.stdout.close()

    after = make_window()
    assert after.offer_recovery()
    assert after.document.song == work and after.autosaver.path == path


def test_a_reused_pid_does_not_make_a_dead_owner_look_alive(make_window, folder, small_song):
    folder.mkdir(parents=True)
    path = folder / f"{os.getpid()}-0badc0de.dap"  # a live process's PID, but nobody holds the lock
    path.write_bytes(project_bytes(Project(small_song, {}, {})))
    path.with_suffix(".lock").write_text(f"{os.getpid()}\n")
    window = make_window()
    assert window.offer_recovery()
    assert window.document.song == small_song


def test_lock_files_of_instances_that_ended_without_work_are_cleared(make_window, folder):
    running = make_window()
    folder.mkdir(exist_ok=True)
    (folder / "4242-deadbeef.lock").write_text("4242\n")
    window = make_window()
    assert not window.offer_recovery()
    assert not (folder / "4242-deadbeef.lock").exists()
    assert running.autosaver.path.with_suffix(".lock").exists()
    assert window.autosaver.path.with_suffix(".lock").exists()


def test_the_recovery_file_of_an_older_version_is_offered(make_window, tmp_path, folder, small_song):
    legacy = tmp_path / "data" / "recovery.dap"
    legacy.parent.mkdir()
    legacy.write_bytes(project_bytes(Project(small_song, {}, {})))
    move_legacy_recovery_file(legacy, folder)
    assert not legacy.exists()
    window = make_window()
    assert window.offer_recovery()
    assert window.document.song == small_song


def test_autosave_says_so_when_it_cannot_create_a_recovery_file(qtbot, make_window, folder):
    folder.write_text("a file where the recovery folder should be")
    window = make_window(autosave_seconds=0.05)
    window.open_demo()
    with qtbot.waitSignal(window.autosaver.failed, timeout=10_000) as blocker:
        edit(window)
    assert str(folder) in blocker.args[0]
    assert not window.offer_recovery() and window.dialogs.errors == []


# ----- a recovery file that cannot be used -----------------------------------------------------


def project_doc(**changes) -> dict:
    """A recovery file's JSON with `a__b=value` set at doc["a"]["b"]."""
    song = Song(tracks=(Track(name="Lead", notes=(Note(60, 0, 480, 100),)),))
    doc = json.loads(project_bytes(Project(song, {}, {})))
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target = doc
        for key in parents:
            target = target[key]
        target[last] = value
    return doc


BAD_RECOVERY_FILES = {
    "recovery_of a number": (json.dumps(project_doc(meta__recovery_of=5)).encode(), "meta.recovery_of"),
    "recovery_of a list": (json.dumps(project_doc(meta__recovery_of=["a.dap"])).encode(), "meta.recovery_of"),
    "recovery_of empty": (json.dumps(project_doc(meta__recovery_of="")).encode(), "meta.recovery_of"),
    "ppq as text": (json.dumps(project_doc(song__ppq="480")).encode(), "song.ppq"),
    "pitch out of range": (
        json.dumps(project_doc(song__tracks=[{"name": "x", "notes": [[300, 0, 480, 100]]}])).encode(), "pitch"
    ),
    "not JSON": (b"{not json", "bad JSON"),
    "empty": (b"", "empty"),
    "another JSON document": (b'{"hello": "world"}', "not a project file"),
}


@pytest.mark.parametrize("content, reason", BAD_RECOVERY_FILES.values(), ids=BAD_RECOVERY_FILES.keys())
def test_a_bad_recovery_file_is_reported_once_and_set_aside(make_window, folder, content, reason):
    folder.mkdir(parents=True)
    bad = folder / "999999-0badf11e.dap"
    bad.write_bytes(content)
    window = make_window()
    assert not window.offer_recovery()
    assert window.dialogs.asked_restore == []
    [(title, text)] = window.dialogs.errors
    assert str(bad) in text and reason.lower() in text.lower() and "999999-0badf11e.dap.bad" in text
    assert not bad.exists() and (folder / "999999-0badf11e.dap.bad").read_bytes() == content
    assert window.document.song.tracks == () and not window.document.dirty
    again = make_window()
    assert not again.offer_recovery() and again.dialogs.errors == []


def test_start_up_with_a_bad_recovery_file_opens_the_file_asked_for(qtbot, make_window, folder, tmp_path, small_song):
    folder.mkdir(parents=True)
    (folder / "999999-0badf11e.dap").write_bytes(json.dumps(project_doc(meta__recovery_of=5)).encode())
    tune = tmp_path / "tune.mid"
    write_midi(small_song, tune)
    for start in range(2):
        window = make_window()
        open_first(window, tune)
        qtbot.waitUntil(lambda: window.loading is None, timeout=60_000)
        assert [t.name for t in window.document.song.tracks] == ["Lead", "Bass"]
        assert len(window.dialogs.errors) == (1 if start == 0 else 0)


def test_a_restore_that_breaks_the_window_is_undone_and_set_aside(make_window, folder, small_song, monkeypatch):
    folder.mkdir(parents=True)
    path = folder / "999999-0badf11e.dap"
    path.write_bytes(project_bytes(Project(small_song, {}, {})))
    window = make_window()

    def broken_view() -> None:
        raise ValueError("a value no view can show")

    monkeypatch.setattr(window.piano_roll, "request_fit", broken_view)
    assert not window.offer_recovery()
    [(_title, text)] = window.dialogs.errors
    assert str(path) in text and "a value no view can show" in text
    assert window.document.song.tracks == () and not window.document.dirty
    assert not path.exists() and path.with_name(path.name + ".bad").exists()
