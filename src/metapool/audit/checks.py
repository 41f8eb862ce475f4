"""The registry of audit checks and :func:`run_checks`, which applies them to one text.

Each :class:`Check` has a key (the ``check`` of its findings), a title, a one-paragraph description
for users, its reference and its function ``f(context) -> findings``. Every check allows for the
rounding of the numbers it reads (:mod:`metapool.audit.rounding`) and flags only when no values
within rounding satisfy its rule: false alarms are worse than misses. ``docs/audit.md`` describes
each rule with its allowance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from . import recompute
from .context import Context
from .counts import check_follow_up, check_n_total, check_sample_size
from .evidence import check_evidence_level
from .heterogeneity import check_i2_q_df
from .intervals import check_estimate_in_interval, check_interval_symmetry, check_interval_width
from .model import Finding, Statistic
from .significance import check_p_value, check_significance_wording
from .spread import check_spread_as_inference

__all__ = ["Check", "CHECKS", "run_checks", "errors"]

Severity = Literal["error", "wording"]


@dataclass(frozen=True)
class Check:
    """One consistency check of reported numbers.

    Attributes
    ----------
    key : str
        The ``check`` of its findings.
    title : str
        A few words for tables and headings.
    description : str
        One paragraph for users: the rule, the rounding allowance, when it flags.
    reference : str or None
        Where the rule comes from.
    function : callable
        ``function(context)`` yields :class:`~metapool.audit.model.Finding` objects.
    severity : {"error", "wording"}
        A flag of an ``"error"`` check means numbers that cannot all be right; of a ``"wording"``
        check, words that misdescribe right numbers.
    """

    key: str
    title: str
    description: str
    reference: str | None
    function: Callable[[Context], Iterable[Finding]]
    severity: Severity = "error"


_ALTMAN_BLAND = "Altman DG, Bland JM (2011). How to obtain the P value from a confidence interval. BMJ 343:d2304."
_OCEBM = ("OCEBM Levels of Evidence Working Group (2011). The Oxford 2011 Levels of Evidence. "
          "Oxford Centre for Evidence-Based Medicine.")

#: The checks, in the order their findings are listed for one statistic.
CHECKS: dict[str, Check] = {c.key: c for c in (
    Check("estimate_in_interval", "Estimate inside its interval",
          "The lower limit is not above the upper limit, the estimate lies between them, a proportion lies "
          "between 0% and 100% and a ratio is positive. Every number may be off by half a unit of its last "
          "written digit.", None, check_estimate_in_interval),
    Check("interval_symmetry", "Interval symmetric on a standard scale",
          "A pooled estimate's CI is symmetric around it on the scale of the analysis: for a proportion the raw, "
          "logit, log, arcsine or Freeman-Tukey scale (every sample size n up to the patients reported), or it is "
          "the Wilson or Clopper-Pearson interval of one study; for a ratio the log scale; for a difference the raw "
          "scale. The check flags only when no values within rounding are symmetric on any of these scales, with "
          "5% of the interval's width allowed beyond rounding; a risk difference that is not symmetric is "
          "'cannot check' (a Newcombe interval is not).", "Miller JJ (1978). Am Stat 32:138; "
          "Schwarzer G et al. (2019). Res Synth Methods 10:476-483.", check_interval_symmetry),
    Check("p_value", "p-value agrees with the CI",
          "A p-value written with a ratio or a difference agrees with the one its CI implies: SE = (upper - lower) "
          "/ (2 x 1.96) on the log scale for ratios, the raw scale for differences, z = estimate / SE. The estimate "
          "is read as written and as the CI's midpoint, the test as normal or, with k studies reported, as "
          "Student t on k - 1 df (Knapp-Hartung), and z may be 10% off beyond rounding. A heterogeneity p-value "
          "agrees with Q on its df (chi-square test).", _ALTMAN_BLAND, check_p_value),
    Check("significance_wording", "'Significant' agrees with the CI",
          "A result called statistically significant has a 95% CI that excludes no effect (1 for ratios, 0 for "
          "differences) for every value within rounding; one called not significant has a CI that includes it. "
          "Without a CI, a written p-value is compared with 0.05.", _ALTMAN_BLAND, check_significance_wording),
    Check("i2_q_df", "I² agrees with Q and df",
          "I² = max(0, (Q - df) / Q) for the Q and df written with it, within the rounding of I² and Q. A "
          "mismatch is flagged when the text names DerSimonian-Laird or a common-effect model; when it names "
          "another tau² estimator (REML, for example, whose I² comes from tau²) it is 'cannot check'; when it "
          "names none, only a mismatch of more than 30 percentage points is flagged.", "Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a "
          "meta-analysis. Stat Med 21:1539-1558.", check_i2_q_df),
    Check("interval_width", "CI width possible for N",
          "A pooled proportion's CI is no narrower than the common-effect CI of one study holding all N patients "
          "the text reports: on the logit scale half-width z / sqrt(N p(1 - p)), on the arcsine and Freeman-Tukey "
          "scales z / sqrt(4N + 2k). It flags only when the written CI, with its limits at the outer ends of their "
          "rounding, is narrower on both scales (the largest N of the text, p(1 - p) at its largest within the "
          "estimate's rounding, and a 90% level when none is written).", "Stijnen T, Hamza TH, Ozdemir P (2010). "
          "Stat Med 29:3046-3067 (the binomial likelihood of pooled proportions); Freeman MF, Tukey JW (1950). "
          "Ann Math Stat 21:607-611.", check_interval_width),
    Check("n_total", "N equals the sum of the study sizes",
          "When the text has a table of study sizes (rows starting with a study label such as 'Smith 2019') with "
          "as many rows as the number of studies it reports, the number of patients equals their sum.", None,
          check_n_total),
    Check("sample_size", "Sample size is the review's",
          "A 'sample size' equal to an inclusion threshold quoted in the same text, or below a tenth of the "
          "patients reported, is the threshold or one study's size given as the review's sample. Sample sizes "
          "described as a median, mean, minimum or range of the studies are not checked.", None, check_sample_size),
    Check("follow_up", "Follow-up is not the median survival",
          "A follow-up equal, within rounding (and after converting days, weeks and years to months), to a median "
          "survival or time to event reported in the same text is most likely that survival time given as the "
          "follow-up.", None, check_follow_up),
    Check("evidence_level", "Evidence level fits the designs",
          "A claimed level of evidence is no better than the designs pooled allow in the OCEBM 2011 table for "
          "treatment benefits: level 1 needs randomised trials; pools of cohort studies are level 3 at best and "
          "of single-arm trials or case series level 4.", _OCEBM, check_evidence_level),
    Check("spread_as_inference", "Spread given as a CI (wording)",
          "A pooled estimate given with an interquartile range or a range, where its CI is expected: a wording "
          "issue, not an error in a number. Its flags start with 'Wording:'.", None, check_spread_as_inference,
          severity="wording"),
    Check(recompute.CHECK, recompute.TITLE, recompute.DESCRIPTION, recompute.REFERENCE, recompute.registry_function),
)}


def run_checks(statistics: Sequence[Statistic], text: str) -> tuple[Finding, ...]:
    """Every check of :data:`CHECKS` applied to the statistics of one text.

    Parameters
    ----------
    statistics
        What the extractor found in ``text`` (any order).
    text
        The audited text; spans index it.

    Returns
    -------
    tuple of Finding
        Sorted by span, then in the order of :data:`CHECKS`.
    """
    ctx = Context.of(statistics, text)
    order = {key: i for i, key in enumerate(CHECKS)}
    findings = [f for check in CHECKS.values() for f in check.function(ctx)]
    return tuple(sorted(findings, key=lambda f: (f.span[0], f.span[1], order[f.check])))


def errors(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """The flags of error checks (not wording): what should make ``metapool audit`` exit 1."""
    return tuple(f for f in findings if f.status == "flag" and CHECKS[f.check].severity == "error")
