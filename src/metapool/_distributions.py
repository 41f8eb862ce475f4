"""Distribution functions from :mod:`scipy.special` (light to import).

``scipy.stats`` costs most of a second to import, so the core uses the special
functions it wraps. All functions are vectorised and return NaN where the
distribution is undefined (e.g. zero degrees of freedom); the special
functions raise no floating-point warnings for NaN arguments.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def norm_sf2(z):
    """Two-sided p-value of a standard normal statistic."""
    return 2.0 * special.ndtr(-np.abs(z))


def norm_ppf(q):
    """Quantile of the standard normal distribution."""
    return special.ndtri(q)


def t_sf2(t, df):
    """Two-sided p-value of a Student t statistic with ``df`` degrees of freedom."""
    df = np.asarray(df, dtype=float)
    return 2.0 * special.stdtr(np.where(df > 0, df, np.nan), -np.abs(t))


def t_ppf(q, df):
    """Quantile of the Student t distribution (NaN for df <= 0)."""
    df = np.asarray(df, dtype=float)
    return special.stdtrit(np.where(df > 0, df, np.nan), q)


def chi2_sf(x, df):
    """Upper tail probability of the chi-square distribution (NaN for df <= 0)."""
    df = np.asarray(df, dtype=float)
    return special.chdtrc(np.where(df > 0, df, np.nan), x)


def chi2_isf(p, df):
    """Inverse of :func:`chi2_sf`: the value with upper tail probability ``p``."""
    df = np.asarray(df, dtype=float)
    return special.chdtri(np.where(df > 0, df, np.nan), p)


def f_sf(x, df1, df2):
    """Upper tail probability of the F distribution."""
    return special.fdtrc(df1, np.where(np.asarray(df2) > 0, df2, np.nan), x)


def crit_value(level: float, df=None):
    """Two-sided critical value: normal when ``df`` is None, else Student t."""
    q = 1.0 - (1.0 - level) / 2.0
    if df is None:
        return norm_ppf(q)
    return t_ppf(q, df)
