"""Training examples from pieces: fixed-length windows that begin on barlines, and transposition
augmentation over a range the user sets. Windows are cut per piece, after the split, so the
overlapping windows of one piece never straddle two splits."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Iterator, TypeVar

import numpy as np

from desktop_app.ml.data.piece import Piece
from desktop_app.music.song import KEY_NAMES

_PITCH_CLASSES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
_SPELLINGS = {"C#": 1, "D#": 3, "F#": 6, "G#": 8, "A#": 10, "Cb": 11, "Fb": 4, "E#": 5, "B#": 0}


@dataclass(frozen=True)
class Window:
    """`length` steps of a piece from step `start` (a barline, or one bar before the first when the
    piece opens with a pickup, so `start` can be negative). `notes` is (n, 5) like Piece.notes with
    start and end counted from the window's start and ends cut at `length`; `downbeats` are the
    barlines inside the window, also from its start. `transposition` is in semitones."""

    piece_id: str
    piece_name: str
    start: int
    length: int
    notes: np.ndarray
    downbeats: np.ndarray
    transposition: int = 0


def window_starts(piece: Piece, length_steps: int, hop_steps: int, align: bool = True,
                  partial: bool = False) -> list[int]:
    """Where the windows of `piece` begin: the first barline at or after each hop, so every window
    starts on a downbeat; a piece with a pickup gets a first window one bar before its first barline.
    Only windows that end by the piece's final barline, unless `partial` (the rest is silence then);
    a piece shorter than one window still gives one."""
    starts = _all_starts(piece, length_steps, hop_steps, align)
    if partial or not starts:
        return starts
    beats = piece.downbeats
    final = max(piece.n_steps, int(beats[-1])) if align and len(beats) else piece.n_steps
    return [s for s in starts if s + length_steps <= final] or starts[:1]


def _all_starts(piece: Piece, length_steps: int, hop_steps: int, align: bool) -> list[int]:
    if not len(piece.notes):
        return []
    first, end = int(piece.notes[:, 2].min()), piece.n_steps
    beats = piece.downbeats.astype(np.int64)
    if not align or len(beats) == 0:
        return list(range(first - first % hop_steps, end, hop_steps))
    candidates = beats[beats < end]
    if first < beats[0]:
        bar = int(beats[1] - beats[0]) if len(beats) > 1 else length_steps
        candidates = np.concatenate([[beats[0] - bar], candidates])
    starts: list[int] = []
    position = int(candidates[0]) if len(candidates) else first
    while position < end:
        starts.append(position)
        i = int(np.searchsorted(candidates, position + hop_steps, side="left"))
        position = int(candidates[i]) if i < len(candidates) else end
    return starts


def windows(
    pieces: Iterable[Piece],
    length_steps: int,
    hop_steps: int,
    *,
    align: bool = True,
    min_notes: int = 1,
    held_notes: bool = False,
    partial: bool = False,
) -> Iterator[Window]:
    """Every window of `length_steps` of every piece, one each `hop_steps` (moved on to the next
    barline when `align`), within the piece unless `partial` (see window_starts). Windows with fewer
    than `min_notes` notes are skipped. A note begun before a window belongs to it only when
    `held_notes` (then its start is cut to 0)."""
    if length_steps <= 0 or hop_steps <= 0:
        raise ValueError("window length and hop must be positive numbers of steps")
    for piece in pieces:
        notes = piece.notes
        for start in window_starts(piece, length_steps, hop_steps, align, partial):
            stop = start + length_steps
            inside = (notes[:, 2] < stop) & ((notes[:, 3] > start) if held_notes else (notes[:, 2] >= start))
            if np.count_nonzero(inside) < min_notes:
                continue
            part = notes[inside].copy()
            part[:, 2] = np.maximum(part[:, 2] - start, 0)
            part[:, 3] = np.minimum(part[:, 3] - start, length_steps)
            beats = piece.downbeats[(piece.downbeats >= start) & (piece.downbeats < stop)] - start
            yield Window(piece.id, piece.name, start, length_steps, part, beats.astype(np.int32))


Item = TypeVar("Item", Piece, Window)


def transpose(item: Item, semitones: int) -> Item:
    """`item` moved by `semitones` (a piece keeps its id: ids do not depend on the key)."""
    notes = item.notes.copy()
    notes[:, 1] += semitones
    if isinstance(item, Window):
        return replace(item, notes=notes, transposition=item.transposition + semitones)
    return replace(item, notes=notes, key=transpose_key(item.key, semitones))


def transpose_key(key: str, semitones: int) -> str:
    """A key name moved by `semitones`, spelled as KEY_NAMES spells it ("" stays "")."""
    if not key:
        return key
    minor = key.endswith("m")
    tonic = key[:-1] if minor else key
    pc = _PITCH_CLASSES.index(tonic) if tonic in _PITCH_CLASSES else _SPELLINGS.get(tonic)
    if pc is None:
        return key
    name = _PITCH_CLASSES[(pc + semitones) % 12] + ("m" if minor else "")
    if name in KEY_NAMES:
        return name
    sharp = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#"}[name.rstrip("m")] + ("m" if minor else "")
    return sharp if sharp in KEY_NAMES else name


def transposition_range(item: Piece | Window, semitones: tuple[int, int], pitch_range: tuple[int, int] = (0, 127)) -> range:
    """The shifts within `semitones` (inclusive) that keep every note of `item` inside `pitch_range`."""
    low, high = semitones
    if len(item.notes):
        low = max(low, pitch_range[0] - int(item.notes[:, 1].min()))
        high = min(high, pitch_range[1] - int(item.notes[:, 1].max()))
    return range(low, high + 1)


def transpositions(items: Iterable[Item], semitones: tuple[int, int], pitch_range: tuple[int, int] = (0, 127)) -> Iterator[Item]:
    """Every item in every shift of the range that keeps its notes inside `pitch_range`."""
    for item in items:
        for shift in transposition_range(item, semitones, pitch_range):
            yield item if shift == 0 else transpose(item, shift)


def random_transpose(item: Item, rng: np.random.Generator, semitones: tuple[int, int],
                     pitch_range: tuple[int, int] = (0, 127)) -> Item:
    """`item` moved by a shift drawn uniformly from those of the range that keep it inside `pitch_range`."""
    shifts = transposition_range(item, semitones, pitch_range)
    if len(shifts) == 0:
        return item
    shift = int(rng.integers(shifts.start, shifts.stop))
    return item if shift == 0 else transpose(item, shift)
