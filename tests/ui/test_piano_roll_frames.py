"""What the roll draws per frame: a frame scrolled in time by whole pixels (the old frame shifted,
the uncovered columns drawn) is the frame drawn from scratch; the keyboard, ruler and velocity
lane draw again only when what they show changed (the keys not for a time scroll, the ruler and
the lane not for the playhead); rows, grid and notes come out as before."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication

from desktop_app.music.note import Note
from desktop_app.music.song import KeySignature, Song
from desktop_app.music.track import Track
from desktop_app.ui.document import Document
from desktop_app.ui.piano_roll import PianoRoll
from desktop_app.ui.piano_roll.note_raster import RasterView, note_rows

from piano_roll_helpers import Left, NoMod, drag


def dense_song(n: int = 1500, seed: int = 3) -> Song:
    rng = random.Random(seed)
    tracks = []
    for t in range(3):
        tick, notes = 0, []
        for _ in range(n // 3):
            tick += rng.choice((0, 60, 120, 240))
            notes.append(Note(rng.randint(48, 84), tick, rng.choice((60, 120, 240, 480, 1920)), rng.randint(20, 127)))
        tracks.append(Track(name=f"T{t}", channel=t, notes=tuple(notes)))
    return Song(ppq=480, keys=(KeySignature(0, "D"),), tracks=tuple(tracks))


@pytest.fixture
def dense_roll(qtbot):
    document = Document()
    document.load(dense_song(), None)
    document.select(range(0, 400, 7))
    roll = PianoRoll(document)
    qtbot.addWidget(roll)
    roll.resize(900, 520)
    roll.show()
    qtbot.waitExposed(roll)
    roll.viewport.fit(4000, 12000, 48, 84)
    roll.area.repaint()
    return roll


def shown(roll) -> np.ndarray:
    """The frame image the note area paints from."""
    return roll.area.frame_pixels()


def painted(roll) -> np.ndarray:
    roll.area.repaint()
    return shown(roll)


@pytest.mark.parametrize("steps", [[8, 8, -3, 24, -40], [-8, -1, 150, 1, -2]])
def test_a_frame_scrolled_in_time_is_the_frame_drawn_from_scratch(dense_roll, steps):
    roll, vp = dense_roll, dense_roll.viewport
    for dx in steps:
        vp.scroll_time(dx)
        scrolled = painted(roll)
        assert np.array_equal(scrolled, roll.area.render_pixels()), dx


def test_a_pitch_scroll_and_a_zoom_redraw_the_frame(dense_roll):
    roll, vp = dense_roll, dense_roll.viewport
    vp.scroll_pitch(2)
    assert np.array_equal(painted(roll), roll.area.render_pixels())
    vp.zoom_time(1.3, 100)
    assert np.array_equal(painted(roll), roll.area.render_pixels())


def test_an_edit_after_a_scroll_shows(qtbot, dense_roll):
    roll, vp = dense_roll, dense_roll.viewport
    vp.scroll_time(16)
    before = painted(roll)
    roll.document.select(())
    after = painted(roll)
    assert not np.array_equal(before, after)
    assert np.array_equal(after, roll.area.render_pixels())


def test_a_note_cut_by_the_view_edge_has_no_border_there(qtbot):
    view = RasterView(left_tick=100, ticks_per_px=10, top=61, key_height=10, width=50, height=10)
    rows, select = note_rows(np.array([60]), np.array([0]), np.array([300]), np.array([3]), view, size=40)
    body = rows[select[5]]
    assert body[0] == 3  # the note runs on past the left edge: plain fill, not a border
    assert body[18] == 3 + 40  # its right end, in view, has its border
    assert body[19] == 0  # and the gap after it


class RenderCounter:
    def __init__(self, obj, name: str) -> None:
        self.count = 0
        original = getattr(obj, name)

        def counted(*args, **kwargs):
            self.count += 1
            return original(*args, **kwargs)

        setattr(obj, name, counted)


def test_a_time_scroll_leaves_the_keyboard_alone(dense_roll):
    roll = dense_roll
    keys = RenderCounter(roll.keyboard, "_render")
    roll.viewport.scroll_time(30)
    roll.repaint()
    assert keys.count == 0
    roll.viewport.scroll_pitch(1)
    roll.repaint()
    assert keys.count == 1


def test_the_playhead_moves_without_redrawing_ruler_lane_or_notes(dense_roll):
    roll = dense_roll
    roll.repaint()
    ruler = RenderCounter(roll.ruler, "_render")
    lane = RenderCounter(roll.velocity, "render_pixels")
    frames = [RenderCounter(roll.area, name) for name in ("_draw_frame", "_renote_frame", "_scroll_frame")]
    for tick in range(4200, 6000, 120):
        roll.state.set_playhead(tick)
        QApplication.processEvents()
    roll.repaint()
    assert (ruler.count, lane.count, sum(f.count for f in frames)) == (0, 0, 0)
    # The playhead line is where the state says, in the note area and on the ruler.
    x = int(roll.viewport.tick_to_x(roll.state.playhead))
    assert roll.area.grab().toImage().pixelColor(x, 5).name() == "#e0403a"
    assert roll.ruler.grab().toImage().pixelColor(x, 3).name() == "#e0403a"


def test_the_old_playhead_line_is_gone_after_a_scroll_and_a_move(qtbot, dense_roll):
    roll, vp = dense_roll, dense_roll.viewport
    roll.state.set_playhead(6000)
    roll.repaint()
    vp.scroll_time(-40)
    roll.repaint()
    old_x = int(vp.tick_to_x(6000))
    roll.state.set_playhead(9000)
    QApplication.processEvents()
    image = roll.area.grab().toImage()
    assert image.pixelColor(old_x, 5).name() != "#e0403a"


def test_the_velocity_lane_shows_the_loudest_stem_of_each_column(qtbot, dense_roll):
    from desktop_app.ui.piano_roll.velocity_lane import loudest_per_column

    cols = np.array([3, 3, 0, 5, 3, 5])
    vel = np.array([10, 90, 40, 7, 30, 8])
    assert loudest_per_column(cols, vel, 6).tolist() == [40, 0, 0, 90, 0, 8]


def test_dragging_notes_still_previews_and_commits(qtbot, dense_roll):
    roll = dense_roll
    roll.viewport.fit(0, 1920, 40, 90)
    roll.area.repaint()
    track = roll.document.song.tracks[0]
    index = next(i for i, n in enumerate(track.notes) if n.end < 1900 and n.duration >= 240)
    note = track.notes[index]
    vp = roll.viewport
    start = QPoint(int(vp.tick_to_x(note.start + note.duration / 2)), int(vp.pitch_to_y(note.pitch) + vp.key_height / 2))
    drag(qtbot, roll.area, start, start + QPoint(0, -int(2 * vp.key_height)))
    moved = roll.document.song.tracks[0].notes[index]
    assert moved.pitch == note.pitch + 2 and moved.start == note.start
    assert np.array_equal(painted(roll), roll.area.render_pixels())
    assert NoMod is not None and Left is not None
