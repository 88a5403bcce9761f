"""Draw the note grid fast: rows, grid lines and notes become one opaque BGRA image with numpy,
in a handful of array passes (Friture's way: resample to pixels, colour by lookup table).

Every pixel row of the roll is one of few kinds: a pitch band's top (note borders), its body, or
the gap under it, over one background kind (white key, black key, out of scale, tonic, octave
line); every pixel column has one grid level (none, fine, beat, bar). So the frame is built from
a few hundred distinct pixel rows, each coloured by one table lookup, then copied into place.
Cost grows with the pixels on screen and the notes in view, not with the notes in the song.

Between frames only what changed is redone: notes are rasterised per pitch band (note_cells),
where two sets of notes merge by maximum, so the other tracks' notes are kept while only the
active track's are redone; and when only the notes' look changed, recolour writes just the
pixels whose note cell changed."""

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


class Scratch:
    """Work arrays kept from frame to frame: a fresh array of a few hundred kilobytes costs its
    page faults every frame, a reused one does not."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """An uninitialised array of `shape` and `dtype`, the same memory while they stay."""
        a = self._arrays.get(name)
        if a is None or a.shape != shape or a.dtype != dtype:
            a = self._arrays[name] = np.empty(shape, dtype=dtype)
        return a


def pitch_range(view: RasterView) -> tuple[int, int]:
    """Lowest and highest pitch any pixel row of `view` shows (hi < lo when none)."""
    row_pitch = view.row_pitch()
    return max(0, int(row_pitch.min())), min(127, int(row_pitch.max()))


def note_rows(pitch: np.ndarray, start: np.ndarray, end: np.ndarray, value: np.ndarray, view: RasterView,
              size: int) -> tuple[np.ndarray, np.ndarray]:
    """The notes as (rows, select): `rows` is an (r, width) uint8 array of palette values
    (border pixels offset by `size`, 0 empty; the last row is empty), `select` the row of
    `rows` each pixel row shows. Where notes overlap the higher value wins, so selected notes
    lie on top of ghosts and plain notes."""
    lo, hi = pitch_range(view)
    if hi < lo:
        return np.zeros((1, view.width), dtype=np.uint8), np.zeros(view.height, dtype=np.int64)
    return note_planes(pitch, start, end, value, view, size, lo, hi), row_select(view, lo, hi)


def note_planes(pitch: np.ndarray, start: np.ndarray, end: np.ndarray, value: np.ndarray, view: RasterView,
                size: int, lo: int, hi: int) -> np.ndarray:
    """The `rows` of note_rows for the pitch bands lo..hi (a band's body, then its border row,
    then one empty row). They depend on the time axis, the width and the pitches, not on where
    the rows sit on screen, so a frame scrolled in pitch can reuse them."""
    return band_rows(*note_cells(pitch, start, end, value, view, lo, hi), view.key_height, size)


def note_cells(pitch: np.ndarray, start: np.ndarray, end: np.ndarray, value: np.ndarray, view: RasterView,
               lo: int, hi: int, scratch: Scratch | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(values, ends): per pitch band lo..hi (highest first) and pixel column, the highest
    palette value of the notes there (uint8, 0 none), and whether a note's end column (its
    border) falls there. Cells of two sets of notes merge as (maximum, or), so the notes of
    tracks that did not change can be kept. Made in `scratch`'s arrays when given."""
    w = view.width
    n_rows = hi - lo + 1
    if scratch is None:
        plane, edges = np.zeros(n_rows * w, dtype=np.uint8), np.zeros(n_rows * w, dtype=bool)
    else:
        plane, edges = scratch.get("cells", (n_rows * w,), np.uint8), scratch.get("ends", (n_rows * w,), bool)
        plane.fill(0)
        edges.fill(False)
    right = view.left_tick + w * view.ticks_per_px
    vis = (end > view.left_tick) & (start < right) & (pitch >= lo) & (pitch <= hi) & (value > EMPTY)
    if vis.any():
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
        x0, x1 = np.minimum(np.maximum(x0, 0), w - 1), np.minimum(np.maximum(x1, 1), w)  # np.clip's wrapper costs more
        band = hi - p
        # Expand every note's span of columns into flat indices of the (bands, width) plane.
        widths = np.maximum(x1 - x0, 0)
        first = np.repeat(band * w + x0 - (np.cumsum(widths) - widths), widths)
        plane[first + np.arange(int(widths.sum()))] = np.repeat(v.astype(np.uint8), widths)
        edges[(band * w + x0)[left_edge]] = True
        edges[(band * w + x1 - 1)[right_edge]] = True
    return plane.reshape(n_rows, w), edges.reshape(n_rows, w)


