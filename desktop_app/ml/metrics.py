"""Objective music metrics of a piece, and how alike two sets of pieces are under each metric.

Every panel and command that judges music (dataset view, training curves, evaluation) uses these.
They read a `Piece`: notes on the 16th-note grid with barlines, so a "beat" is a quarter note
(MODEL_STEPS_PER_BEAT steps) and a "bar" runs from one downbeat to the next. The definitions follow
MusPy and DeepComposer's metrics; where those differ or are vague, the docstring says which is used.
The comparison of two sets is Yang and Lerch's overlap area: one number per metric, 1 when the two
sets spread alike over the metric's values, 0 when they never meet.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np

from desktop_app.ml.data.piece import Piece
from desktop_app.music.scales import pitch_classes_of_key
from desktop_app.music.timing import MODEL_STEPS_PER_BEAT

# Comfortable choral ranges (MIDI pitches, inclusive) of soprano, alto, tenor and bass, the voices of
# a four-part chorale in score order. Wider than textbook ranges by a tone, as Bach writes them.
SATB_RANGES: tuple[tuple[int, int], ...] = ((60, 81), (53, 74), (48, 69), (40, 64))


def _pitch_classes(piece: Piece) -> np.ndarray:
    return piece.notes[:, 1] % 12


def pitch_class_histogram(piece: Piece) -> np.ndarray:
    """Share of notes on each of the 12 pitch classes (C = 0); all zeros for an empty piece."""
    counts = np.bincount(_pitch_classes(piece), minlength=12).astype(np.float64)
    total = counts.sum()
    return counts / total if total else counts


def pitch_class_entropy(piece: Piece) -> float:
    """Shannon entropy in bits of the pitch-class histogram (notes counted once each): 0 for one
    pitch class, log2(12) = 3.585 for all twelve equally; tonal music sits near 3."""
    p = pitch_class_histogram(piece)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum()) if len(p) else 0.0


def _scale_set(key: str, leading_tone: bool) -> set[int]:
    """The key's scale; a minor key also admits its raised seventh (the leading tone) when asked."""
    pcs = set(pitch_classes_of_key(key))
    if leading_tone and key.endswith("m"):
        pcs.add((pitch_classes_of_key(key)[0] + 11) % 12)
    return pcs


def in_scale_ratio(piece: Piece, key: str | None = None, leading_tone: bool = True) -> float:
    """Share of notes whose pitch class is in `key`'s scale (the piece's own key by default; 1.0 for an
    empty piece). Minor keys use the natural minor scale plus, with `leading_tone`, the raised seventh
    that minor-key music uses at cadences. NaN when neither `key` nor the piece gives a key."""
    key = key or piece.key
    if not key:
        return float("nan")
    if not len(piece.notes):
        return 1.0
    scale = np.zeros(12, dtype=bool)
    scale[list(_scale_set(key, leading_tone))] = True
    return float(scale[_pitch_classes(piece)].mean())


def scale_consistency(piece: Piece) -> float:
    """The largest share of notes in one major or natural-minor scale over all 24 (MusPy's
    definition); 1.0 for an empty piece."""
    if not len(piece.notes):
        return 1.0
    hist = np.bincount(_pitch_classes(piece), minlength=12)
    best = 0
    for tonic in range(12):
        for steps in ((0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10)):
            best = max(best, int(hist[[(tonic + s) % 12 for s in steps]].sum()))
    return best / len(piece.notes)


def pitches_used(piece: Piece) -> int:
    """Number of distinct MIDI pitches."""
    return int(len(np.unique(piece.notes[:, 1])))


def pitch_classes_used(piece: Piece) -> int:
    """Number of distinct pitch classes (0 to 12)."""
    return int(len(np.unique(_pitch_classes(piece))))


def _span(piece: Piece) -> int:
    """Steps the piece covers: to its last barline or its last note's end, whichever is later."""
    last_bar = int(piece.downbeats[-1]) if len(piece.downbeats) else 0
    return max(piece.n_steps, last_bar)


def sounding_counts(piece: Piece) -> np.ndarray:
    """How many distinct pitches sound at each step from 0 to the piece's span."""
    roll = np.zeros((_span(piece), 128), dtype=bool)
    for _, pitch, start, end, _ in piece.notes:
        roll[start:end, pitch] = True
    return roll.sum(axis=1)


