"""What long work tells the user: the time left, from a moving average of the time each unit took
(steady under the occasional slow step, quick to follow a real change of pace), and why it failed,
in one line."""

from __future__ import annotations

import math

from desktop_app.music.errors import MusicFileError


class Eta:
    """Feed it the seconds each unit of work took; ask it how long the rest will take."""

    def __init__(self, smoothing: float = 0.1) -> None:
        self.smoothing = smoothing
        self.seconds_per_unit: float | None = None

    def add(self, seconds: float, units: int = 1) -> None:
        """Record that `units` of work took `seconds`."""
        if units <= 0:
            return
        per_unit = seconds / units
        if self.seconds_per_unit is None:
            self.seconds_per_unit = per_unit
        else:
            self.seconds_per_unit += self.smoothing * (per_unit - self.seconds_per_unit)

    def remaining(self, units_left: int) -> float:
        """Seconds for `units_left` more units; NaN before the first one is measured."""
        if self.seconds_per_unit is None:
            return math.nan
        return self.seconds_per_unit * max(units_left, 0)


def format_seconds(seconds: float) -> str:
    """'1:02:03', '2:03' or '--:--' when unknown: for progress bars and status lines."""
    if not math.isfinite(seconds):
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def one_line(error: BaseException) -> str:
    """An exception as the one line a user reads; unexpected kinds of error keep their type's name."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    if isinstance(error, (ValueError, OSError, MusicFileError)) and text:
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
