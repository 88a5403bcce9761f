"""The composer's choices in the dataset view, kept: which flagged pieces of a dataset are left out
although their kind is kept by default, and which are kept although their kind is left out. Stored
per dataset name in exclusions.json beside the registered datasets (the user config folder), and
applied by load_dataset, so training, evaluation and `desktop-app dataset stats` use the pieces
the composer chose, in this session and the next."""

from __future__ import annotations

import json
from pathlib import Path

from desktop_app.ml.data.dataset import Dataset
from desktop_app.ml.data.user_datasets import registry_path
from desktop_app.music.files import atomic_write_bytes


def choices_path() -> Path:
    return registry_path().with_name("exclusions.json")


def _all() -> dict[str, dict[str, list[str]]]:
    try:
        entries = json.loads(choices_path().read_text(encoding="utf-8")).get("datasets", {})
    except (OSError, ValueError, AttributeError):
        return {}  # a missing or damaged file: no choices made
    return entries if isinstance(entries, dict) else {}


def piece_choices(dataset: str) -> tuple[set[str], set[str]]:
    """(names left out by choice, names kept by choice) for the dataset named `dataset`."""
    entry = _all().get(dataset, {})
    if not isinstance(entry, dict):
        return set(), set()
    return {str(n) for n in entry.get("excluded", [])}, {str(n) for n in entry.get("kept", [])}


def apply_choices(dataset: Dataset) -> Dataset:
    """`dataset` with the saved choices for its name over the default of each outlier's kinds."""
    excluded, kept = piece_choices(dataset.name)
    if not excluded and not kept:
        return dataset
    names = {o.name for o in dataset.outliers if (o.excluded or o.name in excluded) and o.name not in kept}
    return dataset.with_excluded(names)


def choose(dataset: Dataset, piece: str, excluded: bool) -> Dataset:
    """Leave the outlier `piece` out of `dataset` (or keep it), remember the choice where it differs
    from its kinds' default, and return the dataset so chosen."""
    outlier = next((o for o in dataset.outliers if o.name == piece), None)
    if outlier is None:
        raise ValueError(f"{piece!r} is not a flagged piece of {dataset.name!r}")
    by_default = any(k in dataset.exclude for k in outlier.kinds)
    left_out, kept = piece_choices(dataset.name)
    left_out.discard(piece)
    kept.discard(piece)
    if excluded and not by_default:
        left_out.add(piece)
    elif not excluded and by_default:
        kept.add(piece)
    entries = _all()
    if left_out or kept:
        entries[dataset.name] = {"excluded": sorted(left_out), "kept": sorted(kept)}
    else:
        entries.pop(dataset.name, None)
    path = choices_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (json.dumps({"datasets": entries}, indent=2) + "\n").encode("utf-8"))
    return dataset.choosing(piece, excluded)
