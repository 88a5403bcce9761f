"""The AR-CNN's repair evaluation: damage each held-out window (remove half its notes, add as many
random ones), run the sampler with DeepComposer's defaults, and measure how much it puts right.

Per window: the share of added notes it removes, of removed notes it restores, of untouched notes
it keeps; the cell F1 against the original before and after; and, over all windows, the overlap
areas (Yang and Lerch) of in-scale ratio, pitch-class entropy and polyphony of the damaged input
and of the output against the originals.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np

from desktop_app.ml import metrics
from desktop_app.ml.data.piece import Piece
from desktop_app.ml.data.windows import windows
from desktop_app.ml.models.arcnn import (
    ArcnnConfig,
    ArcnnNet,
    SamplerKnobs,
    damage_notes,
    metre_plane,
    onset_plane,
    roll_notes,
    sample_edits,
    window_roll,
)

COMPARED = ("in_scale_ratio", "pitch_class_entropy", "polyphony")


def _share(notes, test) -> float:
    return float(np.mean([test(n) for n in notes])) if notes else float("nan")


def cell_f1(roll: np.ndarray, original: np.ndarray) -> float:
    hits = np.count_nonzero(roll & original)
    total = np.count_nonzero(roll) + np.count_nonzero(original)
    return 2 * hits / total if total else 1.0


def _piece(roll: np.ndarray, onsets: np.ndarray, config: ArcnnConfig, source: Piece, downbeats: np.ndarray) -> Piece:
    notes = roll_notes(roll, onset_plane(roll, onsets))
    array = np.array([(0, config.low_pitch + p, s0, s1, 100) for p, s0, s1 in notes], dtype=np.int32).reshape(-1, 5)
    return replace(source, notes=array, downbeats=downbeats)


def repair_evaluation(
    net: ArcnnNet,
    config: ArcnnConfig,
    pieces: list[Piece],
    knobs: SamplerKnobs = SamplerKnobs(),
    seed: int = 0,
    max_windows: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Damage and repair every non-overlapping 8-bar window of `pieces`; return the means and the
    overlap areas. The same `seed` damages the same notes and samples the same edits."""
    rng = np.random.default_rng(seed)
    by_id = {p.id: p for p in pieces}
    cut = [w for w in windows(pieces, config.steps, config.steps) if len(w.notes) >= 4]
    if max_windows is not None and len(cut) > max_windows:
        cut = [cut[i] for i in np.sort(rng.choice(len(cut), max_windows, replace=False))]
    rows = []
    sets: dict[str, list[Piece]] = {"input": [], "output": [], "original": []}
    for i, w in enumerate(cut):
        original, onsets = window_roll(w.notes, config)
        if np.count_nonzero(onsets) < 4:
            continue
        damaged, removed, added, untouched = damage_notes(original, onsets, rng, 0.5)
        metre = metre_plane(config.steps, w.downbeats)
        damaged_onsets = onset_plane(damaged, onsets)
        output = damaged
        for _, output in sample_edits(net, damaged, damaged_onsets, metre, replace(knobs, seed=int(rng.integers(2**31)))):
            pass
        rows.append({
            "added_removed": _share(added, lambda n: not output[n[1]:n[2], n[0]].any()),
            "removed_restored": _share(removed, lambda n: output[n[1]:n[2], n[0]].all()),
            "untouched_kept": _share(untouched, lambda n: output[n[1]:n[2], n[0]].all()),
            "cell_f1_before": cell_f1(damaged, original),
            "cell_f1_after": cell_f1(output, original),
        })
        piece = by_id.get(w.piece_id)
        if piece is not None:
            sets["input"].append(_piece(damaged, onsets, config, piece, w.downbeats))
            sets["output"].append(_piece(output, onsets, config, piece, w.downbeats))
            sets["original"].append(_piece(original, onsets, config, piece, w.downbeats))
        if progress is not None:
            progress(i + 1, len(cut))
    result = {name: float(np.nanmean([r[name] for r in rows])) if rows else float("nan") for name in
              ("added_removed", "removed_restored", "untouched_kept", "cell_f1_before", "cell_f1_after")}
    result["windows"] = len(rows)
    result["knobs"] = {"iterations": knobs.iterations, "max_remove": knobs.max_remove, "max_add": knobs.max_add,
                       "temperature": knobs.temperature, "edits_per_pass": knobs.edits_per_pass}
    overlap = {}
    for name in COMPARED:
        table_in = metrics.compare_sets(sets["input"], sets["original"], [name])[name]
        table_out = metrics.compare_sets(sets["output"], sets["original"], [name])[name]
        overlap[name] = {"original_mean": table_in["reference_mean"], "input_mean": table_in["generated_mean"],
                         "output_mean": table_out["generated_mean"], "input_overlap": table_in["overlap_area"],
                         "output_overlap": table_out["overlap_area"],
                         "values": {key: [metrics.METRICS[name](p) for p in pieces] for key, pieces in sets.items()}}
    result["metrics"] = overlap
    return result
