"""The transformer: its tokens round-trip real chorales and survive any sequence, cached decoding
matches a full pass, top-k and top-p cut exactly, a seed repeats, infilling keeps everything
outside the chosen bars, training lowers the loss, and `generate transformer` writes MIDI. All on
a tiny untrained network, in seconds."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest
import torch

from desktop_app.ml.data import piece_from_song
from desktop_app.ml.data.sources import corpus_folder
from desktop_app.ml.models import transformer as M
from desktop_app.ml.models import transformer_eval as E
from desktop_app.ml.models import transformer_tokens as T
from desktop_app.music.musicxml_io import read_musicxml
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """A tiny network decodes fastest on one thread (and leaves the other core to the rest)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def chorales():
    return [piece_from_song(read_musicxml(corpus_folder() / "bach" / name), name, "corpus")
            for name in ("bwv158.4.mxl", "bwv279.mxl")]


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    model = M.build(M.Config(**M.PRESETS["tiny"]))
    return model.eval()


def _song(n_tracks: int = 1, bars: int = 4) -> Song:
    """Quarter notes on every beat of `bars` bars of 4/4 in each track, velocities varied."""
    tracks = []
    for t in range(n_tracks):
        notes = tuple(Note(60 + 4 * t + (i % 5), i * 480, 480, 60 + i) for i in range(4 * bars))
        tracks.append(Track(name=f"t{t}", notes=notes))
    return Song(tracks=tuple(tracks))


def _rows(notes: np.ndarray) -> list[tuple]:
    return sorted(map(tuple, np.asarray(notes).tolist()))


def test_round_trip_keeps_every_note_of_real_chorales(chorales):
    for piece in chorales:
        bars, dropped = T.piece_bars(piece.notes, piece.downbeats, piece.n_voices)
        starts = [b.start for b in bars]
        assert dropped == 0
        plain = T.decode(T.plain_sequence(bars, ends=True))
        assert plain.dropped == 0 and _rows(plain.in_steps(starts)) == _rows(piece.notes)
        masked = {(2, 0), (3, 0), (3, 1), (len(bars) - 1, 3)}
        infill = T.decode(T.infill_sequence(bars, masked))
        assert infill.dropped == 0 and _rows(infill.in_steps(starts)) == _rows(piece.notes)


def test_random_and_damaged_sequences_decode_and_say_what_they_dropped(chorales):
    rng = np.random.default_rng(0)
    for _ in range(300):
        seq = rng.integers(0, T.VOCAB_SIZE, rng.integers(0, 400)).tolist()
        decoded = T.decode(seq)
        assert decoded.dropped >= 0 and decoded.notes.shape[1] == 6
        assert ((decoded.notes[:, 4] >= 1) & (decoded.notes[:, 2] < 128)).all()
    bars, _ = T.piece_bars(chorales[0].notes, chorales[0].downbeats, 4)
    seq = T.plain_sequence(bars)
    whole = len(T.decode(seq).notes)
    i = seq.index(T.DUR0 + 3, 20)  # a duration whose pitch goes missing
    damaged = seq[:i - 1] + seq[i:]
    decoded = T.decode(damaged)
    assert decoded.dropped == 1 and len(decoded.notes) == whole - 1
    j = seq.index(T.BAR, 30)
    extra = T.decode(seq[:j] + [T.FILL_END, T.MASK, T.SEP, T.FILL] + seq[j:])
    assert extra.dropped == 4 and len(extra.notes) == whole


def test_cached_decoding_gives_the_logits_of_a_full_pass(net):
    torch.manual_seed(1)
    seq = torch.randint(1, T.VOCAB_SIZE, (2, 40))
    with torch.no_grad():
        full = net(seq)
        cache = M.KVCache(net.config, 2)
        steps = [net(seq[:, :10], cache)]
        steps += [net(seq[:, i:i + 1], cache) for i in range(10, 40)]
    assert torch.allclose(torch.cat(steps, dim=1), full, atol=1e-5)
    # Rows of different prompt lengths decode together: left padding changes nothing.
    with torch.no_grad():
        cache, last = M._prefill(net, [seq[0, :30].tolist(), seq[1, :20].tolist()], "cpu")
    assert torch.allclose(last[0], full[0, 29], atol=1e-5) and torch.allclose(last[1], full[1, 19], atol=1e-5)


