"""Heterogeneity statistics: Cochran's Q, I^2, H^2, and the Wald-type Q of GLMMs.

Every model's I^2 and H^2 (rma, Mantel-Haenszel/Peto, GLMM, their refits in
leave-one-out and GOSH analyses, and the limits of their confidence intervals)
and every GLMM's Wald-type test come from these functions.

References
----------
Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis.
Stat Med 21:1539-1558.
Stijnen T, Hamza TH, Ozdemir P (2010). Random effects meta-analysis of event
outcome in the framework of the generalized linear mixed model with
applications in sparse data. Stat Med 29:3046-3067.
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3):1-48.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .._deprecation import moved
from .._distributions import chi2_sf

__all__ = ["Heterogeneity", "heterogeneity", "common_i2_h2", "random_i2_h2", "wald_terms", "wald_q"]


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


def common_i2_h2(q, df) -> tuple[np.ndarray, np.ndarray]:
    """I^2 (percent) and H^2 of a common-effect model from Cochran's Q.

    ``I^2 = max(0, 100 (Q - df) / Q)`` and ``H^2 = Q / df`` (Higgins &
    Thompson 2002), as metafor's ``rma.uni``, ``rma.mh`` and ``rma.peto``
    compute them: a NaN Q gives NaN, Q = 0 gives I^2 = 0.
    """
    q = np.asarray(q, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.maximum(0.0, 100.0 * (q - df) / q), q / df


def random_i2_h2(tau2, vt) -> tuple[np.ndarray, np.ndarray]:
    """I^2 (percent) and H^2 of a random-effects model: ``100 tau2 / (vt + tau2)`` and ``1 + tau2 / vt``.

    ``vt`` is the typical within-study variance; an infinite tau2 (an
    unbounded confidence limit) gives I^2 = 100.
    """
    tau2 = np.asarray(tau2, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        i2 = np.where(np.isinf(tau2), 100.0, 100.0 * tau2 / (vt + tau2))
        return i2, 1.0 + tau2 / vt


def heterogeneity(q, df=None, trace_p=None, tau2=None, random: bool | None = None) -> Heterogeneity:
    """Cochran's Q with its test, and I^2, H^2 as metafor defines them.

    Parameters
    ----------
    q, df, trace_p
        Cochran's Q of the common-effect fit (``tau2 = 0``), its degrees of
        freedom ``k - p`` and the trace of its P matrix (``[B]``); the typical
        within-study variance is ``vt = df / tr(P)``.
    tau2
        The model's tau2 (``[B]``).
    random
        Random-effects model (:func:`random_i2_h2`) or common-effect model
        (:func:`common_i2_h2`).

    Returns
    -------
    Heterogeneity
        With no residual degrees of freedom Q = 0, p = 1, I^2 = 0 and H^2 = 1.

    Notes
    -----
    The former signature ``heterogeneity(batch, tau2, random)``, with a
    :class:`~metapool.models.kernels.Batch`, still works with a
    DeprecationWarning until 0.2 (use
    :func:`metapool.models.fit.batch_heterogeneity`).
    """
    if hasattr(q, "common"):  # the former heterogeneity(batch, tau2, random); a Batch, read without importing models
        warnings.warn("heterogeneity(batch, tau2, random) is deprecated and will be removed in 0.2; use"
                      " metapool.models.fit.batch_heterogeneity(batch, tau2, random), or heterogeneity(q, df,"
                      " trace_p, tau2, random).", DeprecationWarning, stacklevel=2)
        batch, tau2, random = q, df if tau2 is None else tau2, trace_p if random is None else random
        return heterogeneity(batch.common.q, batch.k - batch.p, batch.common.trace_p, tau2, random)
    if df is None or trace_p is None or tau2 is None or random is None:
        raise TypeError("heterogeneity() needs q, df, trace_p, tau2 and random.")
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.maximum(q, 0.0)
        vt = df / trace_p
        i2, h2 = random_i2_h2(tau2, vt) if random else common_i2_h2(q, df)
        pvalue = chi2_sf(q, df)
    none_left = df <= 0
    if np.count_nonzero(none_left):
        q, pvalue, i2, h2, vt = (np.where(none_left, fill, a) for fill, a in
                                 ((0.0, q), (1.0, pvalue), (0.0, i2), (1.0, h2), (0.0, vt)))
    return Heterogeneity(q=q, df=df, pvalue=pvalue, i2=i2, h2=h2, vt=vt)


def wald_terms(theta, w, mask) -> np.ndarray:
    """Terms ``w_i (theta_i - theta_w)^2`` around the weighted mean ``theta_w`` (``[B, K]``, 0 where not ``mask``).

    With the coefficients ``theta_i`` and IRLS weights ``w_i`` of a GLMM's
    saturated GLM, their sum is the Wald-type heterogeneity statistic
    (:func:`wald_q`).
    """
    w = np.where(mask, w, 0.0)
    th = np.where(mask, theta, 0.0)
    mean = (w * th).sum(-1, keepdims=True) / w.sum(-1, keepdims=True)
    return w * (th - mean) ** 2


def wald_q(terms, k) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wald-type test for heterogeneity of a GLMM (metafor's ``QE.Wld``) from its :func:`wald_terms`.

    Parameters
    ----------
    terms
        ``[..., K]``, 0 on padding.
    k
        Number of studies of each analysis (``[...]``).

    Returns
    -------
    (q, df, pvalue)
        ``Q = max(0, sum terms)`` with ``k - 1`` degrees of freedom and its
        chi-square p-value; NaN where ``k < 2``.
    """
    k = np.asarray(k)
    q = np.where(k > 1, np.maximum(np.sum(terms, axis=-1), 0.0), np.nan)
    df = np.where(k > 1, k - 1.0, np.nan)
    return q, df, chi2_sf(q, df)

#: Names that moved up to the models layer.
_MOVED_TO_MODELS = ("QProfile", "q_profile")


def moved_to_models(module: str):
    """The module ``__getattr__`` of ``module`` (this one, or the package) for ``QProfile`` and ``q_profile``.

    They moved to :mod:`metapool.models.q_profile` (issue 11) and stay importable from their old
    places with a DeprecationWarning until 0.2 (the layer test allows this one upward import: it only
    forwards deprecated names).
    """
    def __getattr__(name: str):
        if name in _MOVED_TO_MODELS:
            from ..models import q_profile as new

            return moved(module, new, _MOVED_TO_MODELS)(name)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


__getattr__ = moved_to_models(__name__)
