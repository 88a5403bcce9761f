"""Live training curves with pyqtgraph: training and validation loss, the model's own metrics and
the learning rate, one plot each with the steps linked; a log-scale toggle, smoothing of the
training curves, a read-out of every curve under the mouse, and a dashed line where a run was
resumed. New points are drawn at most ten times a second, however fast the steps come.

A model may lay its curves out its own way (LAYOUTS): the GAN draws its generator and critic losses
on one plot, its gradient penalty on another (in place of the learning rate, which the read-out still
gives), and its sample metrics one at a time, generated beside the real voices."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from desktop_app.ui.colours import TRACK_COLOURS

REDRAW_MS = 100
METRIC_PREFIXES = ("train/", "valid/")


@dataclass(frozen=True)
class CurveLayout:
    """How a model's curves are drawn: `loss` and `penalty` map a curve to its legend label on the loss
    plot and on a plot of its own (titled `penalty_title`); metrics named valid/<generated>NAME and
    valid/<real>NAME are drawn one NAME at a time on the metrics plot; `hidden` curves are not drawn."""

    loss_title: str
    loss: dict[str, str]
    penalty_title: str = ""
    penalty: dict[str, str] = field(default_factory=dict)
    generated: str = "gen_"
    real: str = "real_"
    hidden: frozenset[str] = frozenset()


LAYOUTS = {
    "gan": CurveLayout(
        "Generator and critic loss",
        {"train/g_loss": "generator", "train/c_loss": "critic", "valid/loss": "Wasserstein (validation)"},
        "Gradient penalty", {"train/gp": "gradient penalty", "valid/gp": "gradient penalty (validation)"},
        # train/loss is the critic's loss again, and the rest are the validation batches' copies of the above
        hidden=frozenset({"train/loss", "train/w_distance", "valid/w_distance", "valid/g_loss", "valid/c_loss"})),
}
LOSS_COLOURS = ("#4e9af1", "#f1a24e", "#cfcfcf")


def smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's smoothing: an exponential moving average, debiased so the start is not pulled to 0."""
    if weight <= 0 or not len(values):
        return values
    out = np.empty_like(values, dtype=np.float64)
    last, norm = 0.0, 0.0
    for i, v in enumerate(values):
        last = weight * last + (1 - weight) * v
        norm = weight * norm + (1 - weight)
        out[i] = last / norm
    return out


def is_curve(name: str) -> bool:
    return name == "lr" or name.startswith(METRIC_PREFIXES)


