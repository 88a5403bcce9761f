"""Editor comfort (issue 9): a file opens at its start with no old loop; the overview scrolls
through many tracks and its labels fit; track names are not cut while the instrument has room;
tracks keep their colours through add, delete and move; selected notes stand out on every track
colour; hovering a note names it; every keyboard row is named when tall enough; muted tracks look
muted; the window's default size fits its screen and the roll keeps two octaves beside the
spectrogram, whose read-out shows everything it measures."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QApplication

from desktop_app.music.midi_io import write_midi
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track
from desktop_app.ui.colours import TRACK_COLOURS, track_colour
from desktop_app.ui.piano_roll import PianoRoll
from desktop_app.ui.song_overview import HEADER_WIDTH, RULER_HEIGHT, SongOverview
from desktop_app.ui.track_list import COL_INSTRUMENT, COL_NAME, TrackListPanel

from piano_roll_helpers import Left, NoMod, drag, move, wheel

STAVES = ("Flute", "Oboe", "Clarinet in Bb", "Bassoon", "French Horn in F", "Trumpet in C", "Timpani",
          "Violin I (divisi a 2)", "Violin II", "Viola", "Violoncello", "Contrabass")


def staves_song(n: int = 12) -> Song:
    """`n` tracks, each with a bar of quarter notes on its own pitch."""
    tracks = tuple(Track(name=STAVES[k % len(STAVES)], program=k * 5, channel=k % 9,
                         notes=tuple(Note(48 + 2 * k + i, i * 480, 480, 90) for i in range(4)))
                   for k in range(n))
    return Song(ppq=480, tracks=tracks, title="staves")


def hue_distance(a: QColor, b: QColor) -> int:
    """Degrees between two colours' hues (0..180)."""
    d = abs(a.hsvHue() - b.hsvHue()) % 360
    return min(d, 360 - d)


def wait_loaded(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.loading is None, timeout=60_000)


def pixel(widget, pos: QPoint) -> QColor:
    return widget.grab().toImage().pixelColor(pos)


# ----- 1. opening a file starts at its beginning ------------------------------------------


def test_opening_a_file_resets_the_playhead_and_clears_the_old_loop(qtbot, window, tmp_path):
    window.open_demo()
    qtbot.waitUntil(lambda: not window.piano_roll._fit_pending)
    ruler = window.piano_roll.ruler
    vp = window.piano_roll.viewport
    qtbot.mouseClick(ruler, Left, NoMod, QPoint(int(vp.tick_to_x(8448)), 10))  # playhead late in the song
    drag(qtbot, ruler, QPoint(int(vp.tick_to_x(1920)), 10), QPoint(int(vp.tick_to_x(3840)), 10))  # a loop
    state = window.piano_roll.state
    assert state.playhead > 0 and state.loop is not None
    path = tmp_path / "short.mid"
    write_midi(staves_song(2), path)
    window.dialogs.open_answer = str(path)
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)  # File ▸ Open…
    wait_loaded(qtbot, window)
    assert window.document.song.tracks[0].name == "Flute"
    assert state.playhead == 0 and state.loop is None
    assert window.transport.position.text().startswith("1:1:000")


def test_new_song_starts_at_the_beginning_too(qtbot, window):
    window.open_demo()
    window.piano_roll.state.set_playhead(5000)
    window.piano_roll.state.set_loop((0, 1920))
    window.act_new.trigger()
    assert window.piano_roll.state.playhead == 0 and window.piano_roll.state.loop is None


# ----- 2. and 4. the overview scrolls, and its labels fit ---------------------------------


@pytest.fixture
def overview(qtbot):
    view = SongOverview()
    qtbot.addWidget(view)
    view.resize(700, 150)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_the_overview_scrolls_through_twelve_tracks_with_the_wheel(qtbot, overview):
    overview.set_song(staves_song(12))
    activated = []
    overview.trackActivated.connect(activated.append)
    bottom = QPoint(HEADER_WIDTH + 50, overview.height() - 4)
    qtbot.mouseClick(overview, Left, NoMod, bottom)
    assert activated and activated[-1] < 11  # the last lanes are out of sight at first
    for _ in range(12):
        wheel(overview, bottom, dy=-120)
    qtbot.mouseClick(overview, Left, NoMod, bottom)
    assert activated[-1] == 11  # scrolled to the end: the last track's lane is under the mouse
    for _ in range(12):
        wheel(overview, bottom, dy=120)
    qtbot.mouseClick(overview, Left, NoMod, QPoint(HEADER_WIDTH + 50, RULER_HEIGHT + 3))
    assert activated[-1] == 0


