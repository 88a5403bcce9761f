"""Shared set-up for the piano-roll tests: a small known song, a shown PianoRoll with a fixed
viewport mapping, real mouse / key / wheel events, and a check that an edit was one undo step.

Mapping used by every test (unless a test changes it): 4 ticks per pixel, 14 px per pitch row,
tick 0 at x = 0 and pitch 80 as the boundary at y = 0 (so pitch 79 is the top row). At 480 PPQ
the default 1/16 snap is 120 ticks = 30 px; a quarter note is 120 px wide.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QWidget

from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track
from desktop_app.ui.document import Document
from desktop_app.ui.piano_roll import PianoRoll
from desktop_app.ui.piano_roll.state import Tool


NoMod = Qt.KeyboardModifier.NoModifier
Ctrl = Qt.KeyboardModifier.ControlModifier
Shift = Qt.KeyboardModifier.ShiftModifier
Alt = Qt.KeyboardModifier.AltModifier
Left = Qt.MouseButton.LeftButton

TICKS_PER_PX = 4.0
KEY_HEIGHT = 14.0
TOP = 80.0

# Track 0 ("Lead", the active one), indices as in the tuple.
LEAD = (
    Note(60, 0, 480, 100),  # 0: C4, beat 1
    Note(64, 480, 240, 90),  # 1: E4, beat 2 (an eighth)
    Note(67, 960, 480, 80),  # 2: G4, beat 3
    Note(60, 1920, 240, 70),  # 3: C4 again, bar 2
)
BASS = (Note(52, 0, 960, 80), Note(55, 1200, 480, 80))  # track 1, drawn as ghosts
PAD = (Note(72, 2400, 960, 60),)  # track 2


def make_song() -> Song:
    return Song(
        ppq=480,
        tracks=(
            Track(name="Lead", program=0, channel=0, notes=LEAD),
            Track(name="Bass", program=32, channel=1, notes=BASS),
            Track(name="Pad", program=88, channel=2, notes=PAD),
        ),
        title="roll",
    )


def set_mapping(roll: PianoRoll, ticks_per_px: float = TICKS_PER_PX, key_height: float = KEY_HEIGHT,
                left_tick: float = 0.0, top: float = TOP) -> None:
    vp = roll.viewport
    vp.ticks_per_px = ticks_per_px
    vp.key_height = key_height
    vp.left_tick = left_tick
    vp.top = top
    vp._clamp()
    vp.changed.emit()
    assert (vp.ticks_per_px, vp.key_height, vp.left_tick, vp.top) == (ticks_per_px, key_height, left_tick, top)


@pytest.fixture
def document(qtbot) -> Document:
    doc = Document()
    doc.load(make_song(), None)
    return doc


@pytest.fixture
def roll(qtbot, document: Document) -> PianoRoll:
    r = PianoRoll(document)
    qtbot.addWidget(r)
    r.resize(1000, 600)
    r.show()
    qtbot.waitExposed(r)
    r.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is r)
    QApplication.processEvents()
    set_mapping(roll=r)
    r.area.setFocus()
    qtbot.waitUntil(r.area.hasFocus)
    return r


# ----- positions --------------------------------------------------------------------------


def point(roll: PianoRoll, tick: float, pitch: float) -> QPoint:
    """The pixel of the note area at `tick`, in the middle of row `pitch`."""
    vp = roll.viewport
    return QPoint(round(vp.tick_to_x(tick)), round(vp.pitch_to_y(pitch) + vp.key_height / 2))


def note_point(roll: PianoRoll, note: Note, fraction: float = 0.5) -> QPoint:
    """A point inside `note`'s body, `fraction` of the way from its start to its end."""
    return point(roll, note.start + fraction * note.duration, note.pitch)


def right_edge(roll: PianoRoll, note: Note) -> QPoint:
    return QPoint(round(roll.viewport.tick_to_x(note.end)) - 2, note_point(roll, note).y())


def left_edge(roll: PianoRoll, note: Note) -> QPoint:
    return QPoint(round(roll.viewport.tick_to_x(note.start)) + 2, note_point(roll, note).y())


# ----- events -----------------------------------------------------------------------------


def move(widget: QWidget, pos: QPoint | QPointF, buttons=Left, modifiers=NoMod) -> None:
    """A mouse move carrying the held buttons and modifiers (qtbot.mouseMove carries neither)."""
    local = QPointF(pos)
    event = QMouseEvent(QEvent.Type.MouseMove, local, QPointF(widget.mapToGlobal(local)),
                        Qt.MouseButton.NoButton, buttons, modifiers)
    QApplication.sendEvent(widget, event)


def drag(qtbot, widget: QWidget, start: QPoint, end: QPoint, modifiers=NoMod, steps: int = 6) -> None:
    """Press at `start`, move there in `steps` moves, release at `end`."""
    qtbot.mousePress(widget, Left, modifiers, start)
    for k in range(1, steps + 1):
        move(widget, QPointF(start) + (QPointF(end) - QPointF(start)) * (k / steps), modifiers=modifiers)
    qtbot.mouseRelease(widget, Left, modifiers, end)


def wheel(widget: QWidget, pos: QPoint, dy: int = 120, dx: int = 0, modifiers=NoMod) -> None:
    local = QPointF(pos)
    event = QWheelEvent(local, QPointF(widget.mapToGlobal(local)), QPoint(0, 0), QPoint(dx, dy),
                        Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def key(qtbot, roll: PianoRoll, key: Qt.Key, modifiers=NoMod) -> None:
    """A key typed into the note area, which has focus, as a person would."""
    roll.area.setFocus()
    qtbot.keyClick(roll.area, key, modifiers)


def leave(widget: QWidget) -> None:
    QApplication.sendEvent(widget, QEvent(QEvent.Type.Leave))


def use_tool(roll: PianoRoll, tool: Tool) -> None:
    roll.state.set_tool(tool)
    assert roll.state.tool is tool


# ----- undo checks ------------------------------------------------------------------------


@dataclass
class Before:
    song: Song
    selection: frozenset[int]
    active_track: int
    index: int  # undo steps done so far (steps undone and not redone do not count)


def snapshot(doc: Document) -> Before:
    return Before(doc.song, doc.selection, doc.active_track, doc.undo_stack.index())


def notes(doc: Document, track: int | None = None) -> tuple[Note, ...]:
    return doc.song.tracks[doc.active_track if track is None else track].notes


def assert_one_step(doc: Document, before: Before, name: str, undo_selection: frozenset[int] | set[int] | None = None) -> Song:
    """The edit was exactly one undo step called `name`; undo gives back exactly the song before
    (and the active track, and `undo_selection` when given: a click that starts a gesture may
    select before the step begins), redo exactly the song after with its selection. Returns the
    song after."""
    stack = doc.undo_stack
    assert stack.index() == before.index + 1, [stack.text(i) for i in range(stack.count())]
    assert stack.count() == stack.index()
    assert stack.undoText() == name
    after, after_selection = doc.song, doc.selection
    assert after is not before.song and after != before.song
    stack.undo()
    assert doc.song is before.song
    if undo_selection is not None:
        assert doc.selection == undo_selection
    assert doc.active_track == before.active_track
    stack.redo()
    assert doc.song is after
    assert doc.selection == after_selection
    return after


def assert_no_step(doc: Document, before: Before) -> None:
    assert doc.undo_stack.index() == before.index, [doc.undo_stack.text(i) for i in range(doc.undo_stack.count())]
    assert doc.song is before.song
