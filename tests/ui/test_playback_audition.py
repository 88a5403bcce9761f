"""Auditioning without a device: the window's Playback gets an engine whose synth is a recorder
and no output, so the commands the GUI queues stay in engine.commands for the test to read.
Keys of the roll's keyboard, transposed notes and noteAuditioned become live note commands on the
active track's channel; with audition off in the preferences, edited notes stay silent."""

from __future__ import annotations

import mido
import pytest
from PySide6.QtCore import QPoint, Qt

from desktop_app.audio.engine import Engine
from desktop_app.audio.schedule import build_schedule
from desktop_app.ui.playback import AUDITION_MS

from playback_helpers import RecordingSynth


def live(engine: Engine) -> list[tuple]:
    """The live note commands queued so far (not schedules, seeks or loops)."""
    return [c for c in engine.commands if c[0] in ("on", "off")]


@pytest.fixture
def engine(window) -> Engine:
    """The demo open, and a silent engine in place of started audio."""
    window.open_demo()
    pb = window.playback
    assert pb.engine is None and pb.output is None
    pb.engine = Engine(RecordingSynth(), build_schedule(window.document.song, pb.prefs.sample_rate))
    yield pb.engine
    pb.close()


def key_point(roll, pitch: int) -> QPoint:
    vp = roll.viewport
    return QPoint(20, round(vp.pitch_to_y(pitch) + vp.key_height / 2))


def test_key_down_and_up_queue_live_notes_on_the_active_tracks_channel(window, engine):
    pb = window.playback
    pb.key_down(60)
    pb.key_up(60)
    window.document.set_active_track(2)
    pb.key_down(64, 70)
    pb.key_up(64)
    assert live(engine) == [("on", 0, 60, 100), ("off", 0, 60), ("on", 2, 64, 70), ("off", 2, 64)]
    assert not pb.is_playing


def test_a_piano_key_pressed_with_the_mouse_sounds_while_held(qtbot, window, engine):
    roll = window.piano_roll
    window.document.set_active_track(1)
    pitch = roll.viewport.visible_pitches[0] + 3
    qtbot.mousePress(roll.keyboard, Qt.MouseButton.LeftButton, pos=key_point(roll, pitch))
    assert live(engine) == [("on", 1, pitch, 100)]
    qtbot.mouseRelease(roll.keyboard, Qt.MouseButton.LeftButton, pos=key_point(roll, pitch))
    assert live(engine) == [("on", 1, pitch, 100), ("off", 1, pitch)]


def test_note_auditioned_sounds_briefly(qtbot, window, engine):
    window.piano_roll.noteAuditioned.emit(67, 80)
    assert live(engine) == [("on", 0, 67, 80)]
    qtbot.waitUntil(lambda: ("off", 0, 67) in live(engine), timeout=AUDITION_MS + 2000)
    assert live(engine) == [("on", 0, 67, 80), ("off", 0, 67)]


def test_a_transposed_note_is_auditioned_and_the_new_song_scheduled(qtbot, window, engine):
    doc, roll = window.document, window.piano_roll
    first = doc.song.tracks[0].notes[0]
    doc.select({0})
    roll.area.setFocus()
    qtbot.keyClick(roll.area, Qt.Key.Key_Up)
    assert doc.undo_stack.count() == 1
    assert live(engine) == [("on", 0, first.pitch + 1, first.velocity)]
    qtbot.waitUntil(lambda: ("off", 0, first.pitch + 1) in live(engine), timeout=AUDITION_MS + 2000)
    schedules = [c[1] for c in engine.commands if c[0] == "schedule"]
    assert schedules and first.pitch + 1 in schedules[-1].key  # the edit reaches the engine too


def test_audition_off_keeps_edits_silent_but_keys_still_sound(qtbot, window, engine):
    pb, doc, roll = window.playback, window.document, window.piano_roll
    pb.prefs.audition = False
    doc.select({0})
    roll.area.setFocus()
    qtbot.keyClick(roll.area, Qt.Key.Key_Up)
    roll.noteAuditioned.emit(67, 80)
    qtbot.wait(AUDITION_MS + 100)
    assert doc.undo_stack.count() == 1  # the edit happened
    assert live(engine) == []
    pb.key_down(60)  # a key played on purpose is not an audition
    assert live(engine) == [("on", 0, 60, 100)]


def test_a_midi_keyboard_note_sounds_at_once(window, engine):
    pb = window.playback
    window.document.set_active_track(1)
    pb.midi_message(mido.Message("note_on", note=62, velocity=77))
    pb.midi_message(mido.Message("note_on", note=62, velocity=0))
    pb.midi_message(mido.Message("control_change", control=1, value=3))
    assert live(engine) == [("on", 1, 62, 77), ("off", 1, 62)]


def test_without_audio_keys_and_auditions_do_nothing(qtbot, window):
    window.open_demo()
    pb = window.playback
    assert pb.engine is None and not pb.available
    pb.key_down(60)
    pb.key_up(60)
    pb.audition(60, 100)
    window.piano_roll.noteAuditioned.emit(60, 100)
    pb.midi_message(mido.Message("note_on", note=60, velocity=100))
    qtbot.mousePress(window.piano_roll.keyboard, Qt.MouseButton.LeftButton, pos=key_point(window.piano_roll, 60))
    qtbot.mouseRelease(window.piano_roll.keyboard, Qt.MouseButton.LeftButton, pos=key_point(window.piano_roll, 60))
    qtbot.wait(AUDITION_MS + 50)
    assert pb.engine is None and not pb.is_playing
