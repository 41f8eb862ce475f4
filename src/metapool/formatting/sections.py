"""Blocks shared by the summaries of several result types (one wording, one layout each)."""

from __future__ import annotations

from ..effect_sizes.registry import MEASURES
from .blocks import KeyValues, Paragraph, Table
from .numbers import fmt, fmt_level, fmt_p, fmt_pct, stars

__all__ = ["back_transformed", "bracket", "coefficient_table", "estimate_ci", "exclusions_table", "heterogeneity",
           "measure_line", "pval", "remarks", "stat_name"]


def bracket(lower, upper) -> str:
    """An interval as metafor prints it: ``[lower, upper]``."""
    return f"[{fmt(lower)}, {fmt(upper)}]"


def estimate_ci(estimate, lower, upper) -> str:
    """An estimate with its interval: ``estimate [lower, upper]``."""
    return f"{fmt(estimate)} {bracket(lower, upper)}"


def pval(p) -> str:
    """``p-val = 0.0123`` or ``p-val < .0001``, as metafor's test lines."""
    text = fmt_p(p)
    return f"p-val {text[0]} {text[1:]}" if text.startswith("<") else f"p-val = {text}"


def stat_name(ddf) -> str:
    """Column name of the test statistic: ``zval``, or ``tval`` when there are t degrees of freedom."""
    return "zval" if ddf is None else "tval"


def measure_line(measure: str, details: str) -> Paragraph:
    """``Measure: CODE (name); details.``"""
    m = MEASURES[measure]
    return Paragraph(f"Measure: {m.code} ({m.name}); {details}.")


def back_transformed(measure: str, back, prediction: bool) -> tuple:
    """Items of the pooled value on the natural scale, with its prediction interval when ``prediction``."""
    natural = MEASURES[measure].natural
    items = ((f"Back-transformed ({natural})", estimate_ci(back.estimate, back.ci_lower, back.ci_upper)),)
    return items + ((("  prediction interval", bracket(back.pi_lower, back.pi_upper)),) if prediction else ())


def heterogeneity(i2, h2, tau2=None, tau=None, tau2_se=float("nan")) -> KeyValues:
    """tau^2 (with its SE when known) and tau for random-effects models, then I^2 and H^2."""
    items = ()
    if tau2 is not None:
        se_part = f" (SE = {fmt(tau2_se)})" if tau2_se == tau2_se else ""
        items = (("tau^2 (estimated amount of total heterogeneity)", fmt(tau2) + se_part),
                 ("tau (square root of estimated tau^2 value)", fmt(tau)))
    return KeyValues("", items + (
        ("I^2 (total heterogeneity / total variability)", fmt_pct(i2)),
        ("H^2 (total variability / sampling variability)", fmt(h2, 2)),
    ))


def coefficient_table(rows, ddf, level: float, note: str = "") -> Table:
    """metafor's "Model results" table.

    ``rows`` are ``(name, estimate, se, statistic, pvalue, ci_lower, ci_upper)``
    with numbers; ``ddf`` the t degrees of freedom (None: normal distribution);
    ``note`` is appended to the sentence on the intervals.
    """
    dist = "normal distribution" if ddf is None else f"t-distribution with df = {ddf:g}"
    return Table(
        "Model results:",
        ("", "estimate", "se", stat_name(ddf), "pval", "ci.lb", "ci.ub", ""),
        tuple((name, fmt(est), fmt(se), fmt(stat), fmt_p(float(p)), fmt(lo), fmt(hi), stars(float(p)))
              for name, est, se, stat, p, lo, hi in rows),
        f"{fmt_level(level)} CIs from the {dist}{note}.",
    )


def exclusions_table(exclusions) -> tuple:
    """The "Excluded studies" table (row numbers 1-based), or nothing when no row was excluded."""
    if not exclusions:
        return ()
    return (Table("Excluded studies:", ("row", "study", "reason"),
                  tuple((str(e.row + 1), e.label, e.reason) for e in exclusions)),)


def remarks(warnings=(), notes=()) -> tuple:
    """One paragraph per warning ("Warning: ...") and per note ("Note: ...")."""
    return (*(Paragraph("Warning: " + text) for text in warnings), *(Paragraph("Note: " + text) for text in notes))
