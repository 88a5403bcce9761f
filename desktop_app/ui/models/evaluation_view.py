"""The evaluation of a checkpoint, as `desktop-app evaluate` prints it: validation and test losses
(and the model's metrics) in a table, the model's own judgement of what it generates (for the
AR-CNN: the repair evaluation), and per music metric a table row and a plot that sets the data's
value beside the damaged input's and the model's output, with the overlap areas of their
distributions."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QGridLayout, QHeaderView, QLabel, QScrollArea, QTableWidget, QTableWidgetItem, QVBoxLayout,
    QWidget,
)

from desktop_app.ui.models.plots import BAR_COLOUR, SECOND_COLOUR, THIRD_COLOUR, make_plot, set_bars

METRIC_COLUMNS = ("Metric", "Unit", "Data", "Damaged input", "Model output", "Overlap (input)", "Overlap (output)")
SET_COLOURS = (BAR_COLOUR, SECOND_COLOUR, THIRD_COLOUR)
SET_NAMES = ("data", "input", "output")


def _text(value) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.4f}"
    return str(value)


def _table(columns, parent: QWidget) -> QTableWidget:
    table = QTableWidget(0, len(columns), parent)
    table.setHorizontalHeaderLabels(columns)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[list]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(_text(value))
            if c:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.setFixedHeight(table.horizontalHeader().height() + sum(table.rowHeight(r) for r in range(len(rows))) + 4)


class EvaluationView(QWidget):
    """Shows one result of `desktop_app.ml.evaluate.evaluate_checkpoint`. `plots[metric]` and
    `bars[metric]` hold each metric's plot and its bars (data, damaged input, model output)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: dict | None = None
        self.title = QLabel("Evaluate a finished run to see its losses and music metrics here.", self)
        self.title.setWordWrap(True)
        self.losses = _table(("", "valid", "test"), self)
        self.samples = _table(("Generation", "value"), self)
        self.metrics = _table(METRIC_COLUMNS, self)
        self.plots: dict[str, object] = {}
        self.bars: dict[str, list] = {}
        self.distributions: dict[str, list] = {}
        self._grid_host = QWidget(self)
        self._grid = QGridLayout(self._grid_host)
        self._grid.setContentsMargins(0, 0, 0, 0)
        inner = QWidget(self)
        layout = QVBoxLayout(inner)
        for widget in (self.title, self.losses, self.samples, self.metrics, self._grid_host):
            layout.addWidget(widget)
        layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        for table in (self.samples, self.metrics):
            table.setVisible(False)

    def show_result(self, result: dict) -> None:
        """Fill the tables and plots from an evaluation result."""
        self.result = result
        pieces = result.get("pieces", {})
        self.title.setText(f"<b>{result.get('model', '')}</b> · {result.get('checkpoint', '')} on "
                           f"<b>{result.get('data', '')}</b> ({pieces.get('valid', 0)} validation and "
                           f"{pieces.get('test', 0)} test pieces)")
        valid, test = result.get("valid", {}), result.get("test", {})
        names = ["examples"] + [n for n in dict.fromkeys([*valid, *test]) if n != "examples"]
        _fill(self.losses, [[name, valid.get(name, float("nan")), test.get(name, float("nan"))] for name in names])

        samples = result.get("samples", {})
        scalars = [[name, value] for name, value in samples.items() if isinstance(value, (int, float))]
        _fill(self.samples, scalars)
        self.samples.setVisible(bool(scalars))
        self._show_metrics(samples.get("metrics", {}))

    def _show_metrics(self, metrics: dict) -> None:
        from desktop_app.ml.metrics import UNITS  # numpy only

        rows = [[name, UNITS.get(name, ""), m["original_mean"], m["input_mean"], m["output_mean"],
                 m["input_overlap"], m["output_overlap"]] for name, m in metrics.items()]
        _fill(self.metrics, rows)
        self.metrics.setVisible(bool(rows))
        while self._grid.count():
            widget = self._grid.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.plots.clear()
        self.bars.clear()
        self.distributions.clear()
        for i, (name, m) in enumerate(metrics.items()):
            plot = make_plot(f"{name}<br>overlap: input {_text(m['input_overlap'])} · "
                             f"output {_text(m['output_overlap'])}", self._grid_host, height=170)
            plot.setMouseEnabled(x=False, y=False)
            if m.get("values"):
                self.distributions[name] = _draw_distributions(plot, m["values"])
                plot.setLabel("bottom", UNITS.get(name, ""))
                plot.setLabel("left", "share of windows")
                self.plots[name] = plot
                self._grid.addWidget(plot, i // 3, i % 3)
                continue
            values = [m["original_mean"], m["input_mean"], m["output_mean"]]
            self.bars[name] = [
                set_bars(plot, [k], [0.0 if math.isnan(v) else v], colour=SET_COLOURS[k], clear=False)
                for k, v in enumerate(values)]
            plot.getAxis("bottom").setTicks([[(0, "data"), (1, "damaged"), (2, "model")]])
            plot.setLabel("left", UNITS.get(name, ""))
            self.plots[name] = plot
            self._grid.addWidget(plot, i // 3, i % 3)


def _draw_distributions(plot, values: dict[str, list[float]]) -> list:
    """Each set's distribution of a metric over the windows, as step histograms on shared bins:
    the data's beside the damaged input's and the model's output's."""
    import numpy as np
    import pyqtgraph as pg

    sets = [("original", "data"), ("input", "damaged"), ("output", "model")]
    finite = [np.asarray([v for v in values.get(key, []) if v is not None and math.isfinite(v)]) for key, _ in sets]
    pooled = np.concatenate([f for f in finite if len(f)]) if any(len(f) for f in finite) else np.zeros(1)
    edges = np.histogram_bin_edges(pooled, bins=12)
    if edges[0] == edges[-1]:
        edges = np.linspace(edges[0] - 0.5, edges[0] + 0.5, 13)
    plot.addLegend(offset=(-5, 5), labelTextSize="8pt")
    items = []
    for (key, label), data, colour in zip(sets, finite, SET_COLOURS):
        counts, _ = np.histogram(data, bins=edges)
        share = counts / max(len(data), 1)
        items.append(plot.plot(edges, share, stepMode="center", pen=pg.mkPen(colour, width=2), name=label))
    return items