def band_rows(plane: np.ndarray, edges: np.ndarray, key_height: float, size: int,
              out: np.ndarray | None = None) -> np.ndarray:
    """note_planes' rows from note_cells (into `out`): the body (borders only at note ends),
    the border row (the band's top, and the row above its gap; all border where rows are at
    least 5 px tall), and one empty row."""
    n_rows, w = plane.shape
    rows = np.zeros((2 * n_rows + 1, w), dtype=np.uint8) if out is None else out  # all in bytes: no wide temporaries
    rows[2 * n_rows] = EMPTY
    body, border = rows[:n_rows], rows[n_rows : 2 * n_rows]
    covered = plane > EMPTY
    body[...] = plane
    border[...] = plane
    np.add(body, size, out=body, where=edges & covered)
    np.add(border, size, out=border, where=covered if key_height >= 5 else edges & covered)
    return rows


def row_select(view: RasterView, lo: int, hi: int) -> np.ndarray:
    """The row of note_planes(..., lo, hi) each pixel row of `view` shows: a band's top and the
    row above its gap show the border row, the gap (rows at least 5 px tall) the empty row."""
    kh, h = view.key_height, view.height
    n_rows = hi - lo + 1
    row_pitch = view.row_pitch()
    in_range = (row_pitch >= lo) & (row_pitch <= hi)
    changes = row_pitch[1:] != row_pitch[:-1]
    band_top = np.concatenate(([True], changes))  # (np.r_ costs ten times more)
    band_bottom = np.concatenate((changes, [True]))
    gap = band_bottom if kh >= 5 else np.zeros(h, dtype=bool)
    above_gap = np.concatenate((band_bottom[1:], [False])) if kh >= 5 else gap
    select = np.where(band_top | above_gap, n_rows, 0) + np.minimum(np.maximum(hi - row_pitch, 0), n_rows - 1)
    return np.where(in_range & ~gap, select, 2 * n_rows)


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
            table: np.ndarray, out: np.ndarray | None = None, scratch: Scratch | None = None) -> np.ndarray:
    """The frame as (height, width) opaque uint32 pixels: each pixel row is note row
    `select[y]` over background kind `row_kind[y]` with grid levels `column_level`. Written
    into `out` when given (reusing one buffer spares the page faults of a fresh one), with work
    arrays from `scratch`."""
    scratch = scratch or Scratch()
    n = len(rows)
    distinct, where = np.unique(row_kind * n + select, return_inverse=True)
    values = table.shape[1]
    shape = (len(distinct), rows.shape[1])
    # Index of each (background kind, column) in the flat table, then add the note values:
    # whole-row copies and one lookup, for the distinct pixel rows only.
    start = ((np.arange(KINDS)[:, None] * LEVELS + column_level[None, :]) * values).astype(np.int32)
    index = np.take(start, distinct // n, axis=0, out=scratch.get("index", shape, np.int32))
    index += np.take(rows, distinct % n, axis=0, out=scratch.get("notes", shape, np.uint8))
    coloured = np.take(table.ravel(), index, out=scratch.get("coloured", shape, np.uint32), mode="clip")
    return np.take(coloured, where.ravel(), axis=0, out=out, mode="clip")  # "clip": indices are valid; no bounds pass


def recolour(out: np.ndarray, rows: np.ndarray, changed: np.ndarray, select: np.ndarray, row_kind: np.ndarray,
             column_level: np.ndarray, table: np.ndarray, limit: int | None = None, column_offset: int = 0) -> bool:
    """Write into the frame `out` (compose's output for the same view, its columns turned by
    `column_offset`: column x is at (x + column_offset) % width) only the pixels of the
    note-row cells in `changed` (a bool array shaped like `rows`, now holding new values):
    every pixel row that shows such a row, at those columns. Writes nothing and returns False
    when that is more than `limit` pixels (composing the whole frame is then cheaper)."""
    rr, xx = np.divmod(np.flatnonzero(changed), changed.shape[1])  # 2-D np.nonzero is ten times slower
    if not len(rr):
        return True
    counts = np.bincount(select, minlength=len(rows))
    order = np.argsort(select, kind="stable")  # pixel rows grouped by the note row they show
    first = np.cumsum(counts) - counts
    each = counts[rr]
    total = int(each.sum())
    if limit is not None and total > limit:
        return False
    ys = order[np.repeat(first[rr] - (np.cumsum(each) - each), each) + np.arange(total)]
    xs = np.repeat(xx, each)
    index = (row_kind[ys] * LEVELS + column_level[xs]) * table.shape[1] + rows[np.repeat(rr, each), xs]
    if column_offset:
        xs = (xs + column_offset) % out.shape[1]
    out[ys, xs] = table.ravel()[index]
    return True
