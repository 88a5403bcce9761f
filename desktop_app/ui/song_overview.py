"""The song at a glance: one lane per track with its notes, bar numbers on a ruler.
Notes are rasterised with numpy into one image per size, so 100,000 notes paint in a few ms."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop_app.music.gm import program_name
from desktop_app.music.song import Song
from desktop_app.music.track import Track

HEADER_WIDTH = 170
RULER_HEIGHT = 22
MIN_LANE_HEIGHT = 18
MAX_LANE_HEIGHT = 140
TRACK_COLOURS = ("#4e9af1", "#f1a24e", "#5cc67a", "#e05d6f", "#a77fe0", "#3fc1c9", "#d4c14a", "#e07fbf")


def track_colour(index: int) -> QColor:
    return QColor(TRACK_COLOURS[index % len(TRACK_COLOURS)])


def _note_arrays(track: Track) -> np.ndarray:
    """(n, 3) int64 array of pitch, start, end."""
    return np.array([(n.pitch, n.start, n.end) for n in track.notes], dtype=np.int64).reshape(-1, 3)


class SongOverview(QWidget):
    trackActivated = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(400, 160)
        self.setToolTip("Song overview: one lane per track. Click a lane to make its track the active one.")
        self._song = Song()
        self._active = 0
        self._arrays: dict[int, np.ndarray] = {}  # id(track) -> note arrays, kept while the track lives
        self._image: QImage | None = None

    def set_song(self, song: Song) -> None:
        live = {id(t) for t in song.tracks}
        self._arrays = {k: v for k, v in self._arrays.items() if k in live}
        for t in song.tracks:
            if id(t) not in self._arrays:
                self._arrays[id(t)] = _note_arrays(t)
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
        """One ARGB image of every lane's notes, drawn with numpy."""
        lane_h = self._lane_height()
        scale = width / self._total_ticks()
        image = np.zeros((height, width, 4), dtype=np.uint8)
        for i, track in enumerate(self._song.tracks):
            arr = self._arrays.get(id(track))
            top = i * lane_h
            if arr is None or len(arr) == 0 or top >= height:
                continue
            pitch, start, end = arr[:, 0], arr[:, 1], arr[:, 2]
            low, high = int(pitch.min()), int(pitch.max())
            span = max(high - low, 12)
            thick = max(1, min(4, (lane_h - 6) // span))
            usable = lane_h - 6 - thick
            rows = np.clip(top + 3 + ((high - pitch) * usable // span), 0, height - 1)
            x0 = np.clip((start * scale).astype(np.int64), 0, width - 1)
            x1 = np.clip(np.maximum((end * scale).astype(np.int64) - 1, x0 + 1), 0, width)  # 1 px gap
            counts = np.zeros((height, width + 1), dtype=np.int32)
            np.add.at(counts, (rows, x0), 1)
            np.add.at(counts, (rows, x1), -1)
            filled = np.cumsum(counts, axis=1)[:, :width] > 0
            for extra in range(1, thick):  # thicken each note line downward
                filled[extra:] |= filled[:-extra].copy()
            lane = np.zeros_like(filled)
            lane[top : top + lane_h] = True
            c = track_colour(i)
            alpha = 255 if i == self._active else 150
            image[filled & lane] = (c.blue(), c.green(), c.red(), alpha)
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
        # Ruler with bar numbers and bar lines across the lanes.
        p.fillRect(QRect(0, 0, self.width(), RULER_HEIGHT), pal.color(QPalette.ColorRole.Window))
        bar_starts = song.meter.bar_starts(self._total_ticks())
        step = max(1, int(40 / max(scale * song.meter.ticks_per_bar(), 1e-9)))
        grid = QColor(text)
        grid.setAlpha(40)
        for n, tick in enumerate(bar_starts):
            x = HEADER_WIDTH + int(tick * scale)
            if n % step == 0:
                p.setPen(text)
                p.drawText(QPoint(x + 3, RULER_HEIGHT - 6), str(n + 1))
            p.setPen(grid)
            p.drawLine(x, RULER_HEIGHT - (8 if n % step == 0 else 4), x, self.height())
        # Lanes: header, background of the active lane.
        for i, track in enumerate(song.tracks):
            rect = QRect(0, RULER_HEIGHT + i * lane_h, self.width(), lane_h)
            if i == self._active:
                hl = QColor(pal.color(QPalette.ColorRole.Highlight))
                hl.setAlpha(35)
                p.fillRect(rect, hl)
            p.fillRect(QRect(0, rect.top(), 6, lane_h - 1), track_colour(i))
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
