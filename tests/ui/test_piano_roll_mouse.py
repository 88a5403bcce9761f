"""The piano roll's note area under real mouse gestures: every tool's click and drag turns into
exactly one undo step on the document (or none, for selection and track switching)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF

from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track
from desktop_app.ui.piano_roll.state import Tool

from piano_roll_helpers import (  # noqa: F401  (document, roll: fixtures)
    BASS,
    LEAD,
    PAD,
    Alt,
    Ctrl,
    Left,
    NoMod,
    Shift,
    assert_no_step,
    assert_one_step,
    document,
    drag,
    left_edge,
    move,
    note_point,
    point,
    right_edge,
    roll,
    snapshot,
    use_tool,
)


def audition_log(roll) -> list[tuple[int, int]]:
    heard: list[tuple[int, int]] = []
    roll.noteAuditioned.connect(lambda pitch, velocity: heard.append((pitch, velocity)))
    return heard


# ----- draw -------------------------------------------------------------------------------


def test_draw_click_adds_a_note_of_the_last_used_length_at_the_snapped_position(qtbot, roll, document):
    use_tool(roll, Tool.DRAW)
    roll.state.note_length = 360
    heard = audition_log(roll)
    before = snapshot(document)
    qtbot.mouseClick(roll.area, Left, NoMod, point(roll, 1452, 62))  # 1452 floors to the 1/16 line 1440
    after = assert_one_step(document, before, "Add note")
    assert after.tracks[0].notes == LEAD + (Note(62, 1440, 360, 100),)
    assert after.tracks[1:] == before.song.tracks[1:]
    assert document.selection == {4}
    assert heard == [(62, 100)]


def test_draw_drag_sets_the_length_and_the_next_click_reuses_it(qtbot, roll, document):
    use_tool(roll, Tool.DRAW)
    heard = audition_log(roll)
    before = snapshot(document)
    drag(qtbot, roll.area, point(roll, 2900, 65), point(roll, 3100, 65))  # start 2880, end rounds to 3120
    after = assert_one_step(document, before, "Add note")
    assert after.tracks[0].notes == LEAD + (Note(65, 2880, 240, 100),)
    assert roll.state.note_length == 240
    assert heard == [(65, 100)]

    before = snapshot(document)
    qtbot.mouseClick(roll.area, Left, NoMod, point(roll, 2500, 70))
    after = assert_one_step(document, before, "Add note")
    assert after.tracks[0].notes[-1] == Note(70, 2400, 240, 100)


def test_draw_drag_with_alt_ignores_the_grid(qtbot, roll, document):
    use_tool(roll, Tool.DRAW)
    before = snapshot(document)
    drag(qtbot, roll.area, point(roll, 2900, 65), point(roll, 3100, 65), modifiers=Alt)
    after = assert_one_step(document, before, "Add note")
    assert after.tracks[0].notes[-1] == Note(65, 2900, 200, 100)


# ----- move -------------------------------------------------------------------------------


def test_drag_moves_a_note_by_whole_grid_steps(qtbot, roll, document):
    g4 = LEAD[2]  # 960..1440
    heard = audition_log(roll)
    before = snapshot(document)
    start = point(roll, 1100, g4.pitch)
    drag(qtbot, roll.area, start, start + QPoint(63, 0))  # 252 ticks: rounds to two 1/16 steps
    after = assert_one_step(document, before, "Move 1 note")
    moved = after.tracks[0].notes[2]
    assert moved == Note(67, 1200, 480, 80)
    assert moved.start % 120 == 0
    assert after.tracks[0].notes[:2] + after.tracks[0].notes[3:] == LEAD[:2] + LEAD[3:]
    assert document.selection == {2}
    assert heard == []  # same pitch: nothing to hear


def test_drag_with_alt_moves_to_the_exact_tick(qtbot, roll, document):
    before = snapshot(document)
    start = point(roll, 1100, 67)
    drag(qtbot, roll.area, start, start + QPoint(13, 0), modifiers=Alt)  # 52 ticks, off the grid
    after = assert_one_step(document, before, "Move 1 note")
    assert after.tracks[0].notes[2] == Note(67, 1012, 480, 80)


def test_vertical_drag_changes_pitch_and_auditions_each_new_pitch(qtbot, roll, document):
    heard = audition_log(roll)
    before = snapshot(document)
    start = note_point(roll, LEAD[2])
    drag(qtbot, roll.area, start, start - QPoint(1, 3 * 14), steps=9)
    after = assert_one_step(document, before, "Move 1 note")
    assert after.tracks[0].notes[2] == Note(70, 960, 480, 80)
    assert heard, "moving to a new pitch sounds it"
    assert heard[-1] == (70, 80)
    assert [p for p, _ in heard] == sorted(set(p for p, _ in heard))  # each new pitch once, going up
    assert all(v == 80 for _, v in heard)


def test_dragging_one_of_several_selected_notes_moves_them_all(qtbot, roll, document):
    document.select({0, 1})
    before = snapshot(document)
    start = note_point(roll, LEAD[1])
    drag(qtbot, roll.area, start, start + QPoint(120, -14))  # a beat later, a semitone up
    after = assert_one_step(document, before, "Move 2 notes")
    assert after.tracks[0].notes == (Note(61, 480, 480, 100), Note(65, 960, 240, 90), LEAD[2], LEAD[3])
    assert document.selection == {0, 1}


def test_a_drag_is_one_command_however_many_moves(qtbot, roll, document):
    before = snapshot(document)
    start = note_point(roll, LEAD[2])
    qtbot.mousePress(roll.area, Left, NoMod, start)
    for k in range(1, 41):
        move(roll.area, QPointF(start) + QPointF(3 * k, -(k % 5)))
        assert document.undo_stack.index() == before.index
        assert document.song is before.song  # the document waits for the release
    qtbot.mouseRelease(roll.area, Left, NoMod, start + QPoint(120, 0))
    after = assert_one_step(document, before, "Move 1 note")
    assert after.tracks[0].notes[2] == Note(67, 1440, 480, 80)


def test_click_without_moving_selects_but_changes_nothing(qtbot, roll, document):
    before = snapshot(document)
    qtbot.mouseClick(roll.area, Left, NoMod, note_point(roll, LEAD[1]))
    assert document.selection == {1}
    start = note_point(roll, LEAD[2])
    drag(qtbot, roll.area, start, start + QPoint(2, 0))  # under the drag threshold
    assert document.selection == {2}
    assert_no_step(document, before)


# ----- resize -----------------------------------------------------------------------------


def test_drag_right_edge_resizes_to_the_grid(qtbot, roll, document):
    heard = audition_log(roll)
    before = snapshot(document)
    edge = right_edge(roll, LEAD[0])  # C4 0..480
    drag(qtbot, roll.area, edge, edge + QPoint(50, 0))  # edge at 680 rounds to 720
    after = assert_one_step(document, before, "Resize 1 note")
    assert after.tracks[0].notes == (Note(60, 0, 720, 100),) + LEAD[1:]
    assert roll.state.note_length == 720
    assert heard == [(60, 100)]


def test_drag_left_edge_moves_the_start_and_keeps_the_end(qtbot, roll, document):
    heard = audition_log(roll)
    before = snapshot(document)
    edge = left_edge(roll, LEAD[2])  # G4 960..1440
    drag(qtbot, roll.area, edge, edge + QPoint(40, 0))  # start 960 + 160 rounds to 1080
    after = assert_one_step(document, before, "Resize 1 note")
    assert after.tracks[0].notes[2] == Note(67, 1080, 360, 80)
    assert after.tracks[0].notes[2].end == LEAD[2].end
    assert heard == [(67, 80)]


def test_resizing_one_of_several_selected_notes_snaps_the_grabbed_edge(qtbot, roll, document):
    """With an off-grid note selected too, the edge under the mouse is the one that lands on
    the grid, and the grabbed note gives the new last-used length."""
    lead = (Note(60, 0, 470, 100), Note(64, 480, 240, 90), Note(67, 960, 480, 80))
    document.load(Song(tracks=(Track(name="Lead", notes=lead),)), None)
    document.select({0, 2})
    heard = audition_log(roll)
    before = snapshot(document)
    edge = right_edge(roll, lead[2])  # 1440
    drag(qtbot, roll.area, edge, edge + QPoint(28, 0))  # 1440 + 112 rounds to 1560
    after = assert_one_step(document, before, "Resize 2 notes")
    assert after.tracks[0].notes[2] == Note(67, 960, 600, 80)
    assert after.tracks[0].notes[0] == Note(60, 0, 590, 100)  # moved by the same amount
    assert roll.state.note_length == 600
    assert heard == [(67, 80)]


# ----- selection --------------------------------------------------------------------------


def test_rubber_band_selects_the_notes_it_touches(qtbot, roll, document):
    document.select({0})
    before = snapshot(document)
    drag(qtbot, roll.area, point(roll, 400, 69), point(roll, 1000, 63))
    assert document.selection == {1, 2}
    assert_no_step(document, before)


def test_rubber_band_with_shift_adds_to_the_selection(qtbot, roll, document):
    document.select({0})
    before = snapshot(document)
    drag(qtbot, roll.area, point(roll, 1800, 62), point(roll, 2000, 59), modifiers=Shift)
    assert document.selection == {0, 3}
    assert_no_step(document, before)


def test_rubber_band_with_ctrl_toggles(qtbot, roll, document):
    document.select({1, 2})
    before = snapshot(document)
    drag(qtbot, roll.area, point(roll, 1300, 68), point(roll, 2000, 59), modifiers=Ctrl)
    assert document.selection == {1, 3}  # 2 toggled off, 3 on
    assert_no_step(document, before)


def test_ctrl_click_toggles_a_note(qtbot, roll, document):
    document.select({0})
    before = snapshot(document)
    qtbot.mouseClick(roll.area, Left, Ctrl, note_point(roll, LEAD[2]))
    assert document.selection == {0, 2}
    qtbot.mouseClick(roll.area, Left, Ctrl, note_point(roll, LEAD[0]))
    assert document.selection == {2}
    qtbot.mouseClick(roll.area, Left, Shift, note_point(roll, LEAD[3]))
    assert document.selection == {2, 3}
    qtbot.mouseClick(roll.area, Left, NoMod, note_point(roll, LEAD[1]))
    assert document.selection == {1}
    assert_no_step(document, before)


def test_ctrl_drag_duplicates_the_selection(qtbot, roll, document):
    document.select({0, 1})
    before = snapshot(document)
    start = note_point(roll, LEAD[1])
    drag(qtbot, roll.area, start, start + QPoint(120, 0), modifiers=Ctrl)  # one beat later
    after = assert_one_step(document, before, "Duplicate 2 notes")
    assert after.tracks[0].notes == LEAD + (Note(60, 480, 480, 100), Note(64, 960, 240, 90))
    assert document.selection == {4, 5}


# ----- delete and erase -------------------------------------------------------------------


def test_double_click_deletes_a_note(qtbot, roll, document):
    before = snapshot(document)
    qtbot.mouseDClick(roll.area, Left, NoMod, note_point(roll, LEAD[1]))
    after = assert_one_step(document, before, "Delete note")
    assert after.tracks[0].notes == (LEAD[0], LEAD[2], LEAD[3])
    assert document.selection == frozenset()


def test_double_click_on_empty_space_deletes_nothing(qtbot, roll, document):
    before = snapshot(document)
    qtbot.mouseDClick(roll.area, Left, NoMod, point(roll, 1700, 70))
    assert_no_step(document, before)


def test_erase_click_removes_the_note(qtbot, roll, document):
    use_tool(roll, Tool.ERASE)
    document.select({1, 2})
    before = snapshot(document)
    qtbot.mouseClick(roll.area, Left, NoMod, note_point(roll, LEAD[2]))
    after = assert_one_step(document, before, "Erase 1 note")
    assert after.tracks[0].notes == (LEAD[0], LEAD[1], LEAD[3])


def test_erase_drag_removes_every_note_it_crosses(qtbot, roll, document):
    use_tool(roll, Tool.ERASE)
    before = snapshot(document)
    drag(qtbot, roll.area, point(roll, 100, 60), point(roll, 2000, 60), steps=12)
    after = assert_one_step(document, before, "Erase 2 notes")
    assert after.tracks[0].notes == (LEAD[1], LEAD[2])


def test_erase_drag_from_empty_space(qtbot, roll, document):
    use_tool(roll, Tool.ERASE)
    before = snapshot(document)
    drag(qtbot, roll.area, point(roll, 1600, 60), point(roll, 2000, 60))
    after = assert_one_step(document, before, "Erase 1 note")
    assert after.tracks[0].notes == LEAD[:3]


def test_erase_click_on_empty_space_changes_nothing(qtbot, roll, document):
    use_tool(roll, Tool.ERASE)
    before = snapshot(document)
    qtbot.mouseClick(roll.area, Left, NoMod, point(roll, 1600, 60))
    assert_no_step(document, before)


# ----- split and glue ---------------------------------------------------------------------


def test_split_cuts_a_note_at_the_nearest_grid_line(qtbot, roll, document):
    use_tool(roll, Tool.SPLIT)
    before = snapshot(document)
    qtbot.mouseClick(roll.area, Left, NoMod, point(roll, 260, 60))  # C4 0..480, cut at 240
    after = assert_one_step(document, before, "Split note")
    assert after.tracks[0].notes == (Note(60, 0, 240, 100),) + LEAD[1:] + (Note(60, 240, 240, 100),)
    assert document.selection == {0, 4}


def test_split_with_alt_cuts_at_the_exact_tick(qtbot, roll, document):
    use_tool(roll, Tool.SPLIT)
    before = snapshot(document)
    qtbot.mouseClick(roll.area, Left, Alt, point(roll, 1100, 67))
    after = assert_one_step(document, before, "Split note")
    assert after.tracks[0].notes[2] == Note(67, 960, 140, 80)
    assert after.tracks[0].notes[4] == Note(67, 1100, 340, 80)


def test_split_on_empty_space_changes_nothing(qtbot, roll, document):
    use_tool(roll, Tool.SPLIT)
    before = snapshot(document)
    qtbot.mouseClick(roll.area, Left, NoMod, point(roll, 1600, 60))
    assert_no_step(document, before)


def test_glue_joins_a_note_with_the_next_of_its_pitch(qtbot, roll, document):
    use_tool(roll, Tool.GLUE)
    before = snapshot(document)
    qtbot.mouseClick(roll.area, Left, NoMod, note_point(roll, LEAD[0]))  # C4 at 0 and C4 at 1920
    after = assert_one_step(document, before, "Glue notes")
    assert after.tracks[0].notes == (Note(60, 0, 2160, 100), LEAD[1], LEAD[2])
    assert document.selection == {0}


def test_glue_selects_the_joined_note_when_the_later_note_comes_first_in_the_list(qtbot, roll, document):
    lead = (Note(62, 960, 240, 70), Note(70, 0, 240, 90), Note(62, 0, 480, 100))
    document.load(Song(tracks=(Track(name="Lead", notes=lead),)), None)
    use_tool(roll, Tool.GLUE)
    before = snapshot(document)
    qtbot.mouseClick(roll.area, Left, NoMod, note_point(roll, lead[2]))
    after = assert_one_step(document, before, "Glue notes")
    assert after.tracks[0].notes == (Note(70, 0, 240, 90), Note(62, 0, 1200, 100))
    assert document.selection == {1}  # the joined note, not the one that took its old index


def test_glue_without_a_later_note_changes_nothing(qtbot, roll, document):
    use_tool(roll, Tool.GLUE)
    before = snapshot(document)
    qtbot.mouseClick(roll.area, Left, NoMod, note_point(roll, LEAD[2]))
    assert_no_step(document, before)


# ----- ghost notes ------------------------------------------------------------------------


def test_clicking_another_tracks_note_switches_to_that_track(qtbot, roll, document):
    before = snapshot(document)
    qtbot.mouseClick(roll.area, Left, NoMod, note_point(roll, BASS[1]))
    assert document.active_track == 1
    assert document.selection == {1}
    qtbot.mouseClick(roll.area, Left, NoMod, note_point(roll, PAD[0]))
    assert document.active_track == 2
    assert document.selection == {0}
    assert_no_step(document, before)


def test_after_switching_the_new_tracks_notes_are_edited(qtbot, roll, document):
    qtbot.mouseClick(roll.area, Left, NoMod, note_point(roll, BASS[1]))
    assert document.active_track == 1
    before = snapshot(document)
    start = note_point(roll, BASS[1])
    drag(qtbot, roll.area, start, start + QPoint(0, 14))  # a semitone down
    after = assert_one_step(document, before, "Move 1 note")
    assert after.tracks[1].notes == (BASS[0], Note(54, 1200, 480, 80))
    assert after.tracks[0] is before.song.tracks[0]