def test_the_overview_scroll_bar_reaches_every_lane(qtbot, overview):
    overview.set_song(staves_song(12))
    bar = overview.scrollbar
    assert bar.isVisible() and bar.maximum() > 0
    bar.setValue(bar.maximum())
    last = overview.lane_rect(11)
    assert RULER_HEIGHT <= last.top() and last.bottom() <= overview.height()
    # Notes are drawn scrolled with their lanes: the last track's colour shows in its lane.
    image = overview.grab().toImage()
    row = [image.pixelColor(x, y).name() for y in range(last.top(), last.bottom())
           for x in range(HEADER_WIDTH, HEADER_WIDTH + 200)]
    assert track_colour(overview._song.tracks[11], 11).name() in {QColor(c).name() for c in row} or any(
        hue_distance(QColor(c), track_colour(overview._song.tracks[11], 11)) < 10 and QColor(c).saturation() > 60
        for c in row)


def test_a_song_that_fits_has_no_scroll_bar(overview):
    overview.set_song(staves_song(3))
    assert not overview.scrollbar.isVisible()


def test_selecting_a_track_elsewhere_scrolls_its_lane_into_view(overview):
    overview.set_song(staves_song(12))
    overview.set_active_track(10)
    lane = overview.lane_rect(10)
    assert RULER_HEIGHT <= lane.top() and lane.bottom() <= overview.height()


def label_rows(overview, index: int) -> list[int]:
    """Pixel rows of lane `index`'s header that hold text (dark pixels right of the colour strip)."""
    image = overview.grab().toImage()
    lane = overview.lane_rect(index)
    rows = []
    for y in range(max(lane.top(), RULER_HEIGHT), min(lane.bottom(), overview.height())):
        if any(image.pixelColor(x, y).lightness() < 110 for x in range(12, HEADER_WIDTH - 6)):
            rows.append(y)
    return rows


def test_overview_labels_stay_inside_their_lanes_on_one_line_each(qtbot, overview):
    long = Track(name="Violin I (divisi a 2) with a very long staff name", program=40,
                 notes=(Note(60, 0, 480, 90),))
    overview.resize(700, 400)
    overview.set_song(Song(tracks=(long, Track(name="Viola", program=41, notes=(Note(55, 0, 480, 90),)))))
    lane = overview.lane_rect(0)
    rows = label_rows(overview, 0)
    assert rows and lane.top() < rows[0] and rows[-1] < lane.bottom()
    # Two lines (name; instrument and notes), each cut with an ellipsis: no wrapped third line.
    line = QFontMetrics(overview.font()).height()
    assert rows[-1] - rows[0] <= 2 * line


def test_a_short_lane_shows_its_name_without_clipping(qtbot, overview):
    overview.set_song(staves_song(12))
    for index in range(3):
        lane = overview.lane_rect(index)
        rows = label_rows(overview, index)
        if lane.bottom() >= overview.height():
            break
        assert rows and lane.top() < rows[0] and rows[-1] < lane.bottom(), index


# ----- 4. the track list gives names the room they need -----------------------------------


def test_track_names_are_not_cut_while_the_instrument_column_has_room(qtbot):
    from desktop_app.ui.document import Document

    document = Document()
    document.load(staves_song(12), None)
    panel = TrackListPanel(document, choose_colour=lambda c: None)
    qtbot.addWidget(panel)
    panel.resize(380, 500)
    panel.show()
    qtbot.waitExposed(panel)
    QApplication.processEvents()
    table = panel.table
    metrics = table.fontMetrics()
    name_width = table.columnWidth(COL_NAME)
    for row, name in enumerate(STAVES):
        assert metrics.horizontalAdvance(name) + 8 <= name_width, (name, name_width)
    assert table.columnWidth(COL_INSTRUMENT) >= 100
    assert not table.wordWrap()  # a name never breaks over two lines


def test_a_name_too_long_for_the_panel_leaves_the_instrument_its_room(qtbot):
    from desktop_app.ui.document import Document

    document = Document()
    document.load(Song(tracks=(Track(name="An extremely long track name that no panel could show whole " * 2),)), None)
    panel = TrackListPanel(document, choose_colour=lambda c: None)
    qtbot.addWidget(panel)
    panel.resize(340, 300)
    panel.show()
    qtbot.waitExposed(panel)
    QApplication.processEvents()
    table = panel.table
    assert table.columnWidth(COL_INSTRUMENT) >= 100
    assert sum(table.columnWidth(c) for c in range(table.columnCount())) <= table.viewport().width() + 1


