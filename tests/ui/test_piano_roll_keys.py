"""The piano roll's keys and note operations: each key typed into the note area (through the
editor's actions and their shortcuts) or each operation run through the editor is one named
undo step; dialogs are answered by a fake."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop_app.music import edits
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track
from desktop_app.ui.piano_roll.state import Tool

from piano_roll_helpers import (  # noqa: F401  (document, roll: fixtures)
    LEAD,
    Ctrl,
    NoMod,
    Shift,
    assert_no_step,
    assert_one_step,
    document,
    key,
    leave,
    move,
    note_point,
    point,
    roll,
    snapshot,
)

K = Qt.Key


def audition_log(roll) -> list[tuple[int, int]]:
    heard: list[tuple[int, int]] = []
    roll.noteAuditioned.connect(lambda pitch, velocity: heard.append((pitch, velocity)))
    return heard


def hover(roll, tick: float, pitch: int) -> None:
    move(roll.area, point(roll, tick, pitch), buttons=Qt.MouseButton.NoButton)


# ----- transpose and nudge ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "mods", "semitones", "name"),
    [
        (K.Key_Up, NoMod, 1, "Transpose 2 notes up 1 semitone"),
        (K.Key_Down, NoMod, -1, "Transpose 2 notes down 1 semitone"),
        (K.Key_Up, Shift, 12, "Transpose 2 notes up an octave"),
        (K.Key_Down, Shift, -12, "Transpose 2 notes down an octave"),
    ],
)
def test_arrow_keys_transpose_the_selection(qtbot, roll, document, keys, mods, semitones, name):
    document.select({0, 2})
    heard = audition_log(roll)
    before = snapshot(document)
    key(qtbot, roll, keys, mods)
    after = assert_one_step(document, before, name, undo_selection={0, 2})
    t = after.tracks[0].notes
    assert t[0] == Note(60 + semitones, 0, 480, 100)
    assert t[2] == Note(67 + semitones, 960, 480, 80)
    assert (t[1], t[3]) == (LEAD[1], LEAD[3])
    assert document.selection == {0, 2}
    assert heard == [(60 + semitones, 100)]


def test_transpose_without_selection_does_nothing(qtbot, roll, document):
    heard = audition_log(roll)
    before = snapshot(document)
    key(qtbot, roll, K.Key_Up)
    key(qtbot, roll, K.Key_Down, Shift)
    assert_no_step(document, before)
    assert heard == []


def test_left_and_right_nudge_by_one_grid_step(qtbot, roll, document):
    document.select({1, 2})
    before = snapshot(document)
    key(qtbot, roll, K.Key_Right)
    after = assert_one_step(document, before, "Nudge 2 notes", undo_selection={1, 2})
    assert after.tracks[0].notes == (LEAD[0], Note(64, 600, 240, 90), Note(67, 1080, 480, 80), LEAD[3])

    before = snapshot(document)
    key(qtbot, roll, K.Key_Left)
    key(qtbot, roll, K.Key_Left)
    assert document.undo_stack.index() == before.index + 2
    assert document.song.tracks[0].notes == (LEAD[0], Note(64, 360, 240, 90), Note(67, 840, 480, 80), LEAD[3])


def test_nudge_follows_the_snap_choice(qtbot, roll, document):
    roll.snap_box.setCurrentIndex(roll.snap_box.findData("1/4"))
    assert roll.state.snap_choice == "1/4"
    document.select({3})
    before = snapshot(document)
    key(qtbot, roll, K.Key_Left)
    after = assert_one_step(document, before, "Nudge 1 note")
    assert after.tracks[0].notes[3] == Note(60, 1440, 240, 70)


def test_an_edit_that_changes_nothing_leaves_no_undo_step(qtbot, roll, document):
    document.select({0})  # LEAD[0] starts at tick 0: it cannot go earlier
    before = snapshot(document)
    key(qtbot, roll, K.Key_Left)
    assert_no_step(document, before)
    assert document.song.tracks[0].notes[0] == LEAD[0]


# ----- delete, select all, clipboard ------------------------------------------------------


@pytest.mark.parametrize("which", [K.Key_Delete, K.Key_Backspace])
def test_delete_removes_the_selected_notes(qtbot, roll, document, which):
    document.select({1, 3})
    before = snapshot(document)
    key(qtbot, roll, which)
    after = assert_one_step(document, before, "Delete 2 notes", undo_selection={1, 3})
    assert after.tracks[0].notes == (LEAD[0], LEAD[2])
    assert document.selection == frozenset()


def test_ctrl_a_selects_every_note_of_the_active_track(qtbot, roll, document):
    before = snapshot(document)
    key(qtbot, roll, K.Key_A, Ctrl)
    assert document.selection == {0, 1, 2, 3}
    assert_no_step(document, before)


def test_copy_then_paste_at_the_mouse(qtbot, roll, document):
    document.select({1, 2})  # E4 at 480, G4 at 960
    before = snapshot(document)
    key(qtbot, roll, K.Key_C, Ctrl)
    assert_no_step(document, before)
    hover(roll, 2652, 70)  # floors to the 1/16 line 2640
    key(qtbot, roll, K.Key_V, Ctrl)
    after = assert_one_step(document, before, "Paste 2 notes", undo_selection={1, 2})
    assert after.tracks[0].notes == LEAD + (Note(64, 2640, 240, 90), Note(67, 3120, 480, 80))
    assert document.selection == {4, 5}


def test_paste_goes_to_the_playhead_when_the_mouse_is_not_over_the_roll(qtbot, roll, document):
    document.select({0, 1})
    key(qtbot, roll, K.Key_C, Ctrl)
    hover(roll, 1000, 70)
    leave(roll.area)
    roll.state.set_playhead(3840)
    before = snapshot(document)
    key(qtbot, roll, K.Key_V, Ctrl)
    after = assert_one_step(document, before, "Paste 2 notes")
    assert after.tracks[0].notes == LEAD + (Note(60, 3840, 480, 100), Note(64, 4320, 240, 90))


def test_paste_with_an_empty_clipboard_does_nothing(qtbot, roll, document):
    before = snapshot(document)
    key(qtbot, roll, K.Key_V, Ctrl)
    assert_no_step(document, before)


def test_cut_removes_and_paste_brings_back(qtbot, roll, document):
    document.select({1})
    before = snapshot(document)
    key(qtbot, roll, K.Key_X, Ctrl)
    after = assert_one_step(document, before, "Cut 1 note", undo_selection={1})
    assert after.tracks[0].notes == (LEAD[0], LEAD[2], LEAD[3])
    assert document.selection == frozenset()

    roll.state.set_playhead(2400)
    before = snapshot(document)
    key(qtbot, roll, K.Key_V, Ctrl)
    after = assert_one_step(document, before, "Paste 1 note")
    assert after.tracks[0].notes == (LEAD[0], LEAD[2], LEAD[3], Note(64, 2400, 240, 90))


def test_ctrl_d_duplicates_right_after_the_selection(qtbot, roll, document):
    document.select({0, 1})  # 0..720
    before = snapshot(document)
    key(qtbot, roll, K.Key_D, Ctrl)
    after = assert_one_step(document, before, "Duplicate 2 notes", undo_selection={0, 1})
    assert after.tracks[0].notes == LEAD + (Note(60, 720, 480, 100), Note(64, 1200, 240, 90))
    assert document.selection == {4, 5}


def test_duplicate_rounds_the_span_up_to_whole_grid_steps(qtbot, roll, document):
    roll.state.set_snap("1/4")
    document.select({0, 1})  # spans 720 ticks: one and a half beats, so it repeats two beats on
    before = snapshot(document)
    key(qtbot, roll, K.Key_D, Ctrl)
    after = assert_one_step(document, before, "Duplicate 2 notes")
    assert after.tracks[0].notes[4:] == (Note(60, 960, 480, 100), Note(64, 1440, 240, 90))


# ----- tools ------------------------------------------------------------------------------


def test_number_keys_switch_tools(qtbot, roll):
    for digit, tool in ((K.Key_1, Tool.DRAW), (K.Key_3, Tool.ERASE), (K.Key_4, Tool.SPLIT),
                        (K.Key_5, Tool.GLUE), (K.Key_2, Tool.SELECT), (K.Key_4, Tool.SPLIT)):
        key(qtbot, roll, digit)
        assert roll.state.tool is tool
        assert roll.tool_actions[tool].isChecked()
        assert [t for t, a in roll.tool_actions.items() if a.isChecked()] == [tool]


def test_a_tool_key_changes_what_a_click_does(qtbot, roll, document):
    key(qtbot, roll, K.Key_3)
    before = snapshot(document)
    qtbot.mouseClick(roll.area, Qt.MouseButton.LeftButton, NoMod, note_point(roll, LEAD[3]))
    after = assert_one_step(document, before, "Erase 1 note")
    assert after.tracks[0].notes == LEAD[:3]


# ----- operations -------------------------------------------------------------------------

LOOSE = (Note(60, 10, 470, 100), Note(62, 250, 200, 90), Note(64, 530, 400, 80), Note(65, 1000, 300, 70))


@pytest.fixture
def loose(document):
    """The active track played by a person: nothing quite on the grid."""
    document.load(Song(tracks=(Track(name="Keys", notes=LOOSE), Track(name="Other", notes=(Note(40, 0, 100),)))), None)
    return document


class FakeDialogs:
    """Answers the operation dialogs with set values and records what they were asked."""

    def __init__(self, quantize=None, humanize=None, velocity=None) -> None:
        self.answers = {"quantize": quantize, "humanize": humanize, "velocity": velocity}
        self.asked: list[tuple] = []

    def quantize(self, default_division: str):
        self.asked.append(("quantize", default_division))
        return self.answers["quantize"]

    def humanize(self):
        self.asked.append(("humanize",))
        return self.answers["humanize"]

    def velocity(self, current: int):
        self.asked.append(("velocity", current))
        return self.answers["velocity"]


def action(roll, text: str):
    found = [a for a in roll.edit_actions if a.text() == text]
    assert len(found) == 1, [a.text() for a in roll.edit_actions]
    return found[0]


def test_quantize_method_moves_every_start_to_the_grid_when_nothing_is_selected(roll, loose):
    before = snapshot(loose)
    roll.quantize("1/8")
    after = assert_one_step(loose, before, "Quantize 4 notes")
    assert after.tracks[0].notes == (Note(60, 0, 470, 100), Note(62, 240, 200, 90),
                                     Note(64, 480, 400, 80), Note(65, 960, 300, 70))
    assert after.tracks[1] is before.song.tracks[1]


def test_quantize_method_with_ends_and_selection(roll, loose):
    loose.select({1})
    before = snapshot(loose)
    roll.quantize("1/8", 1.0, starts=True, ends=True)
    after = assert_one_step(loose, before, "Quantize 1 note")
    assert after.tracks[0].notes == (LOOSE[0], Note(62, 240, 240, 90), LOOSE[2], LOOSE[3])


def test_quantize_action_asks_the_dialog(qtbot, roll, loose):
    roll.dialogs = FakeDialogs(quantize={"division": "1/16", "strength": 0.5, "starts": True, "ends": False})
    before = snapshot(loose)
    key(qtbot, roll, K.Key_Q)
    assert roll.dialogs.asked == [("quantize", "1/16")]
    after = assert_one_step(loose, before, "Quantize 4 notes")
    assert [n.start for n in after.tracks[0].notes] == [5, 245, 505, 980]  # halfway to 0, 240, 480, 960
    assert [n.duration for n in after.tracks[0].notes] == [n.duration for n in LOOSE]


def test_quantize_action_offers_the_snap_division(roll, loose):
    roll.state.set_snap("1/8T")
    roll.dialogs = FakeDialogs(quantize=None)
    before = snapshot(loose)
    action(roll, "Quantize…").trigger()
    assert roll.dialogs.asked == [("quantize", "1/8T")]
    assert_no_step(loose, before)  # cancelled


def test_humanize_method_and_action(qtbot, roll, loose):
    before = snapshot(loose)
    roll.humanize(20, 10, seed=7)
    after = assert_one_step(loose, before, "Humanize 4 notes")
    assert after.tracks[0].notes == edits.humanize(before.song.tracks[0], None, 20, 10, 7).notes
    for old, new in zip(LOOSE, after.tracks[0].notes):
        assert abs(new.start - old.start) <= 20 and abs(new.velocity - old.velocity) <= 10
        assert (new.pitch, new.duration) == (old.pitch, old.duration)

    loose.select({2, 3})
    roll.dialogs = FakeDialogs(humanize={"timing": 30, "velocity": 5, "seed": 3})
    before = snapshot(loose)
    key(qtbot, roll, K.Key_H)
    assert roll.dialogs.asked == [("humanize",)]
    again = assert_one_step(loose, before, "Humanize 2 notes")
    assert again.tracks[0].notes == edits.humanize(after.tracks[0], [2, 3], 30, 5, 3).notes
    assert again.tracks[0].notes[:2] == after.tracks[0].notes[:2]
    assert again.tracks[0].notes[2:] != after.tracks[0].notes[2:]


def test_humanize_action_cancelled_does_nothing(qtbot, roll, loose):
    roll.dialogs = FakeDialogs(humanize=None)
    before = snapshot(loose)
    key(qtbot, roll, K.Key_H)
    assert roll.dialogs.asked == [("humanize",)]
    assert_no_step(loose, before)


def test_set_velocity_method_and_action(qtbot, roll, loose):
    loose.select({0, 2})
    before = snapshot(loose)
    roll.set_velocity(33)
    after = assert_one_step(loose, before, "Set velocity of 2 notes")
    assert [n.velocity for n in after.tracks[0].notes] == [33, 90, 33, 70]

    loose.select({1, 3})
    roll.dialogs = FakeDialogs(velocity=120)
    before = snapshot(loose)
    key(qtbot, roll, K.Key_V)
    assert roll.dialogs.asked == [("velocity", 90)]  # offered the first chosen note's velocity
    after = assert_one_step(loose, before, "Set velocity of 2 notes")
    assert [n.velocity for n in after.tracks[0].notes] == [33, 120, 33, 120]


def test_set_velocity_keeps_to_the_midi_range(roll, loose):
    before = snapshot(loose)
    roll.set_velocity(300)
    after = assert_one_step(loose, before, "Set velocity of 4 notes")
    assert {n.velocity for n in after.tracks[0].notes} == {127}


def test_legato_method_and_action(qtbot, roll, loose):
    before = snapshot(loose)
    roll.legato()
    after = assert_one_step(loose, before, "Legato 4 notes")
    assert [n.duration for n in after.tracks[0].notes] == [240, 280, 470, 300]  # the last has nothing after it
    assert [n.start for n in after.tracks[0].notes] == [n.start for n in LOOSE]

    loose.undo_stack.undo()
    loose.select({1})
    before = snapshot(loose)
    key(qtbot, roll, K.Key_L)
    after = assert_one_step(loose, before, "Legato 1 note")
    assert after.tracks[0].notes == (LOOSE[0], Note(62, 250, 280, 90), LOOSE[2], LOOSE[3])
