"""The transport in the window on a real output device (the PulseAudio null sink): Space plays
and stops, pause keeps the place, Home goes to the start, a ruler click jumps, a loop keeps the
playhead inside, the play button follows the state, edits are heard while playing, and a song
that ends stops by itself. Behaviour only: every wait is generous, nothing checks timings."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QPoint, Qt

from desktop_app.audio.schedule import build_schedule
from desktop_app.audio.synth import METRONOME_CHANNEL
from desktop_app.music import edits
from desktop_app.music.note import Note

from playback_helpers import (  # noqa: F401  (audio_window, started_window: fixtures)
    DEMO_TICKS_PER_SECOND,
    START_MS,
    RecordingSynth,
    audio_window,
    started_window,
    song_of,
    wait_applied,
    wait_moving,
)

SECOND = DEMO_TICKS_PER_SECOND


def space(qtbot, window) -> None:
    """Space typed into the piano roll's note area, as a person would."""
    window.piano_roll.area.setFocus()
    qtbot.keyClick(window.piano_roll.area, Qt.Key.Key_Space)


def sample_playhead(qtbot, playback, seconds: float) -> list[int]:
    """The playhead every frame or so for `seconds`, with the event loop running."""
    seen = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        qtbot.wait(20)
        seen.append(playback.roll.playhead)
    return seen