@pytest.mark.parametrize("form", ["int8", "float16", "float32"])
def test_the_small_matrix_decoder_steps_as_the_network_does_and_follows_new_weights(form, monkeypatch):
    monkeypatch.setattr(M.Decoder, "form_for", staticmethod(lambda rows: form))
    torch.manual_seed(0)
    net = M.build(M.Config(**M.PRESETS["tiny"])).eval()
    with torch.no_grad():  # weights as large as a trained model's, so that a wrong step shows (KL > 0.03)
        for p in net.parameters():
            if p.dim() == 2:
                p.mul_(12)
    torch.manual_seed(2)
    seq = torch.randint(1, T.VOCAB_SIZE, (3, 30))
    decoder = M.decoder(net)
    assert decoder is not net and M.decoder(net) is decoder  # kept while the weights stay
    with torch.no_grad():
        for rows in (1, 3):  # several rows, one of them left-padded
            prompts = [seq[r, :20 - 4 * (r == 1)].tolist() for r in range(rows)]
            cache, _ = M._prefill(net, prompts, "cpu")
            fast_cache, _ = M._prefill(decoder, prompts, "cpu")
            for i in range(20, 30):
                want = torch.log_softmax(net(seq[:rows, i:i + 1], cache)[:, -1], dim=-1)
                got = torch.log_softmax(decoder.step(seq[:rows, i], fast_cache), dim=-1)
                assert fast_cache.length == cache.length
                kl = (want.exp() * (want - got)).sum(dim=-1)
                assert kl.max() < 0.01, f"{form}: next-token distributions {kl.max():.1e} nats apart"
        net.head.weight.mul_(2.0)
    assert M.decoder(net) is not decoder  # new weights, a new decoder


def test_top_k_and_top_p_cut_exactly_what_they_should_and_draws_follow_the_probabilities():
    logits = torch.log(torch.tensor([[0.05, 0.4, 0.1, 0.3, 0.15]]))
    everything = torch.ones(1, 5, dtype=torch.bool)
    g = torch.Generator().manual_seed(0)

    def drawn(allowed=everything, temperature=1.0, top_k=0, top_p=1.0, n=400):
        return [int(M.sample_tokens(logits, allowed, temperature, top_k, top_p, g)) for _ in range(n)]

    assert set(drawn(top_k=2)) == {1, 3}
    # Sorted: 0.4, 0.3, 0.15, 0.1, 0.05. p=0.69 is reached by the first two; p=0.71 needs a third.
    assert set(drawn(top_p=0.69)) == {1, 3}
    assert set(drawn(top_p=0.71)) == {1, 3, 4}
    assert set(drawn(top_p=0.01)) == {1}
    counts = np.bincount(drawn(n=4000), minlength=5) / 4000
    assert np.abs(counts - [0.05, 0.4, 0.1, 0.3, 0.15]).max() < 0.03
    allowed = torch.tensor([[True, False, True, True, True]])
    assert set(drawn(allowed, top_k=2)) == {3, 4}  # the top 2 of the allowed: 0.3 and 0.15
    assert set(drawn(allowed, temperature=0.0, n=5)) == {3}
    # Rows draw independently, and a row with one allowed token always gets it.
    rows = logits.expand(3, 5)
    only = torch.zeros(3, 5, dtype=torch.bool)
    only[0, 4] = only[1, 0] = only[2, 2] = True
    for _ in range(50):
        assert M.sample_tokens(rows, only, 1.0, 0, 0.9, g).tolist() == [4, 0, 2]


