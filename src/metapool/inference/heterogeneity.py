"""Heterogeneity statistics: Q, I^2, H^2 and Q-profile confidence intervals.

References
----------
Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis.
Stat Med 21:1539-1558.
Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity in
meta-analysis. Stat Med 26:37-52.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._distributions import chi2_isf, chi2_sf
from ..models.kernels import Batch, wls
from ..models.tau2 import q_root
from ..models.uniroot import R_TOL

__all__ = ["Heterogeneity", "heterogeneity", "QProfile", "q_profile"]


@dataclass(frozen=True)
class Heterogeneity:
    """Batched heterogeneity statistics (arrays of shape ``[B]``).

    ``vt`` is the "typical" within-study variance ``(k - p) / tr(P)`` of
    Higgins & Thompson (2002), generalised to meta-regression.
    """

    q: np.ndarray
    df: np.ndarray
    pvalue: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    vt: np.ndarray


def heterogeneity(batch: Batch, tau2: np.ndarray, random: bool) -> Heterogeneity:
    """Cochran's Q with its test, and I^2, H^2 as metafor defines them.

    For random-effects models ``I^2 = 100 tau2 / (vt + tau2)`` and
    ``H^2 = 1 + tau2 / vt``; for the common-effect model
    ``I^2 = max(0, 100 (Q - df) / Q)`` and ``H^2 = Q / df``. With no residual
    degrees of freedom Q = 0, p = 1, I^2 = 0 and H^2 = 1.
    """
    fe = batch.common
    df = (batch.k - batch.p).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.maximum(fe.q, 0.0)
        vt = df / fe.trace_p
        if random:
            i2 = 100.0 * tau2 / (vt + tau2)
            h2 = 1.0 + tau2 / vt
        else:
            i2 = 100.0 * (q - df) / q
            i2 = np.where(i2 > 0.0, i2, 0.0)  # also 0 where Q = 0 (NaN or -inf)
            h2 = q / df
        pvalue = chi2_sf(q, df)
    none_left = df <= 0
    if np.count_nonzero(none_left):
        q, pvalue, i2, h2, vt = (np.where(none_left, fill, a) for fill, a in
                                 ((0.0, q), (1.0, pvalue), (0.0, i2), (1.0, h2), (0.0, vt)))
    return Heterogeneity(q=q, df=df, pvalue=pvalue, i2=i2, h2=h2, vt=vt)


@dataclass(frozen=True)
class QProfile:
    """Q-profile confidence limits for tau2 (arrays ``[B]``).

    ``null_set`` marks analyses where both limits fall below zero (metafor
    reports the CI as the null/empty set and both limits as 0);
    ``lower_capped``/``upper_capped`` mark limits set to the search bound.
    """

    lower: np.ndarray
    upper: np.ndarray
    null_set: np.ndarray
    upper_capped: np.ndarray


def q_profile(batch: Batch, tau2: np.ndarray, level: float, tol: float = R_TOL) -> QProfile:
    """Q-profile CI of tau2 (Viechtbauer 2007), reproducing metafor's ``confint``.

    Solves ``Q(tau2) = chi2_{1-a/2}`` (lower limit) and ``Q(tau2) = chi2_{a/2}``
    (upper limit) with ``k - p`` degrees of freedom on the search interval
    ``[0, max(100, 10 tau2)]``, as metafor does. A limit whose root lies beyond
    that interval is set to the interval's end and flagged. ``tol`` is the
    tolerance of the root search (metafor's default: R's ``uniroot`` default).
    """
    df = (batch.k - batch.p).astype(float)
    alpha = 1.0 - level
    crit_u = chi2_isf(alpha / 2.0, df)
    crit_l = chi2_isf(1.0 - alpha / 2.0, df)
    upper_bound = np.maximum(100.0, 10.0 * tau2)
    q_max = wls(batch, upper_bound).q
    q_min = batch.common.q
    lower, _ = q_root(batch, crit_u, upper_bound, tol)
    upper, _ = q_root(batch, crit_l, upper_bound, tol)
    upper_capped = q_max > crit_l
    upper = np.where(upper_capped, upper_bound, upper)
    lower = np.where(q_max > crit_u, upper_bound, lower)
    null_set = q_min < crit_l
    lower = np.where(null_set, 0.0, lower)
    upper = np.where(null_set, 0.0, upper)
    return QProfile(lower, upper, null_set, upper_capped & ~null_set)
