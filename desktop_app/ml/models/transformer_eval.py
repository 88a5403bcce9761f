"""The transformer's sample evaluation (what `desktop-app evaluate` reports for it): continue the
first bars of held-out pieces and compare the continuations with the bars the pieces really go on
with, by the music metrics and their overlap areas (Yang and Lerch); and ask for "low" and "high"
density on the same seeds, so the notes per bar show whether the control is obeyed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np
import torch

from desktop_app.ml import metrics
from desktop_app.ml.data.piece import Piece
from desktop_app.ml.models import transformer as M
from desktop_app.ml.models import transformer_tokens as T

COMPARED = ("pitch_class_entropy", "in_scale_ratio", "polyphony", "note_density", "empty_beat_rate")
SEED_BARS = 4
NEW_BARS = 4


def _continuation(net: M.TransformerNet, bars: list[T.TokenBar], n_voices: int, level: int | None,
                  seed: int, temperature: float = 1.0, top_p: float = 0.95) -> np.ndarray:
    """(n, 5) Piece rows of NEW_BARS bars written after the seed bars (steps from the first new bar)."""
    lengths = [bar.length for bar in bars[SEED_BARS:SEED_BARS + NEW_BARS]]
    plan = M.continuation_plan(lengths, n_voices, range(n_voices), level)
    prompt = T.plain_sequence(bars[:SEED_BARS])
    rows = [note for _row, note in M.generate(net, prompt, plan, 1, temperature, 0, top_p, seed)]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return T.Decoded(np.array(rows, dtype=np.int64).reshape(-1, 6), 0, len(lengths)).in_steps(starts)


def evaluate_samples(net: M.TransformerNet, config: M.TransformerConfig, pieces: list[Piece], seed: int = 0,
                     max_windows: int | None = None, progress: Callable[[int, int], None] | None = None) -> dict:
    """Continue SEED_BARS bars of each piece (at most `max_windows`, default 20) by NEW_BARS: the
    metrics of the continuations against the real next bars, and notes per bar asked "low" and "high"."""
    usable = [p for p in pieces if len(p.notes) and len(p.downbeats) > SEED_BARS + NEW_BARS]
    usable = usable[:max_windows if max_windows is not None else 20]
    generated, reference = [], []
    per_bar = {"low": [], "high": []}
    torch.manual_seed(seed)
    for i, piece in enumerate(usable):
        bars, _ = T.piece_bars(piece.notes, piece.downbeats, piece.n_voices)
        real = bars[SEED_BARS:SEED_BARS + NEW_BARS]
        lines = np.array([b.start for b in real] + [real[-1].start + real[-1].length]) - real[0].start
        decoded = T.decode(T.plain_sequence(real)).in_steps(lines[:-1])
        reference.append(replace(piece, notes=decoded.astype(np.int32), downbeats=lines.astype(np.int32)))
        made = _continuation(net, bars, piece.n_voices, None, seed + i)
        generated.append(replace(piece, notes=made.astype(np.int32), downbeats=lines.astype(np.int32)))
        for name, level in (("low", 0), ("high", 2)):
            per_bar[name].append(len(_continuation(net, bars, piece.n_voices, level, seed + i)) / NEW_BARS)
        if progress is not None:
            progress(i + 1, len(usable))
    if not usable:
        return {"windows": 0}
    return {
        "windows": len(usable),
        "notes_per_bar_asked_low": float(np.mean(per_bar["low"])),
        "notes_per_bar_asked_high": float(np.mean(per_bar["high"])),
        "notes_per_bar_real": float(np.mean([len(p.notes) / NEW_BARS for p in reference])),
        "continuation_metrics": metrics.compare_sets(generated, reference, COMPARED),
    }
