"""The user's own datasets: folders registered under a name, kept in a JSON file in the user config
folder, shared by the GUI and `desktop-app dataset add/list`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs

from desktop_app import APP_NAME, ORG_NAME
from desktop_app.ml.data.sources import BUILTIN
from desktop_app.music.errors import MusicFileError
from desktop_app.music.files import atomic_write_bytes

CONFIG_ENV = "DESKTOP_APP_CONFIG_DIR"


def registry_path() -> Path:
    """datasets.json in $DESKTOP_APP_CONFIG_DIR if set, else in the user config folder."""
    override = os.environ.get(CONFIG_ENV)
    folder = Path(override) if override else platformdirs.user_config_path(APP_NAME, ORG_NAME)
    return folder / "datasets.json"


def user_datasets() -> dict[str, str]:
    """Registered name -> folder. A missing or damaged file means none are registered."""
    try:
        entries = json.loads(registry_path().read_text(encoding="utf-8")).get("datasets", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return {str(k): str(v) for k, v in entries.items()} if isinstance(entries, dict) else {}


def user_dataset_folder(name: str) -> str | None:
    return user_datasets().get(name)


def add_user_dataset(folder: str | os.PathLike[str], name: str | None = None) -> str:
    """Register `folder` under `name` (default: the folder's name) and return the name. Adding the
    same name again points it at the new folder."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise MusicFileError(folder, "no such folder")
    path = path.resolve()
    name = (name or path.name).strip()
    if not name:
        raise MusicFileError(folder, "the dataset needs a name")
    if name in BUILTIN:
        raise MusicFileError(folder, f"{name!r} is a built-in dataset; choose another name with --name")
    entries = user_datasets()
    entries[name] = str(path)
    _save(entries)
    return name


def remove_user_dataset(name: str) -> None:
    """Forget the registered dataset `name` (its files and cached pieces stay)."""
    entries = user_datasets()
    if name not in entries:
        raise MusicFileError(name, "no user dataset of that name")
    del entries[name]
    _save(entries)


def list_datasets() -> list[dict[str, str]]:
    """Built-in and registered datasets: name, kind ("built-in" or "folder"), and folder or description."""
    rows = [{"name": n, "kind": "built-in", "description": d} for n, d in BUILTIN.items()]
    rows += [{"name": n, "kind": "folder", "folder": f} for n, f in sorted(user_datasets().items())]
    return rows


def _save(entries: dict[str, str]) -> None:
    path = registry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (json.dumps({"datasets": entries}, indent=2) + "\n").encode("utf-8"))
