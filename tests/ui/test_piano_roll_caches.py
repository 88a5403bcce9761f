"""The roll keeps what did not change between frames (rasterised notes, grid levels, row kinds,
the keyboard's and the lane's images) and must let go of it when what it shows changes: after
every change here the frame the note area paints is the frame drawn from scratch, and the
keyboard, ruler and lane show what a fresh render shows."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtGui import QImage

from desktop_app.music.song import KeySignature
from desktop_app.ui.document import Document
from desktop_app.ui.piano_roll import PianoRoll

from test_piano_roll_frames import dense_song


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
    return roll


class Counter:
    """Counts calls of the note area's three ways of bringing its frame up to date."""

    def __init__(self, area) -> None:
        self.calls: list[str] = []
        for name in ("_draw_frame", "_renote_frame", "_scroll_frame"):
            original = getattr(area, name)
            setattr(area, name, self._counted(name, original))

    def _counted(self, name, original):
        def counted(*args, **kwargs):
            self.calls.append(name)
            return original(*args, **kwargs)
        return counted


def frame(roll) -> np.ndarray:
    """Paint the note area and return the frame image it painted from."""
    roll.area.repaint()
    return roll.area.frame_pixels()


def pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    return np.frombuffer(image.constBits(), dtype=np.uint32).reshape(image.height(), image.width()).copy()


def assert_frame_is_fresh(roll) -> np.ndarray:
    shown = frame(roll)
    assert np.array_equal(shown, roll.area.render_pixels())
    return shown


def apply_song(roll, song) -> None:
    roll.document.apply("Change", song)


def test_a_selection_change_recolours_only_and_matches_a_fresh_frame(roll):
    before = frame(roll)
    counter = Counter(roll.area)
    roll.document.select(range(1, 300, 5))
    after = assert_frame_is_fresh(roll)
    assert counter.calls == ["_renote_frame"]
    assert not np.array_equal(before, after)


def test_a_selection_after_time_and_pitch_scrolls_matches_a_fresh_frame(roll):
    vp = roll.viewport
    counter = Counter(roll.area)
    vp.scroll_time(16)
    assert_frame_is_fresh(roll)
    vp.scroll_pitch(1)
    assert_frame_is_fresh(roll)
    roll.document.select(range(2, 200, 3))
    assert_frame_is_fresh(roll)
    vp.scroll_time(-5)
    roll.document.select(())
    assert_frame_is_fresh(roll)
    assert counter.calls[:3] == ["_scroll_frame", "_draw_frame", "_renote_frame"]


def test_a_time_zoom_redraws_grid_and_notes(roll):
    before = frame(roll)
    roll.viewport.zoom_time(1.5, 200)
    after = assert_frame_is_fresh(roll)
    assert not np.array_equal(before, after)


def test_a_track_colour_change_recolours_the_notes(roll):
    before = frame(roll)
    song = roll.document.song
    track = song.tracks[roll.document.active_track]
    apply_song(roll, song.with_track(roll.document.active_track, dataclasses.replace(track, color="#20b020")))
    after = assert_frame_is_fresh(roll)
    assert not np.array_equal(before, after)
    greens = np.unique(after & 0xFFFFFF)
    assert any(((c >> 8) & 0xFF) > 150 and (c >> 16) & 0xFF < 90 for c in greens.tolist())  # a green note shows


def test_a_key_change_and_the_scale_switch_redraw_the_rows(roll):
    before = frame(roll)
    apply_song(roll, dataclasses.replace(roll.document.song, keys=(KeySignature(0, "Eb"),)))
    in_e_flat = assert_frame_is_fresh(roll)
    assert not np.array_equal(before, in_e_flat)
    roll.act_scale.setChecked(False)
    plain = assert_frame_is_fresh(roll)
    assert not np.array_equal(in_e_flat, plain)


def test_a_snap_change_redraws_the_grid(roll):
    before = frame(roll)
    roll.snap_box.setCurrentIndex(roll.snap_box.findText("1/4"))
    after = assert_frame_is_fresh(roll)
    assert not np.array_equal(before, after)


def test_a_resize_redraws_frame_keyboard_and_lane(roll, qtbot):
    roll.resize(700, 420)
    qtbot.waitUntil(lambda: roll.area.width() < 800)
    shown = assert_frame_is_fresh(roll)
    assert shown.shape == (roll.area.height(), roll.area.width())
    roll.repaint()
    assert np.array_equal(pixels(roll.keyboard.grab().toImage()), pixels(roll.keyboard._render()))
    lane = pixels(roll.velocity.grab().toImage())
    assert np.array_equal(lane, roll.velocity.render_pixels())


def test_the_keyboard_redraws_after_a_pitch_zoom_and_the_lane_after_a_selection(roll):
    keys_before = pixels(roll.keyboard.grab().toImage())
    roll.viewport.zoom_pitch(1.6, 100)
    roll.repaint()
    keys_after = pixels(roll.keyboard.grab().toImage())
    assert not np.array_equal(keys_before, keys_after)
    assert np.array_equal(keys_after, pixels(roll.keyboard._render()))
    assert_frame_is_fresh(roll)
    lane_before = pixels(roll.velocity.grab().toImage())
    roll.document.select(())
    roll.repaint()
    lane_after = pixels(roll.velocity.grab().toImage())
    assert not np.array_equal(lane_before, lane_after)
    assert np.array_equal(lane_after, roll.velocity.render_pixels())


