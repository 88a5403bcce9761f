"""Draw many notes fast: rasterise visible notes into one BGRA image with numpy, one row band
per pitch, in a handful of array passes (Friture's way: resample to pixels, colour by lookup
table). Cost grows with the pixels on screen, not with the notes in the song."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EMPTY = 0


@dataclass(frozen=True)
class RasterView:
    """The slice of the roll to draw: ticks from `left_tick`, pitch boundary `top` at y = 0."""

    left_tick: float
    ticks_per_px: float
    top: float
    key_height: float
    width: int
    height: int


def rasterise_notes(
    pitch: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    value: np.ndarray,
    view: RasterView,
    fill_lut: np.ndarray,
    border_lut: np.ndarray,
) -> np.ndarray:
    """An (height, width) uint32 image of premultiplied BGRA pixels (QImage's ARGB32 on
    little-endian machines). `value` picks each note's colour from the (n, 4) uint8 lookup
    tables (0 is transparent); where notes overlap the higher value wins, so selected notes lie
    on top of ghosts and plain notes."""
    w, h, kh = view.width, view.height, view.key_height
    size = len(fill_lut)
    lut = np.concatenate([fill_lut, border_lut]).astype(np.uint8).view(np.uint32).ravel()
    # Which pitch each pixel row shows, and where the bands of each pitch begin and end.
    row_pitch = np.floor(view.top - (np.arange(h) + 0.5) / kh).astype(np.int64)
    lo, hi = max(0, int(row_pitch.min())), min(127, int(row_pitch.max()))
    right = view.left_tick + w * view.ticks_per_px
    vis = (end > view.left_tick) & (start < right) & (pitch >= lo) & (pitch <= hi) & (value > EMPTY)
    if hi < lo or not vis.any():
        return np.zeros((h, w), dtype=np.uint32)
    order = np.argsort(value[vis], kind="stable")  # higher values written last, so on top
    p, s, e, v = pitch[vis][order], start[vis][order], end[vis][order], value[vis][order]
    x0 = np.floor((s - view.left_tick) / view.ticks_per_px).astype(np.int64)
    x1 = np.floor((e - view.left_tick) / view.ticks_per_px).astype(np.int64)
    x1 = np.maximum(x1, x0 + 1)
    x1 = np.where(x1 - x0 >= 4, x1 - 1, x1)  # a one-pixel gap between touching notes
    x0, x1 = np.clip(x0, 0, w - 1), np.clip(x1, 1, w)
    n_rows = hi - lo + 1
    band = hi - p
    # Expand every note's span of columns into flat indices of a (pitch rows, width) plane.
    widths = x1 - x0
    first = np.repeat(band * w + x0 - np.concatenate([[0], np.cumsum(widths)[:-1]]), widths)
    plane = np.zeros(n_rows * w, dtype=np.uint8)
    plane[first + np.arange(int(widths.sum()))] = np.repeat(v.astype(np.uint8), widths)
    edges = np.zeros(n_rows * w, dtype=bool)
    wide = widths >= 3
    edges[(band * w + x0)[wide]] = True
    edges[(band * w + x1 - 1)[wide]] = True
    plane, edges = plane.reshape(n_rows, w), edges.reshape(n_rows, w)
    # Three kinds of pixel row: a band's body (borders only at note ends), a band's border row
    # (top, and the one above the gap), and empty rows. Stack them and pick rows by index.
    covered = plane > EMPTY
    stacked = np.empty((2 * n_rows + 1, w), dtype=np.uint8)
    stacked[:n_rows] = plane + size * (edges & covered)
    stacked[n_rows : 2 * n_rows] = plane + size * covered if kh >= 5 else stacked[:n_rows]
    stacked[2 * n_rows] = EMPTY
    in_range = (row_pitch >= lo) & (row_pitch <= hi)
    changes = row_pitch[1:] != row_pitch[:-1]
    band_top = np.r_[True, changes]
    band_bottom = np.r_[changes, True]
    gap = band_bottom if kh >= 5 else np.zeros(h, dtype=bool)
    above_gap = np.r_[band_bottom[1:], False] if kh >= 5 else gap
    select = np.where(band_top | above_gap, n_rows, 0) + np.clip(hi - row_pitch, 0, n_rows - 1)
    select = np.where(in_range & ~gap, select, 2 * n_rows)
    return np.take(lut, stacked)[select]  # colour the few band rows, then copy whole rows
