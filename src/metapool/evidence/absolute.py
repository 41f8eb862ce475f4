"""Absolute effects of a comparative binary outcome: risks per 1,000 with and without the intervention.

The assumed control risk (ACR) is the median of the included studies' control
group risks (events / patients in group 2, metafor's ``ci / n2i``), or the
risk the analysis file gives (outcome key ``control_risk``). The corresponding
intervention risk follows from the pooled relative effect and each limit of
its CI (Cochrane Handbook 14.1.5 and 15.4.4; Guyatt 2013, GRADE guidelines 12):

- odds ratio (incl. Mantel-Haenszel and Peto): ``ACR·OR / (1 − ACR + ACR·OR)``
- risk ratio: ``ACR·RR`` (at most 1)
- risk difference: ``ACR + RD`` (kept within 0 and 1)

and the difference is intervention minus control risk; for a risk difference
it is the pooled RD itself (applied directly, also where ``ACR + RD`` leaves
0-1 and the risk is kept at the limit). Values are fractions;
"per 1,000" is a presentation of them (``1000 × risk``).

References
----------
Higgins JPT et al., eds. Cochrane Handbook for Systematic Reviews of Interventions, sections 14.1.5, 15.4.4.
Guyatt GH et al. (2013). GRADE guidelines 12: preparing summary of findings tables - binary outcomes.
J Clin Epidemiol 66:158-172.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["ABSOLUTE_MEASURES", "AbsoluteEffect", "absolute_effect", "corresponding_risk", "median_control_risk"]

#: Measures (or MH/Peto measure codes) with absolute effects: their natural-scale relative effect.
ABSOLUTE_MEASURES = {"OR": "odds ratio", "PETO": "odds ratio", "RR": "risk ratio", "RD": "risk difference"}


def corresponding_risk(measure: str, control_risk: float, effect: float) -> float:
    """The intervention-group risk at ``control_risk`` for a natural-scale ``effect`` (module docstring)."""
    acr = float(control_risk)
    if ABSOLUTE_MEASURES[measure] == "odds ratio":
        return acr * effect / (1 - acr + acr * effect)
    if measure == "RR":
        return min(acr * effect, 1.0)
    return min(max(acr + effect, 0.0), 1.0)


def median_control_risk(events, totals) -> tuple[float | None, int]:
    """Median of the control groups' risks ``events / totals`` over studies with both finite and ``totals > 0``.

    Returns the median (None when no study has one) and the number of studies it is taken over.
    """
    e, n = np.asarray(events, dtype=float), np.asarray(totals, dtype=float)
    ok = np.isfinite(e) & np.isfinite(n) & (n > 0)
    if not ok.any():
        return None, 0
    return float(np.median(e[ok] / n[ok])), int(ok.sum())


@dataclass(frozen=True)
class AbsoluteEffect:
    """Absolute effect of a comparative binary outcome (fractions; per 1,000 = 1000 × value).

    Attributes
    ----------
    measure
        The relative measure (OR, RR, RD, PETO).
    control_risk
        Assumed control risk.
    control_source
        ``"median"`` (of ``control_studies`` control groups) or ``"given"``.
    risk, risk_lower, risk_upper
        Corresponding intervention risk at the pooled effect and its CI limits.
    difference, difference_lower, difference_upper
        Intervention minus control risk (for RD the pooled RD and its CI).
    level
        Level of the CI (fraction).
    """

    measure: str
    control_risk: float
    control_source: str
    control_studies: int
    risk: float
    risk_lower: float
    risk_upper: float
    difference: float
    difference_lower: float
    difference_upper: float
    level: float

    def per_1000(self) -> dict:
        """The values per 1,000 patients (unrounded), as the summary of findings shows them."""
        return {"control": 1000 * self.control_risk, "intervention": 1000 * self.risk,
                "intervention_lower": 1000 * self.risk_lower, "intervention_upper": 1000 * self.risk_upper,
                "difference": 1000 * self.difference, "difference_lower": 1000 * self.difference_lower,
                "difference_upper": 1000 * self.difference_upper}

    def to_dict(self) -> dict:
        return {"measure": self.measure, "control_risk": self.control_risk, "control_source": self.control_source,
                "control_studies": self.control_studies, "risk": self.risk, "risk_lower": self.risk_lower,
                "risk_upper": self.risk_upper, "difference": self.difference,
                "difference_lower": self.difference_lower, "difference_upper": self.difference_upper,
                "level": self.level, "per_1000": self.per_1000()}


def absolute_effect(measure: str, effect: Sequence[float], level: float, control_risk: float | None = None,
                    control_events=None, control_totals=None) -> AbsoluteEffect | None:
    """Absolute effect of a pooled relative ``effect`` = (estimate, lower, upper) on the natural scale.

    Parameters
    ----------
    measure
        OR, RR, RD or PETO (else None is returned).
    effect
        Pooled estimate and CI limits on the natural scale (OR, not log OR).
    level
        Level of the CI (fraction).
    control_risk
        A given assumed control risk; else the median of ``control_events /
        control_totals`` (:func:`median_control_risk`).

    Returns None when the measure has no absolute effect, or no control risk is available.
    """
    if measure not in ABSOLUTE_MEASURES or not all(math.isfinite(x) for x in effect):
        return None
    if control_risk is not None:
        acr, source, k = float(control_risk), "given", 0
    else:
        acr, k = median_control_risk(control_events if control_events is not None else [],
                                     control_totals if control_totals is not None else [])
        source = "median"
        if acr is None:
            return None
    est, lo, hi = (corresponding_risk(measure, acr, x) for x in effect)
    diff = effect if measure == "RD" else (est - acr, min(lo, hi) - acr, max(lo, hi) - acr)
    return AbsoluteEffect(measure, acr, source, k, est, lo, hi, *(float(x) for x in diff), float(level))
