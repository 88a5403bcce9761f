"""The piano roll with a song longer than a scroll bar counts: the bar scales instead of
overflowing, and scrolling it reaches the song's end."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track
from desktop_app.ui.piano_roll.editor import SCROLL_STEPS

from piano_roll_helpers import document, roll  # noqa: F401  (fixtures)

C_INT_MAX = 2**31 - 1
LAST = 2**31 - 1  # the longest tick a project file holds


def test_a_note_ending_past_a_c_int_keeps_the_scroll_bar_in_range(qtbot, roll, document):
    document.load(Song(tracks=(Track(notes=(Note(60, 0, 480), Note(62, LAST - 480, 480))),)), None)
    QApplication.processEvents()
    bar = roll.hbar
    assert 0 < bar.maximum() <= SCROLL_STEPS < C_INT_MAX and bar.pageStep() >= 1
    vp = roll.viewport
    end = LAST + 4 * 4 * 480  # the song's end and four bars of room
    bar.setValue(bar.maximum())  # drag the bar to its end: the view ends where the room does
    step = end / SCROLL_STEPS
    assert abs(vp.right_tick - end) <= 2 * step
    bar.setValue(round((LAST - 480) / step))  # and to the last note
    assert abs(vp.left_tick - (LAST - 480)) <= step
    assert vp.left_tick < LAST - 240 < vp.right_tick
    bar.setValue(0)
    assert vp.left_tick == 0


def test_a_short_song_scrolls_one_tick_a_step(qtbot, roll):
    roll.viewport.set_left_tick(1234)
    assert roll.hbar.value() == 1234
    roll.hbar.setValue(480)
    assert roll.viewport.left_tick == 480
