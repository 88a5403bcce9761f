"""The track-list panel: real clicks and keys change the document, each change is exactly one
undo step, and the rows follow the document without making edits of their own."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QContextMenuEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QMenu

from desktop_app.music import edits
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import DRUM_CHANNEL, Track
from desktop_app.ui.colours import TRACK_COLOURS, palette_colour, track_colour
from desktop_app.ui.document import Document
from desktop_app.ui.song_overview import RULER_HEIGHT, SongOverview
from desktop_app.ui.track_list import (
    COL_COLOUR,
    COL_NAME,
    DRUM_INDEX,
    TrackListPanel,
    new_track_name,
)

# --- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def band() -> Song:
    return Song(
        tracks=(
            Track(name="Lead", program=73, channel=0, notes=(Note(72, 0, 480, 96),)),
            Track(name="Bass", program=32, channel=1, notes=(Note(36, 0, 960, 80), Note(38, 960, 480, 80))),
            Track(name="Drums", is_drum=True, channel=DRUM_CHANNEL, notes=(Note(36, 0, 120, 100),)),
            Track(name="Pad", program=88, channel=2, color="#123456"),
        ),
        title="band",
    )


class Chooser:
    """Answers the colour question with `answer` and records the colour it was offered."""

    def __init__(self) -> None:
        self.answer: QColor | None = QColor("#abcdef")
        self.offered: list[str] = []

    def __call__(self, current: QColor) -> QColor | None:
        self.offered.append(current.name())
        return self.answer


@pytest.fixture
def chooser() -> Chooser:
    return Chooser()


@pytest.fixture
def document(qtbot, band: Song) -> Document:
    doc = Document()
    doc.load(band, None)
    return doc


@pytest.fixture
def panel(qtbot, document: Document, chooser: Chooser) -> TrackListPanel:
    p = TrackListPanel(document, choose_colour=chooser)
    qtbot.addWidget(p)
    p.resize(700, 320)
    p.show()
    qtbot.waitExposed(p)
    return p


def cell_centre(panel: TrackListPanel, row: int, col: int = COL_NAME) -> QPoint:
    return panel.table.visualRect(panel.table.model().index(row, col)).center()


def click_row(qtbot, panel: TrackListPanel, row: int, col: int = COL_NAME) -> None:
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=cell_centre(panel, row, col))


def click_button(qtbot, panel: TrackListPanel, key: str) -> None:
    qtbot.mouseClick(panel.buttons[key], Qt.MouseButton.LeftButton)


def double_click_row(qtbot, panel: TrackListPanel, row: int, col: int = COL_NAME) -> None:
    """What a mouse sends: a click, then the double click (QTest sends only the latter)."""
    click_row(qtbot, panel, row, col)
    qtbot.mouseDClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=cell_centre(panel, row, col))


def names(document: Document) -> list[str]:
    return [t.name for t in document.song.tracks]


def one_undo_step(document: Document, act: Callable[[], None], name: str | None = None) -> Song:
    """Run `act`; check it pushed exactly one step (called `name`) that undo and redo reverse
    exactly. Returns the song after the step, with the step done."""
    before, before_active, steps = document.song, document.active_track, document.undo_stack.count()
    act()
    assert document.undo_stack.count() == steps + 1
    after, after_active = document.song, document.active_track
    assert after != before
    if name is not None:
        assert document.undo_stack.text(steps) == name
    document.undo_stack.undo()
    assert document.song == before and document.active_track == before_active
    document.undo_stack.redo()
    assert document.song == after and document.active_track == after_active
    assert document.undo_stack.count() == steps + 1  # undo and redo re-showed rows, edited nothing
    return after


def shown_names(panel: TrackListPanel) -> list[str]:
    return [panel.table.item(r, COL_NAME).text() for r in range(panel.table.rowCount())]


def assert_rows_match(panel: TrackListPanel) -> None:
    """Every row shows its track, and the active track is the current row."""
    song = panel.document.song
    assert panel.table.rowCount() == len(song.tracks)
    assert shown_names(panel) == [t.name for t in song.tracks]
    for row, track in enumerate(song.tracks):
        combo, mute, solo = panel.row_widgets(row)
        assert combo.currentIndex() == (DRUM_INDEX if track.is_drum else track.program)
        assert (mute.isChecked(), solo.isChecked()) == (track.mute, track.solo)
        swatch = panel.table.item(row, COL_COLOUR).data(Qt.ItemDataRole.UserRole)
        assert swatch == track_colour(track, row).name()
    if song.tracks:
        assert panel.table.currentRow() == panel.document.active_track


# --- showing the song ------------------------------------------------------------------------


def test_one_row_per_track(panel, document):
    assert_rows_match(panel)
    assert shown_names(panel) == ["Lead", "Bass", "Drums", "Pad"]
    assert panel.row_widgets(2)[0].currentText() == "Drum Kit"
    assert panel.row_widgets(0)[0].currentText() == "Flute"
    assert panel.row_widgets(0)[0].count() == 129
    assert document.undo_stack.count() == 0  # building the table edited nothing


def test_every_control_has_a_tooltip(panel):
    for button in panel.buttons.values():
        assert button.toolTip()
    for action in panel.context_menu().actions():
        assert action.isSeparator() or action.toolTip()
    assert panel.table.toolTip()
    for row in range(panel.table.rowCount()):
        for widget in panel.row_widgets(row):
            assert widget.toolTip()
        for col in (COL_COLOUR, COL_NAME):
            assert panel.table.item(row, col).toolTip()


def test_clicking_a_row_makes_its_track_active(qtbot, panel, document):
    document.select([0])
    click_row(qtbot, panel, 1)
    assert document.active_track == 1 and document.selection == frozenset()
    click_row(qtbot, panel, 3, COL_COLOUR)
    assert document.active_track == 3
    qtbot.keyClick(panel.table, Qt.Key.Key_Up)
    assert document.active_track == 2
    assert document.undo_stack.count() == 0  # choosing a track is not an edit


def test_the_current_row_follows_the_document(panel, document):
    document.set_active_track(2)
    assert panel.table.currentRow() == 2
    document.apply("Rename", document.song.with_track(0, Track(name="Solo")), active_track=3)
    assert panel.table.currentRow() == 3
    document.undo_stack.undo()
    assert panel.table.currentRow() == 2
    assert_rows_match(panel)


# --- add, delete, reorder --------------------------------------------------------------------


def test_add_track_goes_after_the_active_one_and_becomes_active(qtbot, panel, document):
    click_row(qtbot, panel, 1)
    document.select([0, 1])
    after = one_undo_step(document, lambda: click_button(qtbot, panel, "add"), "Add track")
    assert names(document) == ["Lead", "Bass", "Track 5", "Drums", "Pad"]
    new = after.tracks[2]
    assert new.channel == 3 and not new.notes and not new.is_drum  # channels 0, 1, 2 and 9 are taken
    assert document.active_track == 2 and document.selection == frozenset()
    assert_rows_match(panel)


def test_add_track_to_an_empty_song(qtbot, panel, document):
    document.load(Song(), None)
    assert panel.table.rowCount() == 0
    assert not panel.buttons["delete"].isEnabled()
    one_undo_step(document, lambda: click_button(qtbot, panel, "add"))
    assert document.song.tracks == (Track(name="Track 1", channel=0),)
    assert document.active_track == 0
    assert_rows_match(panel)


def test_new_track_names_are_free():
    assert new_track_name(Song()) == "Track 1"
    assert new_track_name(Song(tracks=(Track(name="Track 2"), Track(name="Track 3")))) == "Track 4"
    assert new_track_name(Song(tracks=(Track(name="A"),))) == "Track 2"


def test_delete_the_active_track(qtbot, panel, document):
    click_row(qtbot, panel, 1)
    document.select([0, 1])
    one_undo_step(
        document, lambda: click_button(qtbot, panel, "delete"), "Delete track “Bass”"
    )
    assert names(document) == ["Lead", "Drums", "Pad"]
    assert document.active_track == 1  # the next track takes its place
    assert document.selection == frozenset()  # Bass's selected notes are not the Drums' notes
    assert_rows_match(panel)
    document.undo_stack.undo()
    assert names(document) == ["Lead", "Bass", "Drums", "Pad"] and document.active_track == 1
    assert_rows_match(panel)


def test_deleting_the_last_row_activates_the_one_above(qtbot, panel, document):
    click_row(qtbot, panel, 3)
    click_button(qtbot, panel, "delete")
    assert names(document) == ["Lead", "Bass", "Drums"] and document.active_track == 2
    assert_rows_match(panel)


def test_delete_every_track(qtbot, panel, document):
    for _ in range(4):
        click_button(qtbot, panel, "delete")
    assert document.song.tracks == () and panel.table.rowCount() == 0
    assert document.undo_stack.count() == 4
    assert not panel.buttons["delete"].isEnabled()
    click_button(qtbot, panel, "delete")  # disabled: nothing happens
    assert document.undo_stack.count() == 4


def test_move_up_and_down(qtbot, panel, document):
    click_row(qtbot, panel, 1)
    document.select([1])
    one_undo_step(
        document, lambda: click_button(qtbot, panel, "up"), "Move track “Bass” up"
    )
    assert names(document) == ["Bass", "Lead", "Drums", "Pad"]
    assert document.active_track == 0 and document.selection == frozenset({1})  # still Bass, same notes
    assert not panel.buttons["up"].isEnabled()
    assert_rows_match(panel)
    for _ in range(3):
        click_button(qtbot, panel, "down")
    assert names(document) == ["Lead", "Drums", "Pad", "Bass"] and document.active_track == 3
    assert document.undo_stack.text(document.undo_stack.count() - 1) == "Move track “Bass” down"
    assert not panel.buttons["down"].isEnabled()
    assert_rows_match(panel)


def test_a_moved_track_with_no_colour_of_its_own_keeps_the_colour_it_had(qtbot, panel, document):
    click_row(qtbot, panel, 0)
    click_button(qtbot, panel, "down")
    swatch = panel.table.item(1, COL_COLOUR).data(Qt.ItemDataRole.UserRole)
    assert swatch == palette_colour(0).name()
    assert panel.table.item(0, COL_COLOUR).data(Qt.ItemDataRole.UserRole) == palette_colour(1).name()
    assert panel.table.item(3, COL_COLOUR).data(Qt.ItemDataRole.UserRole) == "#123456"  # Pad keeps its own


# --- settings --------------------------------------------------------------------------------


def test_rename_with_double_click_and_typing(qtbot, panel, document, band):
    def rename() -> None:
        double_click_row(qtbot, panel, 1)
        editor = QApplication.focusWidget()
        assert isinstance(editor, QLineEdit) and editor.text() == "Bass"
        editor.selectAll()
        qtbot.keyClicks(editor, "Fretless")
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: document.undo_stack.count() == 1)  # the view commits on the next loop

    click_row(qtbot, panel, 1)
    one_undo_step(document, rename, "Rename track to “Fretless”")
    assert names(document) == ["Lead", "Fretless", "Drums", "Pad"]
    assert document.song.tracks[1] == replace(band.tracks[1], name="Fretless")
    assert_rows_match(panel)


def test_rename_with_f2_from_any_column(qtbot, panel, document):
    click_row(qtbot, panel, 2, COL_COLOUR)
    qtbot.keyClick(panel.table, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and editor.text() == "Drums"
    editor.selectAll()
    qtbot.keyClicks(editor, "Kit")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: document.undo_stack.count() == 1)
    assert names(document) == ["Lead", "Bass", "Kit", "Pad"]
    assert document.undo_stack.text(0) == "Rename track to “Kit”"


@pytest.mark.parametrize("typed", ["", "   ", "Bass"])
def test_an_empty_or_unchanged_name_is_no_edit(qtbot, panel, document, typed):
    click_row(qtbot, panel, 1)
    qtbot.keyClick(panel.table, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    qtbot.keyClicks(editor, typed)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not isinstance(QApplication.focusWidget(), QLineEdit))
    qtbot.wait(20)
    assert document.undo_stack.count() == 0
    assert shown_names(panel)[1] == "Bass"


def test_mute_and_solo_checkboxes(qtbot, panel, document):
    _, mute, solo = panel.row_widgets(1)
    one_undo_step(document, lambda: qtbot.mouseClick(mute, Qt.MouseButton.LeftButton), "Mute “Bass”")
    assert document.song.tracks[1].mute and mute.isChecked()
    one_undo_step(document, lambda: qtbot.mouseClick(mute, Qt.MouseButton.LeftButton), "Unmute “Bass”")
    assert not document.song.tracks[1].mute and not mute.isChecked()
    _, _, solo0 = panel.row_widgets(0)
    one_undo_step(document, lambda: qtbot.mouseClick(solo0, Qt.MouseButton.LeftButton), "Solo “Lead”")
    assert document.song.tracks[0].solo and not document.song.tracks[1].solo
    one_undo_step(document, lambda: qtbot.mouseClick(solo0, Qt.MouseButton.LeftButton), "Unsolo “Lead”")
    assert document.active_track == 0  # a row's checkbox does not switch tracks
    assert document.undo_stack.count() == 4


def test_undoing_a_mute_unticks_the_box_without_an_edit(qtbot, panel, document):
    _, mute, _ = panel.row_widgets(3)
    qtbot.mouseClick(mute, Qt.MouseButton.LeftButton)
    document.undo_stack.undo()
    assert not mute.isChecked() and not document.song.tracks[3].mute
    assert document.undo_stack.count() == 1 and document.undo_stack.index() == 0  # the redo is still there


def test_change_instrument(panel, document):
    combo, _, _ = panel.row_widgets(1)
    one_undo_step(document, lambda: combo.setCurrentIndex(42), "Change instrument of “Bass” to Cello")
    bass = document.song.tracks[1]
    assert (bass.program, bass.channel, bass.is_drum) == (42, 1, False)
    assert bass.notes == (Note(36, 0, 960, 80), Note(38, 960, 480, 80))


def test_drum_kit_plays_on_channel_10(panel, document):
    combo, _, _ = panel.row_widgets(0)
    one_undo_step(document, lambda: combo.setCurrentIndex(DRUM_INDEX), "Change instrument of “Lead” to Drum Kit")
    lead = document.song.tracks[0]
    assert lead.is_drum and lead.channel == DRUM_CHANNEL and lead.midi_channel == DRUM_CHANNEL
    assert combo.currentText() == "Drum Kit"


def test_leaving_the_drum_kit_takes_a_free_channel(panel, document, band):
    combo, _, _ = panel.row_widgets(2)
    one_undo_step(
        document, lambda: combo.setCurrentIndex(0), "Change instrument of “Drums” to Acoustic Grand Piano"
    )
    drums = document.song.tracks[2]
    assert (drums.is_drum, drums.program, drums.channel) == (False, 0, 3)  # 0, 1 and 2 are taken
    assert drums.notes == band.tracks[2].notes


def test_the_wheel_over_an_unfocused_instrument_changes_nothing(panel, document):
    combo, _, _ = panel.row_widgets(1)
    centre = QPointF(combo.rect().center())
    wheel = QWheelEvent(
        centre, QPointF(combo.mapToGlobal(centre)), QPoint(), QPoint(0, -120),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )
    QApplication.sendEvent(combo, wheel)
    assert combo.currentIndex() == 32 and document.undo_stack.count() == 0


# --- colour ----------------------------------------------------------------------------------


def test_change_colour_with_the_chooser(panel, document, chooser):
    document.set_active_track(1)
    chooser.answer = QColor(255, 0, 128)
    one_undo_step(document, panel.colour_action.trigger, "Change colour of “Bass”")
    assert chooser.offered == [TRACK_COLOURS[1]]  # it starts from the colour shown
    assert document.song.tracks[1].color == "#ff0080"
    assert_rows_match(panel)


def test_double_clicking_the_swatch_changes_that_tracks_colour(qtbot, panel, document, chooser):
    double_click_row(qtbot, panel, 3, COL_COLOUR)
    assert chooser.offered == ["#123456"]
    assert document.active_track == 3 and document.song.tracks[3].color == "#abcdef"
    assert document.undo_stack.count() == 1 and document.undo_stack.text(0) == "Change colour of “Pad”"
    assert not isinstance(QApplication.focusWidget(), QLineEdit)  # no name editor opened


@pytest.mark.parametrize("answer", [None, QColor()])
def test_a_cancelled_chooser_changes_nothing(panel, document, chooser, answer):
    chooser.answer = answer
    panel.colour_action.trigger()
    assert document.undo_stack.count() == 0 and chooser.offered == [TRACK_COLOURS[0]]


def test_reset_colour(panel, document):
    document.set_active_track(3)
    assert panel.reset_colour_action.isEnabled()
    one_undo_step(document, panel.reset_colour_action.trigger, "Reset colour of “Pad”")
    assert document.song.tracks[3].color == ""
    assert not panel.reset_colour_action.isEnabled()


def test_right_click_menu_acts_on_the_clicked_row(qtbot, panel, document, chooser):
    seen: list[str] = []

    def pick() -> None:
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        actions = {a.text(): a for a in menu.actions() if not a.isSeparator()}
        seen.extend(actions)
        menu.close()
        actions["Change colour…"].trigger()

    QTimer.singleShot(0, pick)
    pos = cell_centre(panel, 2)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, panel.table.viewport().mapToGlobal(pos))
    QApplication.sendEvent(panel.table.viewport(), event)
    qtbot.waitUntil(lambda: document.undo_stack.count() == 1)
    assert {"Add track", "Delete track", "Move up", "Move down", "Rename…", "Change colour…"} <= set(seen)
    assert document.active_track == 2 and document.song.tracks[2].color == "#abcdef"
    assert document.undo_stack.text(0) == "Change colour of “Drums”"


# --- following outside changes ---------------------------------------------------------------


def test_outside_edits_and_undo_rebuild_the_rows_without_edits(panel, document, band):
    renamed = document.song.with_track(1, Track(name="Tuba", program=58, channel=1, mute=True, solo=True))
    document.apply("Replace bass", renamed)
    assert_rows_match(panel)
    document.apply("Drop a track", edits.remove_track(document.song, 0), active_track=2)
    assert_rows_match(panel)
    document.apply("Add two", edits.insert_track(edits.insert_track(document.song, 0, Track(name="X")), 0, Track()))
    assert_rows_match(panel)
    assert document.undo_stack.count() == 3
    while document.undo_stack.canUndo():
        document.undo_stack.undo()
        assert_rows_match(panel)
    assert document.song == band and document.undo_stack.count() == 3
    while document.undo_stack.canRedo():
        document.undo_stack.redo()
        assert_rows_match(panel)
    assert document.undo_stack.count() == 3 and document.undo_stack.index() == 3


def test_loading_another_song_rebuilds_the_rows(panel, document):
    document.load(Song(tracks=(Track(name="Only", program=5, color="#00ff00"),)), None)
    assert_rows_match(panel)
    assert document.undo_stack.count() == 0


# --- colours shared with the overview --------------------------------------------------------


def test_track_colour_prefers_the_tracks_own():
    assert track_colour(Track(color="#102030"), 5).name() == "#102030"
    assert track_colour(Track(), 1).name() == TRACK_COLOURS[1]
    assert track_colour(Track(), len(TRACK_COLOURS)).name() == TRACK_COLOURS[0]


def test_the_overview_paints_a_tracks_own_colour(qtbot):
    overview = SongOverview()
    qtbot.addWidget(overview)
    overview.resize(600, 200)
    overview.set_song(Song(tracks=(Track(name="A", color="#ff0000"), Track(name="B"))))
    image = overview.grab().toImage()
    lane = overview.lane_rect(1).height()
    assert image.pixelColor(2, RULER_HEIGHT + lane // 2).name() == "#ff0000"
    assert image.pixelColor(2, RULER_HEIGHT + lane + lane // 2).name() == TRACK_COLOURS[1]
