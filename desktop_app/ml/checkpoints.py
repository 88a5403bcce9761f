"""Checkpoints that cannot run code: safetensors weights, a JSON config and a model card.

A checkpoint is a folder:
  model.safetensors      the weights
  config.json            the model's name, preset and config, the training settings, the step
  model_card.md          what a person reads: data, steps, wall time, hardware, losses, the command
  optimizer.safetensors  (training checkpoints) the optimizer's tensors, flattened by name
  training_state.json    (training checkpoints) the step, the best validation loss, the rest of the
                         optimizer's state: everything needed to resume the same curve
Nothing here unpickles: a `.pt` file from elsewhere is read with torch's weights-only loader,
which refuses anything but tensors, and is refused with a one-line reason otherwise.
Folders are written beside their final name and renamed into place, so a killed process
leaves the previous checkpoint whole."""

from __future__ import annotations

import json
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from desktop_app.music.errors import MusicFileError

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
CARD = "model_card.md"
OPTIMIZER = "optimizer.safetensors"
TRAINING_STATE = "training_state.json"
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle")


class CheckpointError(MusicFileError):
    """A checkpoint could not be read or written, or was refused; the reason is one line."""


@dataclass
class Checkpoint:
    path: Path
    weights: dict[str, torch.Tensor]
    config: dict = field(default_factory=dict)
    card: str = ""


# ----------------------------------------------------------------------------- writing

def save_checkpoint(directory: str | Path, model: torch.nn.Module, config: dict, card: str,
                    optimizer: torch.optim.Optimizer | None = None, training_state: dict | None = None) -> Path:
    """Write a checkpoint folder atomically (replacing one that is there) and return its path."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    partial = directory.with_name(f".{directory.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    weights = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    save_file(weights, str(partial / WEIGHTS))
    (partial / CONFIG).write_text(json.dumps(config, indent=2, default=str) + "\n")
    (partial / CARD).write_text(card)
    if optimizer is not None:
        tensors, meta = flatten_optimizer_state(optimizer.state_dict())
        save_file(tensors, str(partial / OPTIMIZER))
        state = {**(training_state or {}), "optimizer": meta}
        (partial / TRAINING_STATE).write_text(json.dumps(state, indent=2) + "\n")
    old = directory.with_name(f".{directory.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        directory.rename(old)
    partial.rename(directory)
    shutil.rmtree(old, ignore_errors=True)
    return directory


def flatten_optimizer_state(state_dict: dict) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimizer's state_dict into named tensors and JSON, so saving it needs no pickle."""
    tensors: dict[str, torch.Tensor] = {}
    values: dict[str, dict] = {}
    for param_id, param_state in state_dict["state"].items():
        for name, value in param_state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{param_id}.{name}"] = value.detach().cpu().contiguous()
            else:
                values.setdefault(str(param_id), {})[name] = value
    groups = [{k: (v.item() if isinstance(v, torch.Tensor) else v) for k, v in group.items()}
              for group in state_dict["param_groups"]]
    return tensors, {"values": values, "param_groups": groups}


def unflatten_optimizer_state(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    """The inverse of flatten_optimizer_state: a state_dict that optimizer.load_state_dict takes."""
    state: dict[int, dict] = {}
    for key, tensor in tensors.items():
        param_id, name = key.split(".", 1)
        state.setdefault(int(param_id), {})[name] = tensor
    for param_id, values in meta.get("values", {}).items():
        state.setdefault(int(param_id), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


# ----------------------------------------------------------------------------- reading

def _safetensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(path, f"not a valid safetensors file ({str(e).splitlines()[0]})") from None


def _weights_only(path: Path) -> dict[str, torch.Tensor]:
    """Tensors from a PyTorch file through the weights-only loader; anything else is refused."""
    try:
        with warnings.catch_warnings():  # torch's notes on pickle protocols: the refusal below says what matters
            warnings.simplefilter("ignore", UserWarning)
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # UnpicklingError for code, RuntimeError/EOFError for damaged files
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if "Weights only load failed" in first:
            first = "it holds pickled objects beyond tensors, which could run code"
        raise CheckpointError(path, f"refused: {first}") from None
    if isinstance(loaded, dict) and isinstance(loaded.get("state_dict"), dict):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, dict) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise CheckpointError(path, "refused: not a dictionary of weight tensors")
    return loaded


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint folder, a `.safetensors` file, or a weights-only PyTorch file."""
    path = Path(path)
    if path.is_dir():
        if not (path / WEIGHTS).is_file():
            raise CheckpointError(path, f"not a checkpoint: no {WEIGHTS} in this folder")
        return Checkpoint(path, _safetensors(path / WEIGHTS), _json(path / CONFIG), _text(path / CARD))
    if not path.is_file():
        raise CheckpointError(path, "no such file or folder")
    if path.suffix == ".safetensors":
        return Checkpoint(path, _safetensors(path), _json(path.with_name(CONFIG)), _text(path.with_name(CARD)))
    if path.suffix in PICKLE_SUFFIXES:
        return Checkpoint(path, _weights_only(path))
    raise CheckpointError(path, "not a checkpoint (expected a folder, .safetensors, or a weights-only .pt)")


def _json(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(path, f"unreadable JSON ({e})") from None
    if not isinstance(value, dict):
        raise CheckpointError(path, "the JSON is not an object")
    return value


def read_config(directory: str | Path) -> dict:
    """A checkpoint folder's config.json, without reading its weights."""
    return _json(Path(directory) / CONFIG)


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.is_file() else ""


def load_weights(model: torch.nn.Module, checkpoint: Checkpoint) -> None:
    """Copy the checkpoint's weights into the model; a mismatch is one line naming what differs."""
    missing, unexpected = model.state_dict().keys() - checkpoint.weights.keys(), checkpoint.weights.keys() - model.state_dict().keys()
    if missing or unexpected:
        names = sorted(missing)[:3] + sorted(unexpected)[:3]
        raise CheckpointError(checkpoint.path, f"weights do not fit the model ({', '.join(names)}, ...)")
    try:
        model.load_state_dict(checkpoint.weights)
    except RuntimeError as e:
        raise CheckpointError(checkpoint.path, f"weights do not fit the model ({str(e).splitlines()[1].strip()})") from None


def load_training_state(directory: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    """Restore the weights and the optimizer from a training checkpoint; return its training state."""
    directory = Path(directory)
    checkpoint = load_checkpoint(directory)
    load_weights(model, checkpoint)
    if not (directory / OPTIMIZER).is_file():
        raise CheckpointError(directory, "cannot resume: the checkpoint holds no optimizer state")
    state = _json(directory / TRAINING_STATE)
    optimizer.load_state_dict(unflatten_optimizer_state(_safetensors(directory / OPTIMIZER), state["optimizer"]))
    return state


def step_directory(run_dir: str | Path, step: int) -> Path:
    return Path(run_dir) / "checkpoints" / f"step-{step:07d}"


def best_directory(run_dir: str | Path) -> Path:
    return Path(run_dir) / "checkpoints" / "best"


def step_checkpoints(run_dir: str | Path) -> list[Path]:
    """The run's step checkpoints, oldest first."""
    folder = Path(run_dir) / "checkpoints"
    return sorted(p for p in folder.glob("step-*") if p.is_dir() and (p / WEIGHTS).is_file())


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    found = step_checkpoints(run_dir)
    return found[-1] if found else None


def prune_step_checkpoints(run_dir: str | Path, keep: int) -> None:
    """Delete all but the newest `keep` step checkpoints (the best one lives apart and stays)."""
    for old in step_checkpoints(run_dir)[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
