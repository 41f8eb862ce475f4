"""Intervals: prediction interval, a study's Wald interval, back-transformation with limits.

Every model's prediction interval, every study-level Wald interval (forest
rows, effect_sizes.csv) and every natural-scale value with its limits (rma,
GLMM, meta-regression predictions, subgroups, the batch engine, forest rows)
come from these functions, so they cannot disagree.

References
----------
Higgins JPT, Thompson SG, Spiegelhalter DJ (2009). A re-evaluation of
random-effects meta-analysis. J R Stat Soc A 172:137-159.
Riley RD, Higgins JPT, Deeks JJ (2011). Interpretation of random effects
meta-analyses. BMJ 342:d549.
Miller JJ (1978). The inverse of the Freeman-Tukey double arcsine
transformation. Am Stat 32:138.
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3):1-48.
"""

from __future__ import annotations

import numpy as np

from .._distributions import crit_value

__all__ = ["prediction_interval", "study_interval", "natural_limits"]


def prediction_interval(estimate, se, tau2, crit) -> tuple[np.ndarray, np.ndarray]:
    """Prediction interval ``estimate -+ crit sqrt(se^2 + tau2)`` (metafor's ``predict.rma``).

    Parameters
    ----------
    estimate, se
        The pooled (or predicted) value on the analysis scale and its standard
        error (arrays broadcast together).
    tau2
        Between-study variance; 0 gives the confidence interval. Models
        without a random effect have no prediction interval: pass NaN.
    crit
        The two-sided critical value of the model's CI (normal, or t with the
        model's degrees of freedom; :func:`metapool.inference.tests.critical`).

    Returns
    -------
    (lower, upper)
        Arrays of the broadcast shape.
    """
    half = crit * np.sqrt(np.square(se) + tau2)  # np.square: the same bits for scalars and arrays
    return estimate - half, estimate + half


def study_interval(yi, vi, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Each study's Wald interval ``yi -+ z sqrt(vi)`` on the analysis scale (metafor's ``summary.escalc``).

    ``z`` is the normal critical value at ``level`` (a fraction); NaN effect
    sizes or variances give NaN limits.
    """
    half = crit_value(level) * np.sqrt(np.asarray(vi, dtype=float))
    yi = np.asarray(yi, dtype=float)
    return yi - half, yi + half


def natural_limits(transform, lower, upper, ni=None) -> tuple[np.ndarray, np.ndarray]:
    """Interval limits on the natural scale: each limit back-transformed, then put in order.

    Limits are transformed one by one, as metafor's ``predict(..., transf=)``
    does, and re-sorted (a decreasing transformation swaps them). NaN limits
    (e.g. the prediction interval of a common-effect model) stay NaN.

    Parameters
    ----------
    transform
        A :class:`~metapool.effect_sizes.transforms.Transform` (or any callable
        ``f(x, ni)``).
    lower, upper
        Limits on the analysis scale, ``[...]``.
    ni
        The study sizes behind a transformation that needs them: ``[K]`` for
        one analysis, ``[..., K]`` (NaN-padded) for a batch. The Freeman-Tukey
        inverses use their harmonic mean (Miller 1978, metafor's
        ``transf.ipft.hm``), one per analysis.
    """
    lo, hi = transform(lower, ni), transform(upper, ni)
    return np.minimum(lo, hi), np.maximum(lo, hi)
