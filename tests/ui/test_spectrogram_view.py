"""The spectrogram dock in the main window: its time axis stays on the piano roll's through zoom,
scroll and fit; the read-out names the note and the bar:beat under the mouse; the playhead line
follows the transport and a click moves it; pixels and colour maps; and the panel's import,
Griffin-Lim rebuild, exports and scale choice. The view is fed spectrograms computed here, so no
test waits on a song render; window.playback is never started (set_clip answers False)."""

from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtWidgets import QApplication

from desktop_app.audio import spectrogram as sg
from desktop_app.audio.soundfont import find_soundfont
from desktop_app.music.note import Note
from desktop_app.music.song import Song, TempoChange, TimeSignature
from desktop_app.music.track import Track
from desktop_app.ui.spectrogram import panel as panel_module
from desktop_app.ui.spectrogram.colormaps import COLORMAPS, lookup_table
from desktop_app.ui.spectrogram.export import spectrogram_image
from desktop_app.ui.spectrogram.view import AXIS_WIDTH

# librosa's constant-Q transform downsamples short signals for its lowest octaves and warns that
# its internal FFT is longer than what is left; the rows it gives are right all the same.
pytestmark = pytest.mark.filterwarnings("ignore:n_fft=.* is too large for input signal:UserWarning")

RATE = 22_050
WINDOW_SIZE = (1400, 900)
DEMO_TICKS_PER_SECOND = 800  # the demo: 480 PPQ at 100 BPM, 4/4
TONE_HZ = 440.0  # A4
TONE_START, TONE_END = 4.8, 9.6  # seconds: bar 3 beat 1 (tick 3840) to bar 5 beat 1 (tick 7680)


# ----- helpers ----------------------------------------------------------------------------


def tone_signal(seconds: float = 19.2, start: float = TONE_START, end: float = TONE_END) -> np.ndarray:
    """Silence, then A4 from `start` to `end` seconds, then silence: as long as the demo song."""
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * TONE_HZ * t) * ((t >= start) & (t < end))).astype(np.float32)


@pytest.fixture(scope="module")
def tone_spectrogram() -> sg.Spectrogram:
    return sg.compute(tone_signal(), RATE, sg.MELODIC_RANGE)


