"""Snap grids: note divisions from 1/1 to 1/64, triplets, off, and an adaptive grid that
follows zoom. Pure tick arithmetic shared by the editor and the models."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

ADAPTIVE = "adaptive"
OFF = "off"
DIVISIONS = ("1/1", "1/2", "1/4", "1/8", "1/16", "1/32", "1/64", "1/4T", "1/8T", "1/16T", "1/32T")
CHOICES = (ADAPTIVE, *DIVISIONS, OFF)
DEFAULT = "1/16"


def division_ticks(division: str, ppq: int) -> Fraction:
    """Length of one grid step in ticks (exact): '1/16' at 480 PPQ is 120, '1/8T' is 160."""
    triplet = division.endswith("T")
    denominator = int(division.rstrip("T").split("/")[1])
    step = Fraction(4 * ppq, denominator)
    return step * Fraction(2, 3) if triplet else step


def adaptive_division(ppq: int, ticks_per_px: float, min_px: float = 12.0) -> str:
    """The finest straight division whose steps are at least `min_px` pixels apart."""
    for division in reversed(DIVISIONS[:7]):
        if float(division_ticks(division, ppq)) / ticks_per_px >= min_px:
            return division
    return "1/1"


@dataclass(frozen=True)
class Snap:
    """A snap setting resolved for a song and zoom. `step` is None when snapping is off."""

    step: Fraction | None

    @staticmethod
    def resolve(choice: str, ppq: int, ticks_per_px: float) -> "Snap":
        if choice == OFF:
            return Snap(None)
        division = adaptive_division(ppq, ticks_per_px) if choice == ADAPTIVE else choice
        return Snap(division_ticks(division, ppq))

    def floor(self, tick: float) -> int:
        """The grid line at or before `tick` (used where a click lands)."""
        if self.step is None:
            return int(tick)
        return int(Fraction(int(tick)) // self.step * self.step)

    def round(self, tick: float) -> int:
        """The nearest grid line (used for drags)."""
        if self.step is None:
            return int(round(tick))
        return int(round(Fraction(tick).limit_denominator(1 << 20) / self.step) * self.step)

    def delta(self, delta_ticks: float) -> int:
        """A drag distance rounded to whole grid steps."""
        return self.round(delta_ticks)

    @property
    def ticks(self) -> int:
        """One step in whole ticks (1 with snapping off): nudge distance, new note length unit."""
        return max(1, int(round(self.step))) if self.step is not None else 1
