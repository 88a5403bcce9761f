"""The song at a glance: one lane per track with its notes, bar numbers on a ruler.
Notes are rasterised with numpy into one image per size, so 100,000 notes paint in a few ms."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLine, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop_app.music.gm import program_name
from desktop_app.music.song import Song
from desktop_app.ui.colours import mix, track_colour

HEADER_WIDTH = 170
RULER_HEIGHT = 22
MIN_LANE_HEIGHT = 18
MAX_LANE_HEIGHT = 140



class SongOverview(QWidget):
    trackActivated = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(400, 160)
        self.setToolTip("Song overview: one lane per track. Click a lane to make its track the active one.")
        self._song = Song()
        self._active = 0
        self._image: QImage | None = None

    def set_song(self, song: Song) -> None:
        self._song = song
        self._active = min(self._active, max(0, len(song.tracks) - 1))
        self._image = None
        self.update()

    @property
    def active_track(self) -> int:
        return self._active

    def set_active_track(self, index: int) -> None:
        if index != self._active:
            self._active = index
            self._image = None
            self.update()

    def lane_rect(self, index: int) -> QRect:
        h = self._lane_height()
        return QRect(0, RULER_HEIGHT + index * h, self.width(), h)

    def _lane_height(self) -> int:
        n = max(1, len(self._song.tracks))
        return max(MIN_LANE_HEIGHT, min(MAX_LANE_HEIGHT, (self.height() - RULER_HEIGHT) // n))

    def _total_ticks(self) -> int:
        return max(self._song.end_tick, self._song.meter.ticks_per_bar() * 4, 1)

    def resizeEvent(self, event) -> None:
        self._image = None
        super().resizeEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        y = event.position().y() - RULER_HEIGHT
        index = int(y // self._lane_height()) if y >= 0 else -1
        if 0 <= index < len(self._song.tracks):
            self.set_active_track(index)
            self.trackActivated.emit(index)

    def _render_notes(self, width: int, height: int) -> QImage:
        """One ARGB image of every lane's notes: each note is a horizontal run of pixels, marked
        +1 at its start and -1 past its end, filled by a running sum; lanes share one pass."""
        lane_h = self._lane_height()
        scale = width / self._total_ticks()
        rows_all, x0_all, x1_all = [], [], []
        row_colour = np.zeros((height, 4), dtype=np.uint8)
        thick = 1
        for i, track in enumerate(self._song.tracks):
            top = i * lane_h
            if not track.notes or top >= height:
                continue
            arr = track.note_array
            pitch = arr[:, 0]
            low, high = int(pitch.min()), int(pitch.max())
            span = max(high - low, 12)
            thick = max(1, min(4, (lane_h - 6) // span))
            usable = lane_h - 6 - thick
            rows_all.append(top + 3 + (high - pitch) * usable // span)
            x0 = (arr[:, 1] * scale).astype(np.int64)
            x0_all.append(x0)
            x1_all.append(np.maximum((arr[:, 2] * scale).astype(np.int64) - 1, x0 + 1))  # 1 px gap
            c = track_colour(track, i)
            row_colour[top : min(top + lane_h, height)] = (c.blue(), c.green(), c.red(), 255 if i == self._active else 150)
        image = np.zeros((height, width, 4), dtype=np.uint8)
        if rows_all:
            rows = np.clip(np.concatenate(rows_all), 0, height - 1)
            x0 = np.clip(np.concatenate(x0_all), 0, width - 1)
            x1 = np.clip(np.concatenate(x1_all), 0, width)
            size = height * (width + 1)
            counts = np.bincount(rows * (width + 1) + x0, minlength=size) - np.bincount(
                rows * (width + 1) + x1, minlength=size
            )
            filled = np.cumsum(counts.reshape(height, width + 1), axis=1)[:, :width] > 0
            for extra in range(1, thick):  # thicken note lines downward; the layout leaves room
                filled[extra:] |= filled[:-extra].copy()
            image[filled] = np.broadcast_to(row_colour[:, None, :], (height, width, 4))[filled]
        qimage = QImage(image.data, width, height, width * 4, QImage.Format.Format_ARGB32)
        return qimage.copy()  # own the pixels: `image` dies with this frame

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        pal = self.palette()
        base, text = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)
        p.fillRect(self.rect(), base.darker(105))
        song = self._song
        lane_h = self._lane_height()
        body_w = max(1, self.width() - HEADER_WIDTH)
        body_h = max(1, self.height() - RULER_HEIGHT)
        scale = body_w / self._total_ticks()
        if song.tracks:
            active = QRect(0, RULER_HEIGHT + self._active * lane_h, self.width(), lane_h)
            p.fillRect(active, mix(pal.color(QPalette.ColorRole.Highlight), base.darker(105), 0.14))
        # Ruler with bar numbers and bar lines across the lanes.
        p.fillRect(QRect(0, 0, self.width(), RULER_HEIGHT), pal.color(QPalette.ColorRole.Window))
        bar_starts = song.meter.bar_starts(self._total_ticks())
        label_every = max(1, int(40 / max(scale * song.meter.ticks_per_bar(), 1e-9)))
        line_every = max(1, int(6 / max(scale * song.meter.ticks_per_bar(), 1e-9)))
        grid = mix(text, base, 0.16)  # opaque: alpha-blended lines are ten times slower to draw
        lines = []
        p.setPen(text)
        for n in range(0, len(bar_starts), line_every):  # lines at least 6 px apart, labels 40 px
            x = HEADER_WIDTH + int(bar_starts[n] * scale)
            if n % label_every == 0:
                p.drawText(QPoint(x + 3, RULER_HEIGHT - 6), str(n + 1))
            lines.append(QLine(x, RULER_HEIGHT - (8 if n % label_every == 0 else 4), x, self.height()))
        p.setPen(grid)
        p.drawLines(lines)
        # Lane headers: colour, name, instrument, note count.
        for i, track in enumerate(song.tracks):
            rect = QRect(0, RULER_HEIGHT + i * lane_h, self.width(), lane_h)
            p.fillRect(QRect(0, rect.top(), 6, lane_h - 1), track_colour(track, i))
            p.setPen(text)
            p.drawText(QRect(12, rect.top() + 2, HEADER_WIDTH - 16, lane_h - 4),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap,
                       f"{track.name or 'Untitled'}\n{program_name(track.program, track.is_drum)} · {len(track.notes)} notes"
                       if lane_h >= 34 else (track.name or "Untitled"))
            p.setPen(grid)
            p.drawLine(0, rect.bottom(), self.width(), rect.bottom())
        if self._image is None or (self._image.width(), self._image.height()) != (body_w, body_h):
            self._image = self._render_notes(body_w, body_h)
        p.drawImage(HEADER_WIDTH, RULER_HEIGHT, self._image)
        if not song.tracks:
            p.setPen(text)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                       "Empty song. Open or drop a MIDI, MusicXML or project file (Ctrl+O).")
        p.end()
