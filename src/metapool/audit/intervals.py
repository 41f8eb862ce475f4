"""Checks of an estimate with its interval: order and range, symmetry on a standard scale, width.

- ``estimate_in_interval``: the lower limit is not above the upper one, the estimate lies between
  them, a proportion lies in [0, 1] and a ratio is positive.
- ``interval_symmetry``: the interval is symmetric around the estimate on a scale an analysis could
  have used (:mod:`metapool.audit.scales`), or is the Wilson or Clopper-Pearson interval of one
  study's x/n.
- ``interval_width``: a pooled proportion's CI is no narrower than a common-effect CI with all the
  patients the text reports pooled into one study.

Each check allows for the rounding of every written number (:mod:`metapool.audit.rounding`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from scipy import special

from .._distributions import crit_value
from ..effect_sizes.transforms import pft
from ..plots.intervals import PROPORTION_CIS
from .context import Context, finding
from .model import STAT_KINDS, Finding, Statistic
from .rounding import Box, written
from .scales import FAMILY_SCALES, SCALES, ft_sizes, mirror, symmetric_scales

__all__ = ["check_estimate_in_interval", "check_interval_symmetry", "check_interval_width",
           "single_study_interval", "SINGLE_STUDY_MAX_N", "ASSUMED_LEVEL", "WIDTH_FRACTION"]

#: Largest study size tried when asking whether a proportion's interval is one study's exact or
#: Wilson interval (beyond it, both are close to symmetric on the logit scale).
SINGLE_STUDY_MAX_N = 5000
#: Coverage read for an interval whose level is not written: a check that needs the level assumes
#: the narrowest in common use, so that an unwritten level never causes a flag.
ASSUMED_LEVEL = {"width": 0.90, "default": 0.95}
#: A pooled proportion's CI is flagged when it is narrower than this fraction of the common-effect
#: width of all patients on every scale: an inverse-variance pool of raw proportions (PR) weights
#: studies near 0% or 100% heavily and can be somewhat narrower than the binomial bound.
WIDTH_FRACTION = 0.5

def show(stat: Statistic, x: float, bound: bool = True) -> str:
    """``x`` written like ``stat``'s limits (``bound``) or its estimate."""
    d = stat.bound_decimals if bound and stat.bound_decimals is not None else stat.decimals
    return written(x, d, stat.percent)


def interval_text(stat: Statistic) -> str:
    """``stat``'s interval as written ("24% to 48%")."""
    return f"{show(stat, stat.lower)} to {show(stat, stat.upper)}"


def _has_interval(stat: Statistic) -> bool:
    return stat.value is not None and stat.lower is not None and stat.upper is not None


# --- estimate_in_interval --------------------------------------------------------------------

def _range_problem(stat: Statistic, ctx: Context) -> str | None:
    """Why a number of ``stat`` is outside the values its kind can take, or None."""
    family = "proportion" if stat.kind == "i2" else stat.family
    numbers = [("estimate", stat.value, ctx.value_box(stat) if stat.value is not None else None)]
    if stat.lower is not None and stat.upper is not None:
        lower, upper = ctx.bound_boxes(stat)
        numbers += [("lower limit", stat.lower, lower), ("upper limit", stat.upper, upper)]
    for name, value, b in numbers:
        if b is None:
            continue
        if family == "proportion" and (b.lo > 1.0 or b.hi < 0.0):
            return (f"the {name} {show(stat, value, name != 'estimate')} is outside 0% to 100%, where no proportion "
                    f"can be (truncate the limit, or pool on the logit scale)")
        if family == "ratio" and b.hi <= 0.0:
            return f"the {name} {show(stat, value, name != 'estimate')} is not positive, which no ratio can be"
    return None


def check_estimate_in_interval(ctx: Context) -> Iterator[Finding]:
    """The limits are in order, the estimate lies between them, and the values are in range."""
    key = "estimate_in_interval"
    for stat in ctx.statistics:
        if stat.value is None and stat.lower is None:
            continue
        problem = _range_problem(stat, ctx)
        if problem is not None:
            yield finding(stat, key, "flag", f"In {stat.quote!r}, {problem}.", None)
            continue
        if not _has_interval(stat):
            continue
        e = ctx.value_box(stat)
        lower, upper = ctx.bound_boxes(stat)
        what = _interval_name(stat)
        if lower.lo > upper.hi:
            yield finding(stat, key, "flag",
                          f"The lower limit {show(stat, stat.lower)} of the {what} is above its upper limit "
                          f"{show(stat, stat.upper)}: the limits are swapped or one is mistyped.",
                          f"{what} {show(stat, stat.upper)} to {show(stat, stat.lower)}")
        elif e.hi < lower.lo or e.lo > upper.hi:
            side = "below" if e.hi < lower.lo else "above"
            yield finding(stat, key, "flag",
                          f"The estimate {show(stat, stat.value, False)} lies {side} its {what} "
                          f"{interval_text(stat)}, which must contain it: one of the three numbers is wrong.",
                          None)
        else:
            yield finding(stat, key, "pass",
                          f"The estimate {show(stat, stat.value, False)} lies within its {what} "
                          f"{interval_text(stat)}.")


