"""A change that touches few pixels (a selection, an edit, a drag's preview) repaints only the
rectangles of the pitch bands whose pixels changed: what the window shows afterwards must be
what a repaint of the whole note area shows, and the region repainted must be smaller."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPointF
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from desktop_app.music import edits
from desktop_app.ui.document import Document
from desktop_app.ui.piano_roll import PianoRoll

from test_piano_roll_caches import _mouse
from test_piano_roll_frames import dense_song


class Regions(QObject):
    """The regions the note area was asked to paint."""

    def __init__(self) -> None:
        super().__init__()
        self.areas: list[int] = []

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.areas.append(sum(r.width() * r.height() for r in event.region()))
        return False


@pytest.fixture
def roll(qtbot):
    document = Document()
    document.load(dense_song(), None)
    document.select(range(0, 400, 7))
    roll = PianoRoll(document)
    qtbot.addWidget(roll)
    roll.resize(900, 520)
    roll.show()
    qtbot.waitExposed(roll)
    roll.viewport.fit(4000, 12000, 48, 84)
    roll.repaint()
    roll.regions = Regions()
    roll.area.installEventFilter(roll.regions)
    return roll


def on_screen(roll) -> np.ndarray:
    """The note area's pixels as the window shows them (the backing store, not a fresh render)."""
    area = roll.area
    corner = area.mapTo(roll.window(), area.rect().topLeft())
    image = roll.screen().grabWindow(roll.window().winId(), corner.x(), corner.y(), area.width(), area.height())
    image = image.toImage().convertToFormat(QImage.Format.Format_RGB32)
    return np.frombuffer(image.constBits(), dtype=np.uint32).reshape(image.height(), image.width()).copy()


def settle_partially(roll) -> np.ndarray:
    """Let the event loop paint what the change marked dirty; what the window shows then."""
    roll.regions.areas.clear()
    QApplication.processEvents()
    return on_screen(roll)


def assert_same_as_full_repaint(roll, shown: np.ndarray) -> None:
    roll.area.repaint()
    assert np.array_equal(shown, on_screen(roll))
    assert np.array_equal(roll.area.frame_pixels(), roll.area.render_pixels())


def test_a_selection_change_repaints_only_its_bands_and_shows_the_full_frame(roll):
    before = on_screen(roll)
    vp = roll.viewport
    visible = [i for i, n in enumerate(roll.document.song.tracks[0].notes) if vp.left_tick < n.start < vp.right_tick]
    roll.document.select(roll.document.selection ^ set(visible[10:13]))  # three notes change
    shown = settle_partially(roll)
    whole = roll.area.width() * roll.area.height()
    assert roll.regions.areas and 0 < sum(roll.regions.areas) < whole / 2
    assert not np.array_equal(before, shown)
    assert_same_as_full_repaint(roll, shown)


def test_a_selection_in_a_turned_buffer_repaints_partially_and_correctly(roll):
    vp = roll.viewport
    for dx in (8, 30, -3, 100):
        vp.scroll_time(dx)
        QApplication.processEvents()
    assert roll.area._offset != 0
    roll.document.select(range(2, 300, 11))
    shown = settle_partially(roll)
    assert 0 < sum(roll.regions.areas) < roll.area.width() * roll.area.height()
    assert_same_as_full_repaint(roll, shown)


def test_an_edit_of_the_active_track_repaints_partially(roll):
    song = roll.document.song
    vp = roll.viewport
    track = song.tracks[0]
    shown_notes = [i for i, n in enumerate(track.notes) if vp.left_tick < n.start < vp.right_tick][:5]
    roll.document.apply("Transpose", song.with_track(0, edits.transpose(track, shown_notes, 1)))
    shown = settle_partially(roll)
    assert 0 < sum(roll.regions.areas) < roll.area.width() * roll.area.height()
    assert_same_as_full_repaint(roll, shown)
    roll.document.undo_stack.undo()
    assert_same_as_full_repaint(roll, settle_partially(roll))


def test_a_drag_preview_and_its_release_show_the_full_frame(roll):
    vp = roll.viewport
    track = roll.document.song.tracks[0]
    index = next(i for i, n in enumerate(track.notes) if vp.left_tick < n.start and n.end < vp.right_tick
                 and n.duration >= 240 and 50 <= n.pitch <= 80)
    note = track.notes[index]
    start = QPointF(vp.tick_to_x(note.start + note.duration / 2), vp.pitch_to_y(note.pitch) + vp.key_height / 2)
    roll.area.mousePressEvent(_mouse(roll.area, start, press=True))
    for step in (QPointF(12, 0), QPointF(30, vp.key_height), QPointF(47, 2 * vp.key_height)):
        roll.area.mouseMoveEvent(_mouse(roll.area, start + step))
        assert_same_as_full_repaint(roll, settle_partially(roll))
    roll.area.mouseReleaseEvent(_mouse(roll.area, start + QPointF(47, 2 * vp.key_height), release=True))
    assert_same_as_full_repaint(roll, settle_partially(roll))


def test_a_rubber_band_is_erased_when_it_ends(roll):
    area = roll.area
    press = QPointF(5, 5)
    area.mousePressEvent(_mouse(area, press, press=True))
    area.mouseMoveEvent(_mouse(area, press + QPointF(200, 150)))
    with_band = settle_partially(roll)
    area.mouseReleaseEvent(_mouse(area, press + QPointF(200, 150), release=True))
    shown = settle_partially(roll)
    assert not np.array_equal(with_band, shown)
    assert_same_as_full_repaint(roll, shown)


