"""The song at a glance: one lane per track with its notes, bar numbers on a ruler. Lanes keep a
height their labels fit in; when there are more than fit, the lanes scroll (wheel or scroll bar)
under the fixed ruler. Notes are rasterised with numpy into one image of all lanes, so 100,000
notes paint in a few ms and scrolling only moves that image. Tracks that do not sound (muted, or
not soloed while another is) are drawn grey and faint."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QLine, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QMouseEvent, QPainter, QPaintEvent, QPalette, QWheelEvent
from PySide6.QtWidgets import QScrollBar, QSizePolicy, QToolTip, QWidget

from desktop_app.audio.schedule import audible_tracks
from desktop_app.music.gm import program_name
from desktop_app.music.song import Song
from desktop_app.music.track import Track
from desktop_app.ui.colours import mix, track_colour

HEADER_WIDTH = 170
RULER_HEIGHT = 22
MAX_LANE_HEIGHT = 140
MUTED_ALPHA = 70


def lane_text(track: Track) -> tuple[str, str]:
    """The two lines of a lane's label: its name, and instrument with note count."""
    return track.name or "Untitled", f"{program_name(track.program, track.is_drum)} · {len(track.notes):,} notes"


class SongOverview(QWidget):
    trackActivated = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(400, 80)
        self.setToolTip("Song overview: one lane per track. Click a lane to make its track the active one.")
        self._song = Song()
        self._audible: set[int] = set()
        self._active = 0
        self._image: QImage | None = None
        self.scrollbar = QScrollBar(Qt.Orientation.Vertical, self)
        self.scrollbar.valueChanged.connect(self.update)
        self.scrollbar.hide()

    # ----- the song -----------------------------------------------------------------------

    def set_song(self, song: Song) -> None:
        self._song = song
        self._audible = {i for i, _ in audible_tracks(song)}
        self._active = min(self._active, max(0, len(song.tracks) - 1))
        self._image = None
        self._layout_scrollbar()
        self.update()

    @property
    def active_track(self) -> int:
        return self._active

    def set_active_track(self, index: int) -> None:
        if index != self._active:
            self._active = index
            self._image = None
            self.ensure_visible(index)
            self.update()

    def is_audible(self, index: int) -> bool:
        return index in self._audible

    # ----- geometry -----------------------------------------------------------------------

    def min_lane_height(self) -> int:
        """A lane is at least one line of its label tall, with a little room."""
        return QFontMetrics(self.font()).height() + 10

    def _two_lines(self, lane_h: int) -> bool:
        return lane_h >= 2 * QFontMetrics(self.font()).height() + 8

    def _lane_height(self) -> int:
        n = max(1, len(self._song.tracks))
        fit = (self.height() - RULER_HEIGHT) // n
        return max(self.min_lane_height(), min(MAX_LANE_HEIGHT, fit))

    def content_height(self) -> int:
        """Height of all lanes together (they scroll when it is more than is shown)."""
        return len(self._song.tracks) * self._lane_height()

    def _body_height(self) -> int:
        return max(1, self.height() - RULER_HEIGHT)

    def _body_width(self) -> int:
        bar = self.scrollbar.width() if self.scrollbar.isVisible() else 0
        return max(1, self.width() - HEADER_WIDTH - bar)

    @property
    def scroll(self) -> int:
        return self.scrollbar.value() if self.scrollbar.isVisible() else 0

    def lane_rect(self, index: int) -> QRect:
        """Where lane `index` is on the widget now (it may be scrolled out of sight)."""
        h = self._lane_height()
        return QRect(0, RULER_HEIGHT + index * h - self.scroll, self.width(), h)

    def lane_at(self, y: float) -> int:
        """The track whose lane is at widget y, or -1."""
        if y < RULER_HEIGHT:
            return -1
        index = int((y - RULER_HEIGHT + self.scroll) // self._lane_height())
        return index if 0 <= index < len(self._song.tracks) else -1

    def ensure_visible(self, index: int) -> None:
        h = self._lane_height()
        top, bottom = index * h, (index + 1) * h
        if top < self.scroll:
            self.scrollbar.setValue(top)
        elif bottom > self.scroll + self._body_height():
            self.scrollbar.setValue(bottom - self._body_height())

    def _layout_scrollbar(self) -> None:
        hidden = self.content_height() - self._body_height()
        bar = self.scrollbar
        bar.setVisible(hidden > 0)
        bar.setRange(0, max(0, hidden))
        bar.setPageStep(self._body_height())
        bar.setSingleStep(self._lane_height())
        w = bar.sizeHint().width()
        bar.setGeometry(self.width() - w, RULER_HEIGHT, w, self._body_height())

    def _total_ticks(self) -> int:
        return max(self._song.end_tick, self._song.meter.ticks_per_bar() * 4, 1)

    # ----- events -------------------------------------------------------------------------

    def resizeEvent(self, event) -> None:
        self._image = None
        self._layout_scrollbar()
        super().resizeEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not self.scrollbar.isVisible():
            event.ignore()
            return
        steps = event.angleDelta().y() / 120
        self.scrollbar.setValue(self.scrollbar.value() - int(round(steps * self._lane_height())))
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self.lane_at(event.position().y())
        if index >= 0 and event.position().x() < self.width() - (self.scrollbar.width() if self.scrollbar.isVisible() else 0):
            self.set_active_track(index)
            self.trackActivated.emit(index)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            index = self.lane_at(event.pos().y())
            if index >= 0:
                track = self._song.tracks[index]
                name, detail = lane_text(track)
                state = "" if self.is_audible(index) else " · silent (muted, or another track is soloed)"
                QToolTip.showText(event.globalPos(), f"{index + 1}. {name}\n{detail}{state}", self)
                return True
        return super().event(event)

    # ----- painting -----------------------------------------------------------------------

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
            if self.is_audible(i):
                rgba = (c.blue(), c.green(), c.red(), 255 if i == self._active else 150)
            else:
                grey = QColor.fromHsv(max(0, c.hsvHue()), 0, 120)
                rgba = (grey.blue(), grey.green(), grey.red(), MUTED_ALPHA)
            row_colour[top : min(top + lane_h, height)] = rgba
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

    def _paint_header(self, p: QPainter, index: int, rect: QRect, text: QColor, faint: QColor) -> None:
        """The lane's colour strip and its label, each line cut with an ellipsis to fit."""
        track = self._song.tracks[index]
        audible = self.is_audible(index)
        colour = track_colour(track, index)
        p.fillRect(QRect(0, rect.top(), 6, rect.height() - 1), colour if audible else mix(colour, faint, 0.35))
        name, detail = lane_text(track)
        if not audible:
            detail = f"muted · {detail}" if track.mute else f"silent · {detail}"
        metrics = QFontMetrics(p.font())
        room = HEADER_WIDTH - 18
        p.setPen(text if audible else faint)
        if self._two_lines(rect.height()):
            line = metrics.height()
            top = rect.top() + (rect.height() - 2 * line) // 2
            bold = QFont(p.font())
            bold.setBold(True)
            p.setFont(bold)
            p.drawText(QRect(12, top, room, line), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       QFontMetrics(bold).elidedText(name, Qt.TextElideMode.ElideRight, room))
            p.setFont(self.font())
            p.setPen(faint if audible else mix(faint, text, 0.7))
            p.drawText(QRect(12, top + line, room, line), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       metrics.elidedText(detail, Qt.TextElideMode.ElideRight, room))
        else:
            label = name if audible else f"{name} (muted)" if track.mute else f"{name} (silent)"
            p.drawText(QRect(12, rect.top(), room, rect.height()), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       metrics.elidedText(label, Qt.TextElideMode.ElideRight, room))

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        pal = self.palette()
        base, text = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)
        faint = mix(text, base, 0.55)
        p.fillRect(self.rect(), base.darker(105))
        song = self._song
        lane_h = self._lane_height()
        body_w, body_h = self._body_width(), self._body_height()
        scale = body_w / self._total_ticks()
        grid = mix(text, base, 0.16)  # opaque: alpha-blended lines are ten times slower to draw
        lanes = QRect(0, RULER_HEIGHT, self.width(), body_h)
        if song.tracks:
            p.fillRect(self.lane_rect(self._active).intersected(lanes),
                       mix(pal.color(QPalette.ColorRole.Highlight), base.darker(105), 0.14))
        # Ruler with bar numbers, and bar lines across the lanes (under the notes).
        p.fillRect(QRect(0, 0, self.width(), RULER_HEIGHT), pal.color(QPalette.ColorRole.Window))
        bar_starts = song.meter.bar_starts(self._total_ticks())
        label_every = max(1, int(40 / max(scale * song.meter.ticks_per_bar(), 1e-9)))
        line_every = max(1, int(6 / max(scale * song.meter.ticks_per_bar(), 1e-9)))
        lines = []
        p.setPen(text)
        for n in range(0, len(bar_starts), line_every):  # lines at least 6 px apart, labels 40 px
            x = HEADER_WIDTH + int(bar_starts[n] * scale)
            if n % label_every == 0:
                p.drawText(QPoint(x + 3, RULER_HEIGHT - 6), str(song.meter.bar_beat(bar_starts[n]).bar))
            lines.append(QLine(x, RULER_HEIGHT - (8 if n % label_every == 0 else 4), x, RULER_HEIGHT + body_h))
        p.setPen(grid)
        p.drawLines(lines)
        # Lane headers and notes, scrolled under the fixed ruler.
        p.setClipRect(lanes)
        first = max(0, self.scroll // lane_h)
        last = min(len(song.tracks), (self.scroll + body_h) // lane_h + 1)
        for i in range(first, last):
            rect = self.lane_rect(i)
            self._paint_header(p, i, rect, text, faint)
            p.setPen(grid)
            p.drawLine(0, rect.bottom(), self.width(), rect.bottom())
        content_h = max(1, self.content_height())
        if self._image is None or (self._image.width(), self._image.height()) != (body_w, content_h):
            self._image = self._render_notes(body_w, content_h)
        p.drawImage(QPoint(HEADER_WIDTH, RULER_HEIGHT), self._image, QRect(0, self.scroll, body_w, body_h))
        p.setClipping(False)
        if not song.tracks:
            p.setPen(text)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                       "Empty song. Open or drop a MIDI, MusicXML or project file (Ctrl+O).")
        p.end()
