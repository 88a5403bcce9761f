"""Draw the note grid fast: rows, grid lines and notes become one opaque BGRA image with numpy,
in a handful of array passes (Friture's way: resample to pixels, colour by lookup table).

Every pixel row of the roll is one of few kinds: a pitch band's top (note borders), its body, or
the gap under it, over one background kind (white key, black key, out of scale, tonic, octave
line); every pixel column has one grid level (none, fine, beat, bar). So the frame is built from
a few hundred distinct pixel rows, each coloured by one table lookup, then copied into place.
Cost grows with the pixels on screen and the notes in view, not with the notes in the song."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EMPTY = 0
KINDS = 5  # background kinds of a pixel row: white key, black key, out of scale, tonic, octave line
OCTAVE = 4
LEVELS = 4  # grid levels of a pixel column: none, fine, beat, bar
COLUMN_SLACK = 1e-6  # of a pixel


@dataclass(frozen=True)
class RasterView:
    """The slice of the roll to draw: ticks from `left_tick`, pitch boundary `top` at y = 0."""

    left_tick: float
    ticks_per_px: float
    top: float
    key_height: float
    width: int
    height: int

    def row_pitch(self) -> np.ndarray:
        """The pitch each pixel row shows (its centre's)."""
        return np.floor(self.top - (np.arange(self.height) + 0.5) / self.key_height).astype(np.int64)

    def column(self, ticks: np.ndarray, rounding: float = 0.5) -> np.ndarray:
        """The pixel column of each tick (`rounding` 0.5: the nearest; 0: the one it falls in).
        A hair of slack makes a tick that sits on a column's edge land in the same column
        whatever the view's origin, so a scrolled frame matches one drawn from scratch."""
        x = (np.asarray(ticks, dtype=np.float64) - self.left_tick) / self.ticks_per_px
        return np.floor(x + rounding + COLUMN_SLACK).astype(np.int64)


def note_rows(pitch: np.ndarray, start: np.ndarray, end: np.ndarray, value: np.ndarray, view: RasterView,
              size: int) -> tuple[np.ndarray, np.ndarray]:
    """The notes as (rows, select): `rows` is an (r, width) uint8 array of palette values
    (border pixels offset by `size`, 0 empty; the last row is empty), `select` the row of
    `rows` each pixel row shows. Where notes overlap the higher value wins, so selected notes
    lie on top of ghosts and plain notes."""
    w, h, kh = view.width, view.height, view.key_height
    row_pitch = view.row_pitch()
    lo, hi = max(0, int(row_pitch.min())), min(127, int(row_pitch.max()))
    right = view.left_tick + w * view.ticks_per_px
    vis = (end > view.left_tick) & (start < right) & (pitch >= lo) & (pitch <= hi) & (value > EMPTY)
    if hi < lo or not vis.any():
        return np.zeros((1, w), dtype=np.uint8), np.zeros(h, dtype=np.int64)
    order = np.argsort(value[vis].astype(np.uint8), kind="stable")  # higher values written last, so on top (a radix sort)
    p, s, e, v = pitch[vis][order], start[vis][order], end[vis][order], value[vis][order]
    x0, x1 = view.column(s, 0.0), view.column(e, 0.0)
    x1 = np.maximum(x1, x0 + 1)
    x1 = np.where(x1 - x0 >= 4, x1 - 1, x1)  # a one-pixel gap between touching notes
    inside = (x1 > 0) & (x0 < w)  # a note ending in the gap at the left edge shows nothing
    if not inside.all():
        p, v, x0, x1 = p[inside], v[inside], x0[inside], x1[inside]
    wide = x1 - x0 >= 3  # wide enough for a border at each end (where that end is in view)
    left_edge, right_edge = wide & (x0 >= 0), wide & (x1 <= w)
    x0, x1 = np.clip(x0, 0, w - 1), np.clip(x1, 1, w)
    n_rows = hi - lo + 1
    band = hi - p
    # Expand every note's span of columns into flat indices of a (pitch rows, width) plane.
    widths = np.maximum(x1 - x0, 0)
    first = np.repeat(band * w + x0 - np.concatenate([[0], np.cumsum(widths)[:-1]]), widths)
    plane = np.zeros(n_rows * w, dtype=np.uint8)
    plane[first + np.arange(int(widths.sum()))] = np.repeat(v.astype(np.uint8), widths)
    edges = np.zeros(n_rows * w, dtype=bool)
    edges[(band * w + x0)[left_edge]] = True
    edges[(band * w + x1 - 1)[right_edge]] = True
    plane, edges = plane.reshape(n_rows, w), edges.reshape(n_rows, w)
    # Three kinds of pixel row: a band's body (borders only at note ends), a band's border row
    # (top, and the one above the gap), and empty rows.
    covered = plane > EMPTY
    rows = np.empty((2 * n_rows + 1, w), dtype=np.uint8)  # all in bytes: no wide temporaries
    body, border = rows[:n_rows], rows[n_rows : 2 * n_rows]
    body[...] = plane
    np.add(body, size, out=body, where=edges & covered)
    border[...] = plane
    np.add(border, size, out=border, where=covered if kh >= 5 else edges & covered)
    rows[2 * n_rows] = EMPTY
    in_range = (row_pitch >= lo) & (row_pitch <= hi)
    changes = row_pitch[1:] != row_pitch[:-1]
    band_top = np.r_[True, changes]
    band_bottom = np.r_[changes, True]
    gap = band_bottom if kh >= 5 else np.zeros(h, dtype=bool)
    above_gap = np.r_[band_bottom[1:], False] if kh >= 5 else gap
    select = np.where(band_top | above_gap, n_rows, 0) + np.clip(hi - row_pitch, 0, n_rows - 1)
    return rows, np.where(in_range & ~gap, select, 2 * n_rows)


def colour_table(background: np.ndarray, fill_lut: np.ndarray, border_lut: np.ndarray) -> np.ndarray:
    """(KINDS * LEVELS, 2 * lut size) uint32: every note value (fill, then border) composited over
    every opaque background colour (`background`: (KINDS * LEVELS, 4) BGRA uint8); value 0 is
    the background itself."""
    lut = np.concatenate([fill_lut, border_lut]).astype(np.uint32)  # premultiplied BGRA
    bg = background.astype(np.uint32)
    keep = 255 - lut[:, 3]
    out = lut[None, :, :] + (bg[:, None, :] * keep[None, :, None] + 127) // 255
    out[:, :, 3] = 255
    return np.ascontiguousarray(np.minimum(out, 255).astype(np.uint8)).view(np.uint32)[..., 0]


def compose(rows: np.ndarray, select: np.ndarray, row_kind: np.ndarray, column_level: np.ndarray,
            table: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The frame as (height, width) opaque uint32 pixels: each pixel row is note row
    `select[y]` over background kind `row_kind[y]` with grid levels `column_level`. Written
    into `out` when given (reusing one buffer spares the page faults of a fresh one)."""
    n = len(rows)
    distinct, where = np.unique(row_kind * n + select, return_inverse=True)
    values = table.shape[1]
    # Index of each (background kind, column) in the flat table, then add the note values:
    # whole-row copies and one lookup, for the distinct pixel rows only.
    start = ((np.arange(KINDS)[:, None] * LEVELS + column_level[None, :]) * values).astype(np.int32)
    index = start[distinct // n]
    index += rows[distinct % n]
    coloured = np.take(table.ravel(), index, mode="clip")  # "clip": indices are valid; no bounds pass
    return np.take(coloured, where.ravel(), axis=0, out=out, mode="clip")  # and `out` is written unbuffered
