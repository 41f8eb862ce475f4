"""Sensitivity analyses of GLMM fits of 2x2 tables (``rma_glmm("OR")``, metafor's ``UM.FS``).

metafor's ``leave1out``, ``cumul``, ``influence``, ``baujat`` and ``gosh`` stop
for ``rma.glmm`` fits; metapool refits the model with fixed study intercepts
and a random log odds ratio to subsets of the studies. Every subset is one row
of a padded batch ``[B, W, 2]`` fitted in one call of the batched kernels
(:func:`~metapool.models.glmm_fs.fit_um_fs`, which chooses between the
random-effects and the common-effect fit per row exactly as
:func:`~metapool.rma_glmm` does), so each row has the numbers of a direct
``rma_glmm("OR", ...)`` fit of that subset. Newton's method is the only
optimiser of the OR model, so a row it does not converge is NaN, as the direct
fit would report it unconverged.

The per-study information for ``mu`` (the hat values and the variance behind
DFBETAS) accounts for the study's own fixed intercept ``alpha_i``: with the
Hessian ``H`` of the study's term ``D_i`` of the AGQ deviance in
``(mu, alpha_i)``,

    I_i(tau2) = (1/2) (H_mu,mu - H_mu,alpha^2 / H_alpha,alpha),

the Schur complement of the study's 2x2 block: the information on ``mu`` of
the study's deviance profiled over its intercept. It is evaluated at the
fitted ``mu`` and at the intercept that minimises ``D_i`` there (the fitted
``alpha_i`` when tau2 is the fit's).
"""

from __future__ import annotations

import numpy as np

from ..inference.heterogeneity import wald_q
from ..models.fit import batch_heterogeneity
from ..models.glmm_fs import fit_um_fs
from ..models.glmm_fs_kernels import arm_counts, saturated_tables, separation, start_values, study_deviance
from ..models.glmm_kernels import Counts
from ..models.glmm_results import GLMMResult
from ..models.kernels import Batch
from ._refit import pack_subsets

__all__ = ["table_counts", "fit_table_subsets", "table_information", "table_wald_terms"]

#: Columns of :func:`fit_table_subsets`.
COLUMNS = ("estimate", "vb", "tau2", "q", "q_pvalue", "i2", "h2")
# (mu, alpha) offsets of the central-difference stencil of the 2x2 Hessian
_STENCIL = np.array([(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)], dtype=float)


def table_counts(res: GLMMResult, idx=None, mask=None) -> Counts:
    """Group counts ``[1, k, 2]`` of ``res``, or of the studies ``idx[B, W]`` (cells in use: ``mask``)."""
    if idx is None:
        return arm_counts(res.xi, res.size)
    return arm_counts(res.xi[idx], res.size[idx], mask)


def fit_table_subsets(res: GLMMResult, incl: np.ndarray, yi: np.ndarray, vi: np.ndarray) -> tuple[dict, int, int]:
    """The OR GLMM of ``res`` on each subset ``incl[b]`` of its studies, as one batch.

    Parameters
    ----------
    res
        A GLMM fit of 2x2 tables.
    incl
        ``[n, k]`` masks of the studies of each subset.
    yi, vi
        The studies' log odds ratios and sampling variances (escalc's ``OR``)
        behind I^2 and H^2.

    Returns
    -------
    tuple
        The columns of :data:`COLUMNS` (``[n]``: ML estimate of mu and its
        variance, tau2, the Wald statistic QE.Wld and its p-value (NaN for one
        study), I^2, H^2), the number of separated subsets (no ML estimate) and of fits
        that did not converge; both are NaN in every column.
    """
    n = incl.shape[0]
    out = {f: np.full(n, np.nan) for f in COLUMNS}
    idx, kept = pack_subsets(incl)
    arms = table_counts(res, idx, kept)
    minus, plus = separation(arms)
    rows = np.flatnonzero(~(minus | plus))
    if rows.size == 0:
        return out, n, 0
    sub = arms.take(rows)
    fit, _, _ = fit_um_fs(sub, res.n_quadrature)
    tau2 = fit.theta**2
    _, terms = saturated_tables(sub)
    q, _, q_pvalue = wald_q(terms, kept[rows].sum(-1))
    het = batch_heterogeneity(Batch.from_arrays(yi[idx[rows]], vi[idx[rows]], mask=kept[rows]), tau2, True)
    cols = {"estimate": fit.mu, "vb": fit.vb, "tau2": tau2, "q": q, "q_pvalue": q_pvalue, "i2": het.i2, "h2": het.h2}
    for f in COLUMNS:
        out[f][rows] = np.where(fit.converged, cols[f], np.nan)
    return out, n - rows.size, int((~fit.converged).sum())


def table_wald_terms(res: GLMMResult) -> np.ndarray:
    """Each study's term of the fit's Wald heterogeneity statistic ``q`` (they sum to it)."""
    return saturated_tables(table_counts(res))[1][0]


def _intercepts(arms: Counts, theta, mu: float, n_agq: int, step: float, tol=1e-10, maxiter=50) -> np.ndarray:
    """``alpha_i`` minimising each study's ``D_i`` at ``mu`` and each ``theta`` (``[m, k]``; Newton).

    ``D_i`` depends on ``alpha_i`` alone among the intercepts, so all studies
    move together; the derivatives are central differences with ``step``.
    """
    m = theta.shape[0]
    alpha = np.broadcast_to(start_values(arms)[1], (m, arms.x.shape[1])).copy()
    offsets = step * np.array([0.0, 1.0, -1.0])
    th, mu3 = np.broadcast_to(theta[None, :, None], (1, m, 3)), np.full((1, m, 3), mu)
    for _ in range(maxiter):
        dev = study_deviance(arms, th, mu3, alpha[None, :, None, :] + offsets[:, None], n_agq)[0][0]
        g = (dev[:, 1] - dev[:, 2]) / (2.0 * step)
        h = (dev[:, 1] - 2.0 * dev[:, 0] + dev[:, 2]) / step**2
        delta = np.clip(-g / np.maximum(np.abs(h), 1e-12), -1.0, 1.0)
        alpha = alpha + delta
        if np.abs(delta).max() < tol * (1.0 + np.abs(alpha).max()):
            break
    return alpha


def table_information(res: GLMMResult, tau2, step: float) -> np.ndarray:
    """``I_i(tau2)`` of each study (module docstring), ``[m, k]`` for tau2 ``[m]``.

    The Hessian in ``(mu, alpha_i)`` comes from central differences with
    ``step`` (the stencil of lme4's ``deriv12``), all studies and tau2 values
    in one batched quadrature.
    """
    theta = np.sqrt(np.asarray(tau2, dtype=float))
    m = theta.shape[0]
    arms = table_counts(res)
    alpha = _intercepts(arms, theta, res.estimate, res.n_quadrature, step / 10.0)
    st = step * _STENCIL
    dev = study_deviance(arms, np.broadcast_to(theta[None, :, None], (1, m, 9)),
                         np.broadcast_to(res.estimate + st[:, 0], (1, m, 9)),
                         alpha[None, :, None, :] + st[:, 1, None], res.n_quadrature)[0][0]
    d0 = dev[:, 0]
    h_mm = (dev[:, 1] - 2.0 * d0 + dev[:, 2]) / step**2
    h_aa = (dev[:, 3] - 2.0 * d0 + dev[:, 4]) / step**2
    h_ma = (dev[:, 5] - dev[:, 6] - dev[:, 7] + dev[:, 8]) / (4.0 * step**2)
    return 0.5 * (h_mm - h_ma**2 / h_aa)
