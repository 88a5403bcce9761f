"""Continuing from a bar inside the song (the editor's "from the playhead"): nothing at or after
that bar is context, the written track's notes in the new bars are replaced, every other note is
kept as the very same object, and the other tracks' notes there are given to the model."""

from __future__ import annotations

import pytest
import torch

from desktop_app.ml.models import transformer as M
from desktop_app.ml.models import transformer_tokens as T
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track

BAR = 1920


@pytest.fixture(scope="module")
def net():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield M.build(M.Config(**M.PRESETS["tiny"])).eval()
    torch.set_num_threads(before)


def _song() -> Song:
    melody = tuple(Note(67 + i % 5, i * 480, 480, 80) for i in range(16))
    bass = tuple(Note(43 + b, b * BAR, BAR, 70) for b in range(4))
    return Song(tracks=(Track(name="melody", notes=melody), Track(name="bass", notes=bass)))


def test_from_bar_writes_there_and_keeps_everything_else(net, monkeypatch):
    song = _song()
    seen = []
    real = M.generate
    monkeypatch.setattr(M, "generate", lambda net, prompt, plan, *a: seen.append((prompt, plan)) or real(net, prompt, plan, *a))
    final = M.last_update(M.continue_song(net, net.config, song, track_indices=[0], bars=1, variations=2, seed=1,
                                          max_notes=4, from_bar=2))
    prompt, plan = seen[0]
    assert prompt.count(T.BAR) == 1, "only bar 1 is context"
    bass_head = next(seg.head for seg in plan if seg.voice == 1)
    assert T.PITCH0 + 44 in bass_head and all(isinstance(t, int) for t in bass_head), "the bass of bar 2 is given"
    written = 0
    for take in final.takes:
        assert take.tracks[1] is song.tracks[1]
        melody = take.tracks[0].notes
        kept = [n for n in song.tracks[0].notes if not BAR <= n.start < 2 * BAR]
        assert all(any(k is m for m in melody) for k in kept)
        new = [m for m in melody if not any(m is k for k in kept)]
        assert all(BAR <= n.start < 2 * BAR for n in new)
        assert not any(n is o for n in new for o in song.tracks[0].notes), "bar 2 of the melody is written anew"
        written += len(new)
    assert written, "a take may leave the bar empty, not both"


def test_from_bar_past_the_end_extends_the_song(net):
    song = _song()
    final = M.last_update(M.continue_song(net, net.config, song, bars=2, variations=1, seed=2, max_notes=3,
                                          from_bar=6))
    new = [n for t in final.takes[0].tracks for n in t.notes if n not in song.tracks[0].notes + song.tracks[1].notes]
    assert new and all(5 * BAR <= n.start < 7 * BAR for n in new)
