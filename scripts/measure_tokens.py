"""Measure the transformer's own tokens against MidiTok's REMI and TSD on chorales: notes kept
exactly by a round trip (voice, pitch, start, end, velocity on the 16th grid), tokens per bar and
vocabulary size. Prints JSON. Usage: .venv/bin/python scripts/measure_tokens.py [N_PIECES]"""

from __future__ import annotations

import json
import sys

import numpy as np


def _kept(notes: np.ndarray, back) -> np.ndarray:
    """Notes found again exactly, and found again but for their velocity."""
    back = [tuple(int(x) for x in row) for row in back]
    rows = [tuple(row) for row in notes.tolist()]
    return np.array([len(set(rows) & set(back)), len({r[:4] for r in rows} & {r[:4] for r in back})])


def _rates(kept: np.ndarray, total: int) -> dict:
    return {"notes_kept_exactly": round(kept[0] / total, 4), "notes_kept_but_velocity": round(kept[1] / total, 4)}


def own(pieces) -> dict:
    from desktop_app.ml.models import transformer_tokens as T

    kept, total, tokens, bars = np.zeros(2, dtype=int), 0, 0, 0
    for piece in pieces:
        bar_list, _ = T.piece_bars(piece.notes, piece.downbeats, piece.n_voices)
        seq = T.plain_sequence(bar_list, ends=True)
        back = T.decode(seq).in_steps([b.start for b in bar_list])
        kept += _kept(piece.notes, back.tolist())
        total += len(piece.notes)
        tokens += len(seq)
        bars += len(bar_list)
    return {**_rates(kept, total), "tokens_per_bar": round(tokens / bars, 1), "vocab": T.VOCAB_SIZE}


def miditok(pieces, kind: str) -> dict:
    import miditok
    from symusic import Note, Score, TimeSignature, Track

    config = miditok.TokenizerConfig(
        use_programs=True, one_token_stream_for_programs=True, num_velocities=32,
        beat_res={(0, 4): 4, (4, 16): 4}, use_time_signatures=False)
    tokenizer = getattr(miditok, kind)(config)
    kept, total, tokens, bars = np.zeros(2, dtype=int), 0, 0, 0
    for piece in pieces:
        offset = -int(piece.downbeats[0])  # bars from the (pickup's) first downbeat, as ours
        score = Score(4)
        score.time_signatures.append(TimeSignature(0, piece.numerator, piece.denominator))
        for voice in range(piece.n_voices):
            track = Track(program=voice)  # a program per voice, or MidiTok merges the voices
            for _v, pitch, start, end, vel in piece.notes[piece.notes[:, 0] == voice]:
                track.notes.append(Note(int(start + offset), int(end - start), int(pitch), int(vel)))
            score.tracks.append(track)
        seq = tokenizer.encode(score)
        back = tokenizer.decode(seq)
        got = set()
        for track in back.tracks:
            t = track.notes.numpy()
            scale = 4 / back.ticks_per_quarter
            for s, d, p, v in zip(t["time"], t["duration"], t["pitch"], t["velocity"]):
                start = int(round(s * scale)) - offset
                got.add((track.program, int(p), start, start + int(round(d * scale)), int(v)))
        kept += _kept(piece.notes, got)
        total += len(piece.notes)
        tokens += len(seq.ids)
        bars += len(piece.downbeats) - 1
    return {**_rates(kept, total), "tokens_per_bar": round(tokens / bars, 1), "vocab": len(tokenizer)}


def main() -> None:
    from desktop_app.ml.data import load_dataset

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    pieces = load_dataset("chorales").pieces[:n]
    result = {"pieces": len(pieces), "notes": int(sum(len(p.notes) for p in pieces)), "own": own(pieces)}
    for kind in ("REMI", "TSD"):
        result[f"miditok_{kind}"] = miditok(pieces, kind)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    np.set_printoptions(linewidth=200)
    main()
