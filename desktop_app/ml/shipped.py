"""The checkpoints the app ships (resources/models/NAME) and loading any checkpoint into a ready
model: the registry gives the module, the checkpoint's config.json the sizes, safetensors the weights."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from types import ModuleType

import torch

from desktop_app.ml import checkpoints
from desktop_app.ml.registry import get_model, model_names
from desktop_app.resources import RESOURCES_DIR

MODELS_DIR = RESOURCES_DIR / "models"


@dataclass
class LoadedModel:
    name: str
    module: ModuleType
    config: object
    net: torch.nn.Module
    checkpoint: checkpoints.Checkpoint


def shipped_checkpoint(name: str) -> Path | None:
    """The folder of the checkpoint shipped for model `name`, if there is one."""
    folder = MODELS_DIR / name
    return folder if (folder / checkpoints.WEIGHTS).is_file() else None


def load_model(path: str | Path, expect: str | None = None) -> LoadedModel:
    """Build the model a checkpoint was trained as and load its weights, in eval mode on the CPU.
    `expect` names the model the caller needs; another one is refused with a one-line reason."""
    checkpoint = checkpoints.load_checkpoint(path)
    name = checkpoint.config.get("model") or expect
    if name not in model_names():
        raise checkpoints.CheckpointError(Path(path), f"config.json names no known model ({name!r})")
    if expect is not None and name != expect:
        raise checkpoints.CheckpointError(Path(path), f"this is a {name} checkpoint, not {expect}")
    module = get_model(name)
    known = {f.name for f in fields(module.Config)}
    saved = {k: tuple(v) if isinstance(v, list) else v
             for k, v in checkpoint.config.get("model_config", {}).items() if k in known}
    config = module.Config(**saved)
    net = module.build(config)
    checkpoints.load_weights(net, checkpoint)
    net.eval()
    return LoadedModel(name, module, config, net, checkpoint)
