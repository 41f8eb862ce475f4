"""The one place a :class:`~metapool.glmm.result.GLMMResult` is put together from a fit.

Both GLMMs (one-group counts, :mod:`.model`; 2x2 tables, :mod:`.tables`)
hand over their ML estimates and the saturated and common-effect fits behind
the heterogeneity tests; Wald inference, the prediction interval, I^2 and
H^2, the Wald and likelihood-ratio tests for heterogeneity and the studies'
weights are computed here, once for both.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._distributions import chi2_sf
from ..inference.heterogeneity import wald_q
from ..inference.intervals import prediction_interval
from ..inference.tests import coefficient_tests, critical
from ..models.fit import batch_heterogeneity
from ..models.kernels import Batch
from ..models.results import Prediction
from .information import share
from .result import Correction, GLMMResult, observed_outcomes

__all__ = ["glmm_result", "exact_result", "SATURATED_NOTE"]

SATURATED_NOTE = ("The saturated GLM of the heterogeneity tests stopped after 25 IRLS iterations unconverged"
                  " (as R's glm, which metafor uses, would warn).")


def heterogeneity_tests(saturate: Callable, k: int, notes: list) -> tuple[float, float, float, float, float]:
    """metafor's ``QE.Wld`` and ``QE.LRT`` with their p-values and df (NaN for k < 2).

    ``saturate()`` gives the saturated GLM (:class:`~metapool.glmm.kernels.SaturatedFit`
    of one analysis), each study's term of the Wald statistic (``[1, k]``)
    and the deviance of the common-effect model; the likelihood-ratio
    statistic is the difference of the two deviances (truncated at 0, as
    metafor does). A saturated fit that did not converge adds
    :data:`SATURATED_NOTE` to ``notes``.
    """
    if k < 2:
        nan = float("nan")
        return nan, nan, nan, nan, nan
    sat, terms, common_deviance = saturate()
    if not sat.converged[0]:
        notes.append(SATURATED_NOTE)
    wald, df, wald_p = (float(v[0]) for v in wald_q(terms, [k]))
    lrt = max(float(common_deviance - sat.deviance[0]), 0.0)
    return wald, wald_p, lrt, float(chi2_sf(lrt, df)), df


def typical_variance(measure: str, xi, size, slab, correction: Correction, tau2: float, notes: list):
    """I^2, H^2 and vt of a GLMM as metafor's ``rma.glmm`` computes them, from the observed outcomes.

    The studies' ``yi``, ``vi`` are escalc's with the fit's ``correction``
    (:func:`~metapool.glmm.result.observed_outcomes`); the typical
    within-study variance is ``vt = (k_yi - 1) / tr(P)`` over the ``k_yi``
    studies with a finite outcome (metafor's ``escalc`` recodes infinite
    values to NA and ``rma.glmm`` leaves those out of vt), and
    ``I^2 = 100 tau2 / (vt + tau2)``, ``H^2 = tau2 / vt + 1``. A note is added
    when some studies of the fit have no finite outcome. Returns
    ``(i2, h2, vt)``, NaN when no study has one.
    """
    es = observed_outcomes(measure, xi, size, slab, correction)
    finite = np.isfinite(es.yi) & np.isfinite(es.vi)
    k_yi = int(finite.sum())
    if k_yi < len(finite):
        notes.append(f"{len(finite) - k_yi} of the {len(finite)} studies have no finite {measure} with add ="
                     f" {correction.add:g}, to = {correction.to!r} (a zero cell): I^2 and H^2 use the typical"
                     f" within-study variance of the other {k_yi}, as metafor does.")
    if k_yi == 0:
        return float("nan"), float("nan"), float("nan")
    het = batch_heterogeneity(Batch.from_arrays(es.yi, es.vi, mask=finite), np.array([tau2]), True)
    return float(het.i2[0]), float(het.h2[0]), float(het.vt[0])


def glmm_result(table, keep: np.ndarray, *, measure: str, model: str, test: str, level: float, xi, size,
                estimate: float, vb: float, tau2: float, saturate: Callable, loglik: float, marginal_loglik: float,
                n_quadrature: int, optimizer: str, converged: bool, n_iter: int, exclusions: tuple,
                warnings: list, notes: list, correction: Correction) -> GLMMResult:
    """The result of a GLMM fit of the studies ``keep`` of the escalc ``table``.

    Parameters
    ----------
    table, keep
        The escalc table of the data (its ``rows`` and ``slab`` give the
        studies' input rows and labels) and the mask of studies fitted.
    measure, model, test, level
        As :class:`GLMMResult` holds them (``level`` a fraction).
    xi, size
        The fitted studies' counts (:attr:`GLMMResult.xi`, ``size``).
    estimate, vb, tau2
        ML estimate of the pooled value, its variance and tau2.
    saturate
        For the heterogeneity tests (:func:`heterogeneity_tests`); called
        only when there are two studies or more.
    loglik, marginal_loglik, n_quadrature, optimizer, converged, n_iter
        Fit statistics and how the optimum was found.
    exclusions, warnings, notes
        Rows left out; warnings and notes so far (the notes of the
        heterogeneity tests and of :func:`typical_variance` are added).
    correction
        The escalc options of the observed outcomes behind I^2 and H^2
        (:func:`typical_variance`).
    """
    k = int(keep.sum())
    slab = tuple(np.asarray(table.slab, dtype=object)[keep])
    ddf = np.array([k - 1.0 if test == "t" else np.inf])
    co = coefficient_tests(np.array([[estimate]]), np.array([[[vb]]]), ddf, level)
    pi_lower, pi_upper = prediction_interval(co.estimate[0, 0], co.se[0, 0], tau2, critical(level, ddf)[0])
    notes = list(notes)
    i2, h2, vt = typical_variance(measure, xi, size, slab, correction, tau2, notes)
    wald, wald_p, lrt, lrt_p, df = heterogeneity_tests(saturate, k, notes)
    return GLMMResult(
        measure=measure, model=model, test=test, level=level, k=k, estimate=estimate, se=float(co.se[0, 0]),
        statistic=float(co.statistic[0, 0]), pvalue=float(co.pvalue[0, 0]), ci_lower=float(co.ci_lower[0, 0]),
        ci_upper=float(co.ci_upper[0, 0]), ddf=None if test == "z" else k - 1.0, tau2=tau2,
        i2=i2, h2=h2, vt=vt, q=wald, q_df=df, q_pvalue=wald_p,
        q_lrt=lrt, q_lrt_pvalue=lrt_p, pi_lower=float(pi_lower), pi_upper=float(pi_upper), loglik=loglik,
        marginal_loglik=marginal_loglik, n_quadrature=n_quadrature, optimizer=optimizer, converged=converged,
        n_iter=n_iter, xi=xi, size=size, slab=slab, rows=table.rows[keep],
        weights=100.0 * share(measure, xi, size, estimate, tau2, n_quadrature), exclusions=exclusions,
        warnings=tuple(warnings), notes=tuple(notes), correction=correction,
    )


def exact_result(table, keep: np.ndarray, *, measure: str, test: str, level: float, xi, size, n_quadrature: int,
                 exact: Prediction, exclusions: tuple, note: str, correction: Correction) -> GLMMResult:
    """The result for separated data: no GLMM fit (NaN), the pooled value's exact interval in ``exact``."""
    nan = float("nan")
    k = int(keep.sum())
    return GLMMResult(
        measure=measure, model="exact", test=test, level=level, k=k, estimate=nan, se=nan, statistic=nan,
        pvalue=nan, ci_lower=nan, ci_upper=nan, ddf=None, tau2=nan, i2=nan, h2=nan, vt=nan, q=nan, q_df=nan,
        q_pvalue=nan, q_lrt=nan, q_lrt_pvalue=nan, pi_lower=nan, pi_upper=nan, loglik=nan, marginal_loglik=nan,
        n_quadrature=n_quadrature, optimizer="none (exact interval)", converged=True, n_iter=0, xi=xi, size=size,
        slab=tuple(np.asarray(table.slab, dtype=object)[keep]), rows=table.rows[keep], weights=np.full(k, nan),
        exclusions=exclusions, warnings=(note,), exact=exact, correction=correction,
    )
