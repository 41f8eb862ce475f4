"""Evidence level and a GRADE-style certainty suggestion, derived from the analysis.

These are *suggestions* for the review team, with their reasons; certainty of
evidence is a judgement the team makes (Guyatt et al. 2008).

Evidence level follows the Oxford 2011 Levels of Evidence for treatment
benefits: systematic reviews of randomised trials are level 1, of
non-randomised controlled studies level 3, of uncontrolled single-arm cohorts
(case series) level 4.

References
----------
Guyatt GH et al. (2008). GRADE: an emerging consensus on rating quality of
evidence and strength of recommendations. BMJ 336:924-926.
OCEBM Levels of Evidence Working Group (2011). The Oxford 2011 Levels of Evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..formatting.numbers import fmt_level, fmt_p_clinical, fmt_percent, fmt_percents

#: I^2 (%) from which inconsistency is judged serious.
I2_SERIOUS = 75.0
#: Width (natural scale) of a proportion's CI (at the outcome's level) from which imprecision is serious.
CI_WIDTH_SERIOUS = 0.20
#: Patients below which an estimate is judged imprecise (optimal information size heuristic).
N_SERIOUS = 400
#: Studies needed before small-study-effect tests are interpreted.
K_BIAS_TESTS = 10
#: Share of high risk-of-bias studies from which risk of bias is serious.
HIGH_ROB_SHARE = 0.5

LEVELS = ("very low", "low", "moderate", "high")

_RANDOMISED = ("random", "rct")
_CONTROLLED = ("controlled", "cohort comparison", "case-control", "comparative")


def study_type(design: str) -> str:
    """Classify a design label: "randomised", "controlled" or "single-arm"."""
    text = design.lower()
    if any(w in text for w in _RANDOMISED):
        return "randomised"
    if any(w in text for w in _CONTROLLED):
        return "controlled"
    return "single-arm"


def is_proportion(model) -> bool:
    """Whether a model's natural scale is a proportion (shown in percent)."""
    from ..effect_sizes import MEASURES

    measure = MEASURES.get(getattr(model, "measure", None) or "")
    return measure is not None and measure.natural == "proportion"


@dataclass(frozen=True)
class EvidenceLevel:
    level: int
    text: str


def evidence_level(designs: dict, comparative: bool) -> EvidenceLevel:
    """OCEBM 2011 level of a systematic review of studies with these designs."""
    types = {study_type(d) for d in designs} or {"single-arm"}
    if types == {"randomised"}:
        return EvidenceLevel(1, "Level 1 (OCEBM 2011): systematic review of randomised trials")
    if comparative and "single-arm" not in types:
        return EvidenceLevel(3, "Level 3 (OCEBM 2011): systematic review including non-randomised controlled studies")
    return EvidenceLevel(
        4, "Level 4 (OCEBM 2011): pooled uncontrolled single-arm cohorts (case series); no comparison group"
    )


@dataclass(frozen=True)
class Certainty:
    """A suggested GRADE certainty with the reasons for each downgrade."""

    start: str
    rating: str
    reasons: tuple

    def to_dict(self) -> dict:
        return {"start": self.start, "suggested": self.rating, "reasons": list(self.reasons),
                "note": "suggestion for the review team, not a final GRADE judgement"}


def suggest_certainty(outcome) -> Certainty:
    """Suggest a GRADE certainty for one :class:`~metapool.analysis.OutcomeResult`."""
    types = {study_type(d) for d in outcome.designs} or {"single-arm"}
    start = 3 if types == {"randomised"} else 1
    reasons = []
    if start == 1:
        reasons.append("starts low: observational / single-arm evidence")
    level = start
    model = outcome.model
    i2 = getattr(model, "i2", None)
    if i2 is not None and i2 == i2 and i2 >= I2_SERIOUS:
        level -= 1
        reasons.append(f"inconsistency: I² = {fmt_percent(i2)} (≥ {I2_SERIOUS:.0f}%)")
    pooled = outcome.pooled
    proportion = is_proportion(model)
    if pooled is not None and proportion and pooled.ci_upper - pooled.ci_lower > CI_WIDTH_SERIOUS:
        level -= 1
        width = fmt_percents((pooled.ci_upper - pooled.ci_lower,))[0]
        reasons.append(f"imprecision: {fmt_level(pooled.level)} CI spans {width} percentage points")
    elif outcome.n_patients is not None and outcome.n_patients < N_SERIOUS:
        level -= 1
        reasons.append(f"imprecision: {outcome.n_patients} patients (< {N_SERIOUS})")
    bias = outcome.bias
    egger = getattr(bias, "results", {}).get("egger") if bias is not None else None
    if egger is not None and outcome.k >= K_BIAS_TESTS and egger.pvalue < 0.10:
        level -= 1
        reasons.append(f"publication bias suspected: Egger's test {fmt_p_clinical(egger.pvalue)}")
    elif outcome.k < K_BIAS_TESTS:
        reasons.append(f"publication bias not assessable: fewer than {K_BIAS_TESTS} studies")
    rob = outcome.risk_of_bias
    if rob:
        high = sum(n for label, n in rob.items() if "high" in label.lower())
        if high / sum(rob.values()) >= HIGH_ROB_SHARE:
            level -= 1
            reasons.append(f"risk of bias: {high} of {sum(rob.values())} studies at high risk")
    return Certainty(LEVELS[start], LEVELS[max(level, 0)], tuple(reasons))
