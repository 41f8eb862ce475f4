"""Check of a claimed level of evidence against the designs of the studies pooled.

The OCEBM 2011 table for treatment benefits puts a systematic review of randomised trials at level
1, a randomised trial at 2, a non-randomised controlled cohort study at 3 and case series,
single-arm, case-control and historically controlled studies at 4. A pool of studies none of which
is randomised can therefore not be level 1: its level is at best that of its best design. The
designs are the ``design`` statistics of the text, else every spelling of
:data:`metapool.evidence.designs.DESIGNS` found in it; any randomised design found makes level 1
possible (the check never guesses a design away).

References
----------
OCEBM Levels of Evidence Working Group (2011). The Oxford 2011 Levels of Evidence. Oxford Centre
for Evidence-Based Medicine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..evidence.designs import DESIGNS, Design, normalise, parse_design
from ..exceptions import MetapoolError
from .context import Context, finding
from .model import Finding, Statistic

__all__ = ["check_evidence_level", "claimed_level", "designs_in"]

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5}
_LEVEL = re.compile(r"\blevel(?:\s+of\s+evidence)?\s*[:=]?\s*(iv|v|i{1,3}|[1-5])\s*([abc])?\b", re.IGNORECASE)

#: Every design spelling, normalised, longest first (so "non randomized" is read before "randomized").
_SPELLINGS = sorted(((normalise(s), d) for d in DESIGNS.values() for s in d.spellings if normalise(s)),
                    key=lambda item: -len(item[0]))


def claimed_level(stat: Statistic) -> int | None:
    """The level number a statistic claims (``"level 1a"`` → 1, ``"Level IV"`` → 4), or None."""
    if stat.value is not None and float(stat.value).is_integer():
        return int(stat.value)
    match = _LEVEL.search(stat.quote)
    if match is None:
        return None
    word = match.group(1).lower()
    return _ROMAN.get(word) or int(word)


def designs_in(ctx: Context) -> set[Design]:
    """The designs the text names: its ``design`` statistics, else the design spellings in its words."""
    found = set()
    for stat in ctx.kind("design"):
        for text in (stat.label, stat.quote):
            try:
                found.add(parse_design(text or ""))
                break
            except MetapoolError:
                continue
    if found:
        return found
    words = f" {normalise(ctx.text)} "
    for spelling, design in _SPELLINGS:
        pattern = f" {spelling} "
        if pattern in words:
            found.add(design)
            words = words.replace(pattern, " | ")
    return found


def check_evidence_level(ctx: Context) -> Iterator[Finding]:
    """A claimed evidence level is not better than the designs pooled allow (OCEBM 2011)."""
    key = "evidence_level"
    claims = [(s, claimed_level(s)) for s in ctx.kind("evidence_level")]
    claims = [(s, level) for s, level in claims if level is not None]
    if not claims:
        return
    designs = designs_in(ctx)
    names = ", ".join(sorted(d.plural for d in designs))
    best = 1 if any(d.randomised for d in designs) else min((d.ocebm_level for d in designs), default=None)
    for stat, level in claims:
        if best is None:
            yield finding(stat, key, "cannot_check",
                          "The text does not name the designs of the studies pooled, so the level cannot be checked.")
        elif level < best:
            yield finding(stat, key, "flag",
                          f"Level {level} is claimed for a pool of {names}, which OCEBM 2011 rates at level {best} at "
                          f"best (level 1 needs randomised trials): correct the level.",
                          f"level {best} (OCEBM 2011)")
        else:
            yield finding(stat, key, "pass", f"Level {level} is possible for a pool of {names} (OCEBM 2011).")