def test_a_seed_repeats_and_variations_come_in_one_batch(net):
    song = _song(1, 2)
    run = lambda seed: M.last_update(M.continue_song(net, net.config, song, bars=1, variations=2, seed=seed, max_notes=4))
    a, b = run(3), run(3)
    assert len(a.takes) == 2
    notes = [sorted(t.tracks[0].notes, key=lambda n: (n.start, n.pitch)) for t in a.takes]
    assert notes == [sorted(t.tracks[0].notes, key=lambda n: (n.start, n.pitch)) for t in b.takes]
    # The continuation lies after the seed, inside the one new bar, and the seed is kept as it was.
    for take in a.takes:
        new = [n for n in take.tracks[0].notes if n not in song.tracks[0].notes]
        assert 0 < len(new) <= 4 and all(8 * 480 <= n.start < 12 * 480 for n in new)
        assert all(n in take.tracks[0].notes for n in song.tracks[0].notes)


def test_controls_are_written_where_the_model_would_write_its_own(net):
    row = M._Row([], [M._Segment(M._slot_head(1, 2, 1), 0, 1, 12, False, T.BAR, False)])
    forced = []
    for _ in range(3):
        allowed = row.allowed(3).nonzero()[0].tolist()
        assert len(allowed) == 1
        forced.append(T.token_name(allowed[0]))
        row.take(allowed[0])
    assert forced == ["VOICE_1", "DENS_high", "POLY_medium"]
    # Then a note's position inside the 12-step bar, or the end of the slot.
    assert row.allowed(3).nonzero()[0].tolist() == [T.BAR] + list(range(T.POS0, T.POS0 + 12))
    free = M._Row([], [M._Segment(M._slot_head(0, None, None), 0, 0, 16, False, T.BAR, False)])
    free.take(T.VOICE0)
    assert free.allowed(3).nonzero()[0].tolist() == [T.DENS0, T.DENS0 + 1, T.DENS0 + 2]
    # A track not asked for stays silent in the new bars.
    song = _song(2, 2)
    final = M.last_update(M.continue_song(net, net.config, song, track_indices=[1], bars=1, variations=1, seed=0,
                                          max_notes=3, controls=M.Controls("high", "medium", (50, 70))))
    assert final.takes[0].tracks[0].notes == song.tracks[0].notes
    assert len(final.takes[0].tracks[1].notes) > len(song.tracks[1].notes)


def test_infill_leaves_every_note_outside_the_selected_bars_untouched(net):
    song = _song(2, 5)
    final = M.last_update(M.infill_song(net, net.config, song, 2, 3, track_indices=[0], variations=2, seed=5,
                                        max_notes=4))
    inside = range(4 * 480, 12 * 480)  # bars 2 and 3 (bar 1 starts at tick 0)
    for take in final.takes:
        assert take.tracks[1].notes is song.tracks[1].notes
        kept = [n for n in song.tracks[0].notes if n.start not in inside]
        got = take.tracks[0].notes
        assert all(any(k is g for g in got) for k in kept)
        new = [n for n in got if not any(n is k for k in kept)]
        assert new and all(n.start in inside for n in new)


def test_training_examples_mix_continuation_and_infill_and_the_loss_falls(chorales):
    config = M.Config(**{**M.PRESETS["tiny"], "infill_share": 0.5})
    examples = M.make_examples(chorales, config)
    assert len(examples) >= 4
    torch.manual_seed(0)
    batch = examples.batch(torch.arange(len(examples)))["tokens"]
    assert batch.shape[1] <= config.block_size + 1
    has_sep = (batch == T.SEP).any(dim=1)
    assert has_sep.any() and (~has_sep).any()
    model = M.build(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    fixed = {"tokens": batch[:2]}
    first, _ = M.loss(model, fixed)
    for _ in range(10):
        value, metrics = M.loss(model, fixed)
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
    assert float(value.detach()) < float(first.detach()) - 0.5 and 0 <= metrics["accuracy"] <= 1


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, net):
    from desktop_app.ml.checkpoints import save_checkpoint

    folder = tmp_path_factory.mktemp("ck") / "transformer"
    return save_checkpoint(folder, net, {"model": "transformer", "model_config": asdict(net.config)}, "tiny, untrained\n")