def test_a_drag_preview_frame_matches_a_fresh_frame(roll, qtbot):
    from PySide6.QtCore import QPointF

    vp = roll.viewport
    track = roll.document.song.tracks[0]
    index = next(i for i, n in enumerate(track.notes) if vp.left_tick < n.start and n.end < vp.right_tick
                 and n.duration >= 240 and 50 <= n.pitch <= 80)
    note = track.notes[index]
    start = QPointF(vp.tick_to_x(note.start + note.duration / 2), vp.pitch_to_y(note.pitch) + vp.key_height / 2)
    roll.area.mousePressEvent(_mouse(roll.area, start, press=True))
    for step in (QPointF(12, 0), QPointF(30, vp.key_height), QPointF(47, 2 * vp.key_height)):
        roll.area.mouseMoveEvent(_mouse(roll.area, start + step))
        assert_frame_is_fresh(roll)
    roll.area.mouseReleaseEvent(_mouse(roll.area, start + QPointF(47, 2 * vp.key_height), release=True))
    assert_frame_is_fresh(roll)
    assert roll.document.song.tracks[0].notes != track.notes


def _mouse(widget, pos, press: bool = False, release: bool = False):
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QMouseEvent

    kind = QEvent.Type.MouseButtonPress if press else QEvent.Type.MouseButtonRelease if release else QEvent.Type.MouseMove
    buttons = Qt.MouseButton.NoButton if release else Qt.MouseButton.LeftButton
    return QMouseEvent(kind, pos, widget.mapToGlobal(pos), Qt.MouseButton.LeftButton, buttons, Qt.KeyboardModifier.NoModifier)


def test_switching_the_active_track_and_muting_one_redraw_the_ghost_notes(roll):
    before = frame(roll)
    roll.document.set_active_track(1)
    switched = assert_frame_is_fresh(roll)
    assert not np.array_equal(before, switched)
    song = roll.document.song
    apply_song(roll, song.with_track(2, dataclasses.replace(song.tracks[2], mute=True)))
    muted = assert_frame_is_fresh(roll)
    assert not np.array_equal(switched, muted)
    roll.document.select(range(0, 100, 3))
    assert_frame_is_fresh(roll)


def test_an_edit_of_another_track_redraws_its_ghost_notes_and_of_the_active_one_keeps_them(roll):
    from desktop_app.music import edits

    song = roll.document.song
    kept = roll.area._ghost_cache()[2]
    apply_song(roll, song.with_track(0, edits.transpose(song.tracks[0], [0, 1, 2], 1)))
    assert_frame_is_fresh(roll)
    assert roll.area._ghost_cache()[2] is kept  # the other tracks did not change
    before = frame(roll)
    song = roll.document.song
    apply_song(roll, song.with_track(1, edits.transpose(song.tracks[1], list(range(len(song.tracks[1].notes))), 2)))
    after = assert_frame_is_fresh(roll)
    assert not np.array_equal(before, after)


def test_a_time_signature_change_redraws_the_ruler_and_a_note_edit_does_not(roll):
    from desktop_app.music import edits
    from desktop_app.music.song import TimeSignature

    renders = []
    original = roll.ruler._render
    roll.ruler._render = lambda: renders.append(1) or original()
    song = roll.document.song
    apply_song(roll, song.with_track(0, edits.transpose(song.tracks[0], [0], 1)))
    roll.repaint()
    assert renders == []
    before = pixels(roll.ruler.grab().toImage())
    apply_song(roll, dataclasses.replace(roll.document.song, time_signatures=(TimeSignature(0, 3, 4),)))
    roll.repaint()
    after = pixels(roll.ruler.grab().toImage())
    assert renders and not np.array_equal(before, after)


def test_the_window_shows_the_frame_in_order_after_the_buffer_turned(roll):
    vp = roll.viewport
    for dx in (8, 8, 30, -3, 100, -50):
        vp.scroll_time(dx)
        roll.area.repaint()
    assert roll.area._offset != 0  # the frame's columns start inside the buffer
    on_screen = pixels(roll.area.grab().toImage())  # the playhead (tick 0) is out of view
    assert np.array_equal(on_screen, roll.area.render_pixels())
    roll.document.select(range(3, 200, 4))  # recoloured in place, in the turned buffer
    roll.area.repaint()
    assert np.array_equal(pixels(roll.area.grab().toImage()), roll.area.render_pixels())


@pytest.mark.parametrize("zoom", [1.0, 6.0, 0.2])
def test_the_ruler_after_time_scrolls_is_the_ruler_drawn_from_scratch(roll, zoom):
    vp = roll.viewport
    vp.zoom_time(zoom, 300)
    roll.state.set_loop((6000, 7000))
    roll.ruler.repaint()
    for dx in (8, 8, -3, 40, -1, 61, -100):
        vp.scroll_time(dx)
        roll.ruler.repaint()
        kept = pixels(roll.ruler._cache[1])
        assert np.array_equal(kept, pixels(roll.ruler._render())), dx
