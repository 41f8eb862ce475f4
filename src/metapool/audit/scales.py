"""The scales a reported interval may be symmetric on, and the test of symmetry within rounding.

A pooled estimate and its Wald-type CI are symmetric on the scale the analysis used: a proportion
on the raw (PR), logit (PLO, GLMM), log (PLN), arcsine (PAS) or Freeman-Tukey double-arcsine (PFT)
scale, a ratio on the log scale, a difference on the raw scale. Back on the natural scale the
interval is asymmetric, but ``2 g(estimate) = g(lower) + g(upper)`` still holds on that scale ``g``.

The forward transformations are the ones of metapool's effect sizes (logit and log from numpy and
scipy.special, :func:`metapool.effect_sizes.transforms.pft`) and the inverses its back-transforms
(:data:`metapool.effect_sizes.transforms.TRANSFORMS`, :func:`~metapool.effect_sizes.transforms.ipft`).
The Freeman-Tukey scale depends on the sample size ``n`` used to back-transform (the harmonic mean
of the study sizes, Miller 1978); when the text does not give it, every ``n`` from 1 up to the
number of patients reported (or 10^6) is tried, the arcsine scale being its large-``n`` form.

References
----------
Freeman MF, Tukey JW (1950). Ann Math Stat 21:607-611.
Miller JJ (1978). The inverse of the Freeman-Tukey double arcsine transformation. Am Stat 32:138.
Schwarzer G, Chemaitelly H, Abu-Raddad LJ, Ruecker G (2019). Seriously misleading results using
inverse of Freeman-Tukey double arcsine transformation in meta-analysis of single proportions.
Res Synth Methods 10:476-483.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

from ..effect_sizes.transforms import TRANSFORMS, ipft, pft
from .rounding import Box

__all__ = ["Scale", "SCALES", "FAMILY_SCALES", "LIMITS", "ASYMMETRY_ALLOWANCE", "symmetric", "symmetric_scales", "ft_sizes", "mirror"]


def _arcsine(p):
    # The PAS measure's transform (metapool.effect_sizes.measures._pas) on a value, not on cells.
    return np.arcsin(np.sqrt(p))


@dataclass(frozen=True)
class Scale:
    """A scale an interval may be symmetric on: ``forward(x, n)`` and its inverse ``inverse(y, n)``."""

    code: str
    name: str
    forward: Callable
    inverse: Callable
    needs_n: bool = False


def _plain(f: Callable) -> Callable:
    return lambda x, n=None: f(np.asarray(x, dtype=float))


SCALES: dict[str, Scale] = {s.code: s for s in (
    Scale("raw", "raw", _plain(lambda x: x), _plain(TRANSFORMS["identity"])),
    Scale("logit", "logit", _plain(special.logit), _plain(TRANSFORMS["ilogit"])),
    Scale("log", "log", _plain(np.log), _plain(TRANSFORMS["exp"])),
    Scale("arcsine", "arcsine", _plain(_arcsine), _plain(TRANSFORMS["iarcsin"])),
    Scale("freeman_tukey", "Freeman-Tukey", pft, ipft, needs_n=True),
)}

#: The scales tried for each family of statistics (:data:`metapool.audit.model.STAT_KINDS`).
FAMILY_SCALES: dict[str, tuple[str, ...]] = {
    "proportion": ("raw", "logit", "log", "arcsine", "freeman_tukey"),
    "ratio": ("log",),
    "difference": ("raw",),
}

#: Natural limits of each family: a bound written at a limit may have been truncated there.
LIMITS: dict[str, tuple[float, float]] = {
    "proportion": (0.0, 1.0),
    "ratio": (0.0, math.inf),
    "difference": (-math.inf, math.inf),
}


#: Allowance beyond rounding, as a fraction of the interval's width on the scale: the two arms of an
#: interval may differ by this much (profile-likelihood and other non-Wald intervals are close to, not
#: exactly, symmetric).
ASYMMETRY_ALLOWANCE = 0.05


def ft_sizes(n_max: float | None) -> np.ndarray:
    """The sample sizes tried on the Freeman-Tukey scale: 1 to ``n_max`` (10^6 when unknown), log-spaced."""
    top = 1e6 if n_max is None else max(float(n_max), 1.0)
    return np.unique(np.concatenate([np.arange(1.0, min(top, 200.0) + 1.0), np.geomspace(1.0, top, 400)]))


def _g(scale: Scale, x: float, n) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return scale.forward(x, n)


def symmetric(scale: Scale, est: Box, lower: Box, upper: Box, limits: tuple[float, float],
              n=None) -> bool:
    """Whether some values within rounding are symmetric on ``scale``: ``2 g(e) = g(l) + g(u)``.

    ``g`` is increasing, so the range of ``2 g(e)`` is ``[2 g(e.lo), 2 g(e.hi)]`` and that of
    ``g(l) + g(u)`` is ``[g(l.lo) + g(u.lo), g(l.hi) + g(u.hi)]``; the statement is consistent when
    they overlap. A bound whose box reaches a natural limit (0% or 100%) may have been truncated
    there, so it stands for anything beyond as well. The two ranges may miss each other by
    :data:`ASYMMETRY_ALLOWANCE` of the interval's width on the scale. ``n`` may be an array of sizes (Freeman-Tukey):
    consistent when any of them is.
    """
    lo, hi = limits
    e, low, up = est.clip(lo, hi), lower.clip(lo, hi), upper.clip(lo, hi)
    l_lo = -np.inf if lower.lo <= lo else _g(scale, low.lo, n)
    u_hi = np.inf if upper.hi >= hi else _g(scale, up.hi, n)
    with np.errstate(invalid="ignore"):
        twice_lo, twice_hi = 2.0 * _g(scale, e.lo, n), 2.0 * _g(scale, e.hi, n)
        sum_lo = l_lo + _g(scale, up.lo, n)
        sum_hi = _g(scale, low.hi, n) + u_hi
        width = _g(scale, up.hi, n) - _g(scale, low.lo, n)
        slack = ASYMMETRY_ALLOWANCE * np.where(np.isfinite(width), width, 0.0) + 1e-12
        ok = (twice_lo <= sum_hi + slack) & (sum_lo <= twice_hi + slack)
        undefined = np.isnan(twice_lo) | np.isnan(twice_hi) | np.isnan(sum_lo) | np.isnan(sum_hi)
    return bool(np.any(ok | undefined))


def symmetric_scales(family: str, est: Box, lower: Box, upper: Box, n_max: float | None) -> tuple[str, ...]:
    """The codes of the scales of ``family`` on which the written interval is symmetric."""
    limits = LIMITS[family]
    out = []
    for code in FAMILY_SCALES[family]:
        scale = SCALES[code]
        n = ft_sizes(n_max) if scale.needs_n else None
        if symmetric(scale, est, lower, upper, limits, n):
            out.append(code)
    return tuple(out)


def mirror(scale: Scale, estimate: float, bound: float, n=None) -> float:
    """The other limit of an interval symmetric on ``scale`` around ``estimate`` with one limit ``bound``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        g = 2.0 * scale.forward(estimate, n) - scale.forward(bound, n)
        return float(scale.inverse(g, n))
