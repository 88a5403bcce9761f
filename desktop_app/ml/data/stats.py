"""What a dataset holds, for the dataset view and `desktop-app dataset stats`: counts, histograms
and summaries (mean, standard deviation, quartiles) of pitch, duration, notes per bar, polyphony,
key and tempo, the outliers with their reasons, and the split of every piece."""

from __future__ import annotations

from collections import Counter

import numpy as np

from desktop_app.ml.data.dataset import SPLITS, Dataset, bar_count, split_of_piece
from desktop_app.ml.data.piece import Piece

DURATION_CAP = 64  # durations of 64 steps (four whole notes) or more share the last bin
TEMPO_BINS = np.arange(30, 250, 10)


def _summary(values: np.ndarray) -> dict[str, float]:
    if not len(values):
        return {"count": 0}
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {
        "count": int(len(values)),
        "mean": round(float(values.mean()), 4),
        "std": round(float(values.std()), 4),
        "min": float(values.min()),
        "q1": float(q1),
        "median": float(median),
        "q3": float(q3),
        "iqr": float(q3 - q1),
        "max": float(values.max()),
    }


def _integer_histogram(values: np.ndarray, low: int, high: int | None = None) -> dict[str, list]:
    """Counts of each integer from `low` to `high` (default: the largest value); larger values go in the last bin."""
    top = int(values.max()) if high is None and len(values) else (high if high is not None else low)
    counts = np.bincount(np.clip(values.astype(np.int64), low, top) - low, minlength=top - low + 1)
    return {"bins": list(range(low, top + 1)), "counts": counts.tolist()}


def polyphony(piece: Piece) -> np.ndarray:
    """How many notes sound at each step where at least one does."""
    if not len(piece.notes):
        return np.zeros(0, dtype=np.int64)
    change = np.zeros(piece.n_steps + 1, dtype=np.int64)
    np.add.at(change, piece.notes[:, 2], 1)
    np.add.at(change, piece.notes[:, 3], -1)
    sounding = np.cumsum(change)[:-1]
    return sounding[sounding > 0]


def notes_per_bar(piece: Piece) -> np.ndarray:
    """Note onsets in each bar the piece spans (a pickup counts as a bar)."""
    if not len(piece.notes):
        return np.zeros(0, dtype=np.int64)
    edges = np.concatenate([[np.iinfo(np.int64).min], piece.downbeats.astype(np.int64)])
    bars = np.searchsorted(edges, piece.notes[:, 2], side="right") - 1
    counts = np.bincount(bars, minlength=len(edges))
    first, last = int(bars.min()), int(np.searchsorted(edges, piece.n_steps, side="left")) - 1
    return counts[first : max(last, first) + 1]


def piece_seconds(piece: Piece) -> float:
    """Length in seconds: from the tempo map when it was known, else from the first tempo."""
    return piece.seconds or piece.n_steps / 4 * 60 / (piece.tempo_bpm or 120.0)


def dataset_stats(dataset: Dataset) -> dict:
    """Everything the dataset view shows, as plain JSON-ready values, over the pieces kept for training."""
    pieces = dataset.pieces
    notes = np.concatenate([p.notes for p in pieces]) if pieces else np.zeros((0, 5), dtype=np.int32)
    pitch = notes[:, 1].astype(np.int64)
    duration = (notes[:, 3] - notes[:, 2]).astype(np.int64)
    per_bar = np.concatenate([notes_per_bar(p) for p in pieces]) if pieces else np.zeros(0, dtype=np.int64)
    poly = np.concatenate([polyphony(p) for p in pieces]) if pieces else np.zeros(0, dtype=np.int64)
    tempo = np.array([p.tempo_bpm for p in pieces], dtype=np.float64)
    bars = sum(bar_count(p) for p in pieces)
    keys = Counter(p.key or "unknown" for p in pieces)
    tempo_counts, _ = np.histogram(np.clip(tempo, TEMPO_BINS[0], TEMPO_BINS[-1] - 1e-9), TEMPO_BINS)
    splits = {}
    for name in SPLITS:
        members = [p for p in pieces if split_of_piece(p) == name]
        splits[name] = {
            "pieces": len(members),
            "notes": int(sum(len(p.notes) for p in members)),
            "ids": sorted({p.id for p in members}),
        }
    outlier_of = {o.name: o for o in dataset.outliers}
    return {
        "name": dataset.name,
        "root": dataset.root,
        "pieces": len(pieces),
        "pieces_found": len(dataset.all_pieces),
        "notes": int(len(notes)),
        "bars": int(bars),
        "hours": round(sum(piece_seconds(p) for p in pieces) / 3600, 4),
        "unreadable": len(dataset.failures),
        "excluded": len(dataset.excluded),
        "duplicates": [[p.name for p in group] for group in dataset.duplicates()],
        "kept_together": [[p.name for p in group] for group in dataset.kept_together()],
        "splits": splits,
        "histograms": {
            "pitch": _integer_histogram(pitch, 0, 127),
            "pitch_class": {"bins": ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"],
                            "counts": np.bincount(pitch % 12, minlength=12).tolist()},
            "duration_steps": _integer_histogram(duration, 1, DURATION_CAP),
            "notes_per_bar": _integer_histogram(per_bar, 0),
            "polyphony": _integer_histogram(poly, 1),
            "key": {"bins": [k for k, _ in keys.most_common()], "counts": [c for _, c in keys.most_common()]},
            "tempo_bpm": {"edges": TEMPO_BINS.tolist(), "counts": tempo_counts.tolist()},
        },
        "summary": {
            "pitch": _summary(pitch),
            "pitch_class": _summary(pitch % 12),
            "duration_steps": _summary(duration),
            "notes_per_bar": _summary(per_bar),
            "polyphony": _summary(poly),
            "tempo_bpm": _summary(tempo),
            "bars_per_piece": _summary(np.array([bar_count(p) for p in pieces], dtype=np.float64)),
        },
        "outliers": [
            {"name": o.name, "id": o.id, "kinds": list(o.kinds), "reasons": list(o.reasons), "excluded": o.excluded}
            for o in dataset.outliers
        ] + [{"name": f, "id": "", "kinds": ["unreadable"], "reasons": [f"unreadable: {r}"], "excluded": True}
             for f, r in dataset.failures],
        "per_piece": [
            {
                "name": p.name,
                "id": p.id,
                "source": p.source,
                "split": split_of_piece(p),
                "notes": int(len(p.notes)),
                "bars": bar_count(p),
                "voices": p.n_voices,
                "key": p.key,
                "meter": f"{p.numerator}/{p.denominator}" if p.time_signatures else "none",
                "excluded": bool(outlier_of.get(p.name) and outlier_of[p.name].excluded),
                "outlier": list(outlier_of[p.name].reasons) if p.name in outlier_of else [],
            }
            for p in dataset.all_pieces
        ],
    }
