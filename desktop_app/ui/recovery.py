"""Autosave to a recovery file every minute of unsaved work, and offer it back after a crash.

Every running instance writes its own recovery file in the recovery folder and holds an
exclusive lock on a lock file beside it for as long as it runs. The operating system drops the
lock when the process ends, however it ends, so a recovery file whose lock can be taken belongs
to a process that died: only those are offered, and nothing of a live instance is touched.
(QLockFile was not used: it judges a lock by the PID and process name it records, and every
instance of this app is a `python3` process, so a reused PID would fool it.) The lock file is
opened non-inheritable, Python's default, so a child process (training, dataset workers) that
outlives a crashed instance does not keep its lock.
The song is serialised on a worker thread: songs are immutable, so that is safe."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import IO

import platformdirs
from PySide6.QtCore import QObject, QTimer, Signal

from desktop_app import APP_NAME, ORG_NAME
from desktop_app.music.errors import MusicFileError
from desktop_app.music.project_file import PROJECT_EXTENSION, Project, read_project, write_project
from desktop_app.runner.background import run_in_background
from desktop_app.ui.document import Document

LOCK_SUFFIX = ".lock"
SET_ASIDE_SUFFIX = ".bad"

if sys.platform == "win32":
    import msvcrt

    def _lock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # per open file: two windows of one process exclude each other too


def _remove(path: Path) -> None:
    """Delete `path` if it is there; a folder that cannot be reached has nothing to delete."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass  # also: Windows cannot delete an open lock file, and the next start clears it


def default_recovery_folder() -> Path:
    return platformdirs.user_data_path(APP_NAME, ORG_NAME) / "recovery"


def legacy_recovery_file() -> Path:
    """Where versions before per-instance recovery files kept the single one."""
    return platformdirs.user_data_path(APP_NAME, ORG_NAME) / "recovery.dap"


class InstanceLock:
    """An exclusive lock on `path`, held from `acquire` until `release` or the end of the process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another live instance holds it."""
        try:
            f = open(self.path, "a+", encoding="utf-8")
        except OSError:
            return False
        try:
            _lock(f.fileno())
            # Between our open and our lock, a holder may have removed the file (and someone made
            # a new one): a lock on a file no longer at `path` guards nothing.
            if not os.path.samestat(os.fstat(f.fileno()), os.stat(self.path)):
                raise OSError("the lock file was replaced")
            f.seek(0)
            f.truncate()
            f.write(f"{os.getpid()}\n")  # for people looking at the folder; the lock is what counts
            f.flush()
        except OSError:
            f.close()
            return False
        self._file = f
        return True

    def release(self) -> None:
        """Let go of the lock, as the end of the process would; the lock file stays."""
        if self._file is not None:
            self._file.close()
            self._file = None


class RecoveryFile:
    """One recovery file and the lock that says its owner is alive."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = InstanceLock(path.with_suffix(LOCK_SUFFIX))

    def let_go(self) -> None:
        """Keep the file for a later start, and let another instance take it."""
        self.lock.release()

    def forget(self) -> None:
        """Delete the file and its lock file: the work is saved, restored elsewhere, or thrown away."""
        _remove(self.path)
        _remove(self.lock.path)  # while still held, so that no one takes a dying lock
        self.lock.release()

    def set_aside(self) -> Path:
        """Rename an unusable recovery file so that it is never offered again, and let it go."""
        bad = self.path.with_name(self.path.name + SET_ASIDE_SUFFIX)
        try:
            os.replace(self.path, bad)
        except OSError:
            _remove(self.path)
        self.forget()
        return bad


def claim_recovery_file(folder: Path) -> RecoveryFile:
    """A new recovery file for this instance, named by PID and a random token, locked by it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # autosave will say that it cannot write there
    for _ in range(5):
        recovery = RecoveryFile(folder / f"{os.getpid()}-{secrets.token_hex(4)}{PROJECT_EXTENSION}")
        if recovery.lock.acquire():
            return recovery
    return recovery


