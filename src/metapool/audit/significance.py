"""Checks of p-values and of the word "significant" against the estimate and its CI.

- ``p_value``: a p-value written with a ratio or a difference agrees with the p-value its CI
  implies (Altman & Bland 2011): on the analysis scale (log for ratios, raw for differences)
  ``SE = (upper - lower) / (2 z)`` and ``z = estimate / SE``, ``p = 2 Phi(-|z|)``. The estimate is
  read both as written and as the CI's midpoint, the CI's critical value ``z`` is normal or, when
  the text gives k studies, Student t on k - 1 df (Knapp-Hartung); the implied ``|z|`` may be
  :data:`Z_ALLOWANCE` off beyond rounding. A heterogeneity p-value agrees with Q on its df
  (``p = P(chi2_df > Q)``, Cochran 1954).
- ``significance_wording``: a result called "significant" has a CI that excludes the null (1 for
  ratios, 0 for differences), one called "not significant" a CI that includes it.

References
----------
Altman DG, Bland JM (2011). How to obtain the P value from a confidence interval. BMJ 343:d2304.
Cochran WG (1954). The combination of estimates from different experiments. Biometrics 10:101-129.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import numpy as np

from .._distributions import chi2_sf, crit_value, norm_sf2, t_sf2
from ..formatting.numbers import fmt_p_clinical
from .context import Context, finding
from .intervals import ASSUMED_LEVEL, interval_text, show
from .model import Finding, Statistic
from .rounding import Box, box, written_decimals

__all__ = ["check_p_value", "check_significance_wording", "ci_p_range", "implied_p", "Z_ALLOWANCE", "NULLS"]

#: Relative allowance on the test statistic implied by the CI (the CI and the p-value may come from
#: slightly different methods: Wald and likelihood-ratio, say).
Z_ALLOWANCE = 0.10
#: The value of no effect, and the scale a CI is symmetric on, for each family.
NULLS = {"ratio": (1.0, np.log), "difference": (0.0, lambda x: x)}
#: Words saying the CI and the test use the t distribution (with unknown df when k is not given).
T_METHOD = re.compile(r"Knapp|Hartung|HKSJ|\bt[- ]distribution|Student", re.IGNORECASE)
_T_DFS = (1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 100)


def _g_box(g, b: Box) -> tuple[float, float]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(g(max(b.lo, 0.0) if g is np.log else b.lo)), float(g(b.hi))


def ci_p_range(stat: Statistic, ctx: Context) -> list[tuple[float, float]]:
    """The p-values (two-sided) the written estimate and CI imply, one ``(low, high)`` per reference distribution."""
    _, g = NULLS[stat.family]
    e_lo, e_hi = _g_box(g, ctx.value_box(stat))
    lower, upper = ctx.bound_boxes(stat)
    l_lo, l_hi = _g_box(g, lower)
    u_lo, u_hi = _g_box(g, upper)
    # the estimate as written and as the CI's midpoint
    lo_est, hi_est = min(e_lo, 0.5 * (l_lo + u_lo)), max(e_hi, 0.5 * (l_hi + u_hi))
    a_min = 0.0 if lo_est <= 0.0 <= hi_est else min(abs(lo_est), abs(hi_est))
    a_max = max(abs(lo_est), abs(hi_est))
    w_min, w_max = u_lo - l_hi, u_hi - l_lo
    if not (math.isfinite(w_max) and w_max > 0):
        return [(0.0, 1.0)]
    r_min = (1.0 - Z_ALLOWANCE) * a_min / (0.5 * w_max)
    r_max = math.inf if w_min <= 0 else (1.0 + Z_ALLOWANCE) * a_max / (0.5 * w_min)
    level = stat.level or ASSUMED_LEVEL["default"]
    out = [(float(norm_sf2(r_max * crit_value(level))), float(norm_sf2(r_min * crit_value(level))))]
    dfs = [k - 1 for k in ctx.k_values if k >= 2]
    if not dfs and ctx.mentions(T_METHOD):
        dfs = list(_T_DFS)
    for df in dfs:
        c = float(crit_value(level, df))
        out.append((float(t_sf2(r_max * c, df)), float(t_sf2(r_min * c, df))))
    return out


def implied_p(stat: Statistic) -> float:
    """The p-value the numbers as written imply (Altman & Bland 2011), normal reference."""
    _, g = NULLS[stat.family]
    with np.errstate(divide="ignore", invalid="ignore"):
        se = (g(stat.upper) - g(stat.lower)) / (2.0 * crit_value(stat.level or ASSUMED_LEVEL["default"]))
        return float(norm_sf2(g(stat.value) / se))


def _agrees(ranges: list[tuple[float, float]], p: float, relation: str | None) -> bool:
    """Whether some implied p-value satisfies the written ``p`` and its relation (within rounding)."""
    relation = relation or "="
    if relation in ("<", "<=", "≤"):
        return any(lo <= p for lo, _ in ranges)
    if relation in (">", ">=", "≥"):
        return any(hi >= p for _, hi in ranges)
    half = 0.5 * 10.0 ** (-written_decimals(p))
    return any(lo <= p + half and hi >= p - half for lo, hi in ranges)


def _written_p(stat: Statistic) -> str:
    return f"p {stat.p_relation or '='} {stat.p_value:g}"


def _about(p: float) -> str:
    return fmt_p_clinical(p).replace("p = ", "p ≈ ")


def _heterogeneity_q(stat: Statistic, ctx: Context) -> tuple[float, Box, float] | None:
    """Q (as written), its rounding box and df for an I² or Q statistic, or None."""
    if stat.kind == "q" and stat.value is not None and stat.df is not None:
        return stat.value, box(stat.value, stat.decimals), stat.df
    if stat.q is not None and stat.df is not None:
        return stat.q, box(stat.q, None), stat.df
    return None


def check_p_value(ctx: Context) -> Iterator[Finding]:
    """A written p-value agrees with the CI (ratios, differences) or with Q and df (heterogeneity)."""
    key = "p_value"
    for stat in ctx.statistics:
        if stat.p_value is None:
            continue
        if stat.family == "heterogeneity":
            yield from _heterogeneity_p(stat, ctx)
            continue
        if stat.family not in NULLS:
            continue
        if stat.value is None or stat.lower is None or stat.upper is None or stat.interval != "ci":
            yield finding(stat, key, "cannot_check",
                          f"{_written_p(stat)} is written without an estimate and CI to compare it with.")
            continue
        lower, upper = ctx.bound_boxes(stat)
        if lower.lo > upper.hi or (stat.family == "ratio" and lower.hi <= 0):
            continue  # estimate_in_interval says what is wrong
        ranges = ci_p_range(stat, ctx)
        point = implied_p(stat)
        if _agrees(ranges, stat.p_value, stat.p_relation):
            yield finding(stat, key, "pass",
                          f"The CI {interval_text(stat)} implies {_about(point)}, which agrees with "
                          f"{_written_p(stat)} within rounding.")
        else:
            yield finding(stat, key, "flag",
                          f"The estimate {show(stat, stat.value, False)} with CI {interval_text(stat)} implies "
                          f"{_about(point)} (Altman & Bland 2011), not {_written_p(stat)}: check the p-value or "
                          f"the CI.", f"{_about(point)} for this CI")


def _heterogeneity_p(stat: Statistic, ctx: Context) -> Iterator[Finding]:
    q = _heterogeneity_q(stat, ctx)
    if q is None:
        return
    if stat.kind != "q" and any(o.value == q[0] and o.p_value == stat.p_value for o in ctx.kind("q")):
        return  # the Q statistic carrying the same p-value gets the finding
    value, b, df = q
    lo, hi = float(chi2_sf(b.hi, df)), float(chi2_sf(max(b.lo, 0.0), df))
    implied = float(chi2_sf(value, df))
    if _agrees([(lo, hi)], stat.p_value, stat.p_relation):
        yield finding(stat, "p_value", "pass",
                      f"Q = {value:g} on {df:g} df gives {_about(implied)}, which agrees with {_written_p(stat)}.")
    else:
        yield finding(stat, "p_value", "flag",
                      f"Q = {value:g} on {df:g} df gives {_about(implied)} (chi-square test), not "
                      f"{_written_p(stat)}: check Q, its df or the p-value.",
                      f"{_about(implied)} for Q = {value:g} on {df:g} df")


# --- significance_wording --------------------------------------------------------------------

def check_significance_wording(ctx: Context) -> Iterator[Finding]:
    """"Significant" is said of results whose CI excludes the null, "not significant" of the others."""
    key = "significance_wording"
    for stat in ctx.statistics:
        if stat.claim not in ("significant", "not_significant"):
            continue
        said = "statistically significant" if stat.claim == "significant" else "not statistically significant"
        if stat.family == "heterogeneity" and stat.p_value is not None:
            yield from _wording_from_p(stat, said)
        if stat.family not in NULLS:
            continue
        null, _ = NULLS[stat.family]
        if stat.lower is not None and stat.upper is not None and stat.interval == "ci":
            if stat.level is not None and abs(stat.level - 0.95) > 1e-9:
                yield finding(stat, key, "cannot_check",
                              f"The CI is a {100 * stat.level:g}% CI, so whether the result is significant at "
                              f"the 5% level cannot be read from it.")
                continue
            lower, upper = ctx.bound_boxes(stat)
            includes = lower.hi <= null <= upper.lo
            excludes = lower.lo > null or upper.hi < null
            ci = f"CI {interval_text(stat)}"
            if stat.claim == "significant" and includes:
                yield finding(stat, key, "flag",
                              f"The text calls this result {said}, but its {ci} includes {null:g} (no effect).",
                              "not statistically significant at the 5% level")
            elif stat.claim == "not_significant" and excludes:
                yield finding(stat, key, "flag",
                              f"The text calls this result {said}, but its {ci} excludes {null:g} (no effect).",
                              "statistically significant at the 5% level")
            elif includes or excludes:
                yield finding(stat, key, "pass",
                              f"The text calls this result {said}, and its {ci} "
                              f"{'includes' if includes else 'excludes'} {null:g}.")
            else:
                yield finding(stat, key, "cannot_check",
                              f"The {ci} reaches {null:g} within rounding, so it does not say whether the result "
                              f"is significant.")
        elif stat.p_value is not None:
            yield from _wording_from_p(stat, said)


def _wording_from_p(stat: Statistic, said: str) -> Iterator[Finding]:
    relation, p = stat.p_relation or "=", stat.p_value
    half = 0.5 * 10.0 ** (-written_decimals(p)) if relation == "=" else 0.0
    above = relation in ("=", ">", ">=", "≥") and p - half >= 0.05
    below = (relation in ("<", "<=", "≤") and p <= 0.05) or (relation == "=" and p + half < 0.05)
    if stat.claim == "significant" and above:
        yield finding(stat, "significance_wording", "flag",
                      f"The text calls this result {said}, but {_written_p(stat)} is not below 0.05.",
                      "not statistically significant at the 5% level")
    elif stat.claim == "not_significant" and below:
        yield finding(stat, "significance_wording", "flag",
                      f"The text calls this result {said}, but {_written_p(stat)} is below 0.05.",
                      "statistically significant at the 5% level")
    elif above or below:
        yield finding(stat, "significance_wording", "pass", f"The text calls this result {said}, and {_written_p(stat)}.")
