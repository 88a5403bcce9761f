"""The GAN accompaniment model: shapes, conditioning, the gradient penalty by hand, fixed seeds, training
through the one loop (both losses logged, resume on the same curve) and `desktop-app generate gan`."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from torch import nn

from desktop_app.ml import registry
from desktop_app.ml.checkpoints import step_directory
from desktop_app.ml.data.convert import piece_id
from desktop_app.ml.data.piece import Piece
from desktop_app.ml.models import gan
from desktop_app.ml.train import TrainConfig, read_metrics, train
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track

# Triads as semitones above the tonic: I, IV, V, vi, ii.
CHORDS = ((0, 4, 7), (5, 9, 12), (7, 11, 14), (9, 12, 16), (2, 5, 9))


def demo_chorales(n: int = 6, seed: int = 0, bars: int = 4) -> list[Piece]:
    """Four-voice pieces of block chords, a chord a beat: a soprano on a chord tone over alto, tenor, bass."""
    rng = np.random.default_rng(seed)
    pieces = []
    for i in range(n):
        tonic = 60 + int(rng.integers(-3, 4))
        rows = []
        for beat in range(bars * 4):
            root, third, fifth = CHORDS[int(rng.integers(len(CHORDS)))]
            soprano = tonic + (root, third, fifth)[int(rng.integers(3))] + 12 * int(rng.random() < 0.3)
            for voice, pitch in enumerate((soprano, tonic + third - 5, tonic + fifth - 12, tonic + root - 24)):
                rows.append((voice, pitch, 4 * beat, 4 * beat + 4, 80))
        notes = np.array(sorted(rows, key=lambda r: (r[2], r[0], r[1])), dtype=np.int32)
        pieces.append(Piece(id=piece_id(notes), name=f"chorale {i}", source="demo", notes=notes,
                            downbeats=np.arange(0, bars * 16 + 1, 16, dtype=np.int32), key="C",
                            voice_names=("Soprano", "Alto", "Tenor", "Bass")))
    return pieces


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny() -> gan.GanConfig:
    return registry.make_config("gan", "tiny")


def melody_song(beats: int = 40) -> Song:
    """A melody of quarter notes (with a pickup beat) and a second track that is no melody."""
    rng = np.random.default_rng(1)
    melody = tuple(Note(int(rng.choice([60, 62, 64, 65, 67, 69, 71, 72])), 480 * i, 480, 90) for i in range(beats))
    other = Track(name="Pad", program=48, channel=0, notes=(Note(48, 0, 1920, 60),))
    return Song(tracks=(Track(name="Melody", program=0, channel=2, notes=melody), other))


def test_registry_and_shapes():
    config = tiny()
    net = registry.get_model("gan").build(config)
    examples = gan.make_examples(demo_chorales(), config)
    assert len(examples) > 0
    batch = examples.batch(torch.arange(3))
    assert batch["melody"].shape == (3, config.steps) and batch["voices"].shape == (3, 3, config.steps)
    condition = gan.condition_planes(batch["melody"], batch["melody_onsets"], batch["metre"], config)
    assert condition.shape == (3, gan.IN_PLANES, config.steps, config.n_pitches)
    pitch, rest, onset = net(condition, net.noise(3))
    assert pitch.shape == onset.shape == (3, 3, config.steps, config.n_pitches) and rest.shape == (3, 3, config.steps)
    fake = gan.fake_planes((pitch, rest, onset))
    assert fake.shape == gan.real_planes(batch["voices"], batch["voice_onsets"], config).shape
    assert net.critic(gan.critic_input(condition, fake)).shape == (3,)
    # each voice's roll is a distribution over its pitches (the rest takes what is left)
    assert torch.all(fake[:, :3].sum(dim=-1) <= 1 + 1e-5)


def test_hard_planes_are_decoded_notes_with_gradients_through_the_probabilities():
    config = tiny()
    net = gan.build(config)
    batch = gan.make_examples(demo_chorales(), config).batch(torch.arange(2))
    condition = gan.condition_planes(batch["melody"], batch["melody_onsets"], batch["metre"], config)
    outputs = net(condition, net.noise(2))
    hard = gan.fake_planes(outputs, hard=True)
    assert torch.allclose(hard.detach(), hard.detach().round(), atol=1e-6)
    pitches, onsets = gan.decode(outputs, config)
    expected = gan.real_planes(torch.from_numpy(pitches), torch.from_numpy(onsets), config)
    assert torch.allclose(hard[:, :3].detach(), expected[:, :3], atol=1e-6)  # the rolls are what decoding reads
    hard.sum().backward()
    assert net.generator.head.weight.grad is not None and net.generator.head.weight.grad.abs().sum() > 0


def test_examples_read_the_voices_of_the_pieces():
    config = tiny()
    piece = demo_chorales(1)[0]
    examples = gan.make_examples([piece], config)
    first = examples.batch(torch.tensor([0]))
    for voice in range(4):
        expected = piece.notes[(piece.notes[:, 0] == voice) & (piece.notes[:, 2] < config.steps)]
        got = first["melody"][0] if voice == 0 else first["voices"][0, voice - 1]
        assert [int(got[s]) for s in expected[:, 2]] == expected[:, 1].tolist()
    assert int(first["key"][0]) == 0  # C major


def test_transposition_keeps_the_voices_together_and_in_range():
    config = tiny()
    batch = gan.make_examples(demo_chorales(), config).batch(torch.arange(4))
    torch.manual_seed(0)
    moved = gan.random_transpose(batch, config)
    shift = (moved["melody"][:, 0] - batch["melody"][:, 0]).long()
    assert torch.all((moved["voices"] - batch["voices"]).long() == shift[:, None, None])
    assert torch.all(shift.abs() <= config.transpose)
    assert torch.all(moved["key"] == shift % 12)


def test_gradient_penalty_of_a_linear_critic_by_hand():
    """A linear critic's gradient is its weight everywhere, so the penalty is (|w| - 1)^2 whatever the mix."""
    critic = nn.Sequential(nn.Flatten(), nn.Linear(6, 1))
    with torch.no_grad():
        critic[1].weight.copy_(torch.tensor([[3.0, 0.0, 4.0, 0.0, 0.0, 0.0]]))  # |w| = 5
    real, fake = torch.rand(4, 1, 2, 3), torch.rand(4, 1, 2, 3)
    value = gan.gradient_penalty(lambda x: critic(x)[:, 0], real, fake)
    assert value.item() == pytest.approx(16.0)
    # and it trains the critic: d/dw (|w| - 1)^2 = 2 (|w| - 1) w / |w|
    value.backward()
    assert critic[1].weight.grad[0, :3].tolist() == pytest.approx([2 * 4 * 3 / 5, 0.0, 2 * 4 * 4 / 5])


