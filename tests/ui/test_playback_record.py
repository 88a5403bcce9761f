"""Recording from a MIDI keyboard without one: mido messages handed to Playback.midi_message
from another thread, as the MIDI input's callback would, while the window plays on the null
sink. Each take becomes one undo step "Record N notes" in the active track, at the playhead
positions where the keys were played. Also: the keys sound at once, and a key of the roll's
piano keyboard reaches the synth through the audio callback."""

from __future__ import annotations

import threading

import mido
from PySide6.QtCore import QPoint, Qt

from desktop_app.music.note import Note

from playback_helpers import (  # noqa: F401  (audio_window, started_window: fixtures)
    DEMO_TICKS_PER_SECOND,
    RecordingSynth,
    audio_window,
    started_window,
    wait_moving,
)

SECOND = DEMO_TICKS_PER_SECOND
TOLERANCE = 60  # ticks (75 ms): a stamp is the heard position when the message arrives
TRACK = 2  # record into the third track of the demo


def send(pb, message: mido.Message) -> int:
    """Hand `message` to the playback from a thread of its own, like rtmidi's callback; returns
    the heard playhead just before, where the note should land."""
    where = pb.heard_tick()
    thread = threading.Thread(target=pb.midi_message, args=(message,))
    thread.start()
    thread.join()
    return where


def down(pb, key: int, velocity: int = 90) -> int:
    return send(pb, mido.Message("note_on", note=key, velocity=velocity))


def up(pb, key: int, zero_velocity_on: bool = False) -> int:
    """A key released: note_off, or note_on with velocity 0 as many keyboards send."""
    if zero_velocity_on:
        return send(pb, mido.Message("note_on", note=key, velocity=0))
    return send(pb, mido.Message("note_off", note=key, velocity=64))


def listen(pb) -> RecordingSynth:
    """Put a recorder in front of the real synth (the audio callback keeps rendering through it)."""
    spy = RecordingSynth(pb.engine.synth)
    pb.engine.synth = spy
    return spy


def near(actual: int, expected: int, tolerance: int = TOLERANCE) -> bool:
    return abs(actual - expected) <= tolerance


def start_take(qtbot, window, from_tick: int = SECOND) -> None:
    """Arm with the transport's record button, then play from `from_tick` until the playhead moves."""
    pb = window.playback
    window.document.set_active_track(TRACK)
    window.transport.act_record.setChecked(True)
    assert pb.recording_armed
    pb.roll.set_playhead(from_tick)
    pb.play()
    wait_moving(qtbot, pb, from_tick + 100)


def test_a_take_is_one_undo_step_at_the_played_positions(qtbot, audio_window):
    pb, doc = audio_window.playback, audio_window.document
    stack = doc.undo_stack
    before, steps = doc.song, stack.index()
    spy = listen(pb)
    start_take(qtbot, audio_window)
    on60 = down(pb, 60, 90)
    qtbot.wait(250)
    off60 = up(pb, 60)
    on64 = down(pb, 64, 70)
    on67 = down(pb, 67, 110)
    qtbot.wait(200)
    off64 = up(pb, 64, zero_velocity_on=True)
    off67 = up(pb, 67)
    on72 = down(pb, 72, 80)
    qtbot.wait(150)
    held_until = pb.heard_tick()
    audio_window.piano_roll.area.setFocus()
    qtbot.keyClick(audio_window.piano_roll.area, Qt.Key.Key_Space)  # stop; 72 is still held
    assert not pb.is_playing

    # the keys sounded at once, on the active track's channel
    qtbot.waitUntil(lambda: ("off", TRACK, 67) in spy.calls, timeout=3000)
    for call in (("on", TRACK, 60, 90), ("off", TRACK, 60), ("on", TRACK, 64, 70), ("off", TRACK, 64),
                 ("on", TRACK, 67, 110), ("on", TRACK, 72, 80)):
        assert call in spy.calls, call

    assert stack.index() == steps + 1 and stack.count() == stack.index()
    assert stack.undoText() == "Record 4 notes"
    old = before.tracks[TRACK].notes
    track = doc.song.tracks[TRACK].notes
    assert track[: len(old)] == old
    new = track[len(old):]
    assert [(n.pitch, n.velocity) for n in new] == [(60, 90), (64, 70), (67, 110), (72, 80)]
    expected = [(on60, off60), (on64, off64), (on67, off67), (on72, held_until)]
    for note, (start, end) in zip(new, expected):
        assert near(note.start, start) and near(note.end, end), (note, start, end)
    assert new[0].start > SECOND  # played after playback started at 1 s
    assert all(a is b for i, (a, b) in enumerate(zip(before.tracks, doc.song.tracks)) if i != TRACK)
    assert doc.active_track == TRACK
    assert doc.selection == frozenset(range(len(old), len(track)))
    assert "Recorded 4 notes" in audio_window.statusBar().currentMessage()
    assert pb.roll.playhead == SECOND  # Space stopped and went back to where playback started

    recorded = doc.song
    stack.undo()
    assert doc.song is before
    assert doc.song.tracks[TRACK].notes == old
    stack.redo()
    assert doc.song is recorded


