"""Small pyqtgraph helpers shared by the dataset view, the training panel and the evaluation view:
a plot with the app's look, and bar charts over numbered or named bins."""

from __future__ import annotations

from typing import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

BAR_COLOUR = "#4e9af1"
SECOND_COLOUR = "#f1a24e"
THIRD_COLOUR = "#5cc67a"


def make_plot(title: str = "", parent: QWidget | None = None, height: int = 150) -> pg.PlotWidget:
    """A plot with a light grid, no mouse menu, and room for a one-line title."""
    plot = pg.PlotWidget(parent=parent)
    plot.setMinimumHeight(height)
    plot.setMenuEnabled(False)
    plot.showGrid(x=True, y=True, alpha=0.2)
    if title:
        plot.setTitle(title, size="9pt")
    return plot


def set_bars(plot: pg.PlotWidget, x: Sequence[float], heights: Sequence[float], width: float = 0.8,
             labels: Sequence[str] | None = None, colour: str = BAR_COLOUR, offset: float = 0.0,
             clear: bool = True) -> pg.BarGraphItem:
    """Draw bars of `heights` centred on `x` (+ `offset`); with `labels`, name the x ticks."""
    if clear:
        plot.clear()
    item = pg.BarGraphItem(x=[v + offset for v in x], height=list(heights), width=width, brush=colour, pen=None)
    plot.addItem(item)
    axis = plot.getAxis("bottom")
    if labels is not None:
        step = -(-len(labels) // 12)  # at most 12 names, so that they never overlap
        axis.setTicks([[(x[i], str(labels[i])) for i in range(0, len(labels), step)]])
    else:
        axis.setTicks(None)
    plot.enableAutoRange()
    return item


def bar_heights(item: pg.BarGraphItem) -> list[float]:
    """What a bar chart shows (for tests and read-outs)."""
    return [float(h) for h in item.opts["height"]]
