"""File ▸ Export Audio: the song, the loop region or the selected notes rendered to WAV or FLAC
on a worker thread, with a progress bar; the same engine as playback, so it sounds the same."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtWidgets import QProgressBar, QStatusBar, QWidget

from desktop_app.audio.render import SynthSettings, audio_format, render_to_file
from desktop_app.music.errors import MusicFileError
from desktop_app.music.song import Song
from desktop_app.runner.background import run_with_progress

SCOPES = {"song": "Whole Song", "loop": "Loop Region", "selection": "Selected Notes"}


def song_for_scope(song: Song, scope: str, active_track: int, selection: frozenset[int],
                   loop: tuple[int, int] | None) -> tuple[Song, int, int | None]:
    """What to render for a scope: (song, start tick, end tick or None for the song's end).
    Raises ValueError with a message when the scope is empty."""
    if scope == "loop":
        if loop is None:
            raise ValueError("There is no loop region: drag on the ruler to mark one.")
        return song, loop[0], loop[1]
    if scope == "selection":
        if not selection or not song.tracks:
            raise ValueError("No notes are selected.")
        track = song.tracks[active_track]
        notes = [track.notes[i] for i in sorted(selection)]
        only = song.with_tracks([track.with_notes(notes)])
        return only, min(n.start for n in notes), max(n.end for n in notes)
    return song, 0, None


def export_audio(
    owner: QWidget,
    status: QStatusBar,
    progress: QProgressBar,
    path: Path,
    song: Song,
    settings: SynthSettings,
    start_tick: int,
    end_tick: int | None,
    on_error: Callable[[str], None],
) -> None:
    """Render and write `path` in the background; progress shows in `progress`."""
    try:
        audio_format(path)
    except MusicFileError as e:
        on_error(f"{e.path}\n\n{e.reason}")
        return

    def work(report: Callable[[float], None]) -> Path:
        render_to_file(path, song, settings, start_tick, end_tick, progress=report)
        return path

    def finished(_result: object) -> None:
        progress.setVisible(False)
        status.showMessage(f"Exported {path.name}", 5000)

    def failed(error: Exception) -> None:
        progress.setVisible(False)
        if isinstance(error, MusicFileError):
            on_error(f"{error.path}\n\n{error.reason}")
        else:
            on_error(f"{path}\n\nThe render failed: {error}")

    progress.setRange(0, 100)
    progress.setValue(0)
    progress.setVisible(True)
    status.showMessage(f"Rendering {path.name}…")
    run_with_progress(work, lambda f: progress.setValue(round(f * 100)), finished, failed, owner=owner)
