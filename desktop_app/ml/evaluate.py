"""Evaluate a checkpoint on a dataset: validation and test loss with the model's own loss, and the
model's own judgement of what it generates (a model module may define `evaluate_samples(net,
config, pieces, seed, max_windows, progress[, train_pieces])`; the AR-CNN's is its repair
evaluation), and further figures per split (`split_figures(net, config, pieces, seed)`, e.g. the
transformer's loss per note). Shared by `desktop-app evaluate` and the training panel."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from desktop_app.ml.shipped import load_model


@torch.no_grad()
def split_loss(module, net: torch.nn.Module, config, pieces: list, batch_size: int = 32, seed: int = 0) -> dict[str, float]:
    """Mean loss and metrics of the model over every example of `pieces`, with a fixed seed (the
    loss may draw, as the AR-CNN's corruption does)."""
    examples = module.make_examples(pieces, config)
    if len(examples) == 0:
        return {"examples": 0}
    torch.manual_seed(seed)
    np.random.seed(seed)
    totals: dict[str, float] = {}
    for chunk in torch.arange(len(examples)).split(batch_size):
        loss, values = module.loss(net, examples.batch(chunk))
        for name, value in {"loss": float(loss), **values}.items():
            totals[name] = totals.get(name, 0.0) + value * len(chunk)
    return {"examples": len(examples), **{name: total / len(examples) for name, total in totals.items()}}


def evaluate_checkpoint(
    checkpoint: str | Path,
    data: str,
    *,
    seed: int = 0,
    max_windows: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Losses on the validation and test splits of `data`, and the model's sample evaluation on the
    test split."""
    from desktop_app.ml.data import load_dataset

    loaded = load_model(checkpoint)
    dataset = load_dataset(data)
    valid, test = dataset.split("valid"), dataset.split("test")
    result = {
        "checkpoint": str(checkpoint),
        "model": loaded.name,
        "data": data,
        "pieces": {"valid": len(valid), "test": len(test)},
        "valid": split_loss(loaded.module, loaded.net, loaded.config, valid, seed=seed),
        "test": split_loss(loaded.module, loaded.net, loaded.config, test, seed=seed),
    }
    if hasattr(loaded.module, "split_figures"):
        for name, pieces in (("valid", valid), ("test", test)):
            result[name].update(loaded.module.split_figures(loaded.net, loaded.config, pieces, seed=seed))
    if hasattr(loaded.module, "evaluate_samples"):
        extra = {}
        if "train_pieces" in inspect.signature(loaded.module.evaluate_samples).parameters:
            extra["train_pieces"] = dataset.split("train")  # to measure copying of the training set
        result["samples"] = loaded.module.evaluate_samples(loaded.net, loaded.config, test, seed=seed,
                                                           max_windows=max_windows, progress=progress, **extra)
    return result
