"""GRADE certainty of one outcome: the five domains, the start from the designs, the final rating.

Each domain is judged "not serious", "serious" or "very serious" (one or two
levels down), or "not assessed" when the data or the analysis file do not
allow it; a domain not assessed never counts as "not serious" and is named
beside the rating. The rules below are this tool's operational reading of the
GRADE guidance; every threshold is a module constant, reported with the
numbers behind each judgement (:attr:`Domain.numbers`). The texts a reader
sees (footnotes, the one-line reason, informative statements) are written
from these results by :mod:`metapool.report.certainty`.

Risk of bias (GRADE handbook 5.2.1; Guyatt 2011, GRADE guidelines 4)
    Each study's overall judgement (column ``risk_of_bias``: low / some
    concerns / high, spellings of
    :data:`~metapool.evidence.risk_of_bias.SPELLINGS`) weighted by the study's weight in the
    pooled model. Very serious when studies at high risk carry at least
    :data:`ROB_VERY_SERIOUS_HIGH` of the weight; serious when studies at high
    risk or with some concerns carry at least :data:`ROB_SERIOUS_NOT_LOW`
    (most of the information is not from studies at low risk). A study
    with no information counts with "some concerns". No column, no
    judgement at all, or a value not in the vocabulary: not assessed.
Inconsistency (Guyatt 2011, GRADE guidelines 7)
    Not serious when I² < :data:`I2_SUBSTANTIAL` (Cochrane Handbook 10.10.2:
    50% may be substantial). Otherwise two signals are counted: the
    prediction interval (Riley 2011) includes the null or a user threshold
    (a decision would differ across settings), and the studies' confidence
    intervals do not all overlap. Serious with one signal; very serious with
    both and I² ≥ :data:`I2_CONSIDERABLE`. Not assessed with fewer than two
    studies or without study variances.
Indirectness (Guyatt 2011, GRADE guidelines 8)
    Not computable from the data: "not assessed" unless the analysis file
    declares it (outcome keys ``indirectness`` and ``indirectness_reason``).
Imprecision (Guyatt 2011, GRADE guidelines 6; Schünemann 2013, GRADE handbook: imprecision)
    Two-group outcomes: the pooled CI against the null and the thresholds of
    appreciable benefit and harm (for ratios by default 0.75 and 1.25, a
    relative change of 25%; else ``mid`` from the analysis file), and the
    analysed patients against the optimal information size
    (:func:`ois_binary`, :func:`ois_continuous`). Serious when the CI
    includes the null or a threshold, or the patients fall short of the OIS;
    very serious when the CI includes both appreciable benefit and harm, or
    it includes the null and the OIS is not met. Single-group proportions (a
    rule of this tool; GRADE sets none for single-group estimates): serious
    when the CI spans more than :data:`PROPORTION_CI_WIDTH` (20 percentage
    points), includes the user ``threshold``, or the patients are fewer than
    needed for a CI of ±10 percentage points (:func:`ois_proportion`); very
    serious with two of these or a CI wider than twice that. Other
    single-group outcomes: only against a user ``threshold``.
Publication bias (Guyatt 2011, GRADE guidelines 5; Sterne 2011; Cochrane Handbook 13.3.5.4)
    Only with k ≥ :data:`K_PUBLICATION_BIAS` studies, from the tests that ran
    for the model: serious ("strongly suspected") when Egger's, Peters' or
    Begg's test gives p < :data:`P_ASYMMETRY` or the LFK index exceeds
    :data:`LFK_MAJOR` in absolute value; trim-and-fill's number of missing
    studies is reported, not judged (Sterne 2011). Never very serious from
    the tests alone.

The final certainty starts at :func:`~metapool.evidence.level.grade_start`
(randomised trials high, other designs low) and drops one level per
"serious" and two per "very serious" domain, down to "very low". Upgrading
(large effect, dose-response) is left to the review team.

References
----------
Schünemann H, Brożek J, Guyatt G, Oxman A, eds. (2013). GRADE Handbook.
Guyatt GH et al. (2011). GRADE guidelines 4-8. J Clin Epidemiol 64:407-415, 1277-1302.
Higgins JPT et al., eds. Cochrane Handbook for Systematic Reviews of Interventions, chapters 10, 13, 14.
Sterne JAC et al. (2011). Recommendations for examining and interpreting funnel plot asymmetry. BMJ 343:d4002.
Riley RD, Higgins JPT, Deeks JJ (2011). Interpretation of random effects meta-analyses. BMJ 342:d549.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .._distributions import norm_ppf
from ..exceptions import DataValidationError
from .absolute import AbsoluteEffect
from .level import Start
from .risk_of_bias import JUDGEMENTS as JUDGEMENTS_ROB
from .risk_of_bias import parse_judgement

__all__ = ["CERTAINTIES", "DOMAINS", "JUDGEMENTS", "NOT_ASSESSED", "Domain", "Grade", "GradeOptions", "certainty",
           "risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias", "ois_binary",
           "ois_continuous", "ois_proportion", "thresholds"]

CERTAINTIES = ("very low", "low", "moderate", "high")
JUDGEMENTS = ("not serious", "serious", "very serious")
NOT_ASSESSED = "not assessed"
DOMAINS = ("risk of bias", "inconsistency", "indirectness", "imprecision", "publication bias")

#: Weight share of studies at high risk from which risk of bias is very serious.
ROB_VERY_SERIOUS_HIGH = 0.5
#: Weight share of studies not at low risk (high or some concerns) from which risk of bias is serious.
ROB_SERIOUS_NOT_LOW = 0.5
#: I² (%) below which inconsistency is not serious, and from which it can be very serious.
I2_SUBSTANTIAL = 50.0
I2_CONSIDERABLE = 75.0
#: Default thresholds of appreciable benefit and harm for ratio measures (relative change of 25%).
RATIO_THRESHOLDS = (0.75, 1.25)
#: Relative risk reduction, two-sided alpha and power of the optimal information size.
OIS_RRR = 0.25
OIS_ALPHA = 0.05
OIS_POWER = 0.80
#: Standardised difference of the continuous OIS without a MID.
OIS_SMD = 0.2
#: Width of a single-group proportion's CI (natural scale) from which imprecision is serious; the OIS half-width.
PROPORTION_CI_WIDTH = 0.20
#: Studies needed before publication bias is judged (Cochrane Handbook 13.3.5.4).
K_PUBLICATION_BIAS = 10
#: p-value of an asymmetry test below which publication bias is suspected; LFK index of major asymmetry.
P_ASYMMETRY = 0.10
LFK_MAJOR = 2.0

@dataclass(frozen=True)
class Domain:
    """One GRADE domain of an outcome.

    Attributes
    ----------
    name
        One of :data:`DOMAINS`.
    judgement
        One of :data:`JUDGEMENTS`, or :data:`NOT_ASSESSED`.
    rule
        Which rule decided, as a short code (e.g. ``"ci_includes_null"``,
        ``"k_below_10"``); the presentation layer words it.
    numbers
        The numbers behind the judgement (shares, I², interval limits, OIS,
        p-values), JSON-ready.
    """

    name: str
    judgement: str
    rule: str
    numbers: Mapping = field(default_factory=dict)

    @property
    def downgrade(self) -> int:
        """Levels this domain takes off (0 when not serious or not assessed)."""
        return JUDGEMENTS.index(self.judgement) if self.judgement in JUDGEMENTS else 0

    def to_dict(self) -> dict:
        return {"domain": self.name, "judgement": self.judgement, "rule": self.rule, "downgrade": self.downgrade,
                "numbers": dict(self.numbers)}


@dataclass(frozen=True)
class Grade:
    """The GRADE assessment of one outcome.

    Attributes
    ----------
    start
        Starting certainty from the designs (:class:`~metapool.evidence.level.Start`).
    domains
        The five :class:`Domain` judgements, in :data:`DOMAINS` order.
    certainty
        Final certainty (one of :data:`CERTAINTIES`), None when the start is
        not assessed.
    absolute
        Absolute effects per 1,000 for comparative binary outcomes
        (:class:`~metapool.evidence.absolute.AbsoluteEffect`), else None.
    comparison
        What the outcome compares ("two-group", "single-group", "unspecified").
    """

    start: Start
    domains: tuple
    certainty: str | None
    absolute: AbsoluteEffect | None = None
    comparison: str = "unspecified"

    @property
    def downgrades(self) -> int:
        return sum(d.downgrade for d in self.domains)

    @property
    def not_assessed(self) -> tuple:
        """Names of the domains not assessed."""
        return tuple(d.name for d in self.domains if d.judgement == NOT_ASSESSED)

    def to_dict(self) -> dict:
        return {"start": self.start.certainty or NOT_ASSESSED, "start_reason": self.start.reason,
                "certainty": self.certainty or NOT_ASSESSED, "downgrades": self.downgrades,
                "domains_not_assessed": list(self.not_assessed), "comparison": self.comparison,
                "domains": [d.to_dict() for d in self.domains],
                "absolute": None if self.absolute is None else self.absolute.to_dict()}


@dataclass(frozen=True)
class GradeOptions:
    """What the analysis file declares for the GRADE assessment of one outcome.

    Attributes
    ----------
    mid
        Minimal important difference on the measure's natural scale: a ratio
        above 1 for ratio measures (appreciable below ``1/mid`` and above
        ``mid``), a positive difference for differences (``±mid``).
    threshold
        A single-group outcome's decision threshold on the natural scale
        (e.g. 0.3 for a response proportion).
    control_risk
        Assumed control-group risk (0-1) for absolute effects, instead of the
        median of the studies' control groups.
    indirectness, indirectness_reason
        The review team's judgement of indirectness (one of :data:`JUDGEMENTS`) and why.
    """

    mid: float | None = None
    threshold: float | None = None
    control_risk: float | None = None
    indirectness: str | None = None
    indirectness_reason: str = ""


# --- risk of bias -------------------------------------------------------------------------------------

def risk_of_bias(cells: Sequence | None, weights: Sequence[float] | None) -> Domain:
    """Risk of bias from each analysed study's judgement, weighted by its weight (module docstring).

    Parameters
    ----------
    cells
        Each analysed study's risk-of-bias cell (None: no column).
    weights
        Each study's weight in the pooled model (any scale; None or not
        finite: equal weights, stated in ``numbers``).
    """
    name = "risk of bias"
    if cells is None:
        return Domain(name, NOT_ASSESSED, "no_column")
    try:
        judged = [parse_judgement(c) for c in cells]
    except DataValidationError as exc:
        return Domain(name, NOT_ASSESSED, "unrecognised", {"problem": str(exc)})
    if all(j == "no information" for j in judged):
        return Domain(name, NOT_ASSESSED, "no_judgements")
    w = None if weights is None else np.asarray(weights, dtype=float)
    equal = w is None or len(w) != len(judged) or not np.all(np.isfinite(w)) or w.sum() <= 0
    w = np.ones(len(judged)) if equal else w
    share = {c: float(w[[j == c for j in judged]].sum() / w.sum()) for c in JUDGEMENTS_ROB}
    not_low = 1.0 - share["low"]
    numbers = {"share": share, "weights": "equal (the model gives no study weights)" if equal else "model",
               "counts": {c: sum(j == c for j in judged) for c in JUDGEMENTS_ROB}}
    if share["high"] >= ROB_VERY_SERIOUS_HIGH:
        return Domain(name, "very serious", "high_share", numbers)
    if not_low >= ROB_SERIOUS_NOT_LOW:
        return Domain(name, "serious", "not_low_share", numbers)
    return Domain(name, "not serious", "mostly_low", numbers)


# --- inconsistency ------------------------------------------------------------------------------------

def _includes(lower: float, upper: float, value: float) -> bool:
    return lower <= value <= upper


def inconsistency(i2: float | None, yi, vi, level: float, pi: tuple | None,
                  decision_values: Sequence[float]) -> Domain:
    """Inconsistency from I², the prediction interval and the overlap of study CIs (module docstring).

    Parameters
    ----------
    i2
        I² in percent (None when not defined).
    yi, vi
        Study estimates and variances on the analysis scale (non-finite ones skipped).
    level
        Level of the study CIs (fraction).
    pi
        Prediction interval on the natural scale (None or NaN: not available).
    decision_values
        Values on the natural scale whose crossing by the prediction interval
        matters: the null of a comparison and any user threshold.
    """
    name = "inconsistency"
    yi, vi = np.asarray(yi if yi is not None else [], dtype=float), np.asarray(vi if vi is not None else [], float)
    ok = np.isfinite(yi) & np.isfinite(vi)
    if i2 is None or not math.isfinite(i2) or ok.sum() < 2:
        return Domain(name, NOT_ASSESSED, "fewer_than_2" if ok.sum() < 2 else "no_i2", {"k": int(ok.sum())})
    half = norm_ppf(0.5 + level / 2) * np.sqrt(vi[ok])
    disjoint = bool(np.max(yi[ok] - half) > np.min(yi[ok] + half))
    pi_ok = pi is not None and all(math.isfinite(x) for x in pi)
    crosses = pi_ok and any(_includes(pi[0], pi[1], v) for v in decision_values)
    numbers = {"i2": float(i2), "prediction_interval": list(pi) if pi_ok else None,
               "decision_values": list(decision_values), "pi_crosses": bool(crosses),
               "study_cis_disjoint": disjoint, "k": int(ok.sum())}
    if i2 < I2_SUBSTANTIAL:
        return Domain(name, "not serious", "i2_low", numbers)
    signals = int(crosses) + int(disjoint)
    if signals == 2 and i2 >= I2_CONSIDERABLE:
        return Domain(name, "very serious", "i2_pi_and_overlap", numbers)
    if signals:
        return Domain(name, "serious", "pi_crosses" if crosses else "cis_disjoint", numbers)
    return Domain(name, "not serious", "i2_without_consequence", numbers)


# --- indirectness -------------------------------------------------------------------------------------

def indirectness(judgement: str | None, reason: str = "") -> Domain:
    """Indirectness as the review team declares it (outcome key ``indirectness``), else not assessed."""
    if judgement is None:
        return Domain("indirectness", NOT_ASSESSED, "not_declared")
    return Domain("indirectness", judgement, "declared", {"reason": reason})


# --- imprecision --------------------------------------------------------------------------------------

def _z_sum(alpha: float, power: float) -> float:
    return norm_ppf(1 - alpha / 2) + norm_ppf(power)


def ois_binary(control_risk: float, rrr: float = OIS_RRR, alpha: float = OIS_ALPHA, power: float = OIS_POWER) -> int:
    """Optimal information size of a binary outcome: patients in both groups together (GRADE guidelines 6).

    The two-group sample size to detect a relative risk reduction ``rrr`` at
    ``control_risk`` with two-sided ``alpha`` and ``power`` (normal
    approximation without continuity correction):
    ``n = (z_{1-α/2} + z_{1-β})² (p0(1-p0) + p1(1-p1)) / (p0 - p1)²`` per
    group, ``p1 = p0 (1 - rrr)``; the total is twice the rounded-up ``n``.
    """
    p0 = float(control_risk)
    p1 = p0 * (1 - rrr)
    n = _z_sum(alpha, power) ** 2 * (p0 * (1 - p0) + p1 * (1 - p1)) / (p0 - p1) ** 2
    return 2 * math.ceil(n)


def ois_continuous(d: float = OIS_SMD, alpha: float = OIS_ALPHA, power: float = OIS_POWER) -> int:
    """Optimal information size of a continuous outcome: both groups together (GRADE guidelines 6).

    ``n = 2 (z_{1-α/2} + z_{1-β})² / d²`` per group for a standardised
    difference ``d`` (the MID over the SD, or 0.2); the total is twice the
    rounded-up ``n``.
    """
    return 2 * math.ceil(2 * _z_sum(alpha, power) ** 2 / d**2)


def ois_proportion(p: float, half_width: float = PROPORTION_CI_WIDTH / 2, alpha: float = OIS_ALPHA) -> int:
    """Patients for a single-group proportion ``p`` to be estimated within ±``half_width`` (Wald CI).

    ``n = z_{1-α/2}² p (1 - p) / half_width²``, rounded up: this tool's
    information size for single-group proportions (GRADE gives none).
    """
    return math.ceil(norm_ppf(1 - alpha / 2) ** 2 * p * (1 - p) / half_width**2)


def thresholds(ratio: bool, mid: float | None) -> tuple | None:
    if mid is not None:
        return (1 / mid, mid) if ratio else (-mid, mid)
    return RATIO_THRESHOLDS if ratio else None


def imprecision(comparison: str, ci: tuple | None, n: int | None, *, ratio: bool = False, null: float = 0.0,
                mid: float | None = None, threshold: float | None = None, ois: int | None = None,
                proportion: bool = False) -> Domain:
    """Imprecision from the pooled CI (natural scale), the thresholds and the OIS (module docstring).

    Parameters
    ----------
    comparison
        "two-group", "single-group" or "unspecified".
    ci
        The pooled CI on the natural scale.
    n
        Patients analysed (None: unknown; the OIS is then not checked).
    ratio, null
        Whether a two-group measure is a ratio, and its null value.
    mid, threshold
        The analysis file's MID (two-group) or decision threshold (single-group).
    ois
        Optimal information size (None: not defined for this outcome).
    proportion
        Whether a single-group outcome is a proportion (the 20-point rule applies).
    """
    name = "imprecision"
    if ci is None or not all(math.isfinite(x) for x in ci):
        return Domain(name, NOT_ASSESSED, "no_ci")
    lo, hi = ci
    short = ois is not None and n is not None and n < ois
    base = {"ci": [lo, hi], "n": n, "ois": ois, "ois_met": None if ois is None or n is None else not short}
    if comparison == "two-group":
        limits = thresholds(ratio, mid)
        crosses_null = _includes(lo, hi, null)
        wide = limits is not None and lo <= limits[0] and hi >= limits[1]
        crosses_limit = limits is not None and any(lo < t < hi for t in limits)
        numbers = {**base, "null": null, "thresholds": None if limits is None else list(limits),
                   "thresholds_from": "mid" if mid is not None else "default 25% relative change" if ratio else None,
                   "ci_includes_null": crosses_null, "ci_includes_benefit_and_harm": wide,
                   "ci_includes_threshold": crosses_limit}
        if wide:
            return Domain(name, "very serious", "benefit_and_harm", numbers)
        if crosses_null and short:
            return Domain(name, "very serious", "null_and_ois", numbers)
        if crosses_null:
            return Domain(name, "serious", "ci_includes_null", numbers)
        if short:
            return Domain(name, "serious", "ois_not_met", numbers)
        if crosses_limit:
            return Domain(name, "serious", "ci_includes_threshold", numbers)
        return Domain(name, "not serious", "precise", numbers)
    if comparison != "single-group":
        return Domain(name, NOT_ASSESSED, "unspecified_comparison", base)
    crosses = threshold is not None and lo < threshold < hi
    numbers = {**base, "threshold": threshold, "ci_includes_threshold": crosses}
    if not proportion:
        if threshold is None:
            return Domain(name, NOT_ASSESSED, "no_threshold", numbers)
        return Domain(name, "serious" if crosses else "not serious",
                      "ci_includes_threshold" if crosses else "precise", numbers)
    width = hi - lo
    numbers |= {"ci_width": width, "max_width": PROPORTION_CI_WIDTH}
    problems = [r for r, bad in (("ci_wide", width > PROPORTION_CI_WIDTH), ("ci_includes_threshold", crosses),
                                 ("ois_not_met", short)) if bad]
    if len(problems) >= 2 or width > 2 * PROPORTION_CI_WIDTH:
        return Domain(name, "very serious", "+".join(problems), numbers)
    if problems:
        return Domain(name, "serious", problems[0], numbers)
    return Domain(name, "not serious", "precise", numbers)


# --- publication bias ---------------------------------------------------------------------------------

def publication_bias(k: int, bias, requested: bool = True, skipped: str | None = None) -> Domain:
    """Publication bias from the small-study tests that ran for the model (module docstring).

    Parameters
    ----------
    k
        Studies in the model.
    bias
        The outcome's bias analyses (an object with ``results`` code ->
        result and ``undefined`` code -> reason), None when none ran.
    requested
        Whether the analysis file asked for them (``bias``).
    skipped
        Why they did not run, when they did not.
    """
    name = "publication bias"
    if k < K_PUBLICATION_BIAS:
        return Domain(name, NOT_ASSESSED, "k_below_10", {"k": k, "k_needed": K_PUBLICATION_BIAS})
    if not requested:
        return Domain(name, NOT_ASSESSED, "not_requested", {"k": k})
    results = getattr(bias, "results", None) or {}
    tests = {code: float(r.pvalue) for code, r in results.items() if code in ("egger", "peters", "begg")}
    lfk = float(results["lfk"].index) if "lfk" in results else None
    k0 = int(results["trimfill"].k0) if "trimfill" in results else None
    numbers = {"k": k, "p_values": tests, "lfk_index": lfk, "trimfill_k0": k0,
               "not_run": dict(getattr(bias, "undefined", {}) or {})}
    if not tests and lfk is None:
        return Domain(name, NOT_ASSESSED, "no_test", numbers | ({"skipped": skipped} if skipped else {}))
    flagged = sorted(c for c, p in tests.items() if p < P_ASYMMETRY)
    if lfk is not None and abs(lfk) > LFK_MAJOR:
        flagged.append("lfk")
    numbers["suspected_by"] = flagged
    return Domain(name, "serious" if flagged else "not serious", "asymmetry" if flagged else "no_asymmetry", numbers)


# --- the rating ---------------------------------------------------------------------------------------

def certainty(start: Start, domains: Sequence[Domain]) -> str | None:
    """The start lowered by the domains' downgrades, at least "very low"; None when the start is not assessed."""
    if start.certainty is None:
        return None
    return CERTAINTIES[max(CERTAINTIES.index(start.certainty) - sum(d.downgrade for d in domains), 0)]
