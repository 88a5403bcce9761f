"""AR-CNN: corruption, target, loss, network shapes and the sampler's caps, seeds and regions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from desktop_app.ml.models import arcnn
from desktop_app.ml.models.arcnn import ArcnnConfig, SamplerKnobs

TINY = ArcnnConfig(steps=32, low_pitch=48, n_pitches=16, width=4, depth=2, dropout=0.0)


def roll_with(cells, steps=32, pitches=16) -> np.ndarray:
    roll = np.zeros((steps, pitches), dtype=bool)
    for t, p in cells:
        roll[t, p] = True
    return roll


def test_corruption_removes_all_or_nothing_and_the_target_is_the_xor():
    original = torch.zeros(2, 8, 4)
    original[:, 0:4, 1] = 1  # a held note
    g = torch.Generator().manual_seed(0)
    everything = ArcnnConfig(remove_range=(1.0, 1.0), add_range=(0.0, 0.0))
    corrupted, target = arcnn.corrupt(original, g, everything)
    assert corrupted.sum() == 0
    assert torch.equal(target, original)
    nothing = ArcnnConfig(remove_range=(0.0, 0.0), add_range=(0.0, 0.0))
    corrupted, target = arcnn.corrupt(original, g, nothing)
    assert torch.equal(corrupted, original) and target.sum() == 0


def test_corruption_adds_only_to_empty_cells_and_target_marks_exactly_the_changes():
    original = torch.zeros(1, 16, 8)
    original[0, :, 3] = 1
    g = torch.Generator().manual_seed(1)
    config = ArcnnConfig(remove_range=(0.5, 0.5), add_range=(0.3, 0.3))
    corrupted, target = arcnn.corrupt(original, g, config)
    changed = corrupted != original
    assert torch.equal(target.bool(), changed)
    added = (corrupted == 1) & (original == 0)
    removed = (corrupted == 0) & (original == 1)
    assert added.any() and removed.any()
    assert not added[..., 3].any()  # nothing is "added" where a note already was


def test_flip_loss_equals_a_hand_computation():
    # Two cells per sample; logits (0, ln 3) -> softmax (1/4, 3/4). Target: both cells -> q = (1/2, 1/2).
    logits = torch.tensor([[[0.0, math.log(3.0)]]])
    target = torch.tensor([[[1.0, 1.0]]])
    expected = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert arcnn.flip_loss(logits, target).item() == pytest.approx(expected)


def test_flip_loss_is_per_sample_and_skips_samples_with_nothing_to_flip():
    logits = torch.tensor([[[0.0, math.log(3.0)]], [[5.0, -2.0]]], requires_grad=True)
    target = torch.tensor([[[0.0, 1.0]], [[0.0, 0.0]]])
    loss = arcnn.flip_loss(logits, target)
    assert loss.item() == pytest.approx(-math.log(0.75))  # only the first sample counts
    loss.backward()
    assert torch.all(logits.grad[1] == 0)
    empty = arcnn.flip_loss(logits, torch.zeros_like(target))
    assert torch.isfinite(empty) and empty.item() == 0.0
    empty.backward()


def test_network_maps_planes_to_one_logit_per_cell():
    net = arcnn.ArcnnNet(TINY)
    out = net(torch.zeros(3, arcnn.IN_PLANES, TINY.steps, TINY.n_pitches))
    assert out.shape == (3, TINY.steps, TINY.n_pitches)


def test_the_inference_network_gives_the_same_logits_and_follows_new_weights():
    torch.manual_seed(0)
    net = arcnn.ArcnnNet(TINY)
    with torch.no_grad():  # give the batch norms statistics of their own, as a trained net has
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    net.eval()
    planes = torch.rand(2, arcnn.IN_PLANES, TINY.steps, TINY.n_pitches)
    fast = arcnn.inference_net(net)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())
    with torch.no_grad():
        assert torch.allclose(fast(planes), net(planes), atol=1e-4)
        assert arcnn.inference_net(net) is fast  # kept while nothing changes
        net.head.bias.add_(1.0)  # as an optimizer step or a load does, in place
        again = arcnn.inference_net(net)
        assert again is not fast and torch.allclose(again(planes), net(planes), atol=1e-4)


def test_onset_plane_keeps_repeated_notes_apart():
    roll = roll_with([(0, 2), (1, 2), (2, 2), (3, 2)], steps=6, pitches=4)
    given = roll_with([(0, 2), (2, 2)], steps=6, pitches=4)
    onsets = arcnn.onset_plane(roll, given)
    assert np.flatnonzero(onsets[:, 2]).tolist() == [0, 2]


def test_metre_plane_marks_downbeats_beats_and_eighths():
    metre = arcnn.metre_plane(8, downbeats=np.array([4]), start=0)
    assert metre.tolist() == [0.5, 0.0, 0.25, 0.0, 1.0, 0.0, 0.25, 0.0]


def _sampler_inputs(seed_cells):
    roll = roll_with(seed_cells)
    onsets = arcnn.onset_plane(roll)
    metre = arcnn.metre_plane(TINY.steps)
    return roll, onsets, metre


def _random_net(seed=0):
    torch.manual_seed(seed)
    return arcnn.ArcnnNet(TINY)


SEED_NOTES = [(t, p) for p in (2, 6, 9) for t in range(0, 8)] + [(t, 4) for t in range(8, 16)]


def test_a_fixed_seed_repeats_and_another_differs():
    net = _random_net()
    roll, onsets, metre = _sampler_inputs(SEED_NOTES)
    knobs = SamplerKnobs(iterations=30, seed=7)
    run = lambda k: [e for e, _ in arcnn.sample_edits(net, roll, onsets, metre, k)]  # noqa: E731
    assert run(knobs) == run(knobs)
    assert run(knobs) != run(SamplerKnobs(iterations=30, seed=8))
    assert len(run(knobs)) == 30


@pytest.mark.parametrize("max_remove,max_add", [(0.0, 0), (0.25, 2), (0.5, 5), (1.0, 0)])
@pytest.mark.parametrize("temperature", [0.0, 1.0, 50.0])
def test_caps_counted_in_notes_are_never_exceeded(max_remove, max_add, temperature):
    net = _random_net(1)
    roll, onsets, metre = _sampler_inputs(SEED_NOTES)
    knobs = SamplerKnobs(iterations=80, max_remove=max_remove, max_add=max_add, temperature=temperature,
                         seed=3, edits_per_pass=4)
    caps = arcnn._Caps(roll, onsets, knobs)
    input_notes = 4
    for _, after in arcnn.sample_edits(net, roll, onsets, metre, knobs):
        assert caps.removed_notes(after) <= math.floor(max_remove * input_notes)
        assert caps.added_notes(after) <= max_add


def test_with_both_caps_at_zero_only_input_notes_can_grow():
    net = _random_net(2)
    roll, onsets, metre = _sampler_inputs(SEED_NOTES)
    knobs = SamplerKnobs(iterations=50, max_remove=0.0, max_add=0, seed=0)
    caps = arcnn._Caps(roll, onsets, knobs)
    for _, after in arcnn.sample_edits(net, roll, onsets, metre, knobs):
        assert after[roll].all()  # no input cell goes
        assert caps.added_notes(after) == 0  # added cells only lengthen input notes


def test_edits_stay_inside_the_editable_region():
    net = _random_net(3)
    roll, onsets, metre = _sampler_inputs(SEED_NOTES)
    editable = np.zeros_like(roll)
    editable[4:12, 3:10] = True
    knobs = SamplerKnobs(iterations=40, seed=5, temperature=2.0)
    final = roll
    for event, final in arcnn.sample_edits(net, roll, onsets, metre, knobs, editable):
        assert editable[event.step, event.pitch - TINY.low_pitch]
    assert np.array_equal(final[~editable], roll[~editable])


def test_edit_probabilities_sum_to_one_at_any_temperature():
    net = _random_net(4)
    roll, onsets, metre = _sampler_inputs(SEED_NOTES)
    for t in (0.0, 1e-3, 1.0, 1e6):
        probs = arcnn.edit_probabilities(net, roll, onsets, metre, t)
        assert probs.shape == roll.shape
        assert np.isfinite(probs).all() and probs.sum() == pytest.approx(1.0)


def test_topk_hit_rate_counts_right_cells():
    logits = torch.tensor([[[3.0, 2.0, 1.0, 0.0]]])
    target = torch.tensor([[[1.0, 0.0, 0.0, 1.0]]])
    assert arcnn.topk_hit_rate(logits, target, k=2).item() == pytest.approx(0.5)


def test_note_damage_removes_and_adds_whole_notes():
    roll = roll_with([(t, 2) for t in range(0, 4)] + [(t, 5) for t in range(4, 12)] + [(t, 9) for t in range(12, 14)])
    onsets = arcnn.onset_plane(roll)
    rng = np.random.default_rng(0)
    damaged, removed, added, untouched = arcnn.damage_notes(roll, onsets, rng, 2 / 3, 3)
    assert len(removed) == 2 and len(untouched) == 1 and len(added) == 3
    for row, s0, s1 in removed:
        assert not damaged[s0:s1, row].any()
    for row, s0, s1 in untouched:
        assert damaged[s0:s1, row].all()
    for row, s0, s1 in added:
        assert damaged[s0:s1, row].all() and not roll[max(s0 - 1, 0):s1 + 1, row].any()


def test_batch_corruption_damages_a_share_of_windows_note_by_note_and_targets_the_difference():
    original = torch.zeros(6, 32, 16)
    onsets = torch.zeros(6, 32, 16)
    for start in range(0, 32, 4):
        original[:, start:start + 4, 3 + start // 4] = 1
        onsets[:, start, 3 + start // 4] = 1
    config = ArcnnConfig(steps=32, n_pitches=16, note_corruption=1.0, add_range=(0.0, 0.0), remove_range=(0.0, 0.0))
    torch.manual_seed(0)
    corrupted, target = arcnn.corrupt_batch(original, onsets, config)
    assert torch.equal(target.bool(), corrupted.bool() ^ original.bool())
    assert target.sum() > 0
    # cell-level corruption is off here, so every window changed was damaged note by note: at least
    # one original note is gone whole
    for i in range(6):
        if target[i].any():
            assert any(corrupted[i, start:start + 4, 3 + start // 4].sum() == 0 for start in range(0, 32, 4)) or \
                corrupted[i].sum() > original[i].sum()
    off = ArcnnConfig(steps=32, n_pitches=16, note_corruption=0.0)
    torch.manual_seed(1)
    plain = arcnn.corrupt(original, None, off)
    torch.manual_seed(1)
    assert all(torch.equal(a, b) for a, b in zip(plain, arcnn.corrupt_batch(original, onsets, off)))
