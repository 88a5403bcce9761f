"""numba, under librosa, caches compiled code beside librosa's sources or in the user's cache
folder, and fails at import when it can write to neither (a system-wide install run by a user
without a writable home). Point it at a private temporary folder then, before it is imported."""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path
from typing import MutableMapping


def _writable(folder: Path) -> bool:
    """Whether files can be made in `folder` (made if missing), tested the way numba tests it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def default_cache_folders(environ: MutableMapping[str, str] = os.environ) -> list[Path]:
    """Where numba caches librosa's functions unless told otherwise: beside the sources, then in
    the user's cache folder."""
    folders = []
    spec = importlib.util.find_spec("librosa")
    if spec is not None and spec.origin:
        folders.append(Path(spec.origin).parent / "__pycache__")
    cache_home = environ.get("XDG_CACHE_HOME") or os.path.join(environ.get("HOME") or "~", ".cache")
    folders.append(Path(os.path.expanduser(cache_home)) / "numba")
    return folders


def ensure_numba_cache(environ: MutableMapping[str, str] = os.environ, folders: list[Path] | None = None) -> None:
    """Set NUMBA_CACHE_DIR to a writable temporary folder when it is unset and none of numba's
    default cache folders can be written. Call before librosa (and so numba) is imported."""
    if environ.get("NUMBA_CACHE_DIR"):
        return
    if any(_writable(folder) for folder in (default_cache_folders(environ) if folders is None else folders)):
        return
    environ["NUMBA_CACHE_DIR"] = str(_private_folder())


def _private_folder() -> Path:
    """A temporary folder only this user can write (numba loads what it finds there), kept
    between runs so compiled code is reused."""
    uid = os.getuid()
    folder = Path(tempfile.gettempdir()) / f"desktop-app-numba-{uid}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
        if info.st_uid == uid and not info.st_mode & 0o022 and folder.is_dir() and not folder.is_symlink():
            return folder
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="desktop-app-numba-"))
