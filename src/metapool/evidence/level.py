"""An outcome's evidence level (OCEBM 2011) and GRADE starting certainty, from its studies' designs.

Rules, for the studies an outcome analysed (each row counted once, with its
design from :mod:`~metapool.evidence.designs`):

- A design not stated for any of them: the level is "not stated" and GRADE's
  start "not assessed"; nothing is guessed.
- A two-group outcome (OR, RR, RD, MD, SMD, ROM, Peto, ratios such as hazard
  ratios, Mantel-Haenszel and Peto fits) is level 1 when every study is
  randomised (OCEBM 2011: "systematic review of randomized trials"), else the
  level of its weakest design (a review cannot be stronger than the studies it
  pools for that comparison); mixed designs are named with their counts.
- A single-group outcome (proportions, rates, means, medians) makes no
  comparison: it is level 4, as a case series, whatever the studies' design;
  when the studies are controlled the text says that the result comes from one
  of their arms.
- A generic effect (``yi`` with ``vi``/``sei``) or a correlation does not say
  whether it compares two groups: the level is not assigned.

GRADE starts a body of randomised trials at high and of observational studies
at low (Balshem 2011); a mixed body starts at its lowest design, and a
single-group result starts low (randomisation protects only comparisons).

References
----------
OCEBM Levels of Evidence Working Group (2011). The Oxford 2011 Levels of Evidence.
Balshem H et al. (2011). GRADE guidelines: 3. Rating the quality of evidence.
J Clin Epidemiol 64:401-406.
Schünemann H et al., eds. (2013). GRADE Handbook, section 5.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ..effect_sizes.registry import MEASURES
from .designs import DESIGNS

__all__ = ["Comparison", "NOT_STATED", "comparison_of", "EvidenceLevel", "evidence_level", "Start", "grade_start"]

#: What an outcome's measure compares.
Comparison = Literal["two-group", "single-group", "unspecified"]
#: Key of the studies whose design is not stated, in design counts.
NOT_STATED = "not stated"

_TWO_GROUP_FAMILIES = {"binary", "continuous"}
_ONE_GROUP_FAMILIES = {"single", "rate", "mean"}
_HOW_TO_STATE = "give a design column or design_default in the analysis file"


def comparison_of(kind: str, measure: str | None, method: str | None = None) -> Comparison:
    """Whether an outcome compares two groups, from its kind, measure and model.

    Mantel-Haenszel and Peto fits, the binary and continuous measures and
    ratios given with their CIs (``LNR``, e.g. hazard ratios) compare two
    groups; proportions, rates, means, reported survival proportions (``PCI``)
    and medians describe one; generic effects and correlations do not say.
    """
    if method in ("MH", "PETO"):
        return "two-group"
    if kind == "median":
        return "single-group"
    entry = MEASURES.get(measure or "")
    if entry is None:
        return "unspecified"
    if entry.family in _TWO_GROUP_FAMILIES or entry.code == "LNR":
        return "two-group"
    if entry.family in _ONE_GROUP_FAMILIES or entry.code == "PCI":
        return "single-group"
    return "unspecified"


def _count(code: str, n: int) -> str:
    design = DESIGNS[code]
    return f"{n} {design.name if n == 1 else design.plural}"


def _mix(stated: Mapping[str, int]) -> str:
    """The designs with their counts, strongest first ("12 randomised controlled trials, 4 ...")."""
    order = sorted(stated, key=lambda c: (DESIGNS[c].ocebm_level, -stated[c], c))
    return ", ".join(_count(c, stated[c]) for c in order)


@dataclass(frozen=True)
class EvidenceLevel:
    """The evidence level of one outcome (or a summary of several).

    Attributes
    ----------
    level
        OCEBM 2011 level, None when not stated or not assigned.
    label
        "Level 3 (OCEBM 2011)", "Level not stated", ...
    explanation
        The rule applied, in words ("systematic review of randomised trials").
    designs
        The designs with their counts ("12 randomised controlled trials, 4
        non-randomised controlled studies"); empty when not stated.
    """

    level: int | None
    label: str
    explanation: str
    designs: str = ""

    @property
    def text(self) -> str:
        return f"{self.label}: {self.explanation}" + (f" ({self.designs})" if self.designs else "")

    def to_dict(self) -> dict:
        return {"level": self.level, "label": self.label, "explanation": self.explanation,
                "designs": self.designs, "text": self.text}


def _split(designs: Mapping[str, int]) -> tuple[dict, int, int]:
    stated = {c: int(n) for c, n in designs.items() if c != NOT_STATED and n}
    missing = int(designs.get(NOT_STATED, 0))
    return stated, missing, missing + sum(stated.values())


def _not_stated(missing: int, total: int) -> str:
    which = "any study" if missing == total else f"{missing} of {total} studies"
    return f"the study design is not stated for {which} ({_HOW_TO_STATE})"


def evidence_level(designs: Mapping[str, int], comparison: Comparison) -> EvidenceLevel:
    """OCEBM 2011 level of a pooled outcome (see the module docstring for the rules).

    Parameters
    ----------
    designs
        Design code (a key of :data:`~metapool.evidence.designs.DESIGNS`, or
        :data:`NOT_STATED`) to the number of analysed studies with it.
    comparison
        What the outcome's measure compares (:func:`comparison_of`).
    """
    stated, missing, total = _split(designs)
    if missing or not total:
        return EvidenceLevel(None, "Level not stated", _not_stated(missing, total) if total else "no studies")
    mix = _mix(stated)
    if comparison == "unspecified":
        return EvidenceLevel(None, "Level not assigned", "generic effects do not say whether they compare two groups",
                             mix)
    if comparison == "single-group":
        if any(DESIGNS[c].concurrent_control for c in stated):
            why = ("single-group results taken from one arm of controlled studies; they make no comparison, so the"
                   " studies' controlled design does not raise the level (as a case series)")
        else:
            why = "case series: single-group results without a comparison group"
        return EvidenceLevel(4, "Level 4 (OCEBM 2011)", why, mix)
    if all(DESIGNS[c].randomised for c in stated):
        return EvidenceLevel(1, "Level 1 (OCEBM 2011)", "systematic review of randomised trials", mix)
    level = max(DESIGNS[c].ocebm_level for c in stated)
    if len(stated) > 1:
        why = f"systematic review of mixed designs; level {level}, that of the weakest design"
    else:
        why = f"systematic review of {DESIGNS[next(iter(stated))].plural}"
    if any(not DESIGNS[c].concurrent_control for c in stated):
        why += ", including studies without a concurrent control group"
    return EvidenceLevel(level, f"Level {level} (OCEBM 2011)", why, mix)


@dataclass(frozen=True)
class Start:
    """GRADE starting certainty of an outcome: "high", "low" or None (not assessed), with its reason."""

    certainty: str | None
    reason: str


def grade_start(designs: Mapping[str, int], comparison: Comparison) -> Start:
    """GRADE's starting certainty from the analysed studies' designs (Balshem 2011).

    Randomised trials start high, observational studies low; a mix starts at
    its lowest design, a single-group result low; undeclared designs or
    comparisons are not assessed.
    """
    stated, missing, total = _split(designs)
    if missing or not total:
        return Start(None, "not assessed: " + (_not_stated(missing, total) if total else "no studies"))
    if comparison == "unspecified":
        return Start(None, "not assessed: generic effects do not say whether they compare two groups")
    observational = sum(n for c, n in stated.items() if not DESIGNS[c].randomised)
    if comparison == "single-group":
        if not observational:
            return Start("low", "starts low: a single-group result from one arm of randomised trials;"
                                " randomisation protects only the comparison between arms")
        return Start("low", "starts low: single-group results make no comparison between groups")
    if not observational:
        return Start("high", "starts high: randomised trials")
    if observational < total:
        return Start("low", f"starts low: {observational} of {total} studies are observational"
                            f" ({_mix(stated)}); a body of evidence starts at its lowest design")
    return Start("low", "starts low: observational studies")