# ----- 5. a track keeps its colour --------------------------------------------------------


def shown_colours(panel: TrackListPanel) -> dict[str, str]:
    song = panel.document.song
    return {t.name: track_colour(t, i).name() for i, t in enumerate(song.tracks)}


@pytest.fixture
def track_panel(qtbot):
    from desktop_app.ui.document import Document

    document = Document()
    document.load(staves_song(4), None)
    panel = TrackListPanel(document, choose_colour=lambda c: None)
    qtbot.addWidget(panel)
    panel.resize(360, 300)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_tracks_keep_their_colours_when_tracks_are_added_deleted_and_moved(qtbot, track_panel):
    panel, document = track_panel, track_panel.document
    before = shown_colours(panel)
    assert len(set(before.values())) == 4
    document.set_active_track(0)
    qtbot.mouseClick(panel.buttons["add"], Left)  # a new track after the first
    after_add = shown_colours(panel)
    assert {k: after_add[k] for k in before} == before
    new = document.song.tracks[1]
    assert after_add[new.name] not in before.values()  # the new track has a colour of its own
    document.set_active_track(2)
    qtbot.mouseClick(panel.buttons["up"], Left)
    qtbot.mouseClick(panel.buttons["up"], Left)
    assert shown_colours(panel) == after_add
    document.set_active_track(0)
    qtbot.mouseClick(panel.buttons["delete"], Left)
    assert shown_colours(panel) == {k: v for k, v in after_add.items() if k in shown_colours(panel)}
    assert len(document.song.tracks) == 4
    # The swatches in the list say the same.
    for row, track in enumerate(document.song.tracks):
        assert panel.table.item(row, 0).data(Qt.ItemDataRole.UserRole) == after_add[track.name]
    # One undo step each, and undo gives the old colours back.
    document.undo_stack.undo()
    assert shown_colours(panel) == after_add


# ----- 6. selected notes stand out on every track colour ----------------------------------


@pytest.fixture
def colour_roll(qtbot):
    from desktop_app.ui.document import Document

    tracks = tuple(Track(name=f"T{k}", channel=k, notes=(Note(60, 0, 480, 100), Note(62, 0, 480, 100)))
                   for k in range(len(TRACK_COLOURS)))
    document = Document()
    document.load(Song(tracks=tracks), None)
    roll = PianoRoll(document)
    qtbot.addWidget(roll)
    roll.resize(800, 500)
    roll.show()
    qtbot.waitExposed(roll)
    roll.viewport.fit(0, 1920, 55, 70)
    return roll


def note_centre(roll, note: Note) -> QPoint:
    vp = roll.viewport
    return QPoint(int(vp.tick_to_x(note.start + note.duration / 2)), int(vp.pitch_to_y(note.pitch) + vp.key_height / 2))


@pytest.mark.parametrize("index", range(len(TRACK_COLOURS)))
def test_selected_notes_stand_out_on_every_track_colour(qtbot, colour_roll, index):
    roll = colour_roll
    roll.document.set_active_track(index)
    track = roll.document.song.tracks[index]
    chosen, plain = track.notes
    qtbot.mouseClick(roll.area, Left, NoMod, note_centre(roll, chosen))  # select it with the mouse
    assert roll.document.selection == {0}
    image = roll.area.grab().toImage()
    selected_colour = image.pixelColor(note_centre(roll, chosen))
    plain_colour = image.pixelColor(note_centre(roll, plain))
    assert hue_distance(selected_colour, plain_colour) >= 60, (TRACK_COLOURS[index], selected_colour.name(),
                                                               plain_colour.name())


def test_the_alto_tracks_selection_is_not_orange(qtbot, colour_roll):
    roll = colour_roll
    roll.document.set_active_track(1)  # the second track: orange by default, like the old selection
    qtbot.mouseClick(roll.area, Left, NoMod, note_centre(roll, roll.document.song.tracks[1].notes[0]))
    colour = roll.area.grab().toImage().pixelColor(note_centre(roll, roll.document.song.tracks[1].notes[0]))
    assert hue_distance(colour, QColor("#f1a24e")) >= 60


# ----- 8. muted tracks look muted ---------------------------------------------------------