def lane_on_screen(roll) -> np.ndarray:
    lane = roll.velocity
    corner = lane.mapTo(roll.window(), lane.rect().topLeft())
    image = roll.screen().grabWindow(roll.window().winId(), corner.x(), corner.y(), lane.width(), lane.height())
    image = image.toImage().convertToFormat(QImage.Format.Format_RGB32)
    return np.frombuffer(image.constBits(), dtype=np.uint32).reshape(image.height(), image.width()).copy()


@pytest.mark.parametrize("zoom", [1.0, 0.1])  # few stems with heads: drawn whole; many: only changed columns
def test_the_lane_repaints_only_changed_stems_and_shows_a_fresh_lane(roll, zoom):
    lane = roll.velocity
    lane_regions = Regions()
    lane.installEventFilter(lane_regions)
    roll.document.load(dense_song(6000), None)  # zoomed out, more stems than get heads
    roll.viewport.fit(4000, 12000, 48, 84)
    roll.viewport.zoom_time(zoom, 100)
    QApplication.processEvents()
    vp = roll.viewport
    track = roll.document.song.tracks[0]
    shown = [i for i, n in enumerate(track.notes) if vp.left_tick < n.start < vp.right_tick]
    whole = lane.width() * lane.height()
    for selection in (shown[10:14], shown[12:17], ()):  # a few neighbouring notes change
        roll.document.select(selection)
        lane_regions.areas.clear()
        QApplication.processEvents()
        assert (0 < sum(lane_regions.areas) < whole) if zoom < 1 else sum(lane_regions.areas) == whole, (lane_regions.areas, whole)
        assert np.array_equal(lane_on_screen(roll), lane.render_pixels())
    song = roll.document.song
    roll.document.apply("Louder", song.with_track(0, edits.set_velocities(track, {shown[2]: 1, shown[5]: 127})))
    lane_regions.areas.clear()
    QApplication.processEvents()
    assert 0 < sum(lane_regions.areas) < whole if zoom < 1 else sum(lane_regions.areas) == whole
    assert np.array_equal(lane_on_screen(roll), lane.render_pixels())


def test_a_pitch_scroll_leaves_ruler_and_lane_alone_and_a_time_scroll_repaints_them(roll):
    painted = {}
    filters = []
    for name in ("ruler", "velocity", "keyboard"):
        counter = Regions()
        getattr(roll, name).installEventFilter(counter)
        painted[name] = counter
        filters.append(counter)
    roll.viewport.scroll_pitch(2)
    QApplication.processEvents()
    assert not painted["ruler"].areas and not painted["velocity"].areas and painted["keyboard"].areas
    for counter in filters:
        counter.areas.clear()
    roll.viewport.scroll_time(24)
    QApplication.processEvents()
    assert painted["ruler"].areas and painted["velocity"].areas and not painted["keyboard"].areas
    assert np.array_equal(lane_on_screen(roll), roll.velocity.render_pixels())


def test_a_note_edit_does_not_repaint_the_ruler_and_a_metre_change_does(roll):
    import dataclasses

    from desktop_app.music.song import TimeSignature

    counter = Regions()
    roll.ruler.installEventFilter(counter)
    song = roll.document.song
    roll.document.apply("Transpose", song.with_track(0, edits.transpose(song.tracks[0], [0, 1], 1)))
    QApplication.processEvents()
    assert not counter.areas
    roll.document.apply("Metre", dataclasses.replace(roll.document.song, time_signatures=(TimeSignature(0, 3, 4),)))
    QApplication.processEvents()
    assert counter.areas


def test_switching_tracks_back_and_forth_reuses_what_was_made_for_each_and_shows_the_fresh_frame(roll, qtbot):
    area = roll.area
    frames = {}
    for active in (1, 0, 1, 0, 2, 1):
        roll.document.set_active_track(active)
        roll.document.select(range(active, 90, 4))
        shown = settle_partially(roll)
        assert_same_as_full_repaint(roll, shown)
        frames.setdefault(active, shown)
        assert np.array_equal(frames[active], shown)
        if active == 1 and len(frames) == 2:
            kept = area._ghost_cells[-1][3]
    assert any(c[3] is kept for c in area._ghost_cells)  # track 1's ghosts rasterised once
    song = roll.document.song
    roll.document.apply("Edit", song.with_track(2, edits.transpose(song.tracks[2], [0, 1, 2], 1)))
    roll.document.set_active_track(0)
    assert_same_as_full_repaint(roll, settle_partially(roll))  # another track changed: not the kept ghosts
    fresh = PianoRoll(roll.document)  # nothing kept: drawn from the document alone
    qtbot.addWidget(fresh)
    fresh.resize(roll.size())
    fresh.show()
    QApplication.processEvents()
    for name in ("ticks_per_px", "key_height", "left_tick", "top"):
        setattr(fresh.viewport, name, getattr(roll.viewport, name))
    assert fresh.area.size() == roll.area.size()
    assert np.array_equal(fresh.area.render_pixels(), roll.area.frame_pixels())
