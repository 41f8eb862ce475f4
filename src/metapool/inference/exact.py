"""Exact confidence intervals of a proportion (Clopper-Pearson) and of a rate (Poisson).

Computed from the beta and gamma quantiles of :mod:`scipy.special`, as R's
``binom.test`` and ``poisson.test`` do (and without importing
:mod:`scipy.stats`). Used for study rows of forest plots and for the pooled
value of separated data, which no GLMM can fit.

References
----------
Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits
illustrated in the case of the binomial. Biometrika 26:404-413.
Garwood F (1936). Fiducial limits for the Poisson distribution. Biometrika
28:437-442.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["clopper_pearson", "poisson_exact"]


def clopper_pearson(x, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) limits for ``x`` events out of ``n``.

    Beta quantiles; the lower limit is 0 when ``x = 0`` and the upper 1 when
    ``x = n`` (as ``scipy.stats.binomtest(...).proportion_ci("exact")`` and R's
    ``binom.test``).

    Parameters
    ----------
    x, n
        Events and totals (arrays broadcast together).
    level
        Confidence level as a fraction.
    """
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    a = (1.0 - level) / 2.0
    with np.errstate(invalid="ignore"):
        lo = np.where(x > 0, special.betaincinv(x, n - x + 1.0, a), 0.0)
        hi = np.where(x < n, special.betaincinv(x + 1.0, n - x, 1.0 - a), 1.0)
    return lo, hi


def poisson_exact(x, t, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact limits of the rate of ``x`` events in person-time ``t`` (Garwood 1936).

    Gamma quantiles, ``qgamma(a/2, x) / t`` and ``qgamma(1 - a/2, x + 1) / t``
    (R's ``poisson.test``); the lower limit is 0 when ``x = 0``.
    """
    x = np.asarray(x, dtype=float)
    t = np.asarray(t, dtype=float)
    a = (1.0 - level) / 2.0
    with np.errstate(invalid="ignore"):
        lo = np.where(x > 0, special.gammaincinv(x, a), 0.0) / t
        hi = special.gammaincinv(x + 1.0, 1.0 - a) / t
    return lo, hi
