"""Q-profile confidence interval of tau2 (Viechtbauer 2007), as metafor's ``confint``.

The interval solves the generalised Q statistic of the model for tau2 with the
same root search as the Paule-Mandel estimator (:func:`~metapool.models.tau2.q_root`).

References
----------
Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity in
meta-analysis. Stat Med 26:37-52.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._distributions import chi2_isf
from .kernels import Batch, wls
from .tau2 import q_root
from .uniroot import R_TOL

__all__ = ["QProfile", "q_profile"]


@dataclass(frozen=True)
class QProfile:
    """Q-profile confidence limits for tau2 (arrays ``[B]``).

    ``null_set`` marks analyses where both limits fall below zero (metafor
    reports the CI as the null/empty set and both limits as 0);
    ``upper_capped`` marks upper limits set to the end of the search interval.
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