def test_ghost_notes_of_a_muted_track_are_fainter_than_those_of_a_playing_one(qtbot, colour_roll):
    roll = colour_roll
    document = roll.document
    song = document.song
    shifted = Track(name="Other", channel=9, notes=(Note(65, 0, 480, 100),))
    document.load(song.with_tracks([song.tracks[0], song.tracks[1], shifted]), None)
    roll.viewport.fit(0, 1920, 55, 70)
    QApplication.processEvents()
    ghost = note_centre(roll, shifted.notes[0])
    empty = QPoint(int(roll.viewport.width * 0.9), ghost.y())  # the same row, with no note
    before = roll.area.grab().toImage().pixelColor(ghost).lightness()
    panel = TrackListPanel(document, choose_colour=lambda c: None)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.mouseClick(panel.row_widgets(2)[1], Left)  # the Mute box of "Other"
    assert document.song.tracks[2].mute
    QApplication.processEvents()
    image = roll.area.grab().toImage()
    after, background = image.pixelColor(ghost).lightness(), image.pixelColor(empty).lightness()
    assert after > before + 40  # much paler...
    assert after < background  # ...but still there


def test_the_overview_greys_out_a_muted_track(qtbot, overview):
    song = staves_song(3)
    overview.set_song(song)
    lane = overview.lane_rect(1)

    def lane_saturation() -> float:
        image = overview.grab().toImage()
        values = [image.pixelColor(x, y).hsvSaturation() for y in range(lane.top(), lane.bottom())
                  for x in range(HEADER_WIDTH, overview.width() - 20) if image.pixelColor(x, y).hsvSaturation() > 0]
        return max(values, default=0)

    assert lane_saturation() > 100
    overview.set_song(song.with_track(1, replace(song.tracks[1], mute=True)))
    assert lane_saturation() < 40
    assert overview.lane_rect(0).height() == lane.height()


# ----- 9. --help lists every command ------------------------------------------------------


