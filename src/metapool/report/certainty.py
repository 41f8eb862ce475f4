"""A GRADE-style certainty suggestion, derived from the analysis.

These are *suggestions* for the review team, with their reasons; certainty of
evidence is a judgement the team makes (Guyatt et al. 2008). The starting
point comes from the analysed studies' designs
(:func:`metapool.evidence.level.grade_start`); without stated designs the
certainty is "not assessed", never guessed.

References
----------
Guyatt GH et al. (2008). GRADE: an emerging consensus on rating quality of
evidence and strength of recommendations. BMJ 336:924-926.
Balshem H et al. (2011). GRADE guidelines: 3. Rating the quality of evidence.
J Clin Epidemiol 64:401-406.
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
#: Start and rating when the studies' designs are not stated.
NOT_ASSESSED = "not assessed"


def is_proportion(model) -> bool:
    """Whether a model's natural scale is a proportion (shown in percent)."""
    from ..effect_sizes import MEASURES

    measure = MEASURES.get(getattr(model, "measure", None) or "")
    return measure is not None and measure.natural == "proportion"


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
    """Suggest a GRADE certainty for one :class:`~metapool.analysis.OutcomeResult`.

    The downgrades are listed even when the start is not assessed (designs
    not stated); the rating is then "not assessed" too.
    """
    begin = outcome.certainty_start
    start = LEVELS.index(begin.certainty) if begin.certainty is not None else None
    reasons = [begin.reason]
    level = 0 if start is None else start
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
    if start is None:
        return Certainty(NOT_ASSESSED, NOT_ASSESSED, tuple(reasons))
    return Certainty(LEVELS[start], LEVELS[max(level, 0)], tuple(reasons))
