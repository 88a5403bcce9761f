"""Where the piano roll looks: wheel zoom and scroll around the cursor, zoom to fit and to the
selection, following the playhead, and the ruler's playhead and loop. None of it is an edit."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from desktop_app.ui.piano_roll.ruler import RULER_HEIGHT

from piano_roll_helpers import (  # noqa: F401  (document, roll: fixtures)
    LEAD,
    Ctrl,
    Left,
    NoMod,
    Shift,
    assert_no_step,
    document,
    drag,
    key,
    roll,
    set_mapping,
    snapshot,
    wheel,
)


def fully_visible(roll, note) -> bool:
    vp = roll.viewport
    return (0 <= vp.tick_to_x(note.start) and vp.tick_to_x(note.end) <= vp.width
            and 0 <= vp.pitch_to_y(note.pitch) and vp.pitch_to_y(note.pitch) + vp.key_height <= vp.height)


# ----- wheel ------------------------------------------------------------------------------


@pytest.mark.parametrize("dy", [120, -120, 360, -240])
def test_ctrl_wheel_zooms_time_around_the_cursor(roll, document, dy):
    set_mapping(roll, left_tick=2000)
    vp = roll.viewport
    before = snapshot(document)
    x = 371
    tick, tpp, top, kh = vp.x_to_tick(x), vp.ticks_per_px, vp.top, vp.key_height
    wheel(roll.area, QPoint(x, 200), dy=dy, modifiers=Ctrl)
    assert vp.ticks_per_px < tpp if dy > 0 else vp.ticks_per_px > tpp  # wheel up zooms in
    assert vp.x_to_tick(x) == pytest.approx(tick, abs=2)
    assert (vp.top, vp.key_height) == (top, kh)
    assert_no_step(document, before)


@pytest.mark.parametrize("dy", [120, -120, 240])
def test_ctrl_shift_wheel_zooms_pitch_around_the_cursor(roll, document, dy):
    set_mapping(roll, key_height=10.0, top=90.0)
    vp = roll.viewport
    y = 173
    pitch_position = vp.top - y / vp.key_height  # fractional pitch under the cursor
    kh, tpp, left = vp.key_height, vp.ticks_per_px, vp.left_tick
    wheel(roll.area, QPoint(400, y), dy=dy, modifiers=Ctrl | Shift)
    assert vp.key_height > kh if dy > 0 else vp.key_height < kh
    assert vp.top - y / vp.key_height == pytest.approx(pitch_position, abs=0.05)
    assert vp.y_to_pitch(y) == int(pitch_position)
    assert (vp.ticks_per_px, vp.left_tick) == (tpp, left)


def test_plain_wheel_scrolls_pitch(roll, document):
    vp = roll.viewport
    top, left, tpp, kh = vp.top, vp.left_tick, vp.ticks_per_px, vp.key_height
    wheel(roll.area, QPoint(400, 200), dy=120)
    assert vp.top > top  # up shows higher notes
    assert vp.y_to_pitch(200) > int(top - 200 / kh)
    up = vp.top
    wheel(roll.area, QPoint(400, 200), dy=-240)
    assert vp.top < up and vp.top < top
    assert (vp.left_tick, vp.ticks_per_px, vp.key_height) == (left, tpp, kh)


def test_shift_wheel_scrolls_time(roll, document):
    set_mapping(roll, left_tick=4000)
    vp = roll.viewport
    top, tpp = vp.top, vp.ticks_per_px
    wheel(roll.area, QPoint(400, 200), dy=-120, modifiers=Shift)
    assert vp.left_tick > 4000  # wheel down goes later
    later = vp.left_tick
    wheel(roll.area, QPoint(400, 200), dy=120, modifiers=Shift)
    assert vp.left_tick < later
    assert (vp.top, vp.ticks_per_px) == (top, tpp)


# ----- zoom to fit and to the selection ---------------------------------------------------


def test_zoom_fit_shows_every_note_of_the_track(qtbot, roll, document):
    set_mapping(roll, ticks_per_px=0.5, key_height=30.0, left_tick=6000, top=40.0)
    assert not any(fully_visible(roll, n) for n in LEAD)
    before = snapshot(document)
    key(qtbot, roll, Qt.Key.Key_F)
    vp = roll.viewport
    assert all(fully_visible(roll, n) for n in LEAD)
    span_px = vp.tick_to_x(max(n.end for n in LEAD)) - vp.tick_to_x(0)
    assert span_px > 0.8 * vp.width  # fitted, not just zoomed far out
    assert 8 * vp.key_height > 0.5 * vp.height  # the 8 rows from C4 to G4 fill much of it
    assert_no_step(document, before)


def test_zoom_fit_follows_the_active_track(roll, document):
    document.set_active_track(2)  # one pad note at 2400..3360, pitch 72
    roll.zoom_fit()
    pad = document.song.tracks[2].notes[0]
    assert fully_visible(roll, pad)
    assert roll.viewport.y_to_pitch(roll.viewport.height / 2) in range(70, 75)


def test_zoom_selection_shows_the_selected_notes(qtbot, roll, document):
    set_mapping(roll, ticks_per_px=20.0, key_height=4.0, left_tick=0, top=127.0)
    document.select({1, 2})  # E4 480..720, G4 960..1440
    key(qtbot, roll, Qt.Key.Key_F, Shift)
    vp = roll.viewport
    assert fully_visible(roll, LEAD[1]) and fully_visible(roll, LEAD[2])
    assert vp.tick_to_x(1440) - vp.tick_to_x(480) > 0.8 * vp.width
    assert not fully_visible(roll, LEAD[3])  # at 1920, outside the selection's span


def test_zoom_selection_without_selection_keeps_the_view(roll, document):
    vp = roll.viewport
    view = (vp.ticks_per_px, vp.key_height, vp.left_tick, vp.top)
    roll.zoom_selection()
    assert (vp.ticks_per_px, vp.key_height, vp.left_tick, vp.top) == view


# ----- follow the playhead ----------------------------------------------------------------


def test_playhead_past_the_right_edge_scrolls_when_following(roll, document):
    vp = roll.viewport
    assert roll.act_follow.isChecked() and roll.state.follow_playhead
    assert vp.right_tick < 8000
    roll.state.set_playhead(8000)
    assert vp.left_tick <= 8000 < vp.right_tick
    assert vp.left_tick > 0


def test_playhead_inside_the_view_does_not_scroll(roll, document):
    vp = roll.viewport
    roll.state.set_playhead(1000)
    assert vp.left_tick == 0


def test_playhead_past_the_right_edge_stays_put_when_not_following(roll, document):
    vp = roll.viewport
    roll.act_follow.trigger()  # the toolbar switch
    assert not roll.state.follow_playhead
    roll.state.set_playhead(8000)
    assert vp.left_tick == 0
    assert vp.right_tick < 8000
    roll.act_follow.trigger()
    roll.state.set_playhead(9000)
    assert vp.left_tick <= 9000 < vp.right_tick


# ----- ruler ------------------------------------------------------------------------------


def ruler_point(roll, tick: float) -> QPoint:
    return QPoint(round(roll.viewport.tick_to_x(tick)), RULER_HEIGHT // 2)


def test_ruler_click_moves_the_playhead_to_the_grid(qtbot, roll, document):
    before = snapshot(document)
    with qtbot.waitSignal(roll.state.playheadMoved) as moved:
        qtbot.mouseClick(roll.ruler, Left, NoMod, ruler_point(roll, 1060))  # nearest 1/16 line: 1080
    assert moved.args == [1080]
    assert roll.state.playhead == 1080
    assert roll.state.loop is None
    qtbot.mouseClick(roll.ruler, Left, NoMod, ruler_point(roll, 1004))  # nearest: 960
    assert roll.state.playhead == 960
    assert_no_step(document, before)


def test_ruler_drag_sets_the_loop(qtbot, roll, document):
    before = snapshot(document)
    with qtbot.waitSignal(roll.state.loopChanged):
        drag(qtbot, roll.ruler, ruler_point(roll, 480), ruler_point(roll, 1484))
    assert roll.state.loop == (480, 1440)
    assert roll.state.playhead == 0  # a drag is not a click
    drag(qtbot, roll.ruler, ruler_point(roll, 3000), ruler_point(roll, 1930))  # right to left
    assert roll.state.loop == (1920, 3000)
    assert_no_step(document, before)


def test_ruler_double_click_inside_the_loop_clears_it(qtbot, roll, document):
    roll.state.set_loop((480, 1440))
    qtbot.mouseDClick(roll.ruler, Left, NoMod, ruler_point(roll, 2400))  # outside: the loop stays
    assert roll.state.loop == (480, 1440)
    with qtbot.waitSignal(roll.state.loopChanged):
        qtbot.mouseDClick(roll.ruler, Left, NoMod, ruler_point(roll, 800))
    assert roll.state.loop is None
