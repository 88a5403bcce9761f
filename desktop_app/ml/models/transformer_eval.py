"""The transformer's evaluation (what `desktop-app evaluate` and the model card report for it):

- loss per token and per note on a split (`split_figures`);
- continuations of the first SEED_BARS bars of each held-out piece and infills of bars 3 to 4 of
  its first 8, compared with the bars the piece really has there by the music metrics and their
  overlap areas (Yang and Lerch);
- control accuracy: asked for each density and polyphony level, how often each written slot (a
  bar of a voice) lands in the asked level, and notes per bar asked "low" against "high";
- copying: the longest run of notes (pitch and duration, voice by voice) that an output shares
  with any training piece, beside the same figure for the real held-out bars, which share some
  runs with the training set by themselves (chorales reuse hymn tunes).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from desktop_app.ml import metrics
from desktop_app.ml.data.piece import Piece
from desktop_app.ml.models import transformer as M
from desktop_app.ml.models import transformer_tokens as T

COMPARED = ("in_scale_ratio", "pitch_class_entropy", "polyphony", "note_density")
SEED_BARS = 4
NEW_BARS = 4
WINDOW_BARS = 8
FILL_BARS = (2, 3)  # bars 3 and 4 of 8, counted from 0
LONG_RUN = 8  # notes in a row shared with a training piece that count as a copy
DEFAULT_WINDOWS = 20


# ---------------------------------------------------------------------------------------------
# Loss per token and per note


@torch.no_grad()
def split_figures(net: M.TransformerNet, config: M.TransformerConfig, pieces: list[Piece], seed: int = 0,
                  batch_size: int = 32) -> dict[str, float]:
    """Cross-entropy over every real token of the split's examples (drawn with a fixed seed), per
    token and per note (the summed loss over the number of notes written, a pitch token each)."""
    examples = M.make_examples(pieces, config)
    if len(examples) == 0:
        return {}
    torch.manual_seed(seed)
    total, tokens, notes = 0.0, 0, 0
    for chunk in torch.arange(len(examples)).split(batch_size):
        batch = examples.batch(chunk)["tokens"]
        logits = net(batch[:, :-1])
        target = batch[:, 1:]
        total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1),
                                       ignore_index=T.PAD, reduction="sum"))
        tokens += int((target != T.PAD).sum())
        notes += int(T.is_kind(target, T.PITCH0, 128).sum())
    return {"loss_per_token": total / max(tokens, 1), "loss_per_note": total / max(notes, 1),
            "tokens": tokens, "notes": notes, "tokens_per_note": tokens / max(notes, 1)}


# ---------------------------------------------------------------------------------------------
# Writing bars of a held-out piece


def _written(net: M.TransformerNet, prompt: list[int], plan: list, seed: int, refill: bool,
             temperature: float = 1.0, top_p: float = 0.95) -> np.ndarray:
    """(n, 6) rows (bar, voice, pitch, position, duration, velocity) of one variation of `plan`."""
    rows = [note for _row, note in M.generate(net, prompt, plan, 1, temperature, 0, top_p, seed, refill)]
    return np.array(rows, dtype=np.int64).reshape(-1, 6)


def _continuation(net: M.TransformerNet, bars: list[T.TokenBar], n_voices: int, seed: int,
                  density: int | None = None, polyphony: int | None = None) -> np.ndarray:
    """NEW_BARS bars written after SEED_BARS, every voice at the asked levels (None: the model's)."""
    lengths = [bar.length for bar in bars[SEED_BARS:SEED_BARS + NEW_BARS]]
    plan = M.continuation_plan(lengths, n_voices, range(n_voices), density, polyphony)
    return _written(net, T.plain_sequence(bars[:SEED_BARS]), plan, seed, True)


def _infill(net: M.TransformerNet, bars: list[T.TokenBar], n_voices: int, seed: int) -> np.ndarray:
    """FILL_BARS of the first WINDOW_BARS written anew in every voice, as the editor's infill does
    (each masked slot keeps its own levels); bar indices count from the window's first bar."""
    lo, hi = 0, WINDOW_BARS
    gap = sum(len(bars[b].slots[v].tokens) + 5 for b in FILL_BARS for v in range(n_voices))
    while True:  # a dense window leaves no room for the fills: drop the bar farthest from the gap
        window = bars[lo:hi]
        masked = {(b - lo, v) for b in FILL_BARS for v in range(n_voices)}
        prompt = T.infill_sequence(window, masked, fills=False)
        if len(prompt) + 2 * gap <= net.config.block_size or hi - lo <= len(FILL_BARS):
            break
        if hi - 1 - FILL_BARS[-1] >= FILL_BARS[0] - lo:
            hi -= 1
        else:
            lo += 1
    plan = [M._Segment([T.FILL] + bars[b].slots[v].head(), b, v, bars[b].length, False, T.FILL_END, False)
            for b in FILL_BARS for v in range(n_voices)]
    return _written(net, prompt, plan, seed, False)


def _as_piece(like: Piece, rows: np.ndarray, lengths: Sequence[int]) -> Piece:
    """Rows written over bars of `lengths` (bar index 0 = the first) as a Piece of those bars."""
    lines = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    notes = T.Decoded(rows, 0, len(lengths)).in_steps(lines[:-1])
    return replace(like, notes=notes.astype(np.int32), downbeats=lines.astype(np.int32))


def _real(like: Piece, bars: list[T.TokenBar]) -> Piece:
    """The piece's own `bars` as a Piece that starts at their first downbeat."""
    lengths = [bar.length for bar in bars]
    rows = T.decode(T.plain_sequence(bars)).notes
    return _as_piece(like, rows, lengths)


def _slot_levels(rows: np.ndarray, lengths: Sequence[int], n_voices: int) -> list[tuple[int, int]]:
    """(density level, polyphony level) of every written slot, by the tokenizer's own rules."""
    out = []
    for b, length in enumerate(lengths):
        for v in range(n_voices):
            mine = rows[(rows[:, 0] == b) & (rows[:, 1] == v)]
            pos, dur = mine[:, 3], mine[:, 4]
            out.append((T.density_level(len(mine), length), T.polyphony_level(pos, pos + dur, length)))
    return out


# ---------------------------------------------------------------------------------------------
# Copying


def _lines(piece: Piece) -> list[list[tuple[int, int]]]:
    """Each voice's notes in time order as (pitch, duration) pairs."""
    notes = np.asarray(piece.notes, dtype=np.int64).reshape(-1, 5)
    out = []
    for voice in np.unique(notes[:, 0]):
        mine = notes[notes[:, 0] == voice]
        mine = mine[np.lexsort((mine[:, 1], mine[:, 2]))]
        out.append([(int(p), int(e - s)) for p, s, e in mine[:, 1:4]])
    return out


class RunIndex:
    """Every run of n notes of a set of pieces, built per n on demand, to find the longest run
    a new line shares with any of them (a binary search over n: a shared run of n notes holds
    shared runs of every shorter length)."""

    def __init__(self, pieces: Sequence[Piece]) -> None:
        self.lines = [line for piece in pieces for line in _lines(piece)]
        self._runs: dict[int, set] = {}

    def _has(self, n: int, run: tuple) -> bool:
        if n not in self._runs:
            self._runs[n] = {tuple(line[i:i + n]) for line in self.lines for i in range(len(line) - n + 1)}
        return run in self._runs[n]

    def longest(self, line: list[tuple[int, int]]) -> int:
        """The most notes in a row of `line` found in a row of the indexed pieces."""
        low, high = 0, len(line)
        while low < high:
            n = (low + high + 1) // 2
            if any(self._has(n, tuple(line[i:i + n])) for i in range(len(line) - n + 1)):
                low = n
            else:
                high = n - 1
        return low

    def piece_longest(self, piece: Piece) -> int:
        return max((self.longest(line) for line in _lines(piece)), default=0)


def _copy_figures(index: RunIndex, generated: list[Piece], real: list[Piece]) -> dict[str, float]:
    made = np.array([index.piece_longest(p) for p in generated], dtype=np.float64)
    true = np.array([index.piece_longest(p) for p in real], dtype=np.float64)
    return {"longest_run_mean": float(made.mean()), "longest_run_max": int(made.max()),
            "share_with_long_run": float(np.mean(made >= LONG_RUN)),
            "real_longest_run_mean": float(true.mean()), "real_share_with_long_run": float(np.mean(true >= LONG_RUN)),
            "long_run_notes": LONG_RUN}


# ---------------------------------------------------------------------------------------------
# The whole evaluation


def evaluate_samples(net: M.TransformerNet, config: M.TransformerConfig, pieces: list[Piece], seed: int = 0,
                     max_windows: int | None = None, progress: Callable[[int, int], None] | None = None,
                     train_pieces: Sequence[Piece] | None = None) -> dict:
    """Continue and infill each held-out piece with at least WINDOW_BARS bars (at most
    `max_windows`, default DEFAULT_WINDOWS), ask each control level, and (given `train_pieces`)
    measure copying. Each piece uses its own seed, `seed` plus its index, so runs repeat."""
    net.eval()
    usable = []
    for piece in pieces:
        if len(piece.notes):
            bars, _ = T.piece_bars(piece.notes, piece.downbeats, piece.n_voices)
            if len(bars) >= WINDOW_BARS:
                usable.append((piece, bars))
    usable = usable[:max_windows if max_windows is not None else DEFAULT_WINDOWS]
    if not usable:
        return {"windows": 0}
    made = {"continuation": [], "infill": []}
    real = {"continuation": [], "infill": []}
    hits = {"density": [], "polyphony": []}
    per_bar = {level: [] for level in T.LEVELS}
    for i, (piece, bars) in enumerate(usable):
        n_voices, s = piece.n_voices, seed + i
        new = bars[SEED_BARS:SEED_BARS + NEW_BARS]
        lengths = [bar.length for bar in new]
        made["continuation"].append(_as_piece(piece, _continuation(net, bars, n_voices, s), lengths))
        real["continuation"].append(_real(piece, new))
        filled = _infill(net, bars, n_voices, s)
        gap = [bars[b] for b in FILL_BARS]
        filled[:, 0] -= FILL_BARS[0]
        made["infill"].append(_as_piece(piece, filled, [bar.length for bar in gap]))
        real["infill"].append(_real(piece, gap))
        for level, name in enumerate(T.LEVELS):
            rows = _continuation(net, bars, n_voices, s, density=level)
            hits["density"] += [d == level for d, _p in _slot_levels(rows, lengths, n_voices)]
            per_bar[name].append(len(rows) / NEW_BARS)
            rows = _continuation(net, bars, n_voices, s, polyphony=level)
            hits["polyphony"] += [p == level for _d, p in _slot_levels(rows, lengths, n_voices)]
        if progress is not None:
            progress(i + 1, len(usable))
    result = {
        "windows": len(usable),
        "continuation_metrics": metrics.compare_sets(made["continuation"], real["continuation"], COMPARED),
        "infill_metrics": metrics.compare_sets(made["infill"], real["infill"], COMPARED),
        "control_accuracy": {name: float(np.mean(values)) for name, values in hits.items()},
        "notes_per_bar_real": float(np.mean([len(p.notes) / NEW_BARS for p in real["continuation"]])),
        **{f"notes_per_bar_asked_{name}": float(np.mean(values)) for name, values in per_bar.items()},
    }
    if train_pieces:
        index = RunIndex(train_pieces)
        result["copying"] = {kind: _copy_figures(index, made[kind], real[kind]) for kind in made}
    return result
