"""Tests and intervals for model coefficients: z, t and Knapp-Hartung.

References
----------
Knapp G, Hartung J (2003). Improved tests for a random effects meta-regression
with a single covariate. Stat Med 22:2693-2710.
Viechtbauer W (2010). J Stat Softw 36(3):1-48.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .._distributions import crit_value, norm_sf2, t_sf2

__all__ = ["TESTS", "Coefficients", "WaldTest", "knha_scale", "coefficient_tests", "critical", "wald_test"]

#: Test codes with their descriptions (the vocabulary of ``test=``).
TESTS = {
    "z": "Wald-type z test and normal-based CI",
    "t": "t test and CI with k - p degrees of freedom",
    "knha": "Knapp-Hartung adjusted standard errors with t(k - p) (Knapp & Hartung 2003)",
}


@dataclass(frozen=True)
class Coefficients:
    """Batched coefficient inference: arrays ``[B, p]`` (``ddf`` is ``[B]``).

    ``ddf`` is infinite for z tests.
    """

    estimate: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    ddf: np.ndarray


def knha_scale(q: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Knapp-Hartung factor ``s^2 = sum w (y - x b)^2 / (k - p)`` (0 when the sum is ~0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = q / df
    return np.where(q <= np.finfo(float).eps, 0.0, s2)


@functools.lru_cache(maxsize=32)
def _z_critical(level: float) -> float:
    return float(crit_value(level))


def critical(level: float, ddf: np.ndarray) -> np.ndarray:
    """Two-sided critical values: normal where ``ddf`` is infinite, else t."""
    ddf = np.asarray(ddf, dtype=float)
    out = np.full(ddf.shape, _z_critical(float(level)))
    t = np.isfinite(ddf)
    if np.count_nonzero(t):
        out[t] = crit_value(level, ddf[t])
    return out


def coefficient_tests(beta: np.ndarray, vb: np.ndarray, ddf: np.ndarray, level: float) -> Coefficients:
    """Standard errors, statistics, p-values and CIs from ``beta`` and ``vb``."""
    se = np.sqrt(vb.diagonal(axis1=1, axis2=2))
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = beta / se
    t = np.isfinite(ddf)
    pval = norm_sf2(stat)
    if np.count_nonzero(t):
        pval[t] = t_sf2(stat[t], ddf[t][:, None])
    crit = critical(level, ddf)[:, None]
    return Coefficients(beta, se, stat, pval, beta - crit * se, beta + crit * se, ddf)


@dataclass(frozen=True)
class WaldTest:
    """Omnibus test of several coefficients (QM in metafor).

    With z inference ``statistic`` is chi-square with ``df`` degrees of freedom
    (``ddf`` is None); with t or Knapp-Hartung inference it is ``QM / df``,
    F-distributed with ``(df, ddf)`` degrees of freedom.
    """

    statistic: float
    df: int
    ddf: float | None
    pvalue: float


def wald_test(beta: np.ndarray, vb: np.ndarray, which: np.ndarray, ddf: float) -> WaldTest:
    """Wald test that the coefficients ``which`` are all zero (one analysis)."""
    from .._distributions import chi2_sf, f_sf

    b = beta[which]
    v = vb[np.ix_(which, which)]
    qm = float(b @ np.linalg.solve(v, b))
    m = int(which.sum()) if which.dtype == bool else len(which)
    if np.isinf(ddf):
        return WaldTest(qm, m, None, float(chi2_sf(qm, m)))
    f = qm / m
    return WaldTest(f, m, float(ddf), float(f_sf(f, m, ddf)))
