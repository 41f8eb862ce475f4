"""Check of I² against Cochran's Q and its degrees of freedom.

``I² = max(0, (Q - df) / Q)`` (Higgins & Thompson 2002), computed by
:func:`metapool.inference.heterogeneity.common_i2_h2`. I² increases with Q, so the I² values that Q
written with its decimals allows are those at the two ends of Q's rounding; the written I² agrees
when its own rounding interval meets them. An I² computed from a τ² estimate other than
DerSimonian-Laird (``100 τ² / (τ² + s²)``, as metafor prints for REML) need not equal the Q-based
value. So a mismatch beyond rounding is a flag when the text names DerSimonian-Laird or a
common-effect (fixed-effect) model, "cannot check" when it names another estimator, and, when it
names none, a flag only beyond :data:`UNNAMED_ALLOWANCE` (metafor's default REML I² differed from
the Q-based value by at most 28 points in 2,400 simulated meta-analyses of odds ratios with 3 to 30
studies; the R package meta, RevMan and Stata's metan report the Q-based I²).

References
----------
Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis. Stat Med 21:1539-1558.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..inference.heterogeneity import common_i2_h2
from .context import Context, finding
from .model import Finding, Statistic
from .rounding import Box, box

__all__ = ["check_i2_q_df", "TAU2_FROM_MODEL", "Q_BASED", "UNNAMED_ALLOWANCE"]

#: Difference (as a fraction) beyond rounding between the written and the Q-based I² that is
#: flagged when the text names no tau² estimator.
UNNAMED_ALLOWANCE = 0.30

#: Names of τ² estimators whose I² is not the Q-based one.
TAU2_FROM_MODEL = re.compile(r"\bREML\b|restricted maximum|maximum[- ]likelihood|(?-i:\bML\b)|Paule|Mandel|(?-i:\bPM\b)|"
                             r"empirical Bayes|Sidik|Jonkman|Hunter|Schmidt|Hedges'? estimator|GLMM|Bayesian",
                             re.IGNORECASE)

#: Models whose I² is the Q-based one.
Q_BASED = re.compile(r"DerSimonian|(?-i:\bDL\b)|common[- ]effects?|fixed[- ]effects?|Mantel|Peto|inverse[- ]variance "
                     r"fixed", re.IGNORECASE)


def _q_of(stat: Statistic, ctx: Context) -> tuple[float, Box, float] | None:
    """Q as written, its rounding and df for an I² statistic: its own, or a Q in the same sentence."""
    if stat.q is not None and stat.df is not None:
        return stat.q, box(stat.q, None), stat.df
    for other in ctx.kind("q"):
        if other.sentence == stat.sentence and other.sentence is not None and other.df is not None \
                and other.value is not None:
            return other.value, box(other.value, other.decimals), other.df
    return None


def _i2(q: float, df: float) -> float:
    """I² as a fraction from Q and df."""
    return float(common_i2_h2(q, df)[0]) / 100.0


def check_i2_q_df(ctx: Context) -> Iterator[Finding]:
    """I² agrees with (Q - df) / Q within the rounding of I² and Q."""
    key = "i2_q_df"
    for stat in ctx.kind("i2"):
        if stat.value is None:
            continue
        q = _q_of(stat, ctx)
        if q is None:
            continue
        value, qbox, df = q
        fraction = stat.value if stat.value <= 1.0 else stat.value / 100.0
        i2box = box(fraction, stat.decimals, True if stat.value > 1.0 else stat.percent)
        low, high = _i2(max(qbox.lo, 0.0), df), _i2(qbox.hi, df)
        implied = _i2(value, df)
        shown = f"{100 * implied:.1f}%"
        named = ctx.mentions(TAU2_FROM_MODEL)
        allowance = 0.0 if named or ctx.mentions(Q_BASED) else UNNAMED_ALLOWANCE
        if i2box.overlaps(Box(low, high)):
            yield finding(stat, key, "pass",
                          f"I² agrees with Q = {value:g} on {df:g} df, which give (Q - df)/Q = {shown}.")
        elif named or i2box.overlaps(Box(low - allowance, high + allowance)):
            yield finding(stat, key, "cannot_check",
                          f"Q = {value:g} on {df:g} df give (Q - df)/Q = {shown}, but an I² computed from a τ² "
                          f"estimate (REML, for example) may differ: say which I² is reported.",
                          f"I² = {shown} for Q = {value:g} on {df:g} df")
        else:
            yield finding(stat, key, "flag",
                          f"Q = {value:g} on {df:g} df give I² = (Q - df)/Q = {shown} (Higgins & Thompson 2002), "
                          f"not the I² written: check I², Q or df.",
                          f"I² = {shown} for Q = {value:g} on {df:g} df")
