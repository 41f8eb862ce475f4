"""Checks of the counts a text reports: N against a table of study sizes, "sample size", follow-up.

- ``n_total``: the number of patients equals the sum of the study sizes of a table in the same text
  (:mod:`metapool.audit.tables`), when the table has as many rows as the text has studies.
- ``sample_size``: a "sample size" equal to an inclusion threshold quoted in the same text (studies
  with at least 20 patients), or below a tenth of the patients pooled (:data:`FAR_BELOW`), reads
  as the threshold or one study's size given as the review's sample.
- ``follow_up``: a follow-up equal, within rounding, to a median survival or time to event of the
  same text is most likely the survival time given as the follow-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .context import Context, finding
from .model import Finding, Statistic
from .rounding import Box, box

__all__ = ["check_n_total", "check_sample_size", "check_follow_up", "FAR_BELOW", "MONTHS"]

#: A "sample size" below this fraction of the patients pooled is flagged.
FAR_BELOW = 0.1
#: Months per unit of time.
MONTHS = {"months": 1.0, "month": 1.0, "weeks": 7.0 / 30.4375, "week": 7.0 / 30.4375,
          "days": 1.0 / 30.4375, "day": 1.0 / 30.4375, "years": 12.0, "year": 12.0, None: 1.0}
#: Words of a "sample size" that describes each study, not the review.
PER_STUDY = re.compile(r"\b(?:median|mean|average|per (?:study|trial|arm|group)|each|minimum|maximum|smallest|largest|"
                       r"at least|range|ranged|individual)\b|[≥≤<>]", re.IGNORECASE)
#: Words of a time-to-event median.
SURVIVAL = re.compile(r"surviv|\bOS\b|\bPFS\b|\bEFS\b|\bDFS\b|\bRFS\b|\bTTP\b|time[- ]to|event[- ]free|"
                      r"progression|relapse|recurrence|duration of response|\bDOR\b", re.IGNORECASE)
FOLLOW_UP = re.compile(r"follow[- ]?up", re.IGNORECASE)


def _count(x: float) -> str:
    return f"{x:,.0f}"


def check_n_total(ctx: Context) -> Iterator[Finding]:
    """The number of patients equals the sum of the study sizes in the text's table."""
    rows = ctx.study_rows
    if len(rows) < 2 or not ctx.totals:
        return
    total = sum(row.n for row in rows)
    equal = [s for s in ctx.totals if abs(s.value - total) < 0.5]
    if equal:
        yield finding(equal[0], "n_total", "pass",
                      f"N = {_count(total)} equals the sum of the {len(rows)} study sizes in the table.")
        return
    stat = max(ctx.totals, key=lambda s: s.value)
    if len(rows) in ctx.k_values:
        yield finding(stat, "n_total", "flag",
                      f"The table's {len(rows)} studies have {_count(total)} patients in all, not the "
                      f"{_count(stat.value)} written here: check the total or the table.",
                      f"N = {_count(total)}")
    else:
        k = ", ".join(str(k) for k in ctx.k_values) or "no number of"
        yield finding(stat, "n_total", "cannot_check",
                      f"The table lists {len(rows)} studies with {_count(total)} patients, but the text reports "
                      f"{k} studies, so the table may not be complete.", f"N = {_count(total)} for the table")


def check_sample_size(ctx: Context) -> Iterator[Finding]:
    """A "sample size" is not the inclusion threshold and not far below the patients pooled."""
    key = "sample_size"
    thresholds = [s for s in ctx.kind("threshold") if s.value is not None]
    for stat in ctx.kind("sample_size"):
        if stat.value is None or stat.interval is not None:
            continue
        same = next((t for t in thresholds if abs(t.value - stat.value) < 0.5), None)
        n = ctx.n_max
        if same is not None:
            yield finding(stat, key, "flag",
                          f"The sample size {_count(stat.value)} equals the inclusion threshold in "
                          f"{same.quote!r}: the threshold seems to be given as the sample size.",
                          None if n is None else f"N = {_count(n)} patients")
        elif PER_STUDY.search(ctx.words_before(stat, 40).replace(stat.quote, "")):
            continue
        elif n is None:
            yield finding(stat, key, "cannot_check",
                          "The text reports no total number of patients to compare this sample size with.")
        elif stat.value < FAR_BELOW * n:
            yield finding(stat, key, "flag",
                          f"The sample size {_count(stat.value)} is less than a tenth of the {_count(n)} patients "
                          f"reported: if it is one study's size or an inclusion criterion, say so.",
                          f"N = {_count(n)} patients")
        elif abs(stat.value - n) < 0.5:
            yield finding(stat, key, "pass", f"The sample size equals the {_count(n)} patients reported.")
        else:
            yield finding(stat, key, "cannot_check",
                          f"The sample size {_count(stat.value)} differs from the {_count(n)} patients reported: "
                          f"say which patients it counts.")


def _months(stat: Statistic, b: Box) -> Box:
    f = MONTHS.get((stat.unit or "months").lower(), None)
    return Box(b.lo * f, b.hi * f) if f is not None else Box(float("nan"), float("nan"))


def check_follow_up(ctx: Context) -> Iterator[Finding]:
    """A follow-up is not equal to a median survival or time to event of the same text."""
    medians = [m for m in ctx.kind("median") if m.value is not None and SURVIVAL.search(ctx.words_before(m, 60))
               and not FOLLOW_UP.search(m.label or "")]
    if not medians:
        return
    for stat in ctx.kind("follow_up"):
        if stat.value is None:
            continue
        f = _months(stat, box(stat.value, stat.decimals))
        same = next((m for m in medians if _months(m, box(m.value, m.decimals)).overlaps(f)), None)
        if same is not None:
            yield finding(stat, "follow_up", "flag",
                          f"The follow-up equals the median survival or time to event in {same.quote!r}: check that the "
                          f"survival time has not been given as the follow-up.",
                          "the median follow-up (reverse Kaplan-Meier), which is reported separately")
        else:
            yield finding(stat, "follow_up", "pass",
                          "The follow-up differs from every median survival or time to event in the text.")

