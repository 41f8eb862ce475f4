"""The registry of effect measures: one entry per measure code.

The command line's choices, the documentation tables and the report's
methods text are all generated from :data:`MEASURES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .._validation import check_choice

__all__ = ["Measure", "FAMILIES", "MEASURES", "register", "get_measure"]

#: Input roles of each data family: required roles, and alternatives.
FAMILIES: dict[str, str] = {
    "single": "one group with events xi out of ni (or xi events and mi non-events)",
    "binary": "two groups with events ai, ci out of n1i, n2i (or 2x2 cells ai, bi, ci, di)",
    "continuous": "two groups with means m1i, m2i, SDs sd1i, sd2i and sizes n1i, n2i",
    "rate": "one group with events xi over person-time ti",
    "mean": "one group with mean meani, SD sdi and size ni",
    "correlation": "one correlation coefficient ri from ni pairs",
    "generic": "precomputed estimates yi with variances vi or standard errors sei",
}


@dataclass(frozen=True)
class Measure:
    """One effect measure.

    Attributes
    ----------
    code
        metafor's measure code (``"PLO"``).
    name
        Display name.
    family
        Data family (a key of :data:`FAMILIES`).
    scale
        Name of the analysis scale (``"log odds"``).
    natural
        Name of the natural-scale quantity after back-transformation.
    back
        Code of the back-transformation in
        :data:`metapool.effect_sizes.transforms.TRANSFORMS`.
    compute
        ``compute(cells) -> (yi, vi)`` on already corrected cells.
    add_default
        Default continuity correction added to cells under ``to="only0"``
        (metafor adds 1/2 for measures that are undefined with zero cells and
        nothing for those that are not).
    reference
        Citation of the definition.
    positive
        Input roles that must be > 0 for this measure (e.g. the means of a
        ratio of means, whose log is taken); checked row by row by escalc.
    undefined
        Why a study can have no estimate (shown in the exclusion's reason).
    """

    code: str
    name: str
    family: str
    scale: str
    natural: str
    back: str
    compute: Callable | None
    add_default: float
    reference: str
    positive: tuple = ()
    undefined: str = "zero cell without a continuity correction"


MEASURES: dict[str, Measure] = {}


def register(measure: Measure) -> Measure:
    """Add ``measure`` to :data:`MEASURES` (codes are unique)."""
    if measure.code in MEASURES:
        raise ValueError(f"measure {measure.code} registered twice")
    MEASURES[measure.code] = measure
    return measure


def get_measure(code: str, owner: str = "escalc") -> Measure:
    """Look up a measure by code (case-insensitive) with a uniform error."""
    return MEASURES[check_choice(owner, "measure", code, MEASURES)]