def _interval_name(stat: Statistic) -> str:
    level = f"{100 * stat.level:g}% " if stat.level is not None and stat.interval in ("ci", "pi", "cri") else ""
    return level + {"ci": "CI", "pi": "prediction interval", "cri": "credible interval", "iqr": "IQR",
                    "range": "range", None: "interval"}[stat.interval]


# --- interval_symmetry -----------------------------------------------------------------------

def single_study_interval(est: Box, lower: Box, upper: Box, level: float,
                          max_n: int = SINGLE_STUDY_MAX_N) -> tuple[str, int, int] | None:
    """A study x/n (n <= ``max_n``) whose Wilson or Clopper-Pearson interval reproduces the written one.

    Returns ``(method name, x, n)`` for the first match, None when no study does.
    """
    n = np.arange(1, max_n + 1, dtype=float)
    x_lo = np.ceil(np.maximum(est.lo, 0.0) * n - 1e-9)
    x_hi = np.floor(np.minimum(est.hi, 1.0) * n + 1e-9)
    counts = np.clip(x_hi - x_lo + 1, 0, None).astype(int)
    if counts.sum() == 0:
        return None
    nn = np.repeat(n, counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    x = np.repeat(x_lo, counts) + (np.arange(counts.sum()) - starts)
    for name, f in PROPORTION_CIS.values():
        lo, hi = f(x, nn, level)
        hit = (lo >= lower.lo - 1e-12) & (lo <= lower.hi + 1e-12) & (hi >= upper.lo - 1e-12) & (hi <= upper.hi + 1e-12)
        if hit.any():
            i = int(np.argmax(hit))
            return name, int(x[i]), int(nn[i])
    return None


def _scale_list(codes) -> str:
    names = [SCALES[c].name for c in codes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _mirrors(stat: Statistic, code: str) -> str:
    """What the other limit would be on scale ``code``, from the estimate and each written limit."""
    scale = SCALES[code]
    upper = mirror(scale, stat.value, stat.lower)
    lower = mirror(scale, stat.value, stat.upper)
    est = show(stat, stat.value, False)
    return (f"on the {scale.name} scale, {est} with a lower limit of {show(stat, stat.lower)} gives an upper limit "
            f"of {show(stat, upper)}, and with an upper limit of {show(stat, stat.upper)} a lower limit of "
            f"{show(stat, lower)}")


def check_interval_symmetry(ctx: Context) -> Iterator[Finding]:
    """The interval is symmetric around the estimate on some scale an analysis could have used."""
    key = "interval_symmetry"
    for stat in ctx.statistics:
        if (stat.family not in FAMILY_SCALES or stat.interval not in ("ci", "pi") or not _has_interval(stat)
                or _range_problem(stat, ctx) is not None):
            continue
        e = ctx.value_box(stat)
        lower, upper = ctx.bound_boxes(stat)
        if lower.lo > upper.hi or e.hi < lower.lo or e.lo > upper.hi:
            continue  # estimate_in_interval says what is wrong
        family = stat.family
        found = symmetric_scales(family, e, lower, upper, ctx.n_max)
        tried = FAMILY_SCALES[family]
        what = _interval_name(stat)
        if found:
            yield finding(stat, key, "pass",
                          f"The {what} {interval_text(stat)} is symmetric around {show(stat, stat.value, False)} "
                          f"on the {_scale_list(found)} scale within rounding.")
            continue
        if family == "proportion":
            level = stat.level or ASSUMED_LEVEL["default"]
            single = single_study_interval(e, lower, upper, level) if stat.interval == "ci" else None
            if single is not None:
                name, x, n = single
                yield finding(stat, key, "pass",
                              f"The {what} {interval_text(stat)} is the {name} interval of {x}/{n}, as for one study.")
                continue
            n_note = ("any n up to the N reported" if ctx.n_max is not None
                      else "any n, its large-n form being the arcsine scale")
            reason = (f"The {what} {interval_text(stat)} is not symmetric around {show(stat, stat.value, False)} on "
                      f"any of the raw, logit, log, arcsine or Freeman-Tukey ({n_note}) scales within rounding, "
                      f"nor is it the Wilson or Clopper-Pearson interval of one study of up to "
                      f"{SINGLE_STUDY_MAX_N:,} patients: check the estimate and both limits.")
            yield finding(stat, key, "flag", reason, _mirrors(stat, "logit"))
        elif stat.kind == "risk_difference":
            yield finding(stat, key, "cannot_check",
                          f"The {what} {interval_text(stat)} is not symmetric around "
                          f"{show(stat, stat.value, False)} on the raw scale, but a Newcombe score interval of a "
                          f"risk difference need not be: say how the interval was computed.",
                          _mirrors(stat, "raw"))
        else:
            scale = _scale_list(tried)
            yield finding(stat, key, "flag",
                          f"The {what} {interval_text(stat)} is not symmetric around "
                          f"{show(stat, stat.value, False)} on the {scale} scale within rounding, as a "
                          f"{STAT_KINDS[stat.kind][1]}'s interval is: check the estimate and both limits.",
                          _mirrors(stat, tried[0]))


# --- interval_width --------------------------------------------------------------------------

def width_bounds(est: Box, n: float, k: float, z: float) -> dict[str, float]:
    """The narrowest full CI width a pool of ``n`` patients (in ``k`` studies) can have, per scale.

    On the logit scale the common-effect variance with all patients pooled is ``1/(n p (1-p))``
    (the binomial information of one study of n), smallest where ``p(1-p)`` is largest within the
    estimate's rounding; on the arcsine and Freeman-Tukey scales it is ``1/(4n + 2k)``, whatever p.
    """
    p = min(max(0.5, est.lo), est.hi) if est.lo <= 0.5 <= est.hi else (est.hi if est.hi < 0.5 else est.lo)
    return {"logit": 2.0 * z / math.sqrt(n * p * (1.0 - p)), "arcsine": 2.0 * z / math.sqrt(4.0 * n + 2.0 * k)}


def written_widths(lower: Box, upper: Box, n_max: float) -> dict[str, float]:
    """The widest the written CI can be on each scale (limits at the outer ends of their rounding)."""
    lo, hi = max(lower.lo, 0.0), min(upper.hi, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logit = float(special.logit(hi) - special.logit(lo))
        sizes = ft_sizes(n_max)
        arcsine = max(float(np.max(pft(hi, sizes) - pft(lo, sizes))),
                      float(SCALES["arcsine"].forward(hi) - SCALES["arcsine"].forward(lo)))
    return {"logit": logit, "arcsine": arcsine}


def check_interval_width(ctx: Context) -> Iterator[Finding]:
    """A pooled proportion's CI is at least as wide as one study of all N patients would give."""
    key = "interval_width"
    for stat in ctx.statistics:
        if stat.family != "proportion" or stat.interval != "ci" or not _has_interval(stat) or not ctx.is_pooled(stat):
            continue
        e = ctx.value_box(stat)
        lower, upper = ctx.bound_boxes(stat)
        if _range_problem(stat, ctx) is not None or lower.lo > upper.hi or e.lo <= 0.0 or e.hi >= 1.0:
            continue
        n = ctx.n_max
        if n is None:
            yield finding(stat, key, "cannot_check",
                          "The text reports no number of patients, so the width of this pooled CI cannot be "
                          "compared with what the patients allow.")
            continue
        k = max(ctx.k_values) if ctx.k_values else n
        level = stat.level or ASSUMED_LEVEL["width"]
        z = float(crit_value(level))
        bounds = width_bounds(e, n, k, z)
        widths = written_widths(lower, upper, n)
        what = _interval_name(stat)
        centre = float(special.logit(stat.value))
        half = 0.5 * bounds["logit"]
        narrowest = (f"{show(stat, float(special.expit(centre - half)))} to "
                     f"{show(stat, float(special.expit(centre + half)))}")
        if all(widths[s] < WIDTH_FRACTION * bounds[s] for s in bounds):
            yield finding(stat, key, "flag",
                          f"The {what} {interval_text(stat)} is less than half as wide as a pooled CI of the "
                          f"{n:,.0f} patients reported can be (all of them in one study give {narrowest} on the logit "
                          f"scale): check the limits and the number of patients, and if the CI comes from an "
                          f"inverse-variance pool of raw proportions, which understates the uncertainty near 0% or "
                          f"100%, pool on the logit scale.",
                          f"at least {narrowest} ({100 * level:g}% CI, common effect, {n:,.0f} patients)")
        else:
            yield finding(stat, key, "pass",
                          f"The {what} {interval_text(stat)} is no narrower than a common-effect CI of all "
                          f"{n:,.0f} patients reported ({narrowest}).")
