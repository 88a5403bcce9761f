"""The one error type for files the app cannot read or write."""

from __future__ import annotations

import os


class MusicFileError(Exception):
    """A file could not be read or written; `path` names it and `reason` says why in plain words."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
