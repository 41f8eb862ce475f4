"""Fit a batch of random- or common-effect models: estimates, tests, heterogeneity.

This is the one code path behind :func:`metapool.rma` (a batch of one) and the
batch engine. Conventions follow metafor's ``rma.uni`` (Viechtbauer 2010):

* k = 1: tau2 = 0 for every estimator and the z test is used;
* Knapp-Hartung: ``vb`` is scaled by ``s^2`` without truncation;
* prediction intervals use the CI's critical value (z, or t with k - p
  degrees of freedom) with ``sqrt(se^2 + tau2)``; none for the common-effect model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..inference.heterogeneity import Heterogeneity, heterogeneity
from ..inference.intervals import prediction_interval
from ..inference.tests import Coefficients, coefficient_tests, critical, knha_scale
from .kernels import Batch, rowsum, wls
from .rootfind import Control
from .tau2 import Tau2Estimator, Tau2Fit

__all__ = ["BatchFit", "batch_heterogeneity", "fit_batch", "VARIANCE_RATIO_LIMIT"]

#: metafor warns when max(vi) / min(vi) reaches this ratio.
VARIANCE_RATIO_LIMIT = 1e7


@dataclass(frozen=True)
class BatchFit:
    """Everything fitted for a batch (arrays with leading axis ``B``)."""

    estimator: Tau2Estimator
    test: str
    level: float
    k: np.ndarray
    p: int
    tau2: np.ndarray
    tau2_se: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    vb: np.ndarray
    coef: Coefficients
    s2w: np.ndarray
    het: Heterogeneity
    pi_lower: np.ndarray
    pi_upper: np.ndarray
    weights: np.ndarray
    z_forced: np.ndarray
    variance_ratio: np.ndarray
    tau2_reset: np.ndarray
    tau2_fallback: np.ndarray


def batch_heterogeneity(batch: Batch, tau2: np.ndarray, random: bool) -> Heterogeneity:
    """Q, I^2 and H^2 of every analysis of ``batch`` (:func:`~metapool.inference.heterogeneity.heterogeneity`).

    Cochran's Q, its degrees of freedom ``k - p`` and ``tr(P)`` come from the
    batch's common-effect fit; ``tau2`` (``[B]``) is the model's.
    """
    fe = batch.common
    return heterogeneity(fe.q, batch.k - batch.p, fe.trace_p, tau2, random)


def fit_batch(
    batch: Batch,
    estimator: Tau2Estimator,
    test: str,
    level: float,
    control: Control,
    tau2_fixed: np.ndarray | None = None,
    tau_batch: Batch | None = None,
) -> BatchFit:
    """Fit every analysis of ``batch`` with one estimator and test.

    Parameters
    ----------
    batch
        Analyses (see :class:`~metapool.models.kernels.Batch`).
    estimator
        tau2 estimator from :data:`~metapool.models.tau2.ESTIMATORS`.
    test
        ``"z"``, ``"t"`` or ``"knha"``.
    level
        Confidence level as a fraction.
    control
        Convergence control of iterative estimators.
    tau2_fixed
        Values of tau2 to use instead of estimating it (``[B]``).
    tau_batch
        The batch tau2 and the heterogeneity statistics are computed from,
        when it differs from ``batch`` (metafor uses mean-centred effect
        sizes there for models without an intercept).
    """
    tau_batch = batch if tau_batch is None else tau_batch
    k = batch.k
    single = (k == 1) & (batch.p == 1)
    if tau2_fixed is None:
        est = estimator.func(tau_batch, control)
    else:
        fixed = np.broadcast_to(np.asarray(tau2_fixed, dtype=float), (batch.size,))
        n = batch.size
        est = Tau2Fit(fixed, np.full(n, np.nan), np.ones(n, dtype=bool), np.zeros(n, dtype=int))
    any_single = np.count_nonzero(single) > 0
    tau2, tau2_se = est.tau2, est.se
    if any_single:
        tau2, tau2_se = np.where(single, 0.0, tau2), np.where(single, np.nan, tau2_se)

    # the estimator's own fit at tau2 serves where it fitted this batch and no k = 1 row was reset
    reuse = est.fit is not None and tau_batch is batch and not any_single
    fit = est.fit if reuse else wls(batch, tau2)
    df = (k - batch.p).astype(float)
    z_forced = single & (test != "z")
    if test == "knha":
        s2w = np.where(single, 1.0, knha_scale(fit.q, df))
        vb = fit.vb * s2w[:, None, None]
    else:
        s2w = np.ones(batch.size)
        vb = fit.vb
    ddf = np.full(batch.size, np.inf) if test == "z" else np.where(single, np.inf, df)
    coef = coefficient_tests(fit.beta, vb, ddf, level)

    het = batch_heterogeneity(tau_batch, tau2, estimator.random)
    if estimator.random and batch.p == 1:
        pi_lower, pi_upper = prediction_interval(coef.estimate[:, 0], coef.se[:, 0], tau2, critical(level, ddf))
    else:
        pi_lower = pi_upper = np.full(batch.size, np.nan)

    with np.errstate(invalid="ignore", divide="ignore"):
        weights = 100.0 * fit.w / rowsum(fit.w)[:, None]
        ratio = (batch.v * batch.mask).max(axis=1) / batch.v_open.min(axis=1)  # v > 0
    return BatchFit(
        estimator=estimator,
        test=test,
        level=level,
        k=k,
        p=batch.p,
        tau2=tau2,
        tau2_se=tau2_se,
        converged=est.converged | single,
        n_iter=est.n_iter,
        vb=vb,
        coef=coef,
        s2w=s2w,
        het=het,
        pi_lower=pi_lower,
        pi_upper=pi_upper,
        weights=weights,
        z_forced=z_forced,
        variance_ratio=ratio,
        tau2_reset=np.zeros(batch.size, dtype=bool) if est.reset_to_zero is None else est.reset_to_zero & ~single,
        tau2_fallback=np.zeros(batch.size, dtype=bool) if est.fallback is None else est.fallback & ~single,
    )