def test_gradient_penalty_of_a_quadratic_critic_by_hand():
    """C(x) = sum(x^2) / 2 has gradient x: the penalty is the mean of (|x_hat| - 1)^2 over the mixes."""
    real, fake = torch.tensor([[2.0, 0.0]]), torch.tensor([[0.0, 0.0]])
    alpha = torch.tensor([[0.25]])  # x_hat = (0.5, 0): |grad| = 0.5
    value = gan.gradient_penalty(lambda x: (x * x).sum(dim=1) / 2, real, fake, alpha)
    assert value.item() == pytest.approx(0.25)


def test_accompany_leaves_the_melody_and_the_song_alone():
    config = tiny()
    torch.manual_seed(0)
    net = gan.build(config)
    song = melody_song()
    takes = gan.accompany(net, config, song, 0, seed=3, variations=2)
    assert len(takes) == 2
    for take in takes:
        assert [t.name for t in take] == ["Alto", "Tenor", "Bass"]
        assert all(t.notes for t in take)
        assert {t.channel for t in take}.isdisjoint({0, 2, 9})
        result = gan.with_accompaniment(song, take)
        assert result.tracks[:2] == song.tracks and result.tracks[0] is song.tracks[0]
        end = song.tracks[0].end_tick
        for track in take:
            starts = [n.start for n in track.notes]
            assert starts == sorted(starts) and all(n.end <= end for n in track.notes)
            # monophonic: no two notes of a voice overlap
            assert all(a.end <= b.start for a, b in zip(track.notes, track.notes[1:]))
        for track, (low, high) in zip(take, config.voice_ranges):  # even untrained, each voice keeps its range
            assert all(low <= n.pitch <= high for n in track.notes)
    assert song.tracks == melody_song().tracks


