"""The AR-CNN end to end with a tiny checkpoint: trained by the loop, loaded from safetensors, run by
`desktop-app generate arcnn`, judged by `desktop-app evaluate`, timed by `bench arcnn`'s anchor."""

from __future__ import annotations

import json

import pytest
import torch

from desktop_app.cli import main
from desktop_app.ml.models import arcnn
from desktop_app.ml.models.tiny import demo_pieces
from desktop_app.ml.shipped import load_model
from desktop_app.ml.train import TrainConfig, train
from desktop_app.music.midi_io import read_midi, write_midi
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("arcnn-run")
    pieces = demo_pieces(8)
    train(TrainConfig(model="arcnn", out=str(out), steps=3, batch_size=4, preset="tiny", eval_every=3,
                      checkpoint_every=3), pieces=(pieces[:6], pieces[6:]))
    return out / "checkpoints" / "best"


def seed_file(path, bars=4):
    notes = tuple(Note(60 + (i * 5) % 12, i * 480, 480, 80) for i in range(bars * 4))
    bass = tuple(Note(40, i * 1920, 1920, 70) for i in range(bars))
    write_midi(Song(tracks=(Track(name="Melody", notes=notes), Track(name="Bass", channel=1, notes=bass))), path)
    return notes, bass


def test_the_checkpoint_loads_as_the_model_it_was_trained_as(checkpoint):
    loaded = load_model(checkpoint, expect="arcnn")
    assert isinstance(loaded.net, arcnn.ArcnnNet)
    assert loaded.config.width == arcnn.PRESETS["tiny"]["width"]
    assert not loaded.net.training


def test_generate_edits_only_the_chosen_track_and_bars(checkpoint, tmp_path):
    source, out = tmp_path / "seed.mid", tmp_path / "out.mid"
    notes, bass = seed_file(source)
    code = main(["generate", "arcnn", "--input", str(source), "--out", str(out), "--checkpoint", str(checkpoint),
                 "--seed", "3", "--iterations", "60", "--temperature", "2", "--bars", "2-3"])
    assert code == 0
    song = read_midi(out)
    assert song.tracks[1].notes == bass  # the other track is untouched
    edited = song.tracks[0].notes
    assert set(edited) != set(notes)
    outside = [n for n in notes if n.end <= 1920 or n.start >= 3 * 1920]
    assert all(n in edited for n in outside)
    for n in set(edited) - set(notes):
        assert 1920 <= n.start and n.end <= 3 * 1920


def test_generate_repeats_with_a_seed(checkpoint, tmp_path):
    source = tmp_path / "seed.mid"
    seed_file(source)
    runs = []
    for name in ("a.mid", "b.mid"):
        assert main(["generate", "arcnn", "--input", str(source), "--out", str(tmp_path / name),
                     "--checkpoint", str(checkpoint), "--seed", "5", "--iterations", "30"]) == 0
        runs.append(read_midi(tmp_path / name).tracks[0].notes)
    assert runs[0] == runs[1]


def test_generate_refuses_bad_knobs_in_one_line(checkpoint, tmp_path, capsys):
    source = tmp_path / "seed.mid"
    seed_file(source)
    for extra in (["--bars", "5-2"], ["--track", "9"], ["--max-remove", "150"]):
        code = main(["generate", "arcnn", "--input", str(source), "--out", str(tmp_path / "x.mid"),
                     "--checkpoint", str(checkpoint), *extra])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and str(source) in err
    assert not (tmp_path / "x.mid").exists()


def test_evaluate_reports_losses_and_the_repair_evaluation(checkpoint, tmp_path, capsys):
    folder = tmp_path / "data"
    folder.mkdir()
    for i, piece in enumerate(demo_pieces(30, seed=1)):
        notes = tuple(Note(int(p), int(s) * 120, int(e - s) * 120, int(v)) for _, p, s, e, v in piece.notes)
        write_midi(Song(tracks=(Track(name="x", notes=notes),)), folder / f"p{i}.mid")
    code = main(["evaluate", str(checkpoint), "--data", str(folder), "--json", "--max-windows", "4"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "arcnn"
    assert result["test"]["examples"] > 0 and result["test"]["loss"] > 0
    samples = result["samples"]
    assert 0 < samples["windows"] <= 4
    for name in ("added_removed", "removed_restored", "untouched_kept", "cell_f1_before", "cell_f1_after"):
        assert 0.0 <= samples[name] <= 1.0
    assert samples["cell_f1_before"] < 1.0  # the damage is real
    assert set(samples["metrics"]) == {"in_scale_ratio", "pitch_class_entropy", "polyphony"}


def test_the_anchor_is_deepcomposers_size():
    from desktop_app.bench.arcnn_bench import DeepComposerUNet

    net = DeepComposerUNet()
    assert 31.0e6 < sum(p.numel() for p in net.parameters()) < 32.0e6
    assert net(torch.zeros(1, 1, 128, 128)).shape == (1, 1, 128, 128)
