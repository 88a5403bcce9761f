"""Find a General MIDI SoundFont: the one chosen in settings, else the first in the standard
places of Linux, macOS and Windows, else one dropped into resources/soundfonts/."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from desktop_app.resources import RESOURCES_DIR

SOUNDFONT_EXTENSIONS = (".sf2", ".sf3")


def standard_places() -> list[Path]:
    home = Path.home()
    places = [
        Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
        Path("/usr/share/sounds/sf2/default-GM.sf2"),
        Path("/usr/share/sounds/sf3/default-GM.sf3"),
        Path("/usr/share/soundfonts/default.sf2"),
        Path("/usr/share/soundfonts/FluidR3_GM.sf2"),
        Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
        Path("/usr/local/share/soundfonts/default.sf2"),
        home / ".local/share/soundfonts",
        home / ".fluidsynth/default_sound_font.sf2",
        RESOURCES_DIR / "soundfonts",
    ]
    if sys.platform == "darwin":
        places += [Path("/opt/homebrew/share/soundfonts"), Path("/usr/local/share/fluid-synth/sf2"),
                   home / "Library/Audio/Sounds/Banks"]
    if sys.platform == "win32":
        places += [Path(os.environ.get("PROGRAMDATA", "C:/ProgramData")) / "soundfonts"]
    return places


def find_soundfont(chosen: str | os.PathLike[str] | None = None) -> Path | None:
    """The SoundFont to use: `chosen` when it exists, else the first one found in a standard place."""
    if chosen and Path(chosen).is_file():
        return Path(chosen)
    for place in standard_places():
        if place.is_file() and place.suffix.lower() in SOUNDFONT_EXTENSIONS:
            return place
        if place.is_dir():
            found = sorted(p for p in place.iterdir() if p.suffix.lower() in SOUNDFONT_EXTENSIONS)
            if found:
                return found[0]
    return None
