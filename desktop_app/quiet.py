"""Keeping a headless command's stderr to the one line it means to print: music21's warnings,
FluidSynth's log and any other library chatter are dropped while the command runs."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings
from typing import Iterator


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Drop Python warnings and everything written to stderr, by Python code or by C libraries
    (which write to file descriptor 2 directly), until the block ends. An exception leaving the
    block is reported after stderr is back."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
