"""Pooled median by the (weighted) median of medians (McGrath et al. 2019).

References
----------
McGrath S, Zhao X, Qin ZZ, Steele R, Benedetti A (2019). One-sample aggregate
data meta-analysis of medians. Stat Med 38:969-984.
McGrath S, Sohn H, Steele R, Benedetti A (2020). Meta-analysis of the
difference of medians. Biom J 62:69-98 (the same estimators for differences).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from .._distributions import norm_ppf
from .._summary import Rendered
from .._validation import check_choice, check_level
from ..effect_sizes.table import Exclusion
from ..exceptions import DataValidationError
from ._input import column, labels

__all__ = ["PooledMedian", "pool_medians", "weighted_quantile", "MEDIAN_METHODS"]

#: Method codes of :func:`pool_medians` with their display names.
MEDIAN_METHODS = {
    "MM": "median of medians",
    "WM": "weighted median of medians (weights: sample sizes)",
}


def weighted_quantile(x, w, probs) -> np.ndarray:
    """Weighted quantiles as R's ``Hmisc::wtd.quantile`` (type "quantile").

    Tied values are merged with summed weights; with total weight ``W`` the
    quantile at ``p`` interpolates the order statistics of ranks
    ``floor(1 + (W - 1) p)`` and the next one, where the value of a rank ``r``
    is the smallest ``x`` whose cumulative weight reaches ``r``. Used by the
    weighted median of medians, as in R's metamedian.
    """
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    values, inverse = np.unique(x, return_inverse=True)
    cum = np.cumsum(np.bincount(inverse, weights=w))
    total = cum[-1]
    order = 1.0 + (total - 1.0) * np.asarray(probs, dtype=float)
    low = np.maximum(np.floor(order), 1.0)
    high = np.minimum(low + 1.0, total)
    frac = order % 1.0

    def value_at(rank):
        i = np.searchsorted(cum, rank, side="left")
        return values[np.minimum(i, values.size - 1)]

    return (1.0 - frac) * value_at(low) + frac * value_at(high)


@dataclass(frozen=True)
class PooledMedian(Rendered):
    """A pooled median with its confidence interval.

    ``coverage`` is the interval's nominal coverage: the requested level for
    the normal approximation, the exact sign-test coverage (the smallest
    attainable one at or above the level) otherwise. ``slab`` are the labels
    of the studies pooled and ``rows`` their 0-based input rows (labels may
    repeat; rows do not); ``exclusions`` the rows left out, with the reason
    (:class:`~metapool.effect_sizes.table.Exclusion`), named as for every
    pooled result. ``studies`` and ``excluded`` (the labels of the rows left
    out) are deprecated names.
    """

    method: str
    estimate: float
    ci_lower: float
    ci_upper: float
    coverage: float
    k: int
    exact: bool
    slab: tuple = ()
    exclusions: tuple = ()
    rows: tuple = ()

    @property
    def studies(self) -> tuple:
        """Deprecated name of :attr:`slab`."""
        warnings.warn("PooledMedian.studies is deprecated and will be removed in 0.2; use .slab.",
                      DeprecationWarning, stacklevel=2)
        return self.slab

    @property
    def excluded(self) -> tuple:
        """Deprecated: the labels of :attr:`exclusions`."""
        warnings.warn("PooledMedian.excluded is deprecated and will be removed in 0.2; use .exclusions"
                      " (rows with the reason).", DeprecationWarning, stacklevel=2)
        return tuple(e.label for e in self.exclusions)

    @property
    def method_name(self) -> str:
        return MEDIAN_METHODS[self.method]

    def to_dict(self) -> dict:
        return {
            "method": self.method, "estimate": self.estimate, "ci_lower": self.ci_lower,
            "ci_upper": self.ci_upper, "coverage": self.coverage * 100.0, "k": self.k,
            "exact": self.exact, "excluded": [e.to_dict() for e in self.exclusions],
        }  # fmt: skip


def pool_medians(
    medians,
    data=None,
    *,
    n=None,
    method: str = "MM",
    level: float = 95,
    exact: bool = False,
    slab=None,
) -> PooledMedian:
    """Pool study medians by the (weighted) median of medians.

    The pooled median is the median of the study medians (``"MM"``) or their
    median weighted by sample size (``"WM"``); the confidence interval inverts
    the sign test (McGrath et al. 2019). With ``exact=False`` (default, as
    R's metamedian) the limits are the (weighted) quantiles at
    ``0.5 -/+ z / (2 sqrt(k))``; with ``exact=True`` they are the order
    statistics ``(Y_(r), Y_(k-r+1))`` whose binomial coverage is the smallest
    at or above ``level``.

    Parameters
    ----------
    medians
        Study medians (or, for two-group studies, differences of medians);
        values or a column name of ``data``. Missing cells are left out.
    n
        Sample sizes, required for ``"WM"``.
    method
        ``"MM"`` or ``"WM"``.
    level
        Confidence level (95 or 0.95).
    exact
        Exact binomial (sign-test) limits instead of the normal approximation.
    slab
        Study labels.

    Notes
    -----
    For the exact unweighted interval R's metamedian (``pool.med``) takes the
    upper limit one order statistic lower, ``Y_(k-r)``; the interval here is the
    sign-test interval of the paper, symmetric in rank.
    """
    method = check_choice("pool_medians", "method", method, MEDIAN_METHODS)
    lev = check_level("pool_medians", level)
    y = column(data, medians, "medians")
    k_all = y.shape[0]
    lab = labels(data, slab, k_all)
    ok = np.isfinite(y)
    reasons = {int(r): "median missing" for r in np.flatnonzero(~ok)}
    w = None
    if method == "WM":
        if n is None:
            raise DataValidationError("The weighted median of medians needs sample sizes 'n'.")
        w = column(data, n, "n", k_all, lab)
        reasons |= {int(r): "sample size missing" for r in np.flatnonzero(ok & ~np.isfinite(w))}
        ok &= np.isfinite(w)
        bad = ok & (w <= 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataValidationError(f"Study {lab[i]!r}: sample size must be positive (got {w[i]:g}).")
        w = w[ok]
    y = y[ok]
    k = int(y.size)
    if k == 0:
        raise DataValidationError("No study reports a median.")

    def quantiles(probs):
        probs = np.asarray(probs, dtype=float)
        return np.quantile(y, probs) if w is None else weighted_quantile(y, w, probs)

    if not exact:
        half = min(0.5, norm_ppf(0.5 + 0.5 * lev) / (2.0 * math.sqrt(k)))
        lo, est, hi = quantiles([0.5 - half, 0.5, 0.5 + half])
        coverage = lev
    else:
        from scipy import stats  # binomial CDF (about 900 modules: only when an exact interval is asked for)

        t = np.arange(0, k // 2 + 1)
        cover = 1.0 - 2.0 * stats.binom.cdf(t, k, 0.5)
        feasible = cover >= lev
        if not feasible.any():
            raise DataValidationError(
                f"{k} studies are too few for an exact {lev * 100:g}% interval"
                f" (the largest attainable coverage is {cover[0] * 100:.4g}%)."
            )
        r = int(t[feasible][-1]) + 1  # limits are the r-th smallest and largest values
        coverage = float(cover[feasible][-1])
        if w is None:
            ys = np.sort(y)
            lo, hi = ys[r - 1], ys[k - r]
            est = float(np.quantile(y, 0.5))
        else:
            lo, est, hi = weighted_quantile(y, w, [r / k, 0.5, (k - r + 1) / k])
    return PooledMedian(
        method=method, estimate=float(est), ci_lower=float(lo), ci_upper=float(hi),
        coverage=float(coverage), k=k, exact=bool(exact),
        slab=tuple(s for s, o in zip(lab, ok) if o),
        exclusions=tuple(Exclusion(r, lab[r], reasons[r]) for r in sorted(reasons)),
        rows=tuple(int(r) for r in np.flatnonzero(ok)),
    )  # fmt: skip
