"""The spectrogram image under the piano roll. Time comes from the roll's viewport (ticks to
seconds through the tempo map) and is measured from the roll's note area on screen, so a tick
sits at the same screen x in both. Each repaint resamples the dB matrix to the pixels on screen
and colours it with a lookup table; the playhead and loop are drawn on top."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QPoint, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from desktop_app.audio.spectrogram import Spectrogram, hz_to_midi
from desktop_app.music.gm import pitch_name
from desktop_app.ui.document import Document
from desktop_app.ui.piano_roll.state import RollState
from desktop_app.ui.piano_roll.viewport import RollViewport
from desktop_app.ui.spectrogram.colormaps import lookup_table

AXIS_WIDTH = 58
BAR_WIDTH = 64


class SpectrogramView(QWidget):
    readout = Signal(str)  # what is under the mouse

    def __init__(self, document: Document, viewport: RollViewport, state: RollState, time_reference: QWidget,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.viewport = viewport
        self.state = state
        self.time_reference = time_reference  # the roll's note area: x = 0 there is viewport x = 0
        self.spectrogram: Spectrogram | None = None
        self.colormap = "magma"
        self._lut = lookup_table(self.colormap)
        self._image: tuple[np.ndarray, QImage] | None = None
        self._image_key: tuple[float, float, float] | None = None  # the geometry it was drawn for
        self.setMinimumHeight(120)
        self.setMouseTracking(True)
        self.setToolTip("Spectrogram: shares the piano roll's time axis, playhead and loop")
        viewport.changed.connect(self.refresh)
        document.songChanged.connect(self.refresh)
        state.playheadMoved.connect(lambda _t: self.update())
        state.loopChanged.connect(self.update)

    def set_spectrogram(self, spectrogram: Spectrogram | None) -> None:
        self.spectrogram = spectrogram
        self.refresh()

    def set_colormap(self, name: str) -> None:
        self.colormap = name
        self._lut = lookup_table(name)
        self.refresh()

    def refresh(self) -> None:
        self._image = None
        self.update()

    # ----- geometry -----------------------------------------------------------------------

    def image_rect(self) -> QRectF:
        return QRectF(AXIS_WIDTH, 0, max(1, self.width() - AXIS_WIDTH - BAR_WIDTH), self.height())

    def x_offset(self) -> float:
        """Where the roll's note area begins, in this widget's x (the two share the time axis)."""
        # On screen, not within one window: the dock may float apart from the roll.
        ref = self.time_reference.mapToGlobal(QPoint(0, 0)).x()
        return float(ref - self.mapToGlobal(QPoint(0, 0)).x())

    def tick_at(self, x: float) -> float:
        return self.viewport.x_to_tick(x - self.x_offset())

    def x_of_tick(self, tick: float) -> float:
        return self.viewport.tick_to_x(tick) + self.x_offset()

    def row_at(self, y: float) -> float:
        """Fractional spectrogram row at widget y (row 0, the lowest frequency, at the bottom)."""
        n = self.spectrogram.n_rows if self.spectrogram is not None else 1
        return (1.0 - (y + 0.5) / max(1, self.height())) * n - 0.5

    def y_of_row(self, row: float) -> float:
        n = self.spectrogram.n_rows if self.spectrogram is not None else 1
        return (1.0 - (row + 0.5) / n) * self.height()

    # ----- painting -----------------------------------------------------------------------

    def render_pixels(self) -> np.ndarray:
        """The visible part as (height, width) uint32 ARGB pixels: each screen column takes the
        loudest frame it covers, each row the nearest spectrogram row."""
        spec = self.spectrogram
        rect = self.image_rect()
        w, h = int(rect.width()), int(rect.height())
        xs = rect.left() + np.arange(w + 1)
        ticks = self.viewport.x_to_tick(xs - self.x_offset())
        seconds = np.asarray(self.document.song.tempo_map.seconds(np.maximum(ticks, 0.0)))
        edges = spec.frame_of_seconds(seconds)
        first, last = edges[:-1], np.maximum(edges[1:], edges[:-1] + 1)
        rows = np.clip(np.rint(self.row_at(np.arange(h))).astype(np.int64), 0, spec.n_rows - 1)
        db = spec.db[rows]  # (h, frames)
        if last[-1] - first[0] > 2 * w:  # zoomed out: several frames a pixel, keep the loudest
            starts = np.minimum(first, spec.n_frames - 1)
            if last[-1] < spec.n_frames:  # the last column ends on screen, not at the last frame
                columns = np.maximum.reduceat(db, np.append(starts, last[-1]), axis=1)[:, :-1]
            else:
                columns = np.maximum.reduceat(db, starts, axis=1)
        else:
            columns = db[:, np.minimum(first, spec.n_frames - 1)]
        beyond = (seconds[:-1] > spec.frame_times[-1] + spec.settings.hop / spec.sample_rate) | (ticks[:-1] < 0)
        top_db = spec.settings.top_db
        level = np.clip((columns + top_db) / top_db * 255, 0, 255).astype(np.uint8)
        pixels = self._lut[level]
        pixels[:, beyond] = 0xFF000000
        return np.ascontiguousarray(pixels)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#101010"))
        rect = self.image_rect()
        spec = self.spectrogram
        if spec is None:
            p.setPen(QColor("#bbbbbb"))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, "No spectrogram yet: it appears once the song is rendered, "
                       "or import an audio file")
        else:
            key = (self.x_offset(), rect.width(), rect.height())  # a resize or a move redraws
            if self._image is None or self._image_key != key:
                self._image_key = key
                pixels = self.render_pixels()
                self._image = (pixels, QImage(pixels.data, pixels.shape[1], pixels.shape[0], pixels.shape[1] * 4,
                                              QImage.Format.Format_ARGB32))
            p.drawImage(rect.topLeft(), self._image[1])
            self._paint_axis(p, spec)
            self._paint_colour_bar(p, spec)
        self._paint_overlays(p, rect)
        p.end()

    def _paint_axis(self, p: QPainter, spec: Spectrogram) -> None:
        p.fillRect(QRectF(0, 0, AXIS_WIDTH, self.height()), QColor("#f0f0f0"))
        p.setPen(QColor("#333333"))
        if spec.settings.pitch_scale:
            pitches = hz_to_midi(spec.row_hz)
            step = 12 if self.height() / max(1.0, (pitches[-1] - pitches[0]) / 12) >= 14 else 24
            for pitch in range(int(np.ceil(pitches[0] / 12)) * 12, int(pitches[-1]) + 1, step):
                y = self.y_of_row(spec.row_of_hz(440.0 * 2 ** ((pitch - 69) / 12)))
                p.drawLine(QLineF(AXIS_WIDTH - 6, y, AXIS_WIDTH, y))
                p.drawText(QRectF(0, y - 8, AXIS_WIDTH - 8, 16), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                           pitch_name(pitch))
        else:
            for k in range(6):
                row = k * (spec.n_rows - 1) / 5
                y = self.y_of_row(row)
                hz = float(np.interp(row, np.arange(spec.n_rows), spec.row_hz))
                label = f"{hz / 1000:.1f}k" if hz >= 1000 else f"{hz:.0f}"
                p.drawText(QRectF(0, y - 8, AXIS_WIDTH - 8, 16), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                           label)

    def _paint_colour_bar(self, p: QPainter, spec: Spectrogram) -> None:
        left = self.width() - BAR_WIDTH
        p.fillRect(QRectF(left, 0, BAR_WIDTH, self.height()), QColor("#f0f0f0"))
        h = max(1, self.height() - 16)
        levels = np.linspace(255, 0, h).astype(np.uint8)
        bar = np.ascontiguousarray(np.repeat(self._lut[levels][:, None], 12, axis=1))
        p.drawImage(QRectF(left + 6, 8, 12, h), QImage(bar.data, 12, h, 48, QImage.Format.Format_ARGB32))
        p.setPen(QColor("#333333"))
        top_db = spec.settings.top_db
        for k in range(5):
            db = -top_db * k / 4
            y = 8 + h * k / 4
            p.drawText(QRectF(left + 20, y - 8, BAR_WIDTH - 22, 16), Qt.AlignmentFlag.AlignVCenter, f"{db:.0f} dB")

    def _paint_overlays(self, p: QPainter, rect: QRectF) -> None:
        p.setClipRect(rect)
        loop = self.state.loop
        if loop is not None:
            x0, x1 = self.x_of_tick(loop[0]), self.x_of_tick(loop[1])
            p.fillRect(QRectF(x0, 0, x1 - x0, self.height()), QColor(80, 160, 255, 50))
        x = self.x_of_tick(self.state.playhead)
        p.setPen(QPen(QColor("#40f0ff"), 2))  # cyan: it stands out on every colour map
        p.drawLine(QLineF(x, 0, x, self.height()))

    # ----- read-out -----------------------------------------------------------------------

    def describe(self, x: float, y: float) -> str:
        """Time (bars:beats and seconds), frequency, nearest note with cents, and level."""
        spec = self.spectrogram
        song = self.document.song
        tick = max(0.0, self.tick_at(x))
        seconds = float(song.tempo_map.seconds(tick))
        where = song.meter.bar_beat(int(tick))
        text = f"{where.bar}:{where.beat}  {seconds:.3f} s"
        if spec is None:
            return text
        row = float(np.clip(self.row_at(y), 0, spec.n_rows - 1))
        hz = float(np.interp(row, np.arange(spec.n_rows), spec.row_hz))
        midi = float(hz_to_midi(hz))
        nearest = int(round(midi))
        cents = round((midi - nearest) * 100)
        level = float(spec.db[int(round(row)), int(spec.frame_of_seconds(seconds))])
        return f"{text}   {hz:.1f} Hz   {pitch_name(nearest)} {cents:+d} ct   {level:.1f} dB"

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self.image_rect().contains(pos):
            self.readout.emit(self.describe(pos.x(), pos.y()))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """A click moves the playhead, as on the ruler."""
        if event.button() == Qt.MouseButton.LeftButton and self.image_rect().contains(event.position()):
            self.state.set_playhead(int(max(0.0, self.tick_at(event.position().x()))))