class TrainingCurves(QWidget):
    """Curves by metric name ("train/loss", "valid/loss", "lr", "train/<metric>", "valid/<metric>").
    `items[name]` is the plot item of a curve; `resume_lines` the dashed lines, one per resume.
    Signal hovered(text) carries the read-out under the mouse."""

    hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.points: dict[str, tuple[list[int], list[float]]] = {}
        self.items: dict[str, pg.PlotDataItem] = {}
        self.resume_lines: list[pg.InfiniteLine] = []
        self._dirty = False
        self._metric_colours: dict[str, str] = {}
        self.layout_of: CurveLayout | None = None  # the model's own layout (LAYOUTS), None: the default one
        self.penalty_plot: pg.PlotItem | None = None

        self.log_scale = QCheckBox("Log scale", self)
        self.log_scale.setToolTip("Losses and learning rate on a logarithmic axis")
        self.log_scale.toggled.connect(self._set_log)
        self.smoothing = QSlider(Qt.Orientation.Horizontal, self)
        self.smoothing.setRange(0, 99)
        self.smoothing.setValue(60)
        self.smoothing.setMaximumWidth(160)
        self.smoothing.setToolTip("Smoothing of the training curves (an exponential moving average)")
        self.smoothing_label = QLabel(self)
        self.smoothing.valueChanged.connect(self._smoothing_changed)
        self.sample_metric = QComboBox(self)
        self.sample_metric.setToolTip("The music metric of the generated samples to draw, beside the same metric "
                                      "of the real data (dashed)")
        self.sample_metric.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.sample_metric.currentTextChanged.connect(self._sample_metric_changed)
        self.sample_label = QLabel("Sample metric:", self)
        for widget in (self.sample_metric, self.sample_label):
            widget.setVisible(False)
        self.readout = QLabel("Hover over the curves to read them", self)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.readout.setWordWrap(True)  # many curves (the GAN's) make a long line: wrap rather than widen the panel
        bar = QHBoxLayout()
        bar.addWidget(self.log_scale)
        bar.addWidget(QLabel("Smoothing:", self))
        bar.addWidget(self.smoothing)
        bar.addWidget(self.smoothing_label)
        bar.addWidget(self.sample_label)
        bar.addWidget(self.sample_metric)
        bar.addStretch(1)

        self.graphs = pg.GraphicsLayoutWidget(self)
        self.loss_plot = self.graphs.addPlot(row=0, col=0, title="Loss")
        self.metric_plot = self.graphs.addPlot(row=1, col=0, title="Metrics")
        self.lr_plot = self.graphs.addPlot(row=2, col=0, title="Learning rate")
        self.plots = (self.loss_plot, self.metric_plot, self.lr_plot)
        self.cursors = []
        for plot in self.plots:
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setMenuEnabled(False)
            plot.addLegend(offset=(-10, 10))
            if plot is not self.loss_plot:
                plot.setXLink(self.loss_plot)
            cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888888", width=1))
            cursor.setVisible(False)
            plot.addItem(cursor, ignoreBounds=True)
            self.cursors.append(cursor)
        self.lr_plot.setLabel("bottom", "step")
        self.graphs.ci.layout.setRowStretchFactor(0, 3)
        self.graphs.ci.layout.setRowStretchFactor(1, 2)
        self.graphs.ci.layout.setRowStretchFactor(2, 1)
        self.graphs.scene().sigMouseMoved.connect(self._mouse_moved)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.graphs, 1)
        layout.addWidget(self.readout)
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()
        self._smoothing_changed(self.smoothing.value())

    # ----- layout -------------------------------------------------------------------------

    def set_model(self, model: str) -> None:
        """Lay the plots out for `model` (its LAYOUTS entry, else the default): forgets every curve."""
        layout = LAYOUTS.get(model)
        self.clear()
        self.layout_of = layout
        grid = self.graphs.ci
        if layout is not None and layout.penalty and self.penalty_plot is None:  # it takes the learning rate's place
            grid.removeItem(self.lr_plot)
            self.penalty_plot = grid.addPlot(row=2, col=0)
            self.penalty_plot.showGrid(x=True, y=True, alpha=0.2)
            self.penalty_plot.setMenuEnabled(False)
            self.penalty_plot.addLegend(offset=(-10, 10))
            self.penalty_plot.setXLink(self.loss_plot)
            self.penalty_plot.setLabel("bottom", "step")
            cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888888", width=1))
            cursor.setVisible(False)
            self.penalty_plot.addItem(cursor, ignoreBounds=True)
            self._lr_cursor = self.cursors[2]
            self.plots = (self.loss_plot, self.metric_plot, self.penalty_plot)
            self.cursors = [self.cursors[0], self.cursors[1], cursor]
        elif (layout is None or not layout.penalty) and self.penalty_plot is not None:
            grid.removeItem(self.penalty_plot)
            grid.addItem(self.lr_plot, row=2, col=0)
            self.cursors = [self.cursors[0], self.cursors[1], self._lr_cursor]
            self.plots = (self.loss_plot, self.metric_plot, self.lr_plot)
            self.penalty_plot = None
        for row, stretch in enumerate((3, 2, 2) if self.penalty_plot is not None else (3, 2, 1)):
            grid.layout.setRowStretchFactor(row, stretch)
        self.loss_plot.setTitle(layout.loss_title if layout is not None else "Loss")
        self.metric_plot.setTitle("Sample metrics (generated; real dashed)" if layout is not None else "Metrics")
        if self.penalty_plot is not None:
            self.penalty_plot.setTitle(layout.penalty_title)
        self.sample_metric.blockSignals(True)
        self.sample_metric.clear()
        self.sample_metric.blockSignals(False)
        for widget in (self.sample_metric, self.sample_label):
            widget.setVisible(layout is not None)
        for plot in self.plots:  # the GAN's curves cross the legend: give it a backing
            plot.legend.setBrush(pg.mkBrush(0, 0, 0, 190) if layout is not None else None)

    def shown_name(self, name: str) -> str | None:
        """The legend label of curve `name` in the current layout; None when it is not drawn now."""
        layout = self.layout_of
        if layout is None:
            return name
        if name in layout.hidden:
            return None
        if name in layout.loss:
            return layout.loss[name]
        if name in layout.penalty:
            return layout.penalty[name]
        metric = name.split("/", 1)[-1]
        for prefix, label in ((layout.generated, "generated"), (layout.real, "real")):
            if name.startswith("valid/") and metric.startswith(prefix):
                return f"{metric[len(prefix):]} ({label})" if metric[len(prefix):] == self.sample_metric.currentText() \
                    else None
        return name

    def _sample_metric_changed(self, _text: str) -> None:
        """Another sample metric chosen: drop the metric plot's curves; the next redraw draws the new one."""
        for name in [n for n, item in self.items.items() if item.getViewBox() is self.metric_plot.vb]:
            self.metric_plot.removeItem(self.items.pop(name))
        self._dirty = True
        self.redraw()

    def _offer_sample_metrics(self, names) -> None:
        """Fill the sample-metric chooser with the metrics the run logs (the layout's generated ones)."""
        layout = self.layout_of
        prefix = f"valid/{layout.generated}"
        found = sorted(n[len(prefix):] for n in names if n.startswith(prefix))
        have = [self.sample_metric.itemText(i) for i in range(self.sample_metric.count())]
        for metric in found:
            if metric not in have:
                self.sample_metric.addItem(metric)
        if not have and found:
            self.sample_metric.setCurrentText("in_scale_ratio" if "in_scale_ratio" in found else found[0])

    # ----- data ---------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget every curve and resume line (a new run)."""
        self.points.clear()
        self.items.clear()
        self.resume_lines.clear()
        for plot, cursor in zip(self.plots, self.cursors):
            plot.clear()  # its curves, lines and legend entries
            plot.addItem(cursor, ignoreBounds=True)
        self._metric_colours.clear()
        self._dirty = True

    def add_row(self, row: dict) -> None:
        """One step's metrics from the training loop."""
        step = int(row["step"])
        for name, value in row.items():
            if is_curve(name):
                steps, values = self.points.setdefault(name, ([], []))
                steps.append(step)
                values.append(float(value))
        self._dirty = True

    def set_history(self, curves: dict[str, list[tuple[int, float]]], upto: int) -> None:
        """Curves read back from a run's metrics.csv, up to step `upto` (where a resumed run goes on)."""
        for name, pairs in curves.items():
            if is_curve(name):
                kept = [(s, v) for s, v in pairs if s <= upto]
                self.points[name] = ([s for s, _ in kept], [v for _, v in kept])
        self._dirty = True

    def mark_resume(self, step: int) -> None:
        """A dashed line at `step` on every plot: the run was resumed there."""
        for plot in self.plots:
            line = pg.InfiniteLine(pos=step, angle=90, movable=False,
                                   pen=pg.mkPen("#cccccc", width=1, style=Qt.PenStyle.DashLine),
                                   label="resumed" if plot is self.loss_plot else None,
                                   labelOpts={"position": 0.9, "color": "#cccccc"})
            plot.addItem(line, ignoreBounds=True)
            self.resume_lines.append(line)

    def resume_steps(self) -> list[int]:
        return sorted({int(round(line.value())) for line in self.resume_lines})

    # ----- drawing ------------------------------------------------------------------------

    def _style(self, name: str) -> tuple[pg.PlotItem, dict]:
        if name == "lr":
            return self.lr_plot, {"pen": pg.mkPen("#5cc67a", width=1.5)}
        metric = name.split("/", 1)[1]
        split = name.split("/", 1)[0]
        layout = self.layout_of
        if layout is not None:
            for plot, names in ((self.loss_plot, layout.loss), (self.penalty_plot, layout.penalty)):
                if name in names:
                    colour = LOSS_COLOURS[list(names).index(name) % len(LOSS_COLOURS)]
                    if split == "valid":
                        return plot, {"pen": pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DashLine), "symbol": "o",
                                      "symbolSize": 5, "symbolBrush": colour, "symbolPen": None}
                    return plot, {"pen": pg.mkPen(colour, width=1.5)}
            real = metric.startswith(layout.real)
            colour = "#f1a24e" if real else "#4e9af1"
            return self.metric_plot, {"pen": pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DashLine if real
                                                      else Qt.PenStyle.SolidLine),
                                      "symbol": "o", "symbolSize": 5, "symbolBrush": colour, "symbolPen": None}
        if metric == "loss":
            colour = "#4e9af1" if split == "train" else "#f1a24e"
            plot = self.loss_plot
        else:
            colour = self._metric_colours.setdefault(
                metric, TRACK_COLOURS[(len(self._metric_colours) + 3) % len(TRACK_COLOURS)])
            plot = self.metric_plot
        if split == "valid":
            return plot, {"pen": pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DashLine), "symbol": "o",
                          "symbolSize": 5, "symbolBrush": colour, "symbolPen": None}
        return plot, {"pen": pg.mkPen(colour, width=1.5)}

    def _item(self, name: str) -> pg.PlotDataItem:
        if name not in self.items:
            plot, style = self._style(name)
            self.items[name] = plot.plot([], [], name=self.shown_name(name) or name, **style)
        return self.items[name]

    def redraw(self) -> None:
        """Draw what arrived since the last redraw."""
        if not self._dirty:
            return
        self._dirty = False
        weight = self.smoothing.value() / 100
        if self.layout_of is not None:
            self._offer_sample_metrics(self.points)
        for name, (steps, values) in self.points.items():
            if self.shown_name(name) is None:
                continue
            y = np.asarray(values, dtype=np.float64)
            if name.startswith("train/"):
                y = smooth(y, weight)
            self._item(name).setData(np.asarray(steps, dtype=np.float64), y)

    def curve(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """What the plot of curve `name` shows now (x, y)."""
        x, y = self.items[name].getData() if name in self.items else (None, None)
        return (np.zeros(0), np.zeros(0)) if x is None else (x, y)

    def _set_log(self, on: bool) -> None:
        for plot in (self.loss_plot, self.lr_plot):
            if plot is self.lr_plot or self.layout_of is None:  # a GAN's losses go below 0: they stay linear
                plot.setLogMode(y=on)

    def _smoothing_changed(self, value: int) -> None:
        self.smoothing_label.setText(f"{value / 100:.2f}")
        self._dirty = True
        self.redraw()

    # ----- read-out -----------------------------------------------------------------------

    def readout_at(self, step: float) -> str:
        """Every curve's value at the last logged step at or before `step`."""
        parts = []
        for name in sorted(self.points, key=lambda n: (n != "train/loss", n != "valid/loss", n)):
            steps, values = self.points[name]
            i = int(np.searchsorted(steps, step, side="right")) - 1
            label = self.shown_name(name)
            if i >= 0 and label is not None:
                shown = self.curve(name)[1]
                value = shown[i] if i < len(shown) else values[i]
                parts.append(f"{name if label == name else label} {value:.4g}")
        return f"step {int(step)}: " + ", ".join(parts) if parts else ""

    def _mouse_moved(self, pos: QPointF) -> None:
        for plot in self.plots:
            if plot.sceneBoundingRect().contains(pos):
                step = plot.vb.mapSceneToView(pos).x()
                if math.isfinite(step):
                    for cursor in self.cursors:
                        cursor.setPos(step)
                        cursor.setVisible(True)
                    text = self.readout_at(round(step))
                    self.readout.setText(text or " ")
                    self.hovered.emit(text)
                return
        for cursor in self.cursors:
            cursor.setVisible(False)
