"""The models the app knows, by name. A model is one module in `desktop_app.ml.models` plus one
`register(...)` line in that package's `__init__`; everything else (the training loop, checkpoints,
the runner, the CLI) finds it here. Modules are imported only when a model is used, so listing the
names costs nothing at start-up."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

# What a model module must define, read top to bottom like nanoGPT's model.py:
#   Config            a dataclass of the model's sizes and knobs
#   PRESETS           {"tiny": {...}, "small": {...}, ...}: field overrides of Config by size preset
#   build(config)     -> torch.nn.Module
#   make_examples(pieces, config) -> Examples: len(examples) and examples.batch(indices) -> {name: Tensor}
#   loss(model, batch) -> (scalar loss tensor, {metric name: float})   (calls model(...) so DDP syncs)
# and may define `sample(...)`, the generator of edits that the editor animates, and, for a model that
# trains more than one network in its own way (the GAN):
#   make_optimizer(model, train_config) -> torch.optim.Optimizer   (one, a parameter group per network)
#   train_step(model, batch, optimizer, train_config) -> (loss tensor, metrics)   (steps the optimizer itself)
# and, for the training panel's strip of rolls, drawn at each evaluation (the GAN):
#   preview(model, examples) -> (n, pitches, steps) uint8 rolls   (fixed windows and noise)
REQUIRED = ("Config", "PRESETS", "build", "make_examples", "loss")


@dataclass(frozen=True)
class ModelEntry:
    name: str
    module: str
    description: str


_MODELS: dict[str, ModelEntry] = {}


def register(name: str, module: str, description: str) -> None:
    """Make the model in `module` (a dotted path) available as `name`."""
    _MODELS[name] = ModelEntry(name, module, description)


def _load_registrations() -> None:
    import desktop_app.ml.models  # noqa: F401  (its register lines run on import)


def model_names() -> list[str]:
    """The registered names, sorted."""
    _load_registrations()
    return sorted(_MODELS)


def model_entry(name: str) -> ModelEntry:
    _load_registrations()
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r} (known: {', '.join(sorted(_MODELS)) or 'none'})")
    return _MODELS[name]


def get_model(name: str) -> ModuleType:
    """The model's module, checked to define everything the training loop needs."""
    module = importlib.import_module(model_entry(name).module)
    missing = [attr for attr in REQUIRED if not hasattr(module, attr)]
    if missing:
        raise TypeError(f"model {name!r} ({module.__name__}) lacks {', '.join(missing)}")
    return module


def make_config(name: str, preset: str, **overrides):
    """The model's Config for a size preset, with any fields overridden."""
    module = get_model(name)
    if preset not in module.PRESETS:
        raise ValueError(f"model {name!r} has no preset {preset!r} (presets: {', '.join(module.PRESETS)})")
    return module.Config(**{**module.PRESETS[preset], **overrides})