def test_space_plays_and_space_again_stops_where_playback_started(qtbot, audio_window):
    pb, roll = audio_window.playback, audio_window.playback.roll
    roll.set_playhead(2 * SECOND)
    assert not pb.is_playing
    space(qtbot, audio_window)
    assert pb.is_playing
    first = wait_moving(qtbot, pb, 2 * SECOND)
    later = wait_moving(qtbot, pb, first + SECOND // 2)  # keeps going forward with the audio clock
    assert later > first
    space(qtbot, audio_window)
    assert not pb.is_playing
    assert roll.playhead == 2 * SECOND
    qtbot.wait(200)
    assert roll.playhead == 2 * SECOND  # the timer no longer moves it


def test_space_works_from_the_transport_menu_action_too(qtbot, audio_window):
    """The window's Play / Stop action (Space, application-wide) is in the Transport menu."""
    menu = next(a.menu() for a in audio_window.menuBar().actions() if a.text() == "&Transport")
    assert audio_window.act_play in menu.actions()
    assert audio_window.act_play.shortcut().toString() == "Space"
    assert audio_window.act_play.shortcutContext() == Qt.ShortcutContext.ApplicationShortcut
    audio_window.transport.setFocus()
    qtbot.keyClick(audio_window.transport, Qt.Key.Key_Space)  # focus outside the roll
    assert audio_window.playback.is_playing
    audio_window.act_play.trigger()
    assert not audio_window.playback.is_playing


def test_pause_keeps_the_position_and_play_continues_from_it(qtbot, audio_window):
    pb, roll, bar = audio_window.playback, audio_window.playback.roll, audio_window.transport
    bar.act_play.trigger()  # the transport's play / pause button
    assert pb.is_playing
    wait_moving(qtbot, pb, SECOND // 2)
    bar.act_play.trigger()
    assert not pb.is_playing
    paused = roll.playhead
    assert paused > SECOND // 2
    qtbot.wait(300)
    assert roll.playhead == paused
    bar.act_play.trigger()
    assert pb.is_playing
    resumed = wait_moving(qtbot, pb, paused)
    assert paused < resumed < paused + 3 * SECOND  # on from the pause, not from the start
    bar.act_stop.trigger()  # stop goes back to where this play began: the pause
    assert not pb.is_playing and roll.playhead == paused


def test_return_to_start_goes_to_zero_stopped_and_playing(qtbot, audio_window):
    pb, roll, bar = audio_window.playback, audio_window.playback.roll, audio_window.transport
    roll.set_playhead(3 * SECOND)
    bar.act_start.trigger()
    assert roll.playhead == 0
    roll.set_playhead(6 * SECOND)
    pb.play()
    wait_moving(qtbot, pb, 6 * SECOND + SECOND // 4)
    pb.return_to_start()
    assert roll.playhead == 0
    # blocks already in the output buffer may show the old place for a moment; then on from 0
    qtbot.waitUntil(lambda: SECOND // 8 < roll.playhead < 3 * SECOND, timeout=START_MS)
    assert pb.is_playing


def test_a_click_on_the_ruler_while_playing_moves_playback_there(qtbot, audio_window):
    pb, roll = audio_window.playback, audio_window.playback.roll
    roll.follow_playhead = False  # keep the ruler still while the test aims
    pb.play()
    wait_moving(qtbot, pb, SECOND // 4)
    target = 10 * SECOND
    ruler = audio_window.piano_roll.ruler
    x = round(ruler.viewport.tick_to_x(target))
    assert 0 <= x < ruler.width()
    qtbot.mouseClick(ruler, Qt.MouseButton.LeftButton, pos=QPoint(x, ruler.height() // 2))
    clicked = roll.playhead
    assert abs(clicked - target) <= 240  # where the click landed, on the 1/16 grid
    qtbot.waitUntil(lambda: clicked + 50 < roll.playhead < clicked + SECOND, timeout=START_MS)
    seen = sample_playhead(qtbot, pb, 0.7)
    assert pb.is_playing
    assert all(clicked - 50 <= t < clicked + 3 * SECOND for t in seen), seen
    assert seen[-1] > seen[0]  # and moves on from there


def test_loop_keeps_the_playhead_inside_the_region(qtbot, audio_window):
    pb, roll, bar = audio_window.playback, audio_window.playback.roll, audio_window.transport
    loop = (4 * 480 * 2, 4 * 480 * 2 + 960)  # bar 3, two beats: 1.2 s at 100 BPM
    roll.set_loop(loop)
    bar.act_loop.setChecked(True)
    assert pb.loop_enabled
    roll.set_playhead(loop[0])
    pb.play()
    wait_moving(qtbot, pb, loop[0])
    seen = sample_playhead(qtbot, pb, 1.8)
    assert pb.is_playing
    assert all(loop[0] <= t <= loop[1] + 20 for t in seen), (loop, min(seen), max(seen))
    assert any(b < a for a, b in zip(seen, seen[1:])), "the playhead never wrapped"
    assert pb.engine.loop == (pb.tick_to_sample(loop[0]), pb.tick_to_sample(loop[1]))
    bar.act_loop.setChecked(False)
    assert not pb.loop_enabled
    wait_applied(qtbot, pb.engine)
    assert pb.engine.loop is None
    wait_moving(qtbot, pb, loop[1] + 50)  # now it plays on past the region


def test_the_play_button_follows_the_state(qtbot, audio_window):
    pb, bar = audio_window.playback, audio_window.transport
    icons = bar._icons
    assert bar.act_play.text() == "Play"
    assert bar.act_play.icon().cacheKey() == icons["play"].cacheKey()
    audio_window.act_play.trigger()
    assert bar.act_play.text() == "Pause"
    assert bar.act_play.icon().cacheKey() == icons["pause"].cacheKey()
    wait_moving(qtbot, pb, 0)
    bar.act_play.trigger()
    assert bar.act_play.text() == "Play"
    assert bar.act_play.icon().cacheKey() == icons["play"].cacheKey()
    bar.act_play.trigger()
    assert bar.act_play.text() == "Pause"
    bar.act_stop.trigger()
    assert bar.act_play.text() == "Play"
    bar.act_record.setChecked(True)
    assert "recording armed" in bar.status.text()
    bar.act_record.setChecked(False)
    assert bar.status.text() == ""


def test_metronome_count_in_and_volume_reach_the_engine(qtbot, audio_window):
    pb, roll, bar = audio_window.playback, audio_window.playback.roll, audio_window.transport
    spy = RecordingSynth(pb.engine.synth)
    pb.engine.synth = spy
    clicks = lambda: METRONOME_CHANNEL in pb.engine.schedule.channel  # noqa: E731
    assert not clicks()
    bar.act_metronome.setChecked(True)
    assert pb.prefs.metronome
    qtbot.waitUntil(clicks, timeout=3000)
    bar.act_metronome.setChecked(False)
    qtbot.waitUntil(lambda: not clicks(), timeout=3000)

    bar.volume.setValue(20)
    assert pb.prefs.gain == 0.2
    qtbot.waitUntil(lambda: ("gain", 0.2) in spy.calls, timeout=3000)  # set between two blocks

    bar.act_count_in.setChecked(True)
    assert pb.prefs.count_in
    start = 2 * 1920  # bar 3
    roll.set_playhead(start)
    pb.play()
    qtbot.waitUntil(clicks, timeout=3000)  # one bar of clicks before the song goes on
    first_click = pb.engine.schedule.time[pb.engine.schedule.channel == METRONOME_CHANNEL].min()
    assert first_click < pb.tick_to_sample(start)
    qtbot.waitUntil(lambda: any(c[:2] == ("on", METRONOME_CHANNEL) for c in spy.calls), timeout=START_MS)
    assert roll.playhead <= start  # counting in: the song has not started yet
    pb.stop()
    wait_applied(qtbot, pb.engine)
    assert not clicks()  # the count-in clicks are gone again
    assert roll.playhead == start


def test_an_edit_while_playing_is_heard_without_stopping(qtbot, audio_window):
    pb, doc = audio_window.playback, audio_window.document
    pb.play()
    wait_moving(qtbot, pb, SECOND // 4)
    old = pb.engine.schedule
    track = doc.song.tracks[0]
    doc.apply("Transpose", doc.song.with_track(0, edits.transpose(track, None, 5)))
    expected = build_schedule(doc.song, pb.prefs.sample_rate, pb.prefs.metronome, METRONOME_CHANNEL)
    qtbot.waitUntil(lambda: pb.engine.schedule is not old, timeout=3000)
    new = pb.engine.schedule
    assert np.array_equal(new.key, expected.key) and np.array_equal(new.time, expected.time)
    assert not np.array_equal(new.key, old.key)
    assert pb.is_playing
    here = pb.roll.playhead
    wait_moving(qtbot, pb, here + SECOND // 4)  # still playing on, not restarted
    assert pb.engine.playing


def test_a_short_song_stops_by_itself_at_its_end(qtbot, audio_window):
    pb, bar = audio_window.playback, audio_window.transport
    audio_window.document.load(song_of(Note(60, 0, 240, 100)), None)  # an eighth at 120 BPM
    qtbot.waitUntil(lambda: len(pb.engine.schedule) == 2, timeout=3000)
    pb.play()
    assert pb.is_playing and bar.act_play.text() == "Pause"
    # the song, its release tail (2 s) and the null sink's start-up stall
    qtbot.waitUntil(lambda: not pb.is_playing, timeout=START_MS + 4000)
    assert bar.act_play.text() == "Play"
    assert not pb.engine.playing
    pb.return_to_start()
    pb.play()  # and plays again when asked
    wait_moving(qtbot, pb, 0)
    pb.stop()
    assert not pb.is_playing and pb.roll.playhead == 0
