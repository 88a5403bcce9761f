"""Start the GUI: the application object, the main window, and the start-up sequence
(recovery, the file asked for, or the demo seed on first start)."""

from __future__ import annotations

import gc
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from desktop_app import APP_NAME, ORG_NAME, __version__
from desktop_app.music.formats import read_any
from desktop_app.music.timing import BarBeat
from desktop_app.ui.image_files import save_image
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.recovery import default_recovery_folder, legacy_recovery_file, move_legacy_recovery_file
from desktop_app.ui.settings import AppSettings


def _application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationVersion(__version__)
    return app


def needs_offscreen() -> bool:
    """True on Linux without any display to draw on."""
    return (
        sys.platform.startswith("linux")
        and not os.environ.get("QT_QPA_PLATFORM")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    )


def take_screenshot(out: Path, file: Path | None, play_seconds: float = 0.0, bars: int = 0) -> None:
    """Open the window with `file` (or the demo seed), save a PNG of it, close. With
    `play_seconds`, start the audio output and play that long first, so the picture shows a
    playing song; with `bars`, the roll shows the first that many bars. Raises MusicFileError
    when the file cannot be read, before any window shows."""
    if needs_offscreen():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    project = read_any(file) if file is not None else None
    app = _application()
    with tempfile.TemporaryDirectory() as scratch:  # leave the user's settings and recent files alone
        settings = AppSettings(QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat))
        window = MainWindow(settings=settings, recovery_folder=Path(scratch) / "recovery")
        window.autosaver.stop()
        if project is None:
            window.open_demo()
        else:
            window.show_opened(Path(file), project)
        window.show()
        for _ in range(5):
            app.processEvents()
        if bars > 0:
            _show_first_bars(window, bars)
            app.processEvents()
        if play_seconds > 0 and window.playback.start():
            window.playback.play()
            _wait(app, play_seconds)
        picture = window.grab()
        window.playback.close()
        window.hide()
        window.deleteLater()
    save_image(picture, out)


def _show_first_bars(window: MainWindow, bars: int) -> None:
    """Zoom the roll from the song's start to the end of full bar `bars` (a pickup comes first),
    fitting the active track's pitches."""
    song = window.document.song
    notes = song.tracks[window.document.active_track].note_array if song.tracks else None
    low, high = (int(notes[:, 0].min()), int(notes[:, 0].max())) if notes is not None and len(notes) else (48, 72)
    window.piano_roll.viewport.fit(0, song.meter.tick_of(BarBeat(bars + 1, 1)), low, high)


def _wait(app: QApplication, seconds: float) -> None:
    """Keep the event loop running for `seconds` (timers, the playhead)."""
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)


def run_gui(file: Path | None) -> int:
    if needs_offscreen():
        print("desktop-app: no display to open a window on (DISPLAY is not set); "
              "run it in a desktop session or under xvfb-run", file=sys.stderr)
        return 2
    app = _application()
    move_legacy_recovery_file(legacy_recovery_file(), default_recovery_folder())
    window = MainWindow()
    window.show()
    # Everything loaded so far lives for the whole run: keep the collector from walking it.
    # A full collection over music21's and torch's objects holds the interpreter lock for
    # ~150 ms, longer than the audio callback can wait; frozen, it takes ~40 ms.
    gc.collect()
    gc.freeze()

    def start() -> None:
        from desktop_app.audio.spectrogram import warm_up
        from desktop_app.runner.background import run_in_background

        run_in_background(warm_up, lambda _r: None, lambda _e: None)
        window.playback.start()
        open_first(window, file)

    QTimer.singleShot(0, start)
    return app.exec()


def open_first(window: MainWindow, file: Path | None) -> None:
    """What a new window shows: work recovered after a crash, else the file asked for, else the
    demo seed on the very first start."""
    if not window.offer_recovery():
        if file is not None:
            window.open_file(file)
        elif window.settings.first_start:
            window.open_demo()
    window.settings.mark_started()