def orphaned_recovery_files(folder: Path) -> list[RecoveryFile]:
    """The recovery files whose owner died, newest first, each now locked by this instance so that
    no other instance starting at the same time offers it too. Lock files whose owner died
    without leaving a recovery file are removed."""
    try:
        candidates = [p for p in folder.iterdir() if p.suffix in (PROJECT_EXTENSION, LOCK_SUFFIX)]
    except OSError:
        return []
    orphans: dict[Path, tuple[float, RecoveryFile]] = {}
    for path in candidates:
        recovery = RecoveryFile(path.with_suffix(PROJECT_EXTENSION))
        if recovery.path in orphans or not recovery.lock.acquire():
            continue
        try:
            orphans[recovery.path] = (recovery.path.stat().st_mtime, recovery)
        except OSError:  # a lock file alone: its owner ended with nothing to recover
            recovery.forget()
    return [recovery for _, recovery in sorted(orphans.values(), key=lambda item: item[0], reverse=True)]


def move_legacy_recovery_file(legacy: Path, folder: Path) -> None:
    """Bring the single recovery file of older versions into the folder, to be offered like any."""
    if legacy.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            os.replace(legacy, folder / f"legacy-{secrets.token_hex(4)}{PROJECT_EXTENSION}")
        except OSError:
            pass


def read_recovery(path: Path) -> tuple[Project, Path | None]:
    """The recovered project and the file it was the unsaved work of (None: an untitled song).
    Raises MusicFileError naming the reason when the file cannot be used."""
    project = read_project(path)
    original = project.meta.get("recovery_of")
    if original is None:
        return project, None
    if not isinstance(original, str) or not original:
        raise MusicFileError(path, "damaged recovery file: meta.recovery_of must be the path of a file, or null")
    return project, Path(original)


class Autosaver(QObject):
    failed = Signal(str)  # why the recovery file could not be written

    def __init__(self, document: Document, recovery: RecoveryFile, interval_s: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.recovery = recovery
        self._saved_revision = -1
        self._discards = 0  # a write started before a discard must not bring the file back
        self._closed = False
        self._timer = QTimer(self)
        self._timer.setInterval(int(interval_s * 1000))
        self._timer.timeout.connect(self.save_now)
        self._timer.start()

    @property
    def path(self) -> Path:
        return self.recovery.path

    @property
    def folder(self) -> Path:
        return self.recovery.path.parent

    def save_now(self) -> None:
        """Write the recovery file if there is unsaved work it does not hold yet."""
        doc = self.document
        if self._closed or not doc.dirty or doc.revision == self._saved_revision:
            return
        if not self.recovery.lock.held and not self.recovery.lock.acquire():
            self.failed.emit(f"{self.path.parent}: cannot create a recovery file there")
            return
        revision = doc.revision
        meta = {"recovery_of": str(doc.path)} if doc.path else {}  # no entry: an untitled song
        project = Project(doc.song, dict(doc.view_state), meta)
        path, discards = self.path, self._discards

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)  # in case someone removed the folder
            write_project(project, path)

        def saved(_result: object) -> None:
            if discards != self._discards:
                _remove(path)
            else:
                self._saved_revision = revision

        run_in_background(write, saved, lambda e: self.failed.emit(str(e)), owner=self)

    def adopt(self, recovery: RecoveryFile) -> None:
        """Carry on in a dead instance's recovery file, whose work this window restored: it stays
        on disk until the work is saved or thrown away."""
        self.recovery.forget()
        self.recovery = recovery
        self._saved_revision = -1

    def discard(self) -> None:
        """Forget the recovery file: the work was saved or deliberately thrown away."""
        _remove(self.path)
        self._saved_revision = -1
        self._discards += 1

    def stop(self) -> None:
        self._timer.stop()

    def close(self) -> None:
        """The instance ends cleanly: nothing is left to recover."""
        self.stop()
        self._closed = True
        self.recovery.forget()
