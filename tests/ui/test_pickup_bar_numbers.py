"""Bar numbers as the score prints them: a chorale opening with a pickup shows bar 0 before its
first barline in the roll's ruler, the song overview and the transport's position."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF
from PySide6.QtGui import QPainter

import desktop_app.ui.piano_roll.ruler as ruler_module
import desktop_app.ui.song_overview as overview_module
from desktop_app.music.musicxml_io import read_musicxml
from desktop_app.ui.song_overview import HEADER_WIDTH

from piano_roll_helpers import Left, NoMod, set_mapping

corpus = pytest.importorskip("music21.corpus")
CHORALE = "bach/bwv66.6"  # a quarter-note pickup, then 4/4: barlines at 480, 2400, 4320 ...


class RecordingPainter(QPainter):
    """A QPainter that notes every text drawn at a point, to read what a widget shows."""

    texts: list[tuple[float, str]] = []

    def drawText(self, *args):
        if len(args) == 2 and isinstance(args[0], (QPoint, QPointF)):
            RecordingPainter.texts.append((float(args[0].x()), str(args[1])))
        return super().drawText(*args)


@pytest.fixture
def recording(monkeypatch):
    RecordingPainter.texts = []
    monkeypatch.setattr(ruler_module, "QPainter", RecordingPainter)
    monkeypatch.setattr(overview_module, "QPainter", RecordingPainter)
    return RecordingPainter.texts


def wait_loaded(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.loading is None, timeout=60_000)


@pytest.fixture
def chorale_window(qtbot, window):
    window.resize(1600, 1000)
    assert window.open_file(corpus.getWork(CHORALE))
    wait_loaded(qtbot, window)
    qtbot.waitUntil(lambda: not window.piano_roll._fit_pending)
    assert window.document.song.meter.first_bar == 0
    return window


def labels_at(texts, xs: list[float], slack: float = 4.0) -> list[str]:
    """The text drawn nearest each x (within `slack` pixels), or '' where none was."""
    out = []
    for x in xs:
        near = [t for tx, t in texts if abs(tx - x) <= slack]
        out.append(near[0] if near else "")
    return out


def test_the_ruler_numbers_the_pickup_0_and_the_first_full_bar_1(qtbot, chorale_window, recording):
    roll = chorale_window.piano_roll
    set_mapping(roll, ticks_per_px=8.0)  # a bar of 4/4 is 240 px: every bar labelled
    assert roll.viewport.right_tick > 4400, "the roll shows the first three barlines"
    recording.clear()
    roll.ruler.repaint()
    vp = roll.viewport
    song = chorale_window.document.song
    starts = song.meter.bar_starts(int(vp.right_tick))
    assert starts[:4] == [0, 480, 2400, 4320]
    bar_labels = labels_at([t for t in recording if t[1].isdigit()], [vp.tick_to_x(t) + 3 for t in starts[:4]])
    assert bar_labels == ["0", "1", "2", "3"]
    set_mapping(roll, ticks_per_px=2.0)  # a beat is 240 px: beats labelled bar.beat
    recording.clear()
    roll.ruler.repaint()
    beat_labels = labels_at(recording, [vp.tick_to_x(t) + 2 for t in (480 + 480, 480 + 960, 480 + 1440)])
    assert beat_labels == ["1.2", "1.3", "1.4"]


def test_the_song_overview_numbers_the_pickup_0(qtbot, chorale_window, recording):
    overview = chorale_window.overview
    recording.clear()
    overview.repaint()
    numbers = [(x, int(t)) for x, t in recording if t.isdigit()]
    assert numbers[0] == (HEADER_WIDTH + 3, 0)  # the pickup's bar at the song's start
    step = numbers[1][1]  # labels every `step` bars, as many as fit
    assert [n for _, n in numbers] == list(range(0, step * len(numbers), step))


def test_clicking_the_first_barline_shows_bar_1_beat_1(qtbot, chorale_window):
    roll = chorale_window.piano_roll
    set_mapping(roll, ticks_per_px=8.0)
    position = chorale_window.transport.position
    assert position.text().startswith("0:4:000")  # the pickup is the last beat of bar 0
    vp = roll.viewport
    qtbot.mouseClick(roll.ruler, Left, NoMod, QPoint(round(vp.tick_to_x(480)), 10))
    assert roll.state.playhead == 480
    assert position.text().startswith("1:1:000")
    qtbot.mouseClick(roll.ruler, Left, NoMod, QPoint(round(vp.tick_to_x(2400 + 960)), 10))
    assert position.text().startswith("2:3:000")