def test_accompany_voices_asked_for_and_errors():
    config = tiny()
    net = gan.build(config)
    song = melody_song(12)
    (take,) = gan.accompany(net, config, song, 0, voices=("bass",), seed=0)
    assert [t.name for t in take] == ["Bass"] and take[0].program == 43
    with pytest.raises(ValueError, match="soprano"):
        gan.accompany(net, config, song, 0, voices=("soprano",))
    with pytest.raises(ValueError, match="track 5"):
        gan.accompany(net, config, song, 4)


def test_a_fixed_seed_repeats_and_variety_zero_ignores_it():
    config = tiny()
    torch.manual_seed(1)
    net = gan.build(config)
    song = melody_song()
    first = gan.accompany(net, config, song, 0, seed=7)
    assert gan.accompany(net, config, song, 0, seed=7) == first
    assert gan.accompany(net, config, song, 0, seed=8) != first
    assert gan.accompany(net, config, song, 0, seed=1, variety=0.0) == gan.accompany(net, config, song, 0, seed=2,
                                                                                     variety=0.0)


def test_windows_join_where_they_agree():
    """Two windows that agree on a held pitch inside the overlap join there, with the note kept whole."""
    a_pitch = np.array([60, 60, 62, 62, 64, 64, 64, 64], dtype=np.int16)
    a_on = np.array([1, 0, 1, 0, 1, 0, 0, 0], dtype=bool)
    b_pitch = np.array([50, 50, 64, 64, 65, 65, 67, 67], dtype=np.int16)  # from step 4
    b_on = np.array([1, 0, 1, 0, 1, 0, 1, 0], dtype=bool)
    pitch, onset = gan._join([(0, a_pitch, a_on), (4, b_pitch, b_on)], 12)
    assert pitch.tolist() == [60, 60, 62, 62, 64, 64, 64, 64, 65, 65, 67, 67]
    assert gan.state_notes(pitch, onset) == [(60, 0, 2), (62, 2, 4), (64, 4, 8), (65, 8, 10), (67, 10, 12)]


def test_decode_makes_monophonic_notes_with_rests_and_repeats():
    config = tiny()
    t, p = config.steps, config.n_pitches
    pitch_logits = torch.full((1, 3, t, p), -10.0)
    rest_logits = torch.full((1, 3, t), 10.0)
    onset_logits = torch.full((1, 3, t, p), -10.0)
    row = 60 - config.low_pitch
    rest_logits[0, 0, :8] = -10.0
    pitch_logits[0, 0, :8, row] = 10.0
    onset_logits[0, 0, 4, row] = 10.0  # a repeated note at step 4
    pitches, onsets = gan.decode((pitch_logits, rest_logits, onset_logits), config)
    assert gan.state_notes(pitches[0, 0], onsets[0, 0]) == [(60, 0, 4), (60, 4, 8)]
    assert gan.state_notes(pitches[0, 1], onsets[0, 1]) == []


