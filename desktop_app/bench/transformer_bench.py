"""`desktop-app bench transformer`: seconds to continue a four-part chorale by 8 bars (goal on a
2-core machine: 1 s or less for one variation, 4 variations in under twice that), with the
key-value cache and, in the same run, without it (every token a forward pass over the whole
sequence, through the network in float32), for 1 and 4 variations; and the tokens per second
each way. With the cache, steps go through the half-precision Decoder, as in the app. The JSON
reports the four-variation time against twice the one-variation goal (2 s) and, beside it, against
twice the one-variation time measured. It times what the editor
waits for: `continue_song` from the song to the takes, with the shipped checkpoint (or, before
one is shipped, the "small" preset with random weights, which the JSON says)."""

from __future__ import annotations

import statistics
import time

import torch

from desktop_app.ml.models import transformer as M

CHORALE = "bach/bwv66.6"
SEED_BARS = 8
NEW_BARS = 8


class _Uncached:
    """The network without its cache: the prompt is read once, then every new token costs a full
    forward pass over the whole sequence so far (the cache handed in is only advanced, so the
    sampler refills it when full exactly as with the cache)."""

    def __init__(self, net: M.TransformerNet) -> None:
        self.net, self.config = net, net.config
        self.ids: torch.Tensor | None = None
        self.valid: torch.Tensor | None = None
        self.tokens = 0

    def parameters(self):
        return self.net.parameters()

    def eval(self) -> "_Uncached":
        self.net.eval()
        return self

    def __call__(self, ids: torch.Tensor, cache: M.KVCache) -> torch.Tensor:
        if cache.length == 0:  # a (re)fill: remember the prompt and its padding
            self.ids, self.valid = ids, cache.valid[:, :ids.shape[1]].clone()
            return self.net(ids, cache)
        if self.ids.shape[0] != ids.shape[0]:  # one prompt for all the rows was read once
            self.ids, self.valid = self.ids.expand(ids.shape[0], -1), self.valid.expand(ids.shape[0], -1)
        self.ids = torch.cat([self.ids, ids], dim=1)
        self.valid = torch.cat([self.valid, torch.ones_like(ids, dtype=torch.bool)], dim=1)
        fresh = M.KVCache(self.config, ids.shape[0], size=self.ids.shape[1], device=ids.device)
        fresh.valid[:] = self.valid
        cache.length += ids.shape[1]
        self.tokens += ids.shape[1]
        return self.net(self.ids, fresh)[:, -1:]


class _Counted:
    """The network as generation runs it (its Decoder on a CPU) with a count of the one-token steps."""

    def __init__(self, net: M.TransformerNet) -> None:
        self.net, self.config, self.tokens = M.decoder(net), net.config, 0

    def parameters(self):
        return self.net.parameters()

    def eval(self) -> "_Counted":
        self.net.eval()
        return self

    def __call__(self, ids: torch.Tensor, cache=None) -> torch.Tensor:
        self.tokens += ids.shape[1] == 1
        return self.net(ids, cache)


def _seed_song():
    """The first SEED_BARS bars of a four-part chorale from the installed corpus."""
    from music21 import corpus

    from desktop_app.music.formats import read_any

    song = read_any(corpus.getWork(CHORALE)).song
    lines = song.meter.barlines(song.end_tick)
    end = lines[min(SEED_BARS, len(lines) - 1)]
    return song.with_tracks(tuple(t.with_notes(tuple(n for n in t.notes if n.start < end)) for t in song.tracks))


def _model():
    from desktop_app.ml.shipped import load_model, shipped_checkpoint

    path = shipped_checkpoint("transformer")
    if path is not None:
        loaded = load_model(path)
        return loaded.net, loaded.config, f"shipped checkpoint {path}"
    torch.manual_seed(0)
    config = M.Config(**M.PRESETS["small"])
    return M.build(config), config, "no shipped checkpoint: the small preset with random weights"


def _continue(net, config, song, variations: int) -> tuple[float, int]:
    """Seconds to continue `song` by NEW_BARS bars in `variations` takes, and tokens sampled per take."""
    start = time.perf_counter()
    M.last_update(M.continue_song(net, config, song, bars=NEW_BARS, variations=variations, seed=0))
    return time.perf_counter() - start, net.tokens


def run(runs: int = 3, threads: int | None = None) -> dict:
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        net, config, source = _model()
        net.eval()
        song = _seed_song()
        result = {"benchmark": f"continue {CHORALE} ({SEED_BARS} bars, four voices) by {NEW_BARS} bars",
                  "model": source, "parameters": sum(p.numel() for p in net.parameters()),
                  "torch_threads": torch.get_num_threads(), "runs_with_cache": runs, "runs_without_cache": 1}
        for variations in (1, 4):
            timings, tokens = [], 0
            for _ in range(runs):
                counted = _Counted(net)
                seconds, tokens = _continue(counted, config, song, variations)
                timings.append(seconds)
            cached = statistics.median(timings)
            uncached_net = _Uncached(net)
            uncached, tokens_uncached = _continue(uncached_net, config, song, variations)
            result[f"{variations}_variation{'s' if variations > 1 else ''}"] = {
                "seconds_with_cache": round(cached, 3),
                "seconds_without_cache": round(uncached, 3),
                "cache_speedup": round(uncached / cached, 1),
                "tokens_per_take": tokens,
                "tokens_per_second_with_cache": round(tokens * variations / cached, 1),
                "tokens_per_second_without_cache": round(tokens_uncached * variations / uncached, 1),
            }
        one = result["1_variation"]["seconds_with_cache"]
        four = result["4_variations"]["seconds_with_cache"]
        result["goal"] = {"one_variation_seconds": 1.0, "four_variations_seconds": 2.0,
                          "one_variation_met": one <= 1.0, "four_variations_met": four < 2.0,
                          "four_over_one": round(four / one, 2), "four_under_twice_one_measured": four < 2 * one}
        return result
    finally:
        torch.set_num_threads(before)
