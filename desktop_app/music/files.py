"""Reading and atomically writing whole files, with OS errors turned into MusicFileError. Every
file the app reads goes through `read_file_bytes` (regular files, size-limited) and every file
it writes through `atomic_output` (projects, MIDI, audio, images)."""

from __future__ import annotations

import errno
import os
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from desktop_app.music.errors import MusicFileError
from desktop_app.music.limits import MAX_FILE_BYTES, describe_bytes


def _os_reason(e: OSError) -> str:
    if isinstance(e, FileNotFoundError):
        return "no such file"
    if isinstance(e, IsADirectoryError):
        return "is a folder, not a file"
    if isinstance(e, PermissionError):
        return "permission denied"
    if e.errno == errno.ENXIO:  # a socket, or a device with nothing behind it
        return "not a regular file"
    return e.strerror or str(e)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "not a regular file: it is a pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "not a regular file: it is a device"
    return "not a regular file"


def check_regular_file(path: str | os.PathLike[str], max_bytes: int | None = None) -> int:
    """Refuse anything but an existing regular file (a pipe would hang a read, a device never end
    one), and files over `max_bytes`. Follows symlinks. Returns the size."""
    try:
        info = os.stat(path)
    except OSError as e:
        raise MusicFileError(path, _os_reason(e)) from None
    return _checked_size(path, info, max_bytes)


def _checked_size(path: str | os.PathLike[str], info: os.stat_result, max_bytes: int | None) -> int:
    if not stat.S_ISREG(info.st_mode):
        raise MusicFileError(path, _kind(info.st_mode))
    if max_bytes is not None and info.st_size > max_bytes:
        raise MusicFileError(
            path, f"too large: {describe_bytes(info.st_size)}; the app reads files of up to {describe_bytes(max_bytes)}"
        )
    return info.st_size


def read_file_bytes(path: str | os.PathLike[str], max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The whole of a regular file of at most `max_bytes`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # opening a pipe must not wait for a writer
    except OSError as e:
        raise MusicFileError(path, _os_reason(e)) from None
    try:
        _checked_size(path, os.fstat(fd), max_bytes)
    except MusicFileError:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(max_bytes + 1)
        except OSError as e:
            raise MusicFileError(path, _os_reason(e)) from None
    if len(data) > max_bytes:  # it grew after the check
        raise MusicFileError(path, f"too large: the app reads files of up to {describe_bytes(max_bytes)}")
    return data


TEMPORARY_SUFFIX = ".tmp"


def _temporary_name(target: Path) -> Path:
    """A hidden name beside `target` that says which process writes it, so a later save can tell
    the leftovers of a killed one from a save still in progress."""
    return target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}{TEMPORARY_SUFFIX}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process, or a number no process has
    return True


def remove_stale_temporaries(target: Path) -> None:
    """Delete the temporary files that killed saves of `target` left behind."""
    prefix = f".{target.name}."
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(TEMPORARY_SUFFIX)):
            continue
        pid, _, token = entry.name[len(prefix) : -len(TEMPORARY_SUFFIX)].partition("-")
        if pid.isdigit() and len(token) == 8 and int(pid) != os.getpid() and not _alive(int(pid)):
            try:
                os.unlink(entry.path)
            except OSError:
                pass


@contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Give the caller a temporary file beside `path` to write by any means; when the block ends
    without error, flush it to disk and rename it over `path`, so a crash or a full disk leaves
    either the old file or the new one, never half of one. On error the temporary file is
    removed and the old file stays. A symlink is written through (the file it points to is
    replaced); a replaced file keeps its permissions, a new one gets 0666 less the umask."""
    target = Path(os.path.realpath(path))
    remove_stale_temporaries(target)
    tmp = _temporary_name(target)
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as e:
        raise MusicFileError(path, f"cannot write there: {e.strerror or e}") from None
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        os.replace(tmp, target)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise MusicFileError(path, f"cannot write: {e.strerror or e}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` atomically (see `atomic_output`)."""
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
