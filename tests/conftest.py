"""Shared test set-up: Qt offscreen, user folders in a temporary place, and a main window whose
dialogs are answered by the test instead of a person."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Before Qt or platformdirs look: no display needed, and nothing touches the real home folder.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_home = Path(tempfile.mkdtemp(prefix="desktop-app-tests-"))
for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
    os.environ[var] = str(_home / var.lower())

import pytest  # noqa: E402

from desktop_app.music.note import Note  # noqa: E402
from desktop_app.music.song import Song  # noqa: E402
from desktop_app.music.track import Track  # noqa: E402


@pytest.fixture
def small_song() -> Song:
    return Song(
        tracks=(
            Track(name="Lead", program=0, channel=0, notes=(Note(60, 0, 480, 100), Note(64, 480, 240, 90))),
            Track(name="Bass", program=32, channel=1, notes=(Note(36, 0, 960, 80),)),
        ),
        title="small",
    )
