"""Run real instances of the app side by side and print what each one shows, to check crash
recovery end to end (the GUI path of `desktop-app FILE`, with a private data and settings home).
Usage: QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/check_recovery.py  (about a minute)

1. A starts, edits the demo song and autosaves.
2. B starts with a MIDI file while A runs: no question is asked, the file opens, and B's clean
   close leaves A's recovery file alone.
3. A is killed (SIGKILL). C starts with the MIDI file: it offers A's work, restores it on Yes,
   and carries on in A's recovery file.
4. In a fresh home holding a recovery file with a bad value, D starts twice with the MIDI file:
   the first start reports the file once and sets it aside, both open the MIDI file.
Each instance prints its lines as `[ROLE pid N] ...`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIMEOUT_S = 90


def _instance(role: str, file: str | None) -> None:
    """One instance: start the app as `desktop-app [FILE]` does, and look at it from a timer."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop_app.cli import main
    from desktop_app.music.edits import transpose
    from desktop_app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])

    def say(*parts: object) -> None:
        print(f"[{role} pid {os.getpid()}]", *parts, flush=True)

    def window() -> MainWindow:
        return next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))

    def folder() -> list[str]:
        return sorted(p.name for p in window().autosaver.folder.iterdir())

    def modal() -> str | None:
        box = app.activeModalWidget()
        return None if box is None else f"{box.windowTitle()!r}: {box.text()!r}"

    def edit_and_autosave() -> None:
        w = window()
        song = w.document.song
        w.document.apply("Transpose", song.with_track(0, transpose(song.tracks[0], None, 5)))
        w.autosaver.save_now()
        QTimer.singleShot(1000, lambda: say("edited; recovery file", w.autosaver.path.name, "| folder", folder()))

    def report_then(after: str) -> None:
        w = window()
        if w.loading is not None:
            QTimer.singleShot(300, lambda: report_then(after))
            return
        say("title", repr(w.windowTitle()), "| tracks", [t.name for t in w.document.song.tracks],
            "| unsaved", w.document.dirty, "| recovery file", w.autosaver.path.name, "| folder", folder())
        if after == "close":
            w.close()
            say("closed cleanly; folder", sorted(p.name for p in w.autosaver.folder.iterdir()))
            app.quit()
        elif after == "exit":
            os._exit(0)  # ends without closing the window, like a crash: the lock goes, the files stay

    def look_and_answer(after: str) -> None:
        say("dialog at start:", modal())
        box = app.activeModalWidget()
        if isinstance(box, QMessageBox):
            yes = box.button(QMessageBox.StandardButton.Yes)
            yes.click() if yes is not None else box.accept()
        QTimer.singleShot(500, lambda: report_then(after))

    if role == "A":
        QTimer.singleShot(2000, edit_and_autosave)
    else:
        QTimer.singleShot(3000, lambda: look_and_answer("close" if role in "BD" else "exit"))
    main([file] if file else [])


def _run(role: str, file: Path | None, env: dict[str, str], wait: bool = True) -> subprocess.Popen:
    command = [sys.executable, __file__, "--role", role] + ([str(file)] if file else [])
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if wait:
        out, _ = process.communicate(timeout=TIMEOUT_S)
        print("".join(line + "\n" for line in out.splitlines() if line.startswith("[")), end="")
    return process


def _home(root: Path) -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env[name] = str(root / name.lower())
    return env


def main() -> None:
    from desktop_app.music.midi_io import write_midi
    from desktop_app.music.note import Note
    from desktop_app.music.project_file import Project, project_bytes
    from desktop_app.music.song import Song
    from desktop_app.music.track import Track
    from desktop_app.ui.recovery import default_recovery_folder

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        tune = root / "tune.mid"
        write_midi(Song(tracks=(Track(name="Lead", notes=(Note(60, 0, 480, 100),)),
                                Track(name="Bass", notes=(Note(36, 0, 960, 80),))), title="tune"), tune)
        env = _home(root / "home1")
        print("--- A runs and autosaves; B starts with tune.mid while A runs")
        a = _run("A", None, env, wait=False)
        deadline = time.monotonic() + TIMEOUT_S
        while a.stdout is not None and time.monotonic() < deadline:
            line = a.stdout.readline()
            if line.startswith("["):
                print(line, end="")
                break
        _run("B", tune, env)
        print("--- A is killed with SIGKILL; C starts with tune.mid")
        a.send_signal(signal.SIGKILL)
        a.wait()
        _run("C", tune, env)

        print("--- a fresh home with a recovery file whose song.ppq is text; D starts twice with tune.mid")
        env = _home(root / "home2")
        os.environ["XDG_DATA_HOME"] = env["XDG_DATA_HOME"]  # where default_recovery_folder() looks
        folder = default_recovery_folder()
        folder.mkdir(parents=True)
        doc = json.loads(project_bytes(Project(Song(), {}, {})))
        doc["song"]["ppq"] = "480"
        (folder / "4242-deadbeef.dap").write_text(json.dumps(doc))
        _run("D", tune, env)
        _run("D", tune, env)
        print("--- recovery folder afterwards:", sorted(p.name for p in folder.iterdir()))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--role":
        _instance(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    else:
        main()
