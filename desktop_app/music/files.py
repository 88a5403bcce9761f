"""Reading and atomically writing whole files, with OS errors turned into MusicFileError."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from desktop_app.music.errors import MusicFileError


def read_file_bytes(path: str | os.PathLike[str]) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise MusicFileError(path, "no such file") from None
    except IsADirectoryError:
        raise MusicFileError(path, "is a folder, not a file") from None
    except PermissionError:
        raise MusicFileError(path, "permission denied") from None
    except OSError as e:
        raise MusicFileError(path, e.strerror or str(e)) from None


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename it over `path`,
    so a crash leaves either the old file or the new one, never half of one. A replaced file
    keeps its permissions; a new one gets the usual ones (0666 less the umask)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:
        raise MusicFileError(path, f"cannot write there: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        os.replace(tmp, target)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise MusicFileError(path, f"cannot write: {e.strerror or e}") from None