def polyphony(piece: Piece) -> float:
    """Mean number of pitches sounding together, over the steps where anything sounds (MusPy); 0 for
    an empty piece. Four-part chorales give about 4, a melody 1."""
    counts = sounding_counts(piece)
    sounding = counts[counts > 0]
    return float(sounding.mean()) if len(sounding) else 0.0


def polyphonic_rate(piece: Piece, threshold: int = 1) -> float:
    """Share of all steps where more than `threshold` pitches sound (DeepComposer's polyphonic rate
    with its threshold counted in pitches); 0 for an empty piece."""
    counts = sounding_counts(piece)
    return float((counts > threshold).mean()) if len(counts) else 0.0


def _empty_rate(counts: np.ndarray, bounds: Sequence[int]) -> float:
    spans = [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    if not spans:
        return 0.0
    return sum(1 for a, b in spans if not counts[a:b].any()) / len(spans)


def empty_beat_rate(piece: Piece) -> float:
    """Share of quarter-note beats in which no note sounds (a held note fills the beats it spans)."""
    counts = sounding_counts(piece)
    return _empty_rate(counts, list(range(0, len(counts), MODEL_STEPS_PER_BEAT)) + [len(counts)])


def _bar_bounds(piece: Piece) -> list[int]:
    """Start of each bar and the end of the last, including a partial first bar before the first
    downbeat when the piece has one."""
    span = _span(piece)
    bounds = sorted({0, *(int(d) for d in piece.downbeats if 0 <= d < span), span})
    return bounds


def empty_bar_rate(piece: Piece) -> float:
    """Share of bars in which no note sounds (DeepComposer's empty-bar rate)."""
    return _empty_rate(sounding_counts(piece), _bar_bounds(piece))


def note_density(piece: Piece) -> float:
    """Notes begun per bar, on average over the piece's bars; 0 for an empty piece."""
    bars = len(_bar_bounds(piece)) - 1
    return len(piece.notes) / bars if bars > 0 else 0.0


def voice_range_violations(piece: Piece, ranges: Sequence[tuple[int, int]] = SATB_RANGES) -> float:
    """Share of notes outside the range of their voice (voice i takes ranges[i]; voices beyond the
    list are not judged); 0 when no note is judged."""
    voices = piece.notes[:, 0]
    judged = voices < len(ranges)
    if not judged.any():
        return 0.0
    low = np.array([r[0] for r in ranges])[voices[judged]]
    high = np.array([r[1] for r in ranges])[voices[judged]]
    pitches = piece.notes[judged, 1]
    return float(((pitches < low) | (pitches > high)).mean())


def _voice_lines(piece: Piece) -> list[np.ndarray]:
    """Each voice's pitch at each step up to the piece's span (-1 where it rests); where a voice
    sounds two pitches at once, its highest counts."""
    span = _span(piece)
    lines = []
    for voice in np.unique(piece.notes[:, 0]):
        line = np.full(span, -1, dtype=np.int64)
        rows = piece.notes[piece.notes[:, 0] == voice]
        for _, pitch, start, end, _ in rows[np.argsort(rows[:, 1], kind="stable")]:
            line[start:end] = pitch
        lines.append(line)
    return lines


def _parallels(piece: Piece, interval: int) -> int:
    """Consecutive perfect intervals of `interval` semitones modulo 12 (7: fifths, 0: octaves and
    unisons) between any two voices: at a step where both voices move to a new pitch in the same
    direction, sounding that interval (compound or not) before and after. Repeated notes, rests,
    contrary motion and one voice moving alone do not count."""
    lines = _voice_lines(piece)
    count = 0
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            a, b = lines[i], lines[j]
            a0, a1, b0, b1 = a[:-1], a[1:], b[:-1], b[1:]
            sounding = (a0 >= 0) & (a1 >= 0) & (b0 >= 0) & (b1 >= 0)
            same_way = np.sign(a1 - a0) * np.sign(b1 - b0) > 0
            before, after = (a0 - b0) % 12 == interval, (a1 - b1) % 12 == interval
            count += int(np.count_nonzero(sounding & same_way & before & after))
    return count


def parallel_fifths(piece: Piece) -> int:
    """Parallel (consecutive) fifths between any two voices, counted as in `_parallels`."""
    return _parallels(piece, 7)


def parallel_octaves(piece: Piece) -> int:
    """Parallel octaves and unisons between any two voices, counted as in `_parallels`."""
    return _parallels(piece, 0)


METRICS: dict[str, Callable[[Piece], float]] = {
    "pitch_class_entropy": pitch_class_entropy,
    "scale_consistency": scale_consistency,
    "in_scale_ratio": in_scale_ratio,
    "pitches_used": pitches_used,
    "pitch_classes_used": pitch_classes_used,
    "polyphony": polyphony,
    "polyphonic_rate": polyphonic_rate,
    "empty_beat_rate": empty_beat_rate,
    "empty_bar_rate": empty_bar_rate,
    "note_density": note_density,
    "voice_range_violations": voice_range_violations,
    "parallel_fifths": parallel_fifths,
    "parallel_octaves": parallel_octaves,
}

UNITS: dict[str, str] = {
    "pitch_class_entropy": "bits",
    "scale_consistency": "share of notes",
    "in_scale_ratio": "share of notes",
    "pitches_used": "pitches",
    "pitch_classes_used": "pitch classes",
    "polyphony": "pitches sounding",
    "polyphonic_rate": "share of steps",
    "empty_beat_rate": "share of beats",
    "empty_bar_rate": "share of bars",
    "note_density": "notes per bar",
    "voice_range_violations": "share of notes",
    "parallel_fifths": "consecutive fifths",
    "parallel_octaves": "consecutive octaves",
}


def piece_metrics(piece: Piece, names: Iterable[str] = METRICS) -> dict[str, float]:
    """Every metric in `names` for one piece."""
    return {name: float(METRICS[name](piece)) for name in names}


def _kde(values: np.ndarray, grid: np.ndarray, bandwidth: float) -> np.ndarray:
    """Gaussian kernel density of `values` on `grid`, normalised to integrate to 1 over the grid."""
    z = (grid[:, None] - values[None, :]) / bandwidth
    density = np.exp(-0.5 * z * z).sum(axis=1)
    area = np.trapezoid(density, grid)
    return density / area if area > 0 else density


def _bandwidth(values: np.ndarray, floor: float) -> float:
    """Silverman's rule of thumb, never below `floor` (a set of equal values still has a width)."""
    n = len(values)
    std = float(values.std(ddof=1)) if n > 1 else 0.0
    iqr = float(np.subtract(*np.percentile(values, [75, 25]))) / 1.34
    spread = min(std, iqr) if iqr > 0 else std
    return max(0.9 * spread * n ** -0.2, floor)


def overlap_area(a: Sequence[float], b: Sequence[float], points: int = 2048) -> float:
    """Overlap area of the two sets' value distributions (Yang and Lerch 2020): the integral of the
    smaller of their Gaussian kernel density estimates. 1 for identical sets, near 0 for sets that
    never meet; NaN values are dropped, and NaN is returned when a set is then empty."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if not len(a) or not len(b):
        return float("nan")
    scale = max(np.ptp(np.concatenate([a, b])), abs(float(np.mean(np.concatenate([a, b])))), 1e-9)
    floor = 1e-3 * scale
    ha, hb = _bandwidth(a, floor), _bandwidth(b, floor)
    low = min(a.min() - 5 * ha, b.min() - 5 * hb)
    high = max(a.max() + 5 * ha, b.max() + 5 * hb)
    grid = np.linspace(low, high, points)
    overlap = np.trapezoid(np.minimum(_kde(a, grid, ha), _kde(b, grid, hb)), grid)
    return float(min(max(overlap, 0.0), 1.0))


def compare_sets(
    generated: Sequence[Piece], reference: Sequence[Piece], names: Iterable[str] = METRICS
) -> dict[str, dict[str, float]]:
    """Per metric: mean and standard deviation over each set, and the overlap area between them."""
    result = {}
    for name in names:
        gen = np.array([METRICS[name](p) for p in generated], dtype=np.float64)
        ref = np.array([METRICS[name](p) for p in reference], dtype=np.float64)
        result[name] = {
            "generated_mean": float(np.nanmean(gen)) if np.isfinite(gen).any() else float("nan"),
            "generated_std": float(np.nanstd(gen)) if np.isfinite(gen).any() else float("nan"),
            "reference_mean": float(np.nanmean(ref)) if np.isfinite(ref).any() else float("nan"),
            "reference_std": float(np.nanstd(ref)) if np.isfinite(ref).any() else float("nan"),
            "overlap_area": overlap_area(gen, ref),
        }
    return result
