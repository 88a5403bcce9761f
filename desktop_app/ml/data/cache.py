"""The dataset cache: each parsed piece stored as arrays in the user cache folder, keyed by the
content of what was parsed and the parser version, so a piece is parsed once however often it is used."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import fields
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import platformdirs

from desktop_app import APP_NAME, ORG_NAME
from desktop_app.ml.data.piece import Piece

CACHE_ENV = "DESKTOP_APP_CACHE_DIR"
FORMAT_VERSION = 4  # bump when the cached layout changes
# The modules whose code decides what a file becomes: editing any of them is a new parser version.
_PARSER_MODULES = ("music/midi_io.py", "music/musicxml_io.py", "music/timing.py", "music/song.py",
                   "ml/data/convert.py", "ml/data/parse.py", "ml/data/piece.py")


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
_MAGIC = b"DAPIECE\x01"
_HEADER = struct.Struct("<8sI")  # magic, length of the JSON metadata that follows


def encode_piece(piece: Piece) -> bytes:
    """A piece as bytes: a header, its fields as JSON, then its arrays as little-endian int32.
    Plain data only, so reading a cache entry can never run code."""
    meta = {f.name: getattr(piece, f.name) for f in fields(Piece) if f.name not in _ARRAYS}
    meta["n_notes"], meta["n_downbeats"] = int(len(piece.notes)), int(len(piece.downbeats))
    text = json.dumps(meta).encode()
    notes = np.ascontiguousarray(piece.notes, dtype="<i4").reshape(-1, 5)
    downbeats = np.ascontiguousarray(piece.downbeats, dtype="<i4")
    return _HEADER.pack(_MAGIC, len(text)) + text + notes.tobytes() + downbeats.tobytes()


def decode_piece(data: bytes) -> Piece | None:
    """The piece `encode_piece` wrote, or None when the bytes are not a whole entry."""
    if len(data) < _HEADER.size:
        return None
    magic, size = _HEADER.unpack_from(data)
    if magic != _MAGIC or len(data) < _HEADER.size + size:
        return None
    try:
        meta = json.loads(data[_HEADER.size : _HEADER.size + size])
        n_notes, n_downbeats = int(meta.pop("n_notes")), int(meta.pop("n_downbeats"))
    except (ValueError, KeyError, TypeError):
        return None
    start = _HEADER.size + size
    if len(data) != start + 4 * (5 * n_notes + n_downbeats):
        return None
    arrays = np.frombuffer(data, dtype="<i4", offset=start).astype(np.int32)
    meta["voice_names"] = tuple(meta.get("voice_names", ()))
    meta["time_signatures"] = tuple(tuple(ts) for ts in meta.get("time_signatures", ()))
    known = {f.name for f in fields(Piece)} - set(_ARRAYS)
    try:
        return Piece(notes=arrays[: 5 * n_notes].reshape(-1, 5), downbeats=arrays[5 * n_notes :],
                     **{k: v for k, v in meta.items() if k in known})
    except TypeError:
        return None


def store_piece(root: Path, key: str, piece: Piece) -> None:
    """Write `piece` under `key` (atomically: a concurrent reader sees all of it or nothing)."""
    _write(_entry(root, key, ".piece"), encode_piece(piece))


def store_failure(root: Path, key: str, reason: str) -> None:
    """Remember that the unit under `key` cannot be read, so a warm build does not try again."""
    _write(_entry(root, key, ".fail.json"), json.dumps({"reason": reason}).encode())


def _write(path: Path, data: bytes) -> None:
    """Write beside `path`, then rename over it: readers see a whole entry or none. No fsync: a
    cache entry lost in a power cut is only parsed again (a damaged one is detected and ignored)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a cache that cannot be written only costs time


def lookup(root: Path, key: str) -> Piece | str | None:
    """The cached Piece under `key`, the cached failure reason, or None when nothing usable is cached."""
    try:
        return decode_piece(_entry(root, key, ".piece").read_bytes())
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        return str(json.loads(_entry(root, key, ".fail.json").read_text())["reason"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
