"""Pooled median survival from Kaplan-Meier medians with confidence intervals.

The within-study standard error of each median is recovered by reading its
reported CI as a Wald interval; the medians are then pooled by inverse
variance (``rma``), as the ``metamedian_survival`` function of R's metamedian
does for one-group studies (McGrath et al. 2025).

References
----------
McGrath S, Kimmelman J, Ozturk O, Steele R, Benedetti A (2025). Meta-analysis
of median survival times with inverse-variance weighting. arXiv e-prints.
"""

from __future__ import annotations

import numpy as np

from .._distributions import norm_ppf
from .._validation import check_level
from ..exceptions import DataValidationError
from ._input import column, labels

__all__ = ["median_survival_se", "pool_median_survival"]


def median_survival_se(median, lower, upper, level: float = 95) -> np.ndarray:
    """Standard errors of Kaplan-Meier medians from their (Wald-type) CIs.

    ``(upper - lower) / (2 z)``; when the upper limit was not reached (NaN)
    the lower half-width is used, ``(median - lower) / z``, with ``z`` the
    normal quantile of the CI's level (McGrath et al. 2025). NaN where the
    median or the lower limit is missing.
    """
    lev = check_level("median_survival_se", level)
    z = norm_ppf(0.5 + 0.5 * lev)
    m, lo, hi = (np.asarray(a, dtype=float) for a in (median, lower, upper))
    return np.where(np.isfinite(hi), (hi - lo) / (2.0 * z), (m - lo) / z)


def pool_median_survival(
    median,
    lower,
    upper,
    data=None,
    *,
    ci_level: float = 95,
    slab=None,
    ni=None,
    **rma_options,
):
    """Pool Kaplan-Meier median survival times that come with a CI.

    Parameters
    ----------
    median, lower, upper
        Study medians and their confidence limits (values or column names of
        ``data``); an empty upper limit means "not reached". Studies without a
        median or lower limit are left out and listed in the result's
        exclusions.
    ci_level
        Level of the reported CIs (95 or 0.95), or one value per study.
    slab, ni
        Study labels and sample sizes (for reporting N).
    **rma_options
        Passed to :func:`metapool.rma` (``method``, ``test``, ``level``, ...).

    Returns
    -------
    RMAResult
        The inverse-variance model of the medians (measure ``GEN``: the pooled
        value is a median survival time in the input's unit).
    """
    from ..models.rma import rma

    m = column(data, median, "median")
    k = m.shape[0]
    lab = labels(data, slab, k)
    lo = column(data, lower, "lower", k, lab)
    hi = column(data, upper, "upper", k, lab)
    if np.isscalar(ci_level):
        se = median_survival_se(m, lo, hi, ci_level)
    else:
        levels = column(data, ci_level, "ci_level", k, lab)
        se = np.array([median_survival_se(a, b, c, lv) for a, b, c, lv in zip(m, lo, hi, levels)])
    wrong = np.isfinite(m) & np.isfinite(lo) & ((lo > m) | (np.isfinite(hi) & (hi < m)))
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise DataValidationError(
            f"Study {lab[i]!r}: the median {m[i]:g} lies outside its CI ({lo[i]:g}, {hi[i]:g})."
        )
    n = None if ni is None else column(data, ni, "ni", k, lab)
    return rma(m, sei=se, slab=list(lab), ni=n, **rma_options)