def wheel(widget, pos: QPoint, dy: int = 120, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    local = QPointF(pos)
    event = QWheelEvent(local, QPointF(widget.mapToGlobal(local)), QPoint(0, 0), QPoint(0, dy),
                        Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def luminance(pixels: np.ndarray) -> np.ndarray:
    pixels = np.asarray(pixels, dtype=np.uint32)
    r, g, b = (pixels >> 16) & 255, (pixels >> 8) & 255, pixels & 255
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


class PaintCounter(QObject):
    def __init__(self, widget) -> None:
        super().__init__(widget)
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def shown_window(make_window, qtbot, spectrogram: sg.Spectrogram | None = None):
    """The demo in a shown window of fixed size with the spectrogram dock open. With a spectrogram
    it is put on the view before the dock shows, so the panel has nothing to render."""
    window = make_window()
    window.open_demo()
    window.resize(*WINDOW_SIZE)
    window.show()
    qtbot.waitExposed(window)
    panel = window.spectrogram
    if spectrogram is not None:
        panel.view.set_spectrogram(spectrogram)
    window.docks["spectrogram"].show()
    qtbot.waitUntil(lambda: panel.view.isVisible() and panel.view.width() > 400 and panel.view.height() >= 120)
    roll = window.piano_roll
    qtbot.waitUntil(lambda: not roll._fit_pending)
    QApplication.processEvents()
    return window


@pytest.fixture
def window(make_window, qtbot, tone_spectrogram):
    w = shown_window(make_window, qtbot, tone_spectrogram)
    assert w.spectrogram.view.spectrogram is tone_spectrogram
    assert not w.playback.set_clip(np.zeros(10, np.float32), RATE)  # no audio output in these tests
    return w


def screen_x_in_roll(roll, tick: float) -> int:
    return roll.area.mapToGlobal(QPoint(int(roll.viewport.tick_to_x(tick)), 0)).x()


def screen_x_in_view(view, tick: float) -> int:
    return view.mapToGlobal(QPoint(int(view.x_of_tick(tick)), 0)).x()


def visible_ticks(roll, n: int = 6) -> list[float]:
    vp = roll.viewport
    return [vp.left_tick + k / (n - 1) * (vp.right_tick - vp.left_tick) * 0.98 for k in range(n)] + [960.0, 3840.0]


def assert_time_axes_aligned(roll, view) -> int:
    for tick in visible_ticks(roll):
        a, b = screen_x_in_roll(roll, tick), screen_x_in_view(view, tick)
        assert abs(a - b) <= 1, (tick, a, b)
        assert view.tick_at(view.x_of_tick(tick)) == pytest.approx(tick)
    return assert_image_follows_time(roll, view)


def assert_image_follows_time(roll, view) -> int:
    """In the rendered pixels the tone's row lights up where the tone's ticks are on screen: it
    crosses -10 dB within a frame and a half of the tone's start and end (frames are centred)."""
    spec = view.spectrogram
    pixels = view.render_pixels()
    y = int(round(view.y_of_row(spec.row_of_hz(TONE_HZ))))
    top_db = spec.settings.top_db
    threshold = luminance(lookup_table(view.colormap)[int((top_db - 10) / top_db * 255)])
    bright = luminance(pixels[y]) >= threshold
    left = view.image_rect().left()
    frame_ticks = spec.settings.hop / RATE * DEMO_TICKS_PER_SECOND
    margin = 1.5 * frame_ticks / roll.viewport.ticks_per_px + 1  # in pixels
    checked = 0
    for seconds in (TONE_START, TONE_END):
        x = view.x_of_tick(seconds * DEMO_TICKS_PER_SECOND) - left  # column in the image
        before, after = int(np.floor(x - margin)), int(np.ceil(x + margin))
        if not (0 <= before and after < pixels.shape[1]):
            continue  # that edge of the tone is off screen
        checked += 1
        if seconds == TONE_START:
            assert not bright[before] and bright[after], (seconds, x, margin, bright[before : after + 1])
        else:
            assert bright[before] and not bright[after], (seconds, x, margin, bright[before : after + 1])
    return checked  # how many of the tone's two edges were on screen


def cyan_columns(view) -> set[int]:
    """Columns of the grabbed view that are mostly the playhead's cyan."""
    image = view.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    ptr = image.constBits()
    pixels = np.frombuffer(ptr, np.uint32, image.bytesPerLine() // 4 * image.height()).reshape(image.height(), -1)
    pixels = pixels[:, : image.width()] & 0xFFFFFF
    mostly = (pixels == 0x40F0FF).mean(axis=0) > 0.5
    return set(np.flatnonzero(mostly).tolist())


# ----- the time axis ----------------------------------------------------------------------


def test_time_axis_is_the_piano_rolls_after_zoom_scroll_and_fit(window, qtbot):
    roll, view = window.piano_roll, window.spectrogram.view
    assert_time_axes_aligned(roll, view)
    vp = roll.viewport
    # Ctrl+wheel on the note area zooms time around the mouse.
    before = vp.ticks_per_px
    wheel(roll.area, QPoint(300, 100), 120, Qt.KeyboardModifier.ControlModifier)
    assert vp.ticks_per_px < before
    assert_time_axes_aligned(roll, view)
    wheel(roll.area, QPoint(500, 100), -240, Qt.KeyboardModifier.ControlModifier)
    wheel(roll.area, QPoint(500, 100), -120, Qt.KeyboardModifier.ControlModifier)
    assert vp.ticks_per_px > before
    assert_time_axes_aligned(roll, view)
    # Shift+wheel scrolls time.
    left = vp.left_tick
    wheel(roll.area, QPoint(400, 100), -120 * 3, Qt.KeyboardModifier.ShiftModifier)
    assert vp.left_tick > left
    assert_time_axes_aligned(roll, view)
    # Zoomed in a long way and scrolled to the tone's start.
    vp.fit(3000, 4800, 60, 72)
    assert vp.left_tick > 0
    assert assert_time_axes_aligned(roll, view) == 1  # the tone's start is on screen, its end not
    # Fit the whole song again.
    vp.fit(0, window.document.song.end_tick, 36, 84)
    assert assert_time_axes_aligned(roll, view) == 2


def test_time_axis_stays_aligned_when_the_window_resizes(window, qtbot):
    roll, view = window.piano_roll, window.spectrogram.view
    width = roll.area.width()
    window.resize(1100, 800)
    qtbot.waitUntil(lambda: roll.area.width() < width and roll.viewport.width == roll.area.width())
    QApplication.processEvents()
    assert_time_axes_aligned(roll, view)


def test_time_axis_stays_aligned_with_the_dock_floating(window, qtbot, qtlog):
    roll, view = window.piano_roll, window.spectrogram.view
    dock = window.docks["spectrogram"]
    dock.setFloating(True)
    dock.move(150, 650)
    dock.resize(1300, 300)
    qtbot.waitUntil(lambda: view.height() > 200)
    QApplication.processEvents()
    for tick in visible_ticks(roll):
        assert abs(screen_x_in_roll(roll, tick) - screen_x_in_view(view, tick)) <= 1, tick
    view.grab()
    np.testing.assert_array_equal(view._image[0], view.render_pixels())  # drawn for where it is now
    dock.move(40, 650)  # a floating dock moves alone: the picture follows the roll's axis
    QApplication.processEvents()
    view.grab()
    np.testing.assert_array_equal(view._image[0], view.render_pixels())
    for tick in visible_ticks(roll):
        assert abs(screen_x_in_roll(roll, tick) - screen_x_in_view(view, tick)) <= 1, tick
    assert not [r for r in qtlog.records if "mapTo" in r.message]


def test_view_redraws_at_its_new_size(window, qtbot):
    view = window.spectrogram.view
    dock = window.docks["spectrogram"]
    dock.setFloating(True)
    dock.resize(1300, 300)
    qtbot.waitUntil(lambda: view.height() > 200)
    view.grab()
    dock.resize(1000, 420)  # the view alone changes size: the roll's viewport does not change
    qtbot.waitUntil(lambda: view.height() > 300)
    view.grab()
    rect = view.image_rect()
    assert view._image[0].shape == (int(rect.height()), int(rect.width()))


def test_view_repaints_when_the_viewport_changes(window, qtbot):
    roll, view = window.piano_roll, window.spectrogram.view
    view.grab()  # the image is cached now
    first = view._image[0].copy()
    counter = PaintCounter(view)
    roll.viewport.zoom_time(2.0, 100)
    qtbot.waitUntil(lambda: counter.count > 0)
    assert not np.array_equal(view._image[0], first)


# ----- the read-out -----------------------------------------------------------------------


def test_describe_names_the_note_frequency_and_bar_beat_under_the_mouse(window):
    view = window.spectrogram.view
    spec = view.spectrogram
    roll = window.piano_roll
    roll.viewport.fit(0, window.document.song.end_tick, 36, 84)
    row = spec.row_of_hz(TONE_HZ)
    y = view.y_of_row(row)
    tick = 3840 + 480 + 240  # bar 3, beat 2, the tone sounding
    x = view.x_of_tick(tick)
    assert view.image_rect().contains(QPointF(x, y))
    text = view.describe(x, y)
    assert "A4" in text, text
    hz = float(text.split(" Hz")[0].split()[-1])
    assert spec.row_hz[int(row) - 1] <= hz <= spec.row_hz[int(row) + 1], text
    assert text.startswith("3:2 "), text
    seconds = float(text.split(" s")[0].split()[-1])
    assert seconds == pytest.approx(tick / DEMO_TICKS_PER_SECOND, abs=2 * roll.viewport.ticks_per_px / 800)
    level = float(text.split(" dB")[0].split()[-1])
    assert level > -10.0, text  # on the tone: near the loudest cell
    # An octave and a fifth lower, before the tone starts: E3, and at the floor.
    y_low = view.y_of_row(spec.row_of_hz(float(sg.midi_to_hz(52))))
    quiet = view.describe(view.x_of_tick(960), y_low)
    assert "E3" in quiet and quiet.startswith("1:3 "), quiet
    assert float(quiet.split(" dB")[0].split()[-1]) == pytest.approx(-spec.settings.top_db)


def test_mouse_over_the_image_shows_the_readout(window, qtbot):
    panel = window.spectrogram
    view = panel.view
    x = int(view.x_of_tick(6000))
    y = int(view.y_of_row(view.spectrogram.row_of_hz(TONE_HZ)))
    with qtbot.waitSignal(view.readout) as blocker:
        qtbot.mouseMove(view, QPoint(x, y))
    assert "A4" in blocker.args[0] and panel.readout.text() == blocker.args[0]


def test_row_and_y_map_back_and_forth(window):
    view = window.spectrogram.view
    n = view.spectrogram.n_rows
    for row in (0, n // 3, n - 1):
        y = view.y_of_row(row)
        assert 0 <= y <= view.height()
        assert view.row_at(y) == pytest.approx(row, abs=0.5 * n / view.height() + 1e-9)
    assert view.row_at(0) > view.row_at(view.height() - 1)  # low rows at the bottom


# ----- the playhead -----------------------------------------------------------------------


def test_playhead_line_follows_the_transport(window, qtbot):
    roll, view = window.piano_roll, window.spectrogram.view
    roll.viewport.fit(0, window.document.song.end_tick, 36, 84)
    QApplication.processEvents()
    rect = view.image_rect()
    for tick in (2400, 7200, 11000):
        counter = PaintCounter(view)
        roll.state.set_playhead(tick)
        qtbot.waitUntil(lambda: counter.count > 0)  # the view repaints for it
        x = view.x_of_tick(roll.state.playhead)
        assert rect.left() < x < rect.right()
        columns = cyan_columns(view)
        assert columns and all(abs(c - x) <= 1.5 for c in columns), (x, sorted(columns))
        assert abs(screen_x_in_view(view, tick) - screen_x_in_roll(roll, tick)) <= 1


def test_clicking_the_view_moves_the_playhead(window, qtbot):
    roll, view = window.piano_roll, window.spectrogram.view
    roll.viewport.fit(0, window.document.song.end_tick, 36, 84)
    QApplication.processEvents()
    x = int(view.x_of_tick(5000))
    with qtbot.waitSignal(roll.state.playheadMoved):
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, 40))
    assert roll.state.playhead == int(view.tick_at(x))
    assert abs(roll.state.playhead - 5000) <= roll.viewport.ticks_per_px
    # A click on the frequency axis is not on the image: the playhead stays.
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(AXIS_WIDTH // 2, 40))
    assert abs(roll.state.playhead - 5000) <= roll.viewport.ticks_per_px


# ----- pixels and colour maps -------------------------------------------------------------


def test_render_pixels_is_the_image_with_the_loud_row_brighter(window):
    view = window.spectrogram.view
    window.piano_roll.viewport.fit(0, window.document.song.end_tick, 36, 84)
    pixels = view.render_pixels()
    rect = view.image_rect()
    assert pixels.dtype == np.uint32 and pixels.shape == (int(rect.height()), int(rect.width()))
    assert np.all(pixels >> 24 == 0xFF)  # opaque
    spec = view.spectrogram
    column = int(view.x_of_tick(6000) - rect.left())
    loud = int(round(view.y_of_row(spec.row_of_hz(TONE_HZ))))
    floor = int(round(view.y_of_row(spec.row_of_hz(float(sg.midi_to_hz(50))))))
    lum = luminance(pixels[:, column])
    assert lum[loud] > lum[floor] + 100
    assert lum[loud] == lum.max()
    assert pixels[floor, column] == lookup_table(view.colormap)[0]


def test_zoomed_out_columns_keep_the_loudest_frame_they_cover_and_no_more(make_window, qtbot):
    """Several frames a pixel: each column shows the loudest of its own frames, and the last
    column does not take in the frames beyond the right edge."""
    hop, n = 512, 10_000  # 232 s of frames
    db = np.full((50, n), -80.0, np.float32)
    db[10, 2000] = 0.0  # one loud frame at 46 s
    db[25, 9000:9100] = 0.0  # a loud stretch at 209 s, off screen
    spec = sg.Spectrogram(db, np.linspace(100.0, 1000.0, 50), np.arange(n) * hop / RATE, RATE,
                          sg.SpectrogramSettings(scale="linear", hop=hop))
    window = shown_window(make_window, qtbot, spec)
    roll, view = window.piano_roll, window.spectrogram.view
    roll.viewport.fit(0, 100 * DEMO_TICKS_PER_SECOND, 36, 84)  # about 100 s on screen
    pixels = view.render_pixels()
    rect = view.image_rect()
    assert view.tick_at(rect.right()) / DEMO_TICKS_PER_SECOND < 150  # 209 s is off screen
    floor = lookup_table(view.colormap)[0]
    assert np.all(pixels[int(round(view.y_of_row(25)))] == floor)
    single = pixels[int(round(view.y_of_row(10)))]
    loud = np.flatnonzero(single != floor)
    x = view.x_of_tick(2000 * hop / RATE * DEMO_TICKS_PER_SECOND) - rect.left()
    assert len(loud) == 1 and abs(loud[0] - x) <= 1, (loud, x)


def test_colour_map_choice_recolours_the_view(window):
    view = window.spectrogram.view
    magma = view.render_pixels()
    view.set_colormap("grey")
    grey = view.render_pixels()
    assert grey.shape == magma.shape and not np.array_equal(grey, magma)
    r, g, b = (grey >> 16) & 255, (grey >> 8) & 255, grey & 255
    assert np.array_equal(r, g) and np.array_equal(g, b)


@pytest.mark.parametrize("name", COLORMAPS)
def test_every_colour_map_runs_dark_to_bright(name):
    table = lookup_table(name)
    assert table.shape == (256,) and table.dtype == np.uint32
    assert np.all(table >> 24 == 0xFF)
    lum = luminance(table)
    assert lum[0] < 30 and lum[-1] > 200
    if name in ("magma", "viridis", "grey"):
        assert np.all(np.diff(lum) > -1.0)  # rising, up to rounding of the 8-bit channels
        assert np.all(np.diff(lum[::8]) > 0)


def test_unknown_colour_map_is_refused():
    with pytest.raises(ValueError, match="jet"):
        lookup_table("jet")


def test_export_image_of_a_whole_spectrogram(tone_spectrogram):
    pixels = spectrogram_image(tone_spectrogram, width=600, height=200)
    assert pixels.shape == (200, 600) and pixels.dtype == np.uint32
    lum = luminance(pixels)
    y = int(round((1 - (tone_spectrogram.row_of_hz(TONE_HZ) + 0.5) / tone_spectrogram.n_rows) * 200))
    on = int(600 * (TONE_START + TONE_END) / 2 / 19.2)
    off = int(600 * 2.0 / 19.2)
    assert lum[y, on] > lum[y, off] + 100
    assert lum[y, on] >= lum[:, on].max() - 1


# ----- the panel --------------------------------------------------------------------------


@pytest.fixture
def tones_wav(tmp_path):
    """Three seconds: A3, A4, then E5, a second each, at 22,050 Hz stereo."""
    t = np.arange(RATE) / RATE
    mono = np.concatenate([0.3 * np.sin(2 * np.pi * hz * t) for hz in (220.0, 440.0, 659.26)]).astype(np.float32)
    path = tmp_path / "tones.wav"
    soundfile.write(str(path), np.stack([mono, mono], axis=1), RATE)
    return path


@pytest.fixture
def panel_window(make_window, qtbot, tones_wav):
    """The window with the tones imported; no song render ever starts."""
    w = make_window()
    w.open_demo()
    w.resize(*WINDOW_SIZE)
    w.show()
    qtbot.waitExposed(w)
    panel = w.spectrogram
    panel.import_audio(tones_wav)
    qtbot.waitUntil(lambda: panel.view.spectrogram is not None and not panel.busy, timeout=15_000)
    w.docks["spectrogram"].show()
    qtbot.waitUntil(panel.view.isVisible)
    return w


def test_import_audio_shows_the_file(panel_window, tones_wav):
    panel = panel_window.spectrogram
    assert panel.source == "audio" and panel.source_box.currentData() == "audio"
    assert panel.source_box.currentText() == "Imported audio"
    assert panel.imported is not None and panel.imported[2] == tones_wav and panel.imported[1] == RATE
    spec = panel.view.spectrogram
    assert spec.sample_rate == RATE and spec.settings == panel.settings
    assert spec.frame_times[-1] == pytest.approx(3.0, abs=0.05)
    assert "rows" in panel.status.text() and "frames" in panel.status.text()
    # The middle of each second peaks on its tone's pitch row (A3, A4, E5).
    for second, pitch in enumerate((57, 69, 76)):
        frame = int(spec.frame_of_seconds(second + 0.5))
        assert float(sg.hz_to_midi(spec.row_hz[int(np.argmax(spec.db[:, frame]))])) == pytest.approx(pitch)
    # The status bar tells what came in.
    assert tones_wav.name in panel_window.statusBar().currentMessage()


def test_import_of_a_bad_file_names_it_and_keeps_the_spectrogram(panel_window, qtbot, tmp_path):
    panel = panel_window.spectrogram
    old = panel.view.spectrogram
    bad = tmp_path / "letter.wav"
    bad.write_text("Dear composer,\nthis is not audio.\n")
    with qtbot.waitSignal(panel.message, timeout=10_000) as blocker:
        panel.import_audio(bad)
    assert str(bad) in blocker.args[0] and "cannot read" in blocker.args[0]
    missing = tmp_path / "gone.flac"
    with qtbot.waitSignal(panel.message, timeout=10_000) as blocker:
        panel.import_audio(missing)
    assert str(missing) in blocker.args[0] and "no such file" in blocker.args[0]
    qtbot.wait(50)
    assert panel.view.spectrogram is old and panel.source == "audio"
    assert panel.imported[2].name == "tones.wav"


def test_rebuild_from_magnitudes(panel_window, qtbot, tmp_path):
    panel = panel_window.spectrogram
    with qtbot.waitSignal(panel.computed, timeout=15_000):
        panel.reconstruct(12)
    qtbot.waitUntil(lambda: not panel.busy)
    result = panel.reconstruction
    assert result is not None and result.iterations == 12
    assert 0.0 < result.spectral_convergence < 1.0
    assert len(result.audio) == 3 * RATE
    status = panel.status.text()
    assert "12 iterations" in status and f"{result.spectral_convergence:.3f}" in status
    # Export the rebuilt audio as WAV: it reads back at the analysis rate and length.
    out = tmp_path / "rebuilt.wav"
    assert panel.export_reconstruction(out)
    audio, rate = soundfile.read(str(out))
    assert rate == RATE and len(audio) == 3 * RATE
    assert np.abs(audio).max() > 0.05


def test_export_reconstruction_before_a_rebuild_says_so(panel_window, qtbot, tmp_path):
    panel = panel_window.spectrogram
    with qtbot.waitSignal(panel.message) as blocker:
        assert not panel.export_reconstruction(tmp_path / "rebuilt.wav")
    assert "Rebuild" in blocker.args[0]
    assert not (tmp_path / "rebuilt.wav").exists()


def test_export_png_writes_the_view(panel_window, tmp_path):
    panel = panel_window.spectrogram
    out = tmp_path / "spectrogram.png"
    assert panel.export_png(out)
    image = QImage(str(out))
    assert not image.isNull()
    assert image.width() == panel.view.width() and image.height() == panel.view.height()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 9) for y in range(0, image.height(), 5)}
    assert len(colours) > 10


@pytest.mark.parametrize("scale", ["mel", "linear", "log"])
def test_changing_the_scale_recomputes(panel_window, qtbot, scale):
    panel = panel_window.spectrogram
    assert panel.view.spectrogram.settings.scale == "cqt"
    panel.set_scale(scale)
    assert panel.settings.scale == scale
    qtbot.waitUntil(lambda: panel.view.spectrogram.settings.scale == scale and not panel.busy, timeout=15_000)
    spec = panel.view.spectrogram
    frame = int(spec.frame_of_seconds(1.5))  # A4
    row = int(np.argmax(spec.db[:, frame]))
    if scale == "log":  # the panel's FFT size: log rows read FFT bins, a semitone apart down here
        assert abs(float(sg.hz_to_midi(spec.row_hz[row])) - 69) <= 1
    else:
        assert abs(row - spec.row_of_hz(440.0)) < 1.5
    assert panel.source == "audio"  # still the imported file, not the song


def test_panel_starts_hidden_and_shows_nothing_until_asked(make_window, qtbot):
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    assert not window.docks["spectrogram"].isVisible()
    assert window.spectrogram.view.spectrogram is None
    assert "spectrogram" in window.docks and window.docks["spectrogram"].widget() is window.spectrogram


def test_showing_the_dock_does_not_widen_the_window(make_window, qtbot):
    window = make_window()
    window.resize(1200, 780)  # the window's default size
    window.show()
    qtbot.waitExposed(window)
    window.spectrogram.view.set_spectrogram(sg.compute(tone_signal(2.0), RATE, sg.MELODIC_RANGE))
    window.docks["spectrogram"].show()
    qtbot.waitUntil(window.spectrogram.view.isVisible)
    QApplication.processEvents()
    assert window.width() == 1200
    assert window.minimumSizeHint().width() <= 1200


def flute_song(pitch: int) -> Song:
    """One flute note (the fundamental dominates) of one second: two beats at 120 BPM."""
    return Song(ppq=480, tempos=(TempoChange.from_bpm(0, 120.0),), time_signatures=(TimeSignature(0, 4, 4),),
                tracks=(Track(name="Flute", program=73, channel=0, notes=(Note(pitch, 0, 960, 100),)),), title="flute")


def peak_pitch(spec: sg.Spectrogram, seconds: float) -> float:
    return float(sg.hz_to_midi(spec.row_hz[int(np.argmax(spec.db[:, int(spec.frame_of_seconds(seconds))]))]))


def test_panel_shows_the_song_and_catches_up_with_edits_made_while_hidden(make_window, qtbot):
    if find_soundfont() is None:
        pytest.skip("no General MIDI SoundFont found (apt: fluid-soundfont-gm)")
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    window.document.load(flute_song(69), None)
    panel = window.spectrogram
    dock = window.docks["spectrogram"]
    dock.show()  # the song renders on a worker once the dock shows
    qtbot.waitUntil(lambda: panel.view.spectrogram is not None and not panel.busy, timeout=20_000)
    first = panel.view.spectrogram
    assert panel.source == "song" and first.settings.scale == "cqt"
    assert peak_pitch(first, 0.5) == pytest.approx(69)  # A4 on the piano roll's A4 row
    dock.hide()
    window.document.apply("Transpose", flute_song(76))  # edited while the dock is hidden
    dock.show()
    qtbot.waitUntil(lambda: panel.view.spectrogram is not first and not panel.busy, timeout=20_000)
    assert peak_pitch(panel.view.spectrogram, 0.5) == pytest.approx(76)


def test_import_that_arrives_during_a_failing_render_is_still_shown(make_window, qtbot, monkeypatch, tones_wav):
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    window.open_demo()
    panel = window.spectrogram

    def failing_render(song, settings, *args, **kwargs):
        deadline = time.monotonic() + 10
        while not panel._again and time.monotonic() < deadline:  # the import is queued behind us
            time.sleep(0.005)
        raise RuntimeError("the synth broke")

    monkeypatch.setattr(panel_module, "render_song", failing_render)
    panel.recompute()
    assert panel.busy
    with qtbot.waitSignal(panel.message, check_params_cb=lambda text: "the synth broke" in text, timeout=15_000):
        panel.import_audio(tones_wav)
    qtbot.waitUntil(lambda: panel.view.spectrogram is not None and not panel.busy, timeout=5_000)
    assert panel.source == "audio" and panel.view.spectrogram.sample_rate == RATE
    assert peak_pitch(panel.view.spectrogram, 1.5) == pytest.approx(69)
