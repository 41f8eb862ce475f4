"""What a written number stands for: the interval of values that round to it.

A number written with ``d`` decimals stands for every value within half a unit of its last digit,
on the scale it is written on: ``26%`` for 25.5% to 26.5%, ``0.260`` for 0.2595 to 0.2605. A check
of reported numbers flags only when no values inside these intervals satisfy it, so a statement
rounded correctly is never flagged for its rounding. The checks evaluate their rules at the corners
of these boxes through monotone transformations (interval arithmetic).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Box", "written_decimals", "box", "written"]


@dataclass(frozen=True)
class Box:
    """The closed interval ``[lo, hi]`` of values a written number may stand for (natural scale)."""

    lo: float
    hi: float

    @property
    def mid(self) -> float:
        """The number as written."""
        return 0.5 * (self.lo + self.hi)

    def clip(self, lo: float = -math.inf, hi: float = math.inf) -> Box:
        """The box restricted to ``[lo, hi]`` (a proportion to [0, 1])."""
        return Box(max(self.lo, lo), min(self.hi, hi))

    def contains(self, x: float) -> bool:
        """Whether ``x`` rounds to the written number."""
        return self.lo <= x <= self.hi

    def overlaps(self, other: Box) -> bool:
        """Whether some value lies in both boxes."""
        return self.lo <= other.hi and other.lo <= self.hi


def written_decimals(x: float) -> int:
    """Decimals of a number as a parser stored it (``0.032`` → 3, ``2e-05`` → 5, ``12.0`` → 0).

    Used where the data model keeps no decimals (p-values, Q): a trailing zero that was written
    (``p = 0.10``) is lost, which only widens the allowance (half a unit of 0.1 instead of 0.01).
    """
    exponent = Decimal(repr(round(float(x), 12))).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def box(value: float, decimals: int | None, percent: bool = False) -> Box:
    """The values that round to ``value`` written with ``decimals`` decimals.

    Parameters
    ----------
    value
        The number on its natural scale (a percentage as a fraction).
    decimals
        Decimals as written on the written scale (``26%`` → 0); None reads them from ``value``.
    percent
        Written as a percentage: the half unit is on the percent scale.
    """
    scale = 100.0 if percent else 1.0
    d = written_decimals(value * scale) if decimals is None else decimals
    half = 0.5 * 10.0 ** (-d) / scale
    return Box(value - half, value + half)


def written(value: float, decimals: int | None, percent: bool = False) -> str:
    """A value as it would be written with the same decimals (``0.2812, 0, True`` → ``"28%"``)."""
    scale = 100.0 if percent else 1.0
    d = written_decimals(value * scale) if decimals is None else decimals
    return f"{value * scale:.{d}f}{'%' if percent else ''}"