def run(out, pieces, on_metrics=None, **changes):
    values = dict(model="gan", out=str(out), steps=6, lr=1e-3, batch_size=4, preset="tiny", seed=2, eval_every=3,
                  eval_batches=1, checkpoint_every=3)
    return train(TrainConfig(**{**values, **changes}), pieces, on_metrics)


def test_tiny_gan_trains_through_the_loop_and_resumes_on_the_same_curve(tmp_path):
    pieces = demo_chorales(6)
    data = (pieces[:4], pieces[4:])
    rows = []
    result = run(tmp_path / "a", data, rows.append)
    assert result["step"] == 6
    curves = read_metrics(tmp_path / "a")
    for name in ("train/g_loss", "train/c_loss", "train/gp", "valid/loss", "valid/gen_in_scale_ratio",
                 "valid/real_polyphony", "valid/gen_parallel_fifths"):
        assert name in curves, name
    assert len(curves["train/g_loss"]) == 6 and len(curves["valid/loss"]) == 2
    uninterrupted = {r["step"]: (r["train/g_loss"], r["train/c_loss"]) for r in rows}

    run(tmp_path / "b", data, steps=6, checkpoint_every=3)  # the same run again, then resumed from step 3
    curves_b = read_metrics(tmp_path / "b")
    assert curves_b["train/g_loss"] == curves["train/g_loss"]
    shutil.rmtree(step_directory(tmp_path / "b", 6))  # as if it had stopped after step 3
    resumed = []
    run(tmp_path / "b", data, resumed.append, resume=True)
    assert [r["step"] for r in resumed] == [4, 5, 6]
    for r in resumed:
        assert (r["train/g_loss"], r["train/c_loss"]) == pytest.approx(uninterrupted[r["step"]], rel=1e-6)


def test_checkpoint_holds_both_optimizer_groups(tmp_path):
    from desktop_app.ml.checkpoints import latest_checkpoint
    from desktop_app.ml.shipped import load_model

    pieces = demo_chorales(6)
    run(tmp_path, (pieces[:4], pieces[4:]), steps=2, checkpoint_every=2)
    latest = latest_checkpoint(tmp_path)
    import json

    state = json.loads((latest / "training_state.json").read_text())
    assert [g["name"] for g in state["optimizer"]["param_groups"]] == ["generator", "critic"]
    loaded = load_model(latest, expect="gan")
    assert loaded.config.steps == tiny().steps
    takes = gan.accompany(loaded.net, loaded.config, melody_song(8), 0, seed=0)
    assert len(takes[0]) == 3


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("gan-run")
    pieces = demo_chorales(6)
    train(TrainConfig(model="gan", out=str(out), steps=2, batch_size=4, preset="tiny", eval_every=2, eval_batches=1,
                      checkpoint_every=2), pieces=(pieces[:4], pieces[4:]))
    return out / "checkpoints" / "best"


def test_cli_generate_gan_adds_voices_and_keeps_the_melody(checkpoint, tmp_path):
    from desktop_app.cli import main
    from desktop_app.music.midi_io import read_midi, write_midi

    source, out = tmp_path / "melody.mid", tmp_path / "out.mid"
    write_midi(melody_song(24), source)
    before = read_midi(source)
    assert main(["generate", "gan", "--input", str(source), "--out", str(out), "--checkpoint", str(checkpoint),
                 "--melody-track", "1", "--seed", "4", "--variety", "0.5", "--variations", "2"]) == 0
    for path in (out, tmp_path / "out-2.mid"):
        song = read_midi(path)
        assert [t.name for t in song.tracks] == [t.name for t in before.tracks] + ["Alto", "Tenor", "Bass"]
        assert song.tracks[0].notes == before.tracks[0].notes and song.tracks[1].notes == before.tracks[1].notes
        assert all(t.notes for t in song.tracks[2:])
    again = tmp_path / "again.mid"  # take 2 of seed 4 is take 1 of seed 5
    main(["generate", "gan", "--input", str(source), "--out", str(again), "--checkpoint", str(checkpoint),
          "--seed", "5", "--variety", "0.5"])
    assert again.read_bytes() == (tmp_path / "out-2.mid").read_bytes() != out.read_bytes()


