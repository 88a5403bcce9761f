"""A strip of piano rolls a model generated while it trained (the GAN's `preview`: the same
validation melodies and the same noise at every evaluation), one cell per evaluation labelled with
its step, newest on the right, so one sees the generator learn."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from desktop_app.ui.colours import TRACK_COLOURS

MAX_CELLS = 12  # evaluations kept in the strip (the oldest drop out)
CELL_HEIGHT = 120  # pixels a cell's rolls are drawn in
ONSET = 4  # added to a voice's code where a note begins (gan.PREVIEW_ONSET)
BACKGROUND = (30, 30, 34)
BAR_LINE = (58, 58, 66)
GAP = (90, 90, 98)
# code 1 the melody, 2..4 alto, tenor, bass: the melody light, the voices in the first track colours
VOICE_RGB = np.array([BACKGROUND, (236, 236, 236)]
                     + [tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in TRACK_COLOURS[:3]], dtype=np.uint8)
LEGEND = (("melody", "#ececec"), ("alto", TRACK_COLOURS[0]), ("tenor", TRACK_COLOURS[1]), ("bass", TRACK_COLOURS[2]))


def roll_image(rolls: np.ndarray, columns: int = 2, steps_per_bar: int = 16) -> np.ndarray:
    """(n, pitches, steps) voice codes as one RGB image (H, W, 3): the windows tiled `columns` wide, high
    pitches at the top, bar lines faint, note starts brighter than their sustain, a line between windows."""
    n, pitches, steps = rolls.shape
    rows = -(-n // columns) if n else 1
    image = np.empty((rows * (pitches + 1) - 1, columns * (steps + 1) - 1, 3), dtype=np.uint8)
    image[:] = GAP
    for k in range(rows * columns):
        r, c = divmod(k, columns)
        cell = np.zeros((pitches, steps, 3), dtype=np.uint8)
        cell[:] = BACKGROUND
        cell[:, ::steps_per_bar] = BAR_LINE
        if k < n:
            roll = rolls[k][::-1]  # row 0 is the lowest pitch: draw it at the bottom
            voice = np.where(roll > ONSET, roll - ONSET, roll).clip(0, len(VOICE_RGB) - 1)
            sounding = voice > 0
            colours = VOICE_RGB[voice].astype(np.float32)
            colours[(roll > 0) & (roll <= ONSET)] *= 0.72  # sustained steps darker than note starts
            cell[sounding] = colours[sounding].astype(np.uint8)
        top, left = r * (pitches + 1), c * (steps + 1)
        image[top:top + pitches, left:left + steps] = cell
    return image


def pitch_band(rolls: np.ndarray, margin: int = 2) -> tuple[int, int]:
    """Rows [low, high) from below the lowest to above the highest sounding pitch of any window."""
    sounding = np.flatnonzero(rolls.any(axis=(0, 2))) if rolls.size else np.zeros(0, dtype=int)
    if not len(sounding):
        return 0, rolls.shape[1]
    return max(int(sounding[0]) - margin, 0), min(int(sounding[-1]) + margin + 1, rolls.shape[1])


def to_pixmap(image: np.ndarray, height: int) -> QPixmap:
    """An RGB array as a pixmap `height` pixels high, its cells kept square and crisp (no smoothing)."""
    image = np.ascontiguousarray(image)
    h, w, _ = image.shape
    qimage = QImage(image.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    width = max(round(w * height / max(h, 1)), 1)
    return QPixmap.fromImage(qimage.scaled(width, height, Qt.AspectRatioMode.IgnoreAspectRatio,
                                           Qt.TransformationMode.FastTransformation))


class RollStrip(QWidget):
    """The strip: `add(step, rolls)` appends a cell (a step already shown is replaced); `cells` holds
    (step, rolls) as shown. Hidden until the first rolls arrive (models without `preview` never show it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cells: list[tuple[int, np.ndarray]] = []
        self.title = QLabel("Generated from fixed noise under the same validation melodies, at each evaluation:",
                            self)
        legend = "  ".join(f"<span style='color:{colour}'>■</span> {name}" for name, colour in LEGEND)
        self.legend = QLabel(legend, self)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.legend)
        self.row = QHBoxLayout()
        self.row.setContentsMargins(2, 2, 2, 2)
        self.row.setSpacing(8)
        self.row.addStretch(1)
        inner = QWidget(self)
        inner.setLayout(self.row)
        self.scroll = QScrollArea(self)
        self.scroll.setWidget(inner)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setMinimumHeight(CELL_HEIGHT + 2 * self.fontMetrics().height() + 16)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = self.scroll.horizontalScrollBar()
        bar.rangeChanged.connect(lambda _low, high: bar.setValue(high))  # a new cell: show the newest
        self.scroll.setToolTip("What the generator writes under the same melodies from the same noise, refreshed "
                               "at every validation: white the melody, then alto, tenor and bass; bright where a "
                               "note begins")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.scroll)
        self.labels: list[QWidget] = []
        self.setVisible(False)

    def clear(self) -> None:
        """Forget every cell (a new run)."""
        self.cells.clear()
        self._rebuild()

    def add_row(self, row: dict) -> None:
        """A training row: when it carries preview rolls, they become the strip's newest cell."""
        rolls = row.get("preview")
        if rolls is not None:
            self.add(int(row["step"]), np.asarray(rolls))

    def add(self, step: int, rolls: np.ndarray) -> None:
        self.cells = [(s, r) for s, r in self.cells if s != step] + [(step, rolls)]
        self.cells = sorted(self.cells, key=lambda cell: cell[0])[-MAX_CELLS:]
        self._rebuild()

    def set_history(self, previews: list[tuple[int, np.ndarray]]) -> None:
        """Rolls a run saved (read back from its previews/ folder)."""
        self.cells = sorted(previews, key=lambda cell: cell[0])[-MAX_CELLS:]
        self._rebuild()

    def _rebuild(self) -> None:
        for label in self.labels:
            self.row.removeWidget(label)
            label.deleteLater()
        self.labels = []
        if self.cells:
            # one pitch range for every cell, so they line up
            low, high = pitch_band(np.concatenate([r for _, r in self.cells]))
            for step, rolls in self.cells:
                cropped = rolls[:, low:high]
                cell = QWidget()
                box = QVBoxLayout(cell)
                box.setContentsMargins(0, 0, 0, 0)
                box.setSpacing(1)
                picture = QLabel(cell)
                picture.setPixmap(to_pixmap(roll_image(cropped), CELL_HEIGHT))
                picture.setToolTip(f"Step {step:,}: {len(rolls)} validation windows")
                caption = QLabel(f"step {step:,}", cell)
                caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
                box.addWidget(picture)
                box.addWidget(caption)
                self.row.insertWidget(self.row.count() - 1, cell)
                self.labels.append(cell)
        self.setVisible(bool(self.cells))

    def captions(self) -> list[str]:
        """The cells' labels, left to right (for tests)."""
        return [cell.findChildren(QLabel)[1].text() for cell in self.labels]
