"""`desktop-app bench gan`: seconds to harmonise a 16-bar melody (alto, tenor and bass, window by window
with the joins), median of runs, on one torch thread and on torch's default threads. Goal: under 0.5 s.
Uses the shipped checkpoint when there is one, else the small preset with random weights (same cost)."""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from desktop_app.ml.models import gan
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track

BARS = 16


def melody_song(bars: int = BARS) -> Song:
    """A chorale-like melody: quarters and some eighths and halves in C major, 4/4."""
    rng = np.random.default_rng(0)
    notes, tick, pitch = [], 0, 67
    while tick < bars * 1920:
        length = int(rng.choice([240, 480, 480, 480, 960]))
        pitch = int(np.clip(pitch + rng.choice([-2, -1, 0, 1, 2]), 60, 79))
        if pitch % 12 in (1, 3, 6, 8, 10):
            pitch += 1
        notes.append(Note(pitch, tick, min(length, bars * 1920 - tick), 90))
        tick += length
    return Song(tracks=(Track(name="Melody", notes=tuple(notes)),))


def _median_seconds(fn, runs: int) -> float:
    fn()  # warm-up: first calls allocate
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(runs: int = 9) -> dict:
    from desktop_app.ml.shipped import load_model, shipped_checkpoint

    folder = shipped_checkpoint("gan")
    if folder is not None:
        loaded = load_model(folder, expect="gan")
        net, config, source = loaded.net, loaded.config, str(folder)
    else:
        config = gan.GanConfig(**gan.PRESETS["small"])
        torch.manual_seed(0)
        net, source = gan.build(config).eval(), "none shipped: small preset with random weights"
    song = melody_song()
    default_threads = torch.get_num_threads()

    def harmonise() -> None:
        gan.accompany(net, config, song, 0, seed=0)

    seconds = {}
    for threads in sorted({1, default_threads}):
        torch.set_num_threads(threads)
        try:
            seconds[f"{threads}_thread{'s' if threads > 1 else ''}"] = _median_seconds(harmonise, runs)
        finally:
            torch.set_num_threads(default_threads)
    return {
        "benchmark": f"harmonise a {BARS}-bar melody (alto, tenor, bass), median of {runs} runs",
        "checkpoint": source,
        "window_bars": config.steps // 16,
        "windows": len(gan._window_starts(gan._melody(song, 0), config.steps)),
        "parameters": {"generator": sum(p.numel() for p in net.generator.parameters()),
                       "critic": sum(p.numel() for p in net.critic.parameters())},
        "seconds": seconds,
        "torch_default_threads": default_threads,
        "goal": "under 0.5 s",
    }