def test_record_quantize_puts_the_starts_on_the_snap_grid(qtbot, audio_window):
    pb, doc, roll = audio_window.playback, audio_window.document, audio_window.piano_roll.state
    pb.prefs.record_quantize = True
    roll.set_snap("1/4")
    grid = 480
    old = doc.song.tracks[TRACK].notes
    start_take(qtbot, audio_window)
    played = []
    for key in (62, 65, 69):
        on = down(pb, key)
        qtbot.wait(120)
        off = up(pb, key)
        played.append((on, off))
        qtbot.wait(90)
    pb.stop()
    assert doc.undo_stack.undoText() == "Record 3 notes"
    new = doc.song.tracks[TRACK].notes[len(old):]
    assert [n.pitch for n in new] == [62, 65, 69]
    for note, (on, off) in zip(new, played):
        assert note.start % grid == 0, note
        assert near(note.start, on, grid // 2 + TOLERANCE), (note, on)
        assert near(note.duration, off - on, 2 * TOLERANCE), (note, on, off)  # only the start moves


def test_nothing_is_recorded_unless_armed_and_playing(qtbot, audio_window):
    pb, doc = audio_window.playback, audio_window.document
    doc.set_active_track(TRACK)
    before, steps = doc.song, doc.undo_stack.index()
    spy = listen(pb)
    # playing, not armed
    pb.play()
    wait_moving(qtbot, pb, 100)
    down(pb, 60)
    qtbot.wait(100)
    up(pb, 60)
    pb.stop()
    # armed, not playing
    audio_window.transport.act_record.setChecked(True)
    down(pb, 64)
    qtbot.wait(100)
    up(pb, 64)
    # armed, played and stopped without a key
    pb.play()
    wait_moving(qtbot, pb, 100)
    pb.stop()
    audio_window.transport.act_record.setChecked(False)
    assert doc.song is before and doc.undo_stack.index() == steps
    # the keys were still heard; other messages are ignored
    send(pb, mido.Message("control_change", control=64, value=127))
    send(pb, mido.Message("pitchwheel", pitch=100))
    qtbot.waitUntil(lambda: ("off", TRACK, 64) in spy.calls, timeout=3000)
    assert ("on", TRACK, 60, 90) in spy.calls and ("on", TRACK, 64, 90) in spy.calls
    assert doc.song is before


def test_arming_while_playing_records_from_there_and_disarming_keeps_the_take(qtbot, audio_window):
    pb, doc = audio_window.playback, audio_window.document
    doc.set_active_track(TRACK)
    old, steps = doc.song.tracks[TRACK].notes, doc.undo_stack.index()
    pb.play()
    wait_moving(qtbot, pb, 100)
    audio_window.transport.act_record.setChecked(True)  # R while playing: punch in
    on = down(pb, 71, 100)
    qtbot.wait(150)
    off = up(pb, 71)
    audio_window.transport.act_record.setChecked(False)  # punch out: the take is kept at once
    assert pb.is_playing
    assert doc.undo_stack.index() == steps + 1
    assert doc.undo_stack.undoText() == "Record 1 note"
    (note,) = doc.song.tracks[TRACK].notes[len(old):]
    assert note.pitch == 71 and note.velocity == 100
    assert near(note.start, on) and near(note.end, off)
    down(pb, 72)  # no longer armed: heard, not recorded
    up(pb, 72)
    pb.stop()
    assert doc.undo_stack.index() == steps + 1


def test_a_piano_key_click_sounds_through_the_audio_callback(qtbot, audio_window):
    pb, roll = audio_window.playback, audio_window.piano_roll
    audio_window.document.set_active_track(1)
    spy = listen(pb)
    keyboard = roll.keyboard
    pitch = roll.viewport.visible_pitches[0] + 5
    y = round(roll.viewport.pitch_to_y(pitch) + roll.viewport.key_height / 2)
    qtbot.mousePress(keyboard, Qt.MouseButton.LeftButton, pos=QPoint(20, y))
    qtbot.waitUntil(lambda: ("on", 1, pitch, 100) in spy.calls, timeout=3000)
    assert ("off", 1, pitch) not in spy.calls  # held while the mouse is down
    qtbot.mouseRelease(keyboard, Qt.MouseButton.LeftButton, pos=QPoint(20, y))
    qtbot.waitUntil(lambda: ("off", 1, pitch) in spy.calls, timeout=3000)
    assert not pb.is_playing
    assert audio_window.document.undo_stack.count() == 0  # sounding a key edits nothing


def test_recorded_notes_pairs_first_on_with_first_off(window):
    """No device needed: without an output the playhead is where a held key ends."""
    window.open_demo()
    pb = window.playback
    assert pb.output is None
    s = lambda tick: pb.tick_to_sample(tick)  # noqa: E731
    events = [
        (s(1000), True, 60, 100),
        (s(1100), True, 60, 90),  # the same key again before its first release
        (s(1200), False, 60, 0),
        (s(1300), False, 60, 0),
        (s(1250), False, 62, 0),  # an off without an on is dropped
        (s(1400), True, 64, 80),  # still held at the end: ends at the last event or the playhead
    ]
    pb.roll.set_playhead(1500)
    notes = pb.recorded_notes(events)
    assert notes == [Note(60, 1000, 200, 100), Note(60, 1100, 200, 90), Note(64, 1400, 100, 80)]