def test_cli_continues_and_fills_bars(tmp_path, checkpoint):
    from desktop_app.cli import main
    from desktop_app.music.formats import read_any, write_any
    from desktop_app.music.project_file import Project

    seed = tmp_path / "seed.mid"
    write_any(Project(song=_song(1, 2)), seed)
    before = read_any(seed).song.note_count
    out = tmp_path / "out.mid"
    args = ["generate", "transformer", "--input", str(seed), "--out", str(out), "--checkpoint", str(checkpoint),
            "--seed", "1", "--bars", "1", "--variations", "2", "--density", "low", "--top-p", "0.9"]
    assert main(args) == 0
    assert read_any(out).song.note_count > before and (tmp_path / "out-2.mid").exists()
    filled = tmp_path / "filled.mid"
    assert main(args[:5] + [str(filled)] + args[6:] + ["--infill", "2-2"]) == 0
    assert read_any(filled).song.note_count > 0


def test_cli_refuses_a_bad_bar_range_in_one_line(tmp_path, checkpoint, capsys):
    from desktop_app.cli import main
    from desktop_app.music.formats import write_any
    from desktop_app.music.project_file import Project

    seed = tmp_path / "seed.mid"
    write_any(Project(song=_song(1, 2)), seed)
    code = main(["generate", "transformer", "--input", str(seed), "--out", str(tmp_path / "o.mid"),
                 "--checkpoint", str(checkpoint), "--infill", "5-2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "seed.mid" in err[0] and "--infill" in err[0]
    assert not (tmp_path / "o.mid").exists()


def _two_kinds_of_bars(n_pieces: int = 24) -> list:
    """One-voice pieces of 8 bars of 4/4, each bar either two half notes or eight eighths."""
    from desktop_app.ml.data.piece import Piece

    rng = np.random.default_rng(0)
    pieces = []
    for k in range(n_pieces):
        rows = []
        for bar in range(8):
            step = 8 if rng.random() < 0.5 else 2
            rows += [(0, int(rng.integers(60, 72)), bar * 16 + s, bar * 16 + s + step, 90) for s in range(0, 16, step)]
        pieces.append(Piece(str(k), str(k), "synthetic", np.array(rows, dtype=np.int32),
                            np.arange(0, 129, 16, dtype=np.int32), voice_names=("a",)))
    return pieces


def test_a_sparse_request_is_sparser_than_a_dense_one_after_training():
    """The density control is learned from its attribute tokens: a tiny model trained for a few
    seconds on bars of two kinds writes what is asked for, continuing and filling in."""
    config = M.Config(**{**M.PRESETS["tiny"], "transpose": 0, "infill_share": 0.3})
    examples = M.make_examples(_two_kinds_of_bars(), config)
    torch.manual_seed(0)
    model = M.build(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for step in range(120):
        torch.manual_seed(step)
        value, _ = M.loss(model, examples.batch(torch.randint(0, len(examples), (16,))))
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
    model.eval()
    seed = Song(tracks=(Track(name="a", notes=tuple(Note(60 + i % 5, i * 240, 240, 90) for i in range(16))),))

    def added(level: str, infill: bool) -> list[int]:
        knobs = dict(variations=4, seed=1, controls=M.Controls(density=level))
        run = (M.infill_song(model, config, seed, 2, 2, **knobs) if infill
               else M.continue_song(model, config, seed, bars=2, **knobs))
        return [len(t.tracks[0].notes) - (16 - 8 * infill) for t in M.last_update(run).takes]

    sparse, dense = added("low", False), added("high", False)
    assert sum(dense) >= 2 * sum(sparse), (sparse, dense)  # 2 bars of 2 or 8 notes
    sparse, dense = added("low", True), added("high", True)  # one bar
    assert sum(dense) >= 2 * sum(sparse), (sparse, dense)


def test_sample_evaluation_reports_continuations_infills_controls_and_copying(net):
    pieces = _two_kinds_of_bars(2)
    result = M.evaluate_samples(net, net.config, pieces, seed=0, max_windows=2, train_pieces=pieces)
    assert result["windows"] == 2 and 2.0 <= result["notes_per_bar_real"] <= 8.0
    compared = {"pitch_class_entropy", "in_scale_ratio", "polyphony", "note_density"}
    assert set(result["continuation_metrics"]) == compared and set(result["infill_metrics"]) == compared
    assert all(0.0 <= value <= 1.0 for value in result["control_accuracy"].values())
    assert set(result["control_accuracy"]) == {"density", "polyphony"}
    # the real held-out bars are in the "training set" here, so they copy it wholly: 4 bars of a voice
    real_runs = [E.RunIndex(pieces).piece_longest(E._real(p, T.piece_bars(p.notes, p.downbeats, 1)[0][4:8]))
                 for p in pieces]
    assert result["copying"]["continuation"]["real_longest_run_mean"] == np.mean(real_runs) >= 8
    again = M.evaluate_samples(net, net.config, pieces, seed=0, max_windows=2, train_pieces=pieces)
    assert json.dumps(result, sort_keys=True) == json.dumps(again, sort_keys=True)  # NaN-safe equality


def test_infill_evaluation_trims_a_window_too_long_for_the_context():
    """A dense 8-bar window whose infill prompt would not fit loses bars far from the gap instead
    of overflowing the model's context."""
    torch.manual_seed(0)
    small = M.build(M.Config(**{**M.PRESETS["tiny"], "block_size": 96})).eval()
    piece = _two_kinds_of_bars(1)[0]
    bars, _ = T.piece_bars(piece.notes, piece.downbeats, 1)
    assert len(T.infill_sequence(bars, {(2, 0), (3, 0)}, fills=False)) > 96  # the whole window would not fit
    rows = E._infill(small, bars, 1, seed=0)
    assert set(rows[:, 0].tolist()) <= set(E.FILL_BARS)


def test_the_longest_shared_run_is_found_note_for_note():
    from desktop_app.ml.data.piece import Piece

    def piece(pitches, voice=0):
        rows = [(voice, p, 4 * i, 4 * i + 4, 90) for i, p in enumerate(pitches)]
        return Piece("p", "p", "synthetic", np.array(rows, dtype=np.int32), np.array([0, 64], dtype=np.int32))

    index = E.RunIndex([piece([60, 62, 64, 65, 67, 69]), piece([72, 71, 69])])
    assert index.piece_longest(piece([50, 62, 64, 65, 51, 71, 69])) == 3  # 62 64 65
    assert index.piece_longest(piece([71, 69, 67])) == 2
    assert index.piece_longest(piece([40, 41])) == 0
    longer = Piece("p", "p", "synthetic", np.array([(0, 62, 0, 8, 90), (0, 64, 8, 12, 90)], dtype=np.int32),
                   np.array([0, 64], dtype=np.int32))
    assert index.piece_longest(longer) == 1  # a note of another length is another note


def test_loss_per_note_is_the_summed_token_loss_over_the_notes(net):
    piece = _two_kinds_of_bars(1)[0]
    figures = M.split_figures(net, net.config, [piece], seed=3)
    examples = M.make_examples([piece], net.config)
    torch.manual_seed(3)
    batch = examples.batch(torch.arange(len(examples)))
    if len(examples) == 1:
        assert figures["loss_per_token"] == pytest.approx(float(M.loss(net, batch)[0]), rel=1e-5)
    target = batch["tokens"][:, 1:]
    assert figures["notes"] == int(T.is_kind(target, T.PITCH0, 128).sum()) > 0
    assert figures["loss_per_note"] * figures["notes"] == pytest.approx(figures["loss_per_token"] * figures["tokens"])


def test_a_continuation_longer_than_the_context_refills_the_cache_from_the_latest_bars(monkeypatch):
    torch.manual_seed(0)
    small = M.build(M.Config(**{**M.PRESETS["tiny"], "block_size": 48})).eval()
    song = _song(1, 4)
    prompts = []
    prefill = M._prefill
    monkeypatch.setattr(M, "_prefill", lambda net, rows, device: prompts.append(rows) or prefill(net, rows, device))
    final = M.last_update(M.continue_song(small, small.config, song, bars=4, variations=2, seed=2, max_notes=4))
    assert len(prompts) >= 2 and all(len(p) <= 48 and p[:2] == [T.BOS, T.RANGE] for rows in prompts for p in rows)
    for take in final.takes:
        new = [n for n in take.tracks[0].notes if n not in song.tracks[0].notes]
        bars = {n.start // 1920 for n in new}
        assert bars <= {4, 5, 6, 7} and len(bars) >= 3  # written through the refills, in the new bars
