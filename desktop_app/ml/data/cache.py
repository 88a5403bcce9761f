"""The dataset cache: each parsed piece stored as arrays in the user cache folder, keyed by the
content of what was parsed and the parser version, so a piece is parsed once however often it is used."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import fields
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import platformdirs

from desktop_app import APP_NAME, ORG_NAME
from desktop_app.ml.data.piece import Piece
from desktop_app.music.errors import MusicFileError
from desktop_app.music.files import atomic_write_bytes

CACHE_ENV = "DESKTOP_APP_CACHE_DIR"
FORMAT_VERSION = 3  # bump when the cached layout changes
# The modules whose code decides what a file becomes: editing any of them is a new parser version.
_PARSER_MODULES = ("music/midi_io.py", "music/musicxml_io.py", "music/timing.py", "music/song.py",
                   "ml/data/convert.py", "ml/data/build.py", "ml/data/piece.py")


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "none"


def _parser_version() -> str:
    """The cache format, the readers' library versions and a hash of the app's own reading code."""
    package = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for module in _PARSER_MODULES:
        try:
            digest.update((package / module).read_bytes())
        except OSError:
            digest.update(module.encode())
    libraries = "-".join(f"{n}{_package_version(n)}" for n in ("music21", "mido", "numpy"))
    return f"piece{FORMAT_VERSION}-{libraries}-{digest.hexdigest()[:12]}"


PARSER_VERSION = _parser_version()


def cache_dir() -> Path:
    """Where pieces are cached: $DESKTOP_APP_CACHE_DIR if set, else the user cache folder."""
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else platformdirs.user_cache_path(APP_NAME, ORG_NAME) / "datasets"


def content_key(kind: str, data: bytes) -> str:
    """The cache key of one unit: its kind, its bytes and the parser version."""
    digest = hashlib.sha256(f"{PARSER_VERSION}\0{kind}\0".encode())
    digest.update(data)
    return digest.hexdigest()


def _entry(root: Path, key: str, suffix: str) -> Path:
    return root / key[:2] / f"{key}{suffix}"


_ARRAYS = ("notes", "downbeats")


def store_piece(root: Path, key: str, piece: Piece) -> None:
    """Write `piece` under `key` (atomically: a concurrent reader sees all of it or nothing)."""
    meta = {f.name: getattr(piece, f.name) for f in fields(Piece) if f.name not in _ARRAYS}
    buffer = io.BytesIO()
    np.savez(buffer, notes=piece.notes, downbeats=piece.downbeats,
             meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    _write(_entry(root, key, ".npz"), buffer.getvalue())


def store_failure(root: Path, key: str, reason: str) -> None:
    """Remember that the unit under `key` cannot be read, so a warm build does not try again."""
    _write(_entry(root, key, ".fail.json"), json.dumps({"reason": reason}).encode())


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
    except (OSError, MusicFileError):
        pass  # a cache that cannot be written only costs time


def lookup(root: Path, key: str) -> Piece | str | None:
    """The cached Piece under `key`, the cached failure reason, or None when nothing usable is cached."""
    path = _entry(root, key, ".npz")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            meta = json.loads(arrays["meta"].tobytes().decode())
            notes, downbeats = arrays["notes"], arrays["downbeats"]
    except FileNotFoundError:
        try:
            return json.loads(_entry(root, key, ".fail.json").read_text())["reason"]
        except (OSError, ValueError, KeyError):
            return None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # a damaged entry is parsed again
    meta["voice_names"] = tuple(meta.get("voice_names", ()))
    meta["time_signatures"] = tuple(tuple(ts) for ts in meta.get("time_signatures", ()))
    known = {f.name for f in fields(Piece)}
    return Piece(notes=notes, downbeats=downbeats, **{k: v for k, v in meta.items() if k in known})
