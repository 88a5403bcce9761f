"""Checkpoints cannot run code: safetensors + JSON round-trip, the optimizer flattened without
pickle, and pickled files from elsewhere refused with one line while their payload never runs."""

from __future__ import annotations

import os
import pickle

import pytest
import torch

from desktop_app.ml.checkpoints import (
    CheckpointError, flatten_optimizer_state, latest_checkpoint, load_checkpoint, load_training_state,
    load_weights, prune_step_checkpoints, save_checkpoint, step_directory, unflatten_optimizer_state,
)


def trained_pair(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, betas=(0.8, 0.95))
    for _ in range(3):
        optimizer.zero_grad()
        model(torch.randn(4, 6)).square().mean().backward()
        optimizer.step()
    return model, optimizer


class WritesAFile:
    """A pickle payload: unpickling it would create `path`."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_weights_config_card_and_training_state_round_trip(tmp_path):
    model, optimizer = trained_pair()
    folder = save_checkpoint(tmp_path / "ck", model, {"model": "mlp", "step": 3}, "# card\n", optimizer,
                             {"step": 3, "best_valid_loss": 0.5, "seconds": 1.0})
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json", "model.safetensors", "model_card.md", "optimizer.safetensors", "training_state.json"]
    loaded = load_checkpoint(folder)
    assert loaded.config == {"model": "mlp", "step": 3} and loaded.card == "# card\n"

    fresh, fresh_optimizer = trained_pair(seed=1)
    state = load_training_state(folder, fresh, fresh_optimizer)
    assert state["step"] == 3 and state["best_valid_loss"] == 0.5
    for a, b in zip(model.parameters(), fresh.parameters()):
        assert torch.equal(a, b)
    # one more identical step on both: the optimizer's moments came back exactly
    batch = torch.randn(4, 6)
    for m, o in ((model, optimizer), (fresh, fresh_optimizer)):
        o.zero_grad()
        m(batch).square().mean().backward()
        o.step()
    for a, b in zip(model.parameters(), fresh.parameters()):
        assert torch.equal(a, b)


def test_optimizer_state_flattens_to_tensors_and_json_and_back():
    _, optimizer = trained_pair()
    tensors, meta = flatten_optimizer_state(optimizer.state_dict())
    assert all(isinstance(t, torch.Tensor) for t in tensors.values())
    import json

    meta = json.loads(json.dumps(meta))  # survives JSON
    restored = unflatten_optimizer_state(tensors, meta)
    original = optimizer.state_dict()
    assert restored["state"].keys() == original["state"].keys()
    for pid, values in original["state"].items():
        for name, value in values.items():
            assert torch.equal(restored["state"][pid][name], value)
    assert restored["param_groups"][0]["betas"] == [0.8, 0.95]


def test_a_weights_only_pt_file_loads(tmp_path):
    model, _ = trained_pair()
    torch.save(model.state_dict(), tmp_path / "plain.pt")
    torch.save({"state_dict": model.state_dict(), "epoch": 3}, tmp_path / "wrapped.pt")
    for name in ("plain.pt", "wrapped.pt"):
        other, _ = trained_pair(seed=2)
        load_weights(other, load_checkpoint(tmp_path / name))
        assert all(torch.equal(a, b) for a, b in zip(model.parameters(), other.parameters()))


@pytest.mark.parametrize("writer", ["torch.save", "legacy torch.save", "raw pickle"])
def test_a_pickled_checkpoint_that_would_write_a_file_is_refused(tmp_path, writer):
    victim = tmp_path / "pwned"
    payload = {"weight": torch.zeros(2), "evil": WritesAFile(victim)}
    path = tmp_path / "model.pt"
    if writer == "torch.save":
        torch.save(payload, path)
    elif writer == "legacy torch.save":
        torch.save(payload, path, _use_new_zipfile_serialization=False)
    else:
        path.write_bytes(pickle.dumps(payload))
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    assert caught.value.path == str(path)
    assert "refused" in caught.value.reason and "\n" not in caught.value.reason
    assert not victim.exists()


def test_a_pickle_dressed_as_safetensors_or_inside_a_checkpoint_folder_is_refused(tmp_path):
    victim = tmp_path / "pwned"
    evil = pickle.dumps(WritesAFile(victim))
    (tmp_path / "fake.safetensors").write_bytes(evil)
    folder = tmp_path / "ck"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(evil)
    for path in (tmp_path / "fake.safetensors", folder):
        with pytest.raises(CheckpointError, match="not a valid safetensors file"):
            load_checkpoint(path)
    assert not victim.exists()


def test_other_files_and_mismatched_weights_get_one_line_reasons(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        load_checkpoint(tmp_path / "notes.txt")
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "missing.safetensors")
    model, _ = trained_pair()
    save_checkpoint(tmp_path / "ck", model, {}, "")
    with pytest.raises(CheckpointError, match="do not fit"):
        load_weights(torch.nn.Linear(6, 3), load_checkpoint(tmp_path / "ck"))
    with pytest.raises(CheckpointError, match="no optimizer state"):
        load_training_state(tmp_path / "ck", *trained_pair())


def test_rewriting_a_checkpoint_replaces_it_whole_and_old_steps_are_pruned(tmp_path):
    model, optimizer = trained_pair()
    for step in (10, 20, 30, 40):
        save_checkpoint(step_directory(tmp_path, step), model, {"step": step}, "", optimizer, {"step": step})
    save_checkpoint(step_directory(tmp_path, 40), model, {"step": 41}, "", optimizer, {"step": 41})
    prune_step_checkpoints(tmp_path, keep=2)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step-0000030", "step-0000040"]
    assert load_checkpoint(latest_checkpoint(tmp_path)).config == {"step": 41}
