"""Shared set-up of the playback tests: skip without a sound device or SoundFont, a shown and
active main window with the demo song and its audio started, waits on the moving playhead, small
songs, and a fake synth that records what the engine asks of it. Imported by name (pytest puts
this folder on sys.path), like piano_roll_helpers.

The device tests run on the PulseAudio null sink that scripts/null-audio.sh starts: it plays at
real-time pace but may stall for a moment when a stream starts, so every wait is generous and
the tests check behaviour (where the playhead goes), never timings."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from desktop_app.audio.soundfont import find_soundfont
from desktop_app.audio.stream import output_devices
from desktop_app.music.note import Note
from desktop_app.music.song import Song, TempoChange, TimeSignature
from desktop_app.music.track import Track
from desktop_app.ui.dialogs import SaveChoice
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.settings import AppSettings, AudioPrefs

START_MS = 8000  # the null sink can stall a second or two before the first block is heard
DEMO_TICKS_PER_SECOND = 800  # the demo: 480 PPQ at 100 BPM


def need_soundfont() -> None:
    if find_soundfont() is None:
        pytest.skip("no General MIDI SoundFont found (apt: fluid-soundfont-gm)")


def need_device() -> None:
    need_soundfont()
    if not output_devices():
        pytest.skip("no audio output device (run under scripts/null-audio.sh's start_null_audio)")


def activate(qtbot, window) -> None:
    """Make `window` the active window, so its Space shortcut can fire."""
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def song_of(*notes: Note, bpm: float = 120.0, tracks: int = 1) -> Song:
    """A 4/4 song whose first track holds `notes`; more tracks are empty."""
    return Song(
        ppq=480,
        tempos=(TempoChange.from_bpm(0, bpm),),
        time_signatures=(TimeSignature(0, 4, 4),),
        tracks=(Track(name="Lead", program=0, channel=0, notes=tuple(notes)),)
        + tuple(Track(name=f"Track {i + 2}", program=0, channel=i + 1) for i in range(tracks - 1)),
        title="small",
    )


class Answers:
    """The window's dialogs, answered by the test (like conftest's ScriptedDialogs, which a
    module-scoped window cannot take from a function fixture)."""

    def __init__(self) -> None:
        self.save_answer: str | None = None
        self.errors: list[tuple[str, str]] = []

    def ask_save_changes(self, name: str) -> SaveChoice:
        return SaveChoice.DISCARD

    def ask_restore(self, description: str) -> bool:
        return False

    def error(self, title: str, text: str) -> None:
        self.errors.append((title, text))

    def open_path(self, title: str, folder: str, filters: str) -> str | None:
        return None

    def save_path(self, title: str, suggested: str, filters: str) -> str | None:
        return self.save_answer


@pytest.fixture(scope="module")
def started_window(qapp, tmp_path_factory):
    """One main window per test module with its audio started: the device's start-up stall (a
    second or two on the null sink) is waited out once, not in every test."""
    need_device()
    folder = tmp_path_factory.mktemp("playback")
    settings = AppSettings(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
    window = MainWindow(settings=settings, dialogs=Answers(), recovery_folder=folder / "recovery")
    window.show()
    window.open_demo()
    assert window.playback.start(), window.playback.unavailable
    yield window
    window.playback.close()
    window.document.load(Song(), None)
    window.close()
    window.deleteLater()
    qapp.processEvents()


@pytest.fixture
def audio_window(qtbot, started_window):
    """The module's window, stopped, with the demo song freshly open, the playhead at 0, the
    transport switches and audio preferences at their defaults, active, and its audio running."""
    window = started_window
    reset(window)
    activate(qtbot, window)
    wait_streaming(qtbot, window.playback)
    yield window
    reset(window)


def reset(window) -> None:
    pb, roll, bar = window.playback, window.piano_roll.state, window.transport
    pb.stop()
    if not pb.available:
        assert pb.start(), pb.unavailable
    synth = pb.engine.synth
    if isinstance(synth, RecordingSynth) and synth.inner is not None:
        pb.engine.synth = synth.inner
    for action in (bar.act_loop, bar.act_record, bar.act_metronome, bar.act_count_in):
        action.setChecked(False)
    defaults = AudioPrefs()
    pb.prefs.audition, pb.prefs.record_quantize = defaults.audition, defaults.record_quantize
    bar.volume.setValue(round(defaults.gain * 100))
    roll.set_loop(None)
    roll.set_snap("1/16")
    roll.follow_playhead = True
    window.open_demo()
    window.document.set_active_track(0)
    pb.return_to_start()
    window.dialogs.errors.clear()


def wait_streaming(qtbot, playback, timeout: int = START_MS) -> None:
    """Wait out the device's start-up: until the callback has taken the commands queued so far
    and its blocks have reached the speaker for a tenth of a second of stream time."""
    engine = playback.engine
    first: list[float] = []

    def streaming() -> bool:
        dac = engine.clock[1]
        if dac and not first:
            first.append(dac)
        return bool(first) and dac - first[0] >= 0.1 and not engine.commands

    qtbot.waitUntil(streaming, timeout=timeout)


def wait_moving(qtbot, playback, beyond: int, timeout: int = START_MS) -> int:
    """Wait until the playhead has passed `beyond` while playing; returns where it is."""
    roll = playback.roll
    qtbot.waitUntil(lambda: playback.is_playing and roll.playhead > beyond, timeout=timeout)
    return roll.playhead


def wait_applied(qtbot, engine, timeout: int = 3000) -> None:
    """Wait until the audio callback has taken every command queued so far."""
    qtbot.waitUntil(lambda: not engine.commands, timeout=timeout)


class RecordingSynth:
    """Stands in for the synth: renders silence and records note and setting calls. With `inner`,
    it also passes every call on (so it can replace a real synth and still be closed)."""

    def __init__(self, inner=None) -> None:
        self.inner = inner
        self.calls: list[tuple] = []

    def note_on(self, channel: int, key: int, velocity: int) -> None:
        self.calls.append(("on", channel, key, velocity))
        if self.inner is not None:
            self.inner.note_on(channel, key, velocity)

    def note_off(self, channel: int, key: int) -> None:
        self.calls.append(("off", channel, key))
        if self.inner is not None:
            self.inner.note_off(channel, key)

    def control(self, channel: int, control: int, value: int) -> None:
        if self.inner is not None:
            self.inner.control(channel, control, value)

    def set_program(self, channel: int, program: int) -> None:
        if self.inner is not None:
            self.inner.set_program(channel, program)

    def set_drum_channel(self, channel: int, program: int = 0) -> None:
        if self.inner is not None:
            self.inner.set_drum_channel(channel, program)

    def set_gain(self, gain: float) -> None:
        self.calls.append(("gain", gain))
        if self.inner is not None:
            self.inner.set_gain(gain)

    def render(self, out, start: int, count: int) -> None:
        if self.inner is not None:
            self.inner.render(out, start, count)
        else:
            out[start : start + count] = 0.0

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()

    def live(self, kind: str | None = None) -> list[tuple]:
        return [c for c in self.calls if kind in (None, c[0])]
