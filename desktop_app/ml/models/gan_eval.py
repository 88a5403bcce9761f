"""The GAN's sample evaluation (what `desktop-app evaluate` reports for it): harmonise the melodies of
held-out windows and compare the written alto, tenor and bass with the real ones by the music metrics
(empty-bar rate, pitches used, in-scale ratio, polyphony, voice-range violations, parallel fifths and
octaves), each as means beside each other and as the overlap area of the two sets (Yang and Lerch);
and how much of the voices another seed changes, so a generator that ignores its noise shows."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np
import torch

from desktop_app.ml import metrics
from desktop_app.ml.data.piece import Piece
from desktop_app.ml.models import gan as G

DEFAULT_WINDOWS = 200
BATCH = 64


def evaluate_samples(net: G.GanNet, config: G.GanConfig, pieces: list[Piece], seed: int = 0,
                     max_windows: int | None = None, progress: Callable[[int, int], None] | None = None) -> dict:
    """Harmonise up to `max_windows` (default 200) non-overlapping test windows, spread over `pieces`,
    with noise from `seed`, and compare them with the real voices of the same windows."""
    examples = G.make_examples(pieces, replace(config, hop=config.steps))
    if len(examples) == 0:
        return {"windows": 0}
    count = min(len(examples), max_windows if max_windows is not None else DEFAULT_WINDOWS)
    chosen = torch.linspace(0, len(examples) - 1, count).long()
    sets: dict[str, list[Piece]] = {"generated": [], "generated_voices": [], "real": [], "real_voices": []}
    differ = []  # per batch: share of voice steps another seed writes otherwise (does the noise matter?)
    for b, chunk in enumerate(chosen.split(BATCH)):
        batch = {name: value.numpy() for name, value in examples.batch(chunk).items()}
        pitches, onsets = G.harmonise_rolls(net, batch["melody"], batch["melody_onsets"], batch["metre"], seed + b)
        other, _ = G.harmonise_rolls(net, batch["melody"], batch["melody_onsets"], batch["metre"], seed + b + 7919)
        differ.append(float((other != pitches).mean()))
        for i in range(len(chunk)):
            key = G.key_name(int(batch["key"][i]))
            melody = (batch["melody"][i], batch["melody_onsets"][i])
            for name, voices in (("generated", (pitches[i], onsets[i])),
                                 ("real", (batch["voices"][i], batch["voice_onsets"][i]))):
                sets[name].append(G.window_piece(*melody, *voices, key))
                sets[f"{name}_voices"].append(G.window_piece(*melody, *voices, key, accompaniment_only=True))
        if progress is not None:
            progress(min((b + 1) * BATCH, count), count)
    alone = [m for m in G.SAMPLE_METRICS if m in G.ACCOMPANIMENT_ONLY]
    whole = [m for m in G.SAMPLE_METRICS if m not in G.ACCOMPANIMENT_ONLY]
    table = {**metrics.compare_sets(sets["generated_voices"], sets["real_voices"], alone),
             **metrics.compare_sets(sets["generated"], sets["real"], whole)}
    return {
        "windows": count,
        "bars_per_window": config.steps // 16,
        "judged_on": {name: "alto, tenor, bass" if name in G.ACCOMPANIMENT_ONLY else "all four voices"
                      for name in G.SAMPLE_METRICS},
        "units": {name: metrics.UNITS[name] for name in G.SAMPLE_METRICS},
        "metrics": {name: table[name] for name in G.SAMPLE_METRICS},
        "steps_another_seed_changes": float(np.mean(differ)),
        "notes_per_window": {"generated": float(np.mean([len(p.notes) for p in sets["generated_voices"]])),
                             "real": float(np.mean([len(p.notes) for p in sets["real_voices"]]))},
    }
