"""The lanes beside the note area: the velocity lane (drag a stem, draw a ramp; one undo step
per drag) and the piano keyboard (keys sound while held; its menu selects a pitch's notes)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu

from desktop_app.music.note import Note
from desktop_app.ui.piano_roll.velocity_lane import LANE_HEIGHT

from piano_roll_helpers import (  # noqa: F401  (document, roll: fixtures)
    LEAD,
    Left,
    NoMod,
    assert_no_step,
    assert_one_step,
    document,
    move,
    point,
    roll,
    snapshot,
)

# The lane maps y = 3 (bottom - 3 - usable height) to velocity 127 and y = LANE_HEIGHT - 3 to 0.
USABLE = LANE_HEIGHT - 6


def velocity_for(y: float) -> int:
    return round(max(1, min(127, (LANE_HEIGHT - 3 - y) / USABLE * 127)))


def y_for(velocity: int) -> int:
    return round(LANE_HEIGHT - 3 - velocity / 127 * USABLE)


def stem_x(roll, note: Note) -> int:
    return round(roll.viewport.tick_to_x(note.start))


# ----- velocity lane ----------------------------------------------------------------------


def test_dragging_a_stem_sets_that_notes_velocity(qtbot, roll, document):
    lane = roll.velocity
    g4 = LEAD[2]  # velocity 80, stem at x = 240
    before = snapshot(document)
    qtbot.mousePress(lane, Left, NoMod, QPoint(stem_x(roll, g4) + 2, y_for(80)))
    for y in range(y_for(80), y_for(40) + 1, 3):
        move(lane, QPointF(stem_x(roll, g4) + 2, y))
        assert document.song is before.song  # only a preview until the release
    move(lane, QPointF(stem_x(roll, g4) + 30, y_for(40)))  # sideways does not matter
    qtbot.mouseRelease(lane, Left, NoMod, QPoint(stem_x(roll, g4) + 30, y_for(40)))
    after = assert_one_step(document, before, "Set velocity of 1 note")
    assert after.tracks[0].notes == LEAD[:2] + (Note(67, 960, 480, velocity_for(y_for(40))), LEAD[3])
    assert abs(after.tracks[0].notes[2].velocity - 40) <= 1
    assert after.tracks[1:] == before.song.tracks[1:]


def test_dragging_a_stem_to_the_top_gives_full_velocity(qtbot, roll, document):
    lane = roll.velocity
    before = snapshot(document)
    qtbot.mousePress(lane, Left, NoMod, QPoint(stem_x(roll, LEAD[1]), y_for(90)))
    move(lane, QPointF(stem_x(roll, LEAD[1]), 20))
    move(lane, QPointF(stem_x(roll, LEAD[1]), -15))  # past the top of the lane
    qtbot.mouseRelease(lane, Left, NoMod, QPoint(stem_x(roll, LEAD[1]), -15))
    after = assert_one_step(document, before, "Set velocity of 1 note")
    assert after.tracks[0].notes[1] == Note(64, 480, 240, 127)


def test_a_stem_dragged_back_to_its_velocity_is_no_step(qtbot, roll, document):
    lane = roll.velocity
    before = snapshot(document)
    x = stem_x(roll, LEAD[0])  # velocity 100
    qtbot.mousePress(lane, Left, NoMod, QPoint(x, 30))
    move(lane, QPointF(x, y_for(50)))
    back = LANE_HEIGHT - 3 - 100 / 127 * USABLE  # where velocity 100 is
    move(lane, QPointF(x, back))
    qtbot.mouseRelease(lane, Left, NoMod, QPoint(x, round(back)))
    assert velocity_for(back) == 100
    assert_no_step(document, before)


def test_dragging_across_empty_space_ramps_the_selected_notes(qtbot, roll, document):
    lane = roll.velocity
    document.select({1, 3})  # stems at x = 120 and 480; note 2's stem at 240 lies between
    before = snapshot(document)
    a, b = QPointF(100, 10), QPointF(500, 70)
    qtbot.mousePress(lane, Left, NoMod, a.toPoint())
    for k in range(1, 9):
        move(lane, a + (b - a) * (k / 8))
    qtbot.mouseRelease(lane, Left, NoMod, b.toPoint())
    after = assert_one_step(document, before, "Set velocity of 2 notes", undo_selection={1, 3})
    t = after.tracks[0].notes

    def on_line(x: float) -> int:
        return velocity_for(a.y() + (x - a.x()) / (b.x() - a.x()) * (b.y() - a.y()))

    assert t[1] == Note(64, 480, 240, on_line(120))
    assert t[3] == Note(60, 1920, 240, on_line(480))
    assert t[1].velocity > t[3].velocity  # from loud to soft, left to right
    assert (t[0], t[2]) == (LEAD[0], LEAD[2])  # not selected: untouched, even under the line
    assert document.selection == {1, 3}


def test_a_ramp_with_nothing_selected_sets_every_note_in_reach(qtbot, roll, document):
    lane = roll.velocity
    before = snapshot(document)
    a, b = QPointF(60, y_for(20)), QPointF(300, y_for(120))  # stems 120 and 240 in reach; 0 and 480 not
    qtbot.mousePress(lane, Left, NoMod, a.toPoint())
    move(lane, (a + b) / 2)
    move(lane, b)
    qtbot.mouseRelease(lane, Left, NoMod, b.toPoint())
    after = assert_one_step(document, before, "Set velocity of 2 notes")
    t = after.tracks[0].notes
    assert (t[0], t[3]) == (LEAD[0], LEAD[3])
    assert t[1].velocity < t[2].velocity  # rising
    assert abs(t[1].velocity - 45) <= 2 and abs(t[2].velocity - 95) <= 2


def test_a_velocity_drag_is_one_step_on_another_track_too(qtbot, roll, document):
    document.set_active_track(1)  # bass: stems at x = 0 and 300
    lane = roll.velocity
    before = snapshot(document)
    qtbot.mousePress(lane, Left, NoMod, QPoint(300, y_for(80)))
    for y in range(y_for(80), y_for(110) - 1, -2):
        move(lane, QPointF(300, y))
    move(lane, QPointF(300, y_for(110)))
    qtbot.mouseRelease(lane, Left, NoMod, QPoint(300, y_for(110)))
    after = assert_one_step(document, before, "Set velocity of 1 note")
    assert after.tracks[1].notes[1].velocity == velocity_for(y_for(110))
    assert after.tracks[1].notes[0] == before.song.tracks[1].notes[0]
    assert after.tracks[0] is before.song.tracks[0]


# ----- keyboard ---------------------------------------------------------------------------


def key_point(roll, pitch: int) -> QPoint:
    return QPoint(20, point(roll, 0, pitch).y())


def test_pressing_a_key_sounds_it_until_released(qtbot, roll, document):
    board = roll.keyboard
    with qtbot.waitSignal(roll.keyPressed) as pressed:
        qtbot.mousePress(board, Left, NoMod, key_point(roll, 60))
    assert pressed.args == [60]
    with qtbot.waitSignal(roll.keyReleased) as released:
        qtbot.mouseRelease(board, Left, NoMod, key_point(roll, 60))
    assert released.args == [60]


def test_sliding_along_the_keys_releases_each_before_the_next(qtbot, roll, document):
    board = roll.keyboard
    events: list[tuple[str, int]] = []
    roll.keyPressed.connect(lambda p: events.append(("on", p)))
    roll.keyReleased.connect(lambda p: events.append(("off", p)))
    before = snapshot(document)
    qtbot.mousePress(board, Left, NoMod, key_point(roll, 62))
    move(board, key_point(roll, 62) + QPoint(3, 2))  # the same key: nothing new
    move(board, key_point(roll, 63))
    move(board, key_point(roll, 65))
    qtbot.mouseRelease(board, Left, NoMod, key_point(roll, 65))
    assert events == [("on", 62), ("off", 62), ("on", 63), ("off", 63), ("on", 65), ("off", 65)]
    assert_no_step(document, before)


def test_keyboard_menu_selects_all_notes_of_that_pitch(qtbot, roll, document):
    board = roll.keyboard
    seen: list[list[str]] = []

    def choose() -> None:
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        seen.append([a.text() for a in menu.actions()])
        chosen = [a for a in menu.actions() if a.text() == "Select All C4 Notes"]
        menu.close()
        for a in chosen:
            a.trigger()

    QTimer.singleShot(0, choose)
    pos = key_point(roll, 60)
    before = snapshot(document)
    with qtbot.waitSignal(board.selectPitchRequested) as requested:
        QApplication.sendEvent(board, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, board.mapToGlobal(pos)))
    assert seen == [["Select All C4 Notes"]]
    assert requested.args == [60]
    assert document.selection == {0, 3}  # both C4 notes of the lead
    assert_no_step(document, before)


def test_select_pitch_replaces_the_selection(roll, document):
    document.select({0, 2})
    roll.keyboard.selectPitchRequested.emit(64)
    assert document.selection == {1}
    roll.select_pitch(61)
    assert document.selection == frozenset()
    document.set_active_track(1)
    roll.select_pitch(55)
    assert document.selection == {1}
