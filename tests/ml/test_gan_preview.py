"""The training loop's preview hook, as the GAN uses it: rolls from fixed windows and fixed noise at
each evaluation, sent with that evaluation's row and kept in the run folder for a reopened run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from desktop_app.ml.data.convert import piece_id
from desktop_app.ml.data.piece import Piece
from desktop_app.ml.models import gan
from desktop_app.ml.registry import make_config
from desktop_app.ml.train import TrainConfig, read_previews, train


def chorales(n: int = 6, bars: int = 4) -> list[Piece]:
    """Four-voice block chords, one a beat."""
    rng = np.random.default_rng(0)
    pieces = []
    for i in range(n):
        tonic = 60 + int(rng.integers(-3, 4))
        rows = [(v, p, 4 * b, 4 * b + 4, 80) for b in range(bars * 4)
                for v, p in enumerate((tonic + 12 + int(rng.integers(0, 8)), tonic + 4, tonic - 5, tonic - 24))]
        notes = np.array(sorted(rows, key=lambda r: (r[2], r[0], r[1])), dtype=np.int32)
        pieces.append(Piece(id=piece_id(notes), name=f"c{i}", source="test", notes=notes,
                            downbeats=np.arange(0, bars * 16 + 1, 16, dtype=np.int32), key="C",
                            voice_names=("Soprano", "Alto", "Tenor", "Bass")))
    return pieces


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_preview_draws_the_melody_and_the_voices_from_fixed_noise_and_keeps_the_mode():
    config = make_config("gan", "tiny")
    torch.manual_seed(0)
    net = gan.build(config).train()
    examples = gan.make_examples(chorales(3), config)
    rolls = gan.preview(net, examples)
    assert rolls.shape == (gan.PREVIEW_WINDOWS, config.n_pitches, config.steps) and rolls.dtype == np.uint8
    assert net.training, "the network's mode is left as it was"
    assert np.array_equal(rolls, gan.preview(net, examples)), "fixed windows, fixed noise"
    chosen = torch.linspace(0, len(examples) - 1, gan.PREVIEW_WINDOWS).long()
    melody = examples.batch(chosen)["melody"].numpy()
    for i in range(len(rolls)):  # the melody is drawn where it sounds (code 1, or 1 + onset), on top
        steps = np.arange(config.steps)
        sounding = melody[i] >= 0
        cells = rolls[i, melody[i][sounding] - config.low_pitch, steps[sounding]]
        assert set(cells.tolist()) <= {1, 1 + gan.PREVIEW_ONSET}
    assert set(np.unique(rolls).tolist()) - {0, 1, 5} <= {2, 3, 4, 6, 7, 8}
    assert gan.preview(net, gan.make_examples([], config)).shape == (0, config.n_pitches, config.steps)


def test_the_loop_sends_previews_at_each_evaluation_and_keeps_them(tmp_path):
    pieces = chorales(6)
    rows: list[dict] = []
    train(TrainConfig(model="gan", out=str(tmp_path), steps=4, batch_size=4, preset="tiny", eval_every=2,
                      eval_batches=1, checkpoint_every=4), pieces=(pieces[:4], pieces[4:]), on_metrics=rows.append)
    sent = {r["step"]: r["preview"] for r in rows if "preview" in r}
    assert sorted(sent) == [2, 4] and all("valid/loss" in r for r in rows if "preview" in r)
    saved = read_previews(tmp_path)
    assert [s for s, _ in saved] == [2, 4] and all(np.array_equal(sent[s], r) for s, r in saved)
    assert [s for s, _ in read_previews(tmp_path, upto=3)] == [2]
    assert "preview" not in (tmp_path / "metrics.csv").read_text()
