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
    """An (height, width, 4) uint8 premultiplied-BGRA image of the notes. `value` picks each
    note's colour from the lookup tables (0 is transparent); where notes overlap, the higher
    value wins, so selected notes lie on top of ghosts and plain notes."""
    w, h, kh = view.width, view.height, view.key_height
    out = np.zeros((h, w, 4), dtype=np.uint8)
    # Which pitch each pixel row shows, and where the bands of each pitch begin and end.
    ys = np.arange(h) + 0.5
    row_pitch = np.floor(view.top - ys / kh).astype(np.int64)
    lo, hi = max(0, int(row_pitch.min())), min(127, int(row_pitch.max()))
    if hi < lo or len(pitch) == 0:
        return out
    right = view.left_tick + w * view.ticks_per_px
    vis = (end > view.left_tick) & (start < right) & (pitch >= lo) & (pitch <= hi) & (value > EMPTY)
    if not vis.any():
        return out
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
    total = int(widths.sum())
    first = np.repeat(band * w + x0 - np.concatenate([[0], np.cumsum(widths)[:-1]]), widths)
    flat = first + np.arange(total)
    plane = np.zeros(n_rows * w, dtype=np.uint8)
    plane[flat] = np.repeat(v.astype(np.uint8), widths)
    edges = np.zeros(n_rows * w, dtype=bool)
    wide = widths >= 3
    edges[(band * w + x0)[wide]] = True
    edges[(band * w + x1 - 1)[wide]] = True
    plane, edges = plane.reshape(n_rows, w), edges.reshape(n_rows, w)
    # Back to pixel rows: rows outside lo..hi and the last row of tall bands stay empty.
    valid = (row_pitch >= lo) & (row_pitch <= hi)
    idx = np.where(valid, hi - row_pitch, 0)
    band_top = np.r_[True, row_pitch[1:] != row_pitch[:-1]]
    band_bottom = np.r_[row_pitch[1:] != row_pitch[:-1], True]
    if kh >= 5:
        valid &= ~band_bottom  # the gap between rows
        band_bottom = np.r_[band_bottom[1:], False]  # the row above the gap carries the border
    image = plane[idx]
    image[~valid] = EMPTY
    out[:] = fill_lut[image]
    if kh >= 5:
        border = edges[idx] | (band_top | band_bottom)[:, None]
    else:
        border = edges[idx]
    border &= image > EMPTY
    out[border] = border_lut[image[border]]
    return out