def test_cli_generate_gan_names_a_missing_shipped_checkpoint(tmp_path, monkeypatch, capsys):
    from desktop_app import cli
    from desktop_app.ml import shipped
    from desktop_app.music.midi_io import write_midi

    monkeypatch.setattr(shipped, "MODELS_DIR", tmp_path / "models")
    monkeypatch.setattr(shipped, "shipped_checkpoint", lambda name: None)
    source = tmp_path / "melody.mid"
    write_midi(melody_song(8), source)
    assert cli.main(["generate", "gan", "--input", str(source), "--out", str(tmp_path / "o.mid")]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert str(tmp_path / "models" / "gan") in err and "--checkpoint" in err


def test_cli_generate_gan_refuses_a_bad_melody_track(checkpoint, tmp_path, capsys):
    from desktop_app.cli import EXIT_ERROR, main
    from desktop_app.music.midi_io import write_midi

    source = tmp_path / "melody.mid"
    write_midi(melody_song(8), source)
    assert main(["generate", "gan", "--input", str(source), "--out", str(tmp_path / "o.mid"), "--checkpoint",
                 str(checkpoint), "--melody-track", "7"]) == EXIT_ERROR
    assert "track 7" in capsys.readouterr().err


def test_evaluate_compares_written_and_real_voices(checkpoint):
    from desktop_app.ml.shipped import load_model

    loaded = load_model(checkpoint)
    result = gan.evaluate_samples(loaded.net, loaded.config, demo_chorales(3, seed=9), seed=0, max_windows=4)
    assert result["windows"] == 4
    table = result["metrics"]
    assert set(table) == set(gan.SAMPLE_METRICS)
    real = table["polyphony"]["reference_mean"]
    assert real == pytest.approx(4.0)  # block chords in four voices
    assert table["parallel_fifths"]["reference_mean"] >= 0 and 0 <= table["in_scale_ratio"]["overlap_area"] <= 1
    assert 0 < result["steps_another_seed_changes"] <= 1  # the noise matters


def test_train_step_steps_the_critic_n_critic_times_and_the_generator_once():
    config = tiny()
    torch.manual_seed(0)
    net = gan.build(config)
    optimizer = gan.make_optimizer(net, TrainConfig(model="gan", out="unused"))
    batch = gan.make_examples(demo_chorales(), config).batch(torch.arange(4))
    loss, metrics = gan.train_step(net, batch, optimizer, None)
    assert {"g_loss", "c_loss", "gp", "w_distance"} <= set(metrics) and loss.item() == pytest.approx(metrics["c_loss"])
    steps = {group["name"]: {int(optimizer.state[p]["step"]) for p in group["params"]}
             for group in optimizer.param_groups}
    assert steps == {"generator": {1}, "critic": {config.n_critic}}


def test_accompany_follows_a_pickup_and_three_four_time():
    from desktop_app.music.song import TimeSignature

    melody = tuple(Note(67 + (i % 3), 480 * i, 480, 80) for i in range(1 + 3 * 8))  # a beat of pickup, 8 bars
    song = Song(time_signatures=(TimeSignature(0, 1, 4), TimeSignature(480, 3, 4)),
                tracks=(Track(name="Soprano", notes=melody),))
    mel = gan._melody(song, 0)
    assert mel.origin == -8 and mel.downbeats[:3].tolist() == [0, 12, 24]  # the pickup bar is a full bar before
    starts = gan._window_starts(mel, tiny().steps)
    assert all(s in mel.downbeats.tolist() or s == 0 for s in starts)
    (take,) = gan.accompany(gan.build(tiny()), tiny(), song, 0, seed=0)
    for track in take:
        assert track.notes[0].start >= 0 and track.notes[-1].end <= melody[-1].end
