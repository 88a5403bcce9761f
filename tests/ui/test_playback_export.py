"""File ▸ Export Audio from the window: the song, the loop region or the selected notes rendered
on a worker thread, with the status bar's progress bar, into WAV or FLAC. No device needed
(the window's audio is never started), only FluidSynth and a SoundFont. The file chooser is
answered by the test (ScriptedDialogs.save_answer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from desktop_app.audio.engine import RELEASE_TAIL_SECONDS
from desktop_app.music.note import Note

from playback_helpers import need_soundfont, song_of

TAIL = RELEASE_TAIL_SECONDS  # the longest release tail an export keeps, in seconds
SHORT = song_of(Note(60, 0, 480, 100), Note(64, 480, 480, 90), Note(67, 960, 960, 80))  # 2 s at 120 BPM


@pytest.fixture
def window(window):
    need_soundfont()
    return window


@pytest.fixture
def folder(tmp_path) -> Path:
    """Where exports go, apart from the window's settings and recovery files."""
    out = tmp_path / "exports"
    out.mkdir()
    return out


def export(qtbot, window, scope: str, answer: Path | str | None) -> list[int]:
    """Export `scope` with the file chooser answering `answer`; wait for the render to finish.
    Returns the values the progress bar showed."""
    window.dialogs.save_answer = None if answer is None else str(answer)
    shown: list[int] = []
    window.progress.valueChanged.connect(shown.append)
    window.export_audio(scope)
    if window.progress.isVisible():  # rendering on the worker thread
        assert window.statusBar().currentMessage().startswith("Rendering ")
        qtbot.waitUntil(lambda: not window.progress.isVisible(), timeout=15000)
    window.progress.valueChanged.disconnect(shown.append)
    return shown


def seconds_of(song, start: int, end: int) -> float:
    return song.tempo_map.seconds(end) - song.tempo_map.seconds(start)


def check_length(info, seconds: float) -> None:
    """A range renders its own length plus a release tail that stops where it falls silent."""
    length = round(seconds * info.samplerate)
    assert length <= info.frames <= length + TAIL * info.samplerate, (info.frames, length)


@pytest.mark.parametrize(("suffix", "fmt"), [(".wav", "WAV"), (".flac", "FLAC")])
def test_the_demo_song_exports_with_progress(qtbot, window, folder, suffix, fmt):
    window.open_demo()
    out = folder / f"demo{suffix}"
    shown = export(qtbot, window, "song", out)
    assert window.dialogs.errors == []
    assert out.is_file()
    assert window.statusBar().currentMessage() == f"Exported {out.name}"
    assert shown and shown[-1] == 100 and shown == sorted(shown)
    info = soundfile.info(str(out))
    assert (info.format, info.subtype, info.channels) == (fmt, "PCM_16", 2)
    assert info.samplerate == window.playback.prefs.sample_rate
    song = window.document.song
    check_length(info, song.duration_seconds)
    assert info.frames > round(song.duration_seconds * info.samplerate)  # the last notes ring on a little
    audio, _ = soundfile.read(str(out), dtype="float32")
    assert np.abs(audio).max() > 0.05
    assert list(folder.iterdir()) == [out]  # written atomically: no temporary file left behind


def test_a_short_song_exports_its_length_plus_the_tail(qtbot, window, folder):
    window.document.load(SHORT, None)
    out = folder / "short.wav"
    export(qtbot, window, "song", out)
    info = soundfile.info(str(out))
    assert SHORT.duration_seconds == pytest.approx(2.0)
    check_length(info, 2.0)


def test_the_loop_region_exports_only_the_loop(qtbot, window, folder):
    window.open_demo()
    song = window.document.song
    loop = (3840, 3840 + 1920)  # bar 3: 2.4 s at 100 BPM
    window.piano_roll.state.set_loop(loop)
    out = folder / "loop.flac"
    export(qtbot, window, "loop", out)
    assert window.dialogs.errors == []
    info = soundfile.info(str(out))
    check_length(info, seconds_of(song, *loop))
    assert info.duration < song.duration_seconds / 2


def test_loop_export_without_a_loop_region_says_so(qtbot, window, folder):
    window.open_demo()
    assert window.piano_roll.state.loop is None
    out = folder / "loop.wav"
    assert export(qtbot, window, "loop", out) == []
    assert window.dialogs.errors == [("Nothing to export", "There is no loop region: drag on the ruler to mark one.")]
    assert not window.progress.isVisible()
    assert not out.exists()


def test_the_selection_exports_only_the_selected_notes_span(qtbot, window, folder):
    window.open_demo()
    doc = window.document
    doc.set_active_track(1)
    notes = doc.song.tracks[1].notes
    chosen = {4, 5, 6}
    doc.select(chosen)
    start = min(notes[i].start for i in chosen)
    end = max(notes[i].end for i in chosen)
    assert start > 0
    out = folder / "selection.wav"
    export(qtbot, window, "selection", out)
    assert window.dialogs.errors == []
    info = soundfile.info(str(out))
    check_length(info, seconds_of(doc.song, start, end))
    audio, rate = soundfile.read(str(out), dtype="float32")
    assert np.abs(audio[: rate // 10]).max() > 0.01  # it starts at the first selected note
    assert doc.selection == chosen and doc.undo_stack.count() == 0  # exporting changes nothing


def test_selection_export_without_a_selection_says_so(qtbot, window, folder):
    window.open_demo()
    assert export(qtbot, window, "selection", folder / "sel.wav") == []
    assert window.dialogs.errors == [("Nothing to export", "No notes are selected.")]


@pytest.mark.parametrize(
    ("answer", "written"),
    [("take.mp3", "take.mp3.wav"), ("take", "take.wav"), ("TAKE.FLAC", "TAKE.FLAC")],
)
def test_the_extension_is_kept_or_wav_is_added(qtbot, window, folder, answer, written):
    window.document.load(SHORT, None)
    export(qtbot, window, "song", folder / answer)
    assert window.dialogs.errors == []
    assert sorted(p.name for p in folder.iterdir()) == [written]
    info = soundfile.info(str(folder / written))
    assert info.format == ("FLAC" if written.endswith(".FLAC") else "WAV")


def test_cancelling_the_file_chooser_exports_nothing(qtbot, window, folder):
    window.document.load(SHORT, None)
    assert export(qtbot, window, "song", None) == []
    assert not window.progress.isVisible()
    assert window.dialogs.errors == [] and list(folder.iterdir()) == []


def test_an_unwritable_place_is_an_error_dialog(qtbot, window, folder):
    window.document.load(SHORT, None)
    out = folder / "no such folder" / "take.wav"
    export(qtbot, window, "song", out)
    assert not window.progress.isVisible()
    assert len(window.dialogs.errors) == 1
    title, text = window.dialogs.errors[0]
    assert title == "Cannot export audio" and "cannot write there" in text
    assert not out.exists()