def test_help_lists_every_subcommand_with_a_line_each(capsys):
    import argparse

    from desktop_app import cli

    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    sub = next(a for a in cli._command_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert len(sub.choices) >= 4
    lines = text.splitlines()
    for name in sub.choices:
        listed = [line for line in lines if line.split()[:2] == ["desktop-app", name]]
        assert len(listed) == 1, (name, text)
        assert len(listed[0].split()) > 3  # with a description


# ----- 7. hovering a note names it; the keyboard names every row --------------------------


@pytest.fixture
def hover_roll(qtbot):
    from desktop_app.ui.document import Document

    lead = Track(name="Lead", notes=(Note(60, 0, 480, 100), Note(64, 480, 240, 90), Note(67, 1080, 300, 80)))
    bass = Track(name="Bass", channel=1, notes=(Note(48, 0, 960, 70),))
    document = Document()
    document.load(Song(ppq=480, tracks=(lead, bass)), None)
    roll = PianoRoll(document)
    qtbot.addWidget(roll)
    roll.resize(900, 500)
    roll.show()
    qtbot.waitExposed(roll)
    roll.viewport.fit(0, 1920, 44, 70)
    return roll


def hover(roll, pos: QPoint) -> None:
    move(roll.area, pos, buttons=Qt.MouseButton.NoButton)


def test_hovering_a_note_names_its_pitch_position_length_and_velocity(qtbot, hover_roll):
    roll = hover_roll
    seen = []
    roll.noteHovered.connect(seen.append)
    hover(roll, note_centre(roll, Note(64, 480, 240, 90)))
    assert seen[-1] == "E4 · bar 1:2 · eighth (240 ticks) · velocity 90"
    hover(roll, note_centre(roll, Note(67, 1080, 300, 80)))
    assert seen[-1] == "G4 · bar 1:3:120 · 300 ticks · velocity 80"
    hover(roll, note_centre(roll, Note(48, 0, 960, 70)))  # another track's ghost note
    assert seen[-1] == "Bass: C3 · bar 1:1 · half (960 ticks) · velocity 70"
    hover(roll, QPoint(int(roll.viewport.width * 0.95), 5))  # nothing there
    assert seen[-1] == ""


def test_the_window_shows_the_hovered_note_in_the_status_bar(qtbot, window):
    window.open_demo()
    qtbot.waitUntil(lambda: not window.piano_roll._fit_pending)
    roll = window.piano_roll
    track = window.document.song.tracks[window.document.active_track]
    note = track.notes[0]
    hover(roll, note_centre(roll, note))
    message = window.statusBar().currentMessage()
    from desktop_app.music.gm import pitch_name

    assert message.startswith(pitch_name(note.pitch) + " · bar ") and f"velocity {note.velocity}" in message
    hover(roll, QPoint(int(roll.viewport.width - 3), 2))
    assert window.statusBar().currentMessage() != message


def test_the_tooltip_over_a_note_says_the_same(qtbot, hover_roll):
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip

    roll = hover_roll
    pos = note_centre(roll, Note(60, 0, 480, 100))
    QApplication.sendEvent(roll.area, QHelpEvent(QHelpEvent.Type.ToolTip, pos, roll.area.mapToGlobal(pos)))
    qtbot.waitUntil(QToolTip.isVisible)
    assert QToolTip.text() == "C4 · bar 1:1 · quarter (480 ticks) · velocity 100"
    QToolTip.hideText()


def text_pixels(keyboard, pitch: int) -> int:
    """Dark pixels in the white part of `pitch`'s key, right of where black keys end."""
    image = keyboard.grab().toImage()
    vp = keyboard.viewport
    top, bottom = int(vp.pitch_to_y(pitch)) + 2, int(vp.pitch_to_y(pitch) + vp.key_height) - 2
    return sum(1 for y in range(top, bottom) for x in range(int(keyboard.width() * 0.66), keyboard.width() - 3)
               if image.pixelColor(x, y).lightness() < 120)


def test_the_keyboard_names_every_row_when_rows_are_tall_enough(qtbot, hover_roll):
    roll = hover_roll
    keyboard = roll.keyboard
    roll.viewport.fit(0, 1920, 55, 70)  # 18 rows: tall ones
    assert roll.viewport.key_height >= 14
    lo, hi = roll.viewport.visible_pitches
    assert keyboard.labelled_pitches() == list(range(lo, hi + 1))
    for pitch in (62, 63, 64, 66):  # D4, D#4, E4, F#4
        assert text_pixels(keyboard, pitch) > 5, pitch
    roll.viewport.fit(0, 1920, 20, 100)  # short rows: only the Cs are named
    assert roll.viewport.key_height < 11
    assert all(p % 12 == 0 for p in keyboard.labelled_pitches())


# ----- 3. the window fits its screen; roll and spectrogram share it -----------------------


def test_the_default_window_size_fits_the_screen_it_opens_on(make_window):
    from desktop_app.ui.window_layout import default_window_size

    window = make_window()
    screen = window.screen().availableGeometry()
    assert window.width() <= screen.width() and window.height() <= screen.height()
    assert window.width() >= 0.8 * min(screen.width(), 1680)
    for w, h in ((1920, 1080), (1600, 900), (1366, 768), (2560, 1440), (1024, 700)):
        size = default_window_size(QRect(0, 0, w, h))
        assert size.width() <= w and size.height() <= h
        assert size.width() >= min(w, 960) and size.height() >= min(h, 640)


@pytest.mark.parametrize("screen", [(1920, 1080), (1600, 900)])
def test_with_the_spectrogram_open_the_roll_keeps_two_octaves(qtbot, make_window, screen):
    from desktop_app.audio import spectrogram as sg
    from desktop_app.ui.window_layout import default_window_size

    window = make_window()
    window.resize(default_window_size(QRect(0, 0, *screen)))
    window.show()
    qtbot.waitExposed(window)
    window.open_demo()
    qtbot.waitUntil(lambda: not window.piano_roll._fit_pending)
    rate = 22_050
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(rate * 4) / rate)).astype(np.float32)
    panel = window.spectrogram
    panel.view.set_spectrogram(sg.compute(tone, rate, sg.MELODIC_RANGE))
    window.docks["spectrogram"].show()
    vp = window.piano_roll.viewport
    qtbot.waitUntil(lambda: panel.view.isVisible() and vp.height / vp.key_height >= 24, timeout=5000)
    QApplication.processEvents()
    assert vp.height / vp.key_height >= 24
    assert vp.key_height >= 9  # rows that read well
    assert panel.view.height() >= 120
    # The read-out shows all it measures, the level in dB included.
    view = panel.view
    rect = view.image_rect()
    pos = QPoint(int(rect.center().x()), int(rect.center().y()))
    with qtbot.waitSignal(view.readout):
        move(view, pos, buttons=Qt.MouseButton.NoButton)
    text = panel.readout.text()
    assert text.endswith(" dB") and " Hz " in text
    assert panel.readout.fontMetrics().horizontalAdvance(text) <= panel.readout.contentsRect().width()
