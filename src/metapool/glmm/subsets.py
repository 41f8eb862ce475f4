"""GLMM fits of subsets of a fit's studies, as one padded batch (leave-one-out, cumulative, GOSH).

metafor's ``leave1out``, ``cumul``, ``influence``, ``baujat`` and ``gosh`` stop
for ``rma.glmm`` fits; metapool refits the GLMM to subsets of the studies.
Every subset is one row of a padded batch, fitted in one call of the batched
kernels, with the numbers of a direct :func:`~metapool.rma_glmm` fit of that
subset. For one-group counts (:func:`fit_count_subsets`) the rows that
Newton's method does not converge are left to :func:`refit_glmm`, the direct
fit with its Nelder-Mead fallback. For
2x2 tables (the model with fixed study intercepts and a random log odds ratio,
``UM.FS``) every subset is one row of a padded batch ``[B, W, 2]`` fitted in
one call of the batched kernels (:func:`~metapool.glmm.tables.fit_um_fs`,
which chooses between the random-effects and the common-effect fit per row
exactly as :func:`~metapool.rma_glmm` does), so each row has the numbers of a
direct ``rma_glmm("OR", ...)`` fit of that subset. Newton's method is the only
optimiser of the OR model, so a row it does not converge is NaN, as the direct
fit would report it unconverged.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..inference.heterogeneity import wald_q
from ..models.fit import batch_heterogeneity
from ..models.kernels import Batch
from .kernels import Counts, fit_glmm, saturated_glm, wald_contributions
from .model import rma_glmm
from .result import GLMMResult
from .table_kernels import arm_counts, saturated_tables, separation
from .tables import fit_um_fs

__all__ = ["glmm_counts", "table_counts", "refit_glmm", "fit_count_subsets", "fit_table_subsets", "table_wald_terms"]

#: Columns of :func:`fit_count_subsets` and :func:`fit_table_subsets`.
COLUMNS = ("estimate", "vb", "tau2", "q", "q_pvalue", "i2", "h2")


def glmm_counts(res: GLMMResult, idx=None, mask=None) -> Counts:
    """The one-group counts of ``res`` as one analysis (``[1, k]``), or of studies ``idx[B, W]`` as a batch.

    ``mask`` marks the cells of ``idx`` in use (see :func:`~metapool.influence._refit.pack_subsets`).
    """
    family = "binomial" if res.measure == "PLO" else "poisson"
    if idx is None:
        return Counts.from_arrays(family, res.xi, res.size)
    return Counts.from_arrays(family, res.xi[idx], res.size[idx], mask=mask)


def table_counts(res: GLMMResult, idx=None, mask=None) -> Counts:
    """Group counts ``[1, k, 2]`` of ``res``, or of the studies ``idx[B, W]`` (cells in use: ``mask``)."""
    if idx is None:
        return arm_counts(res.xi, res.size)
    return arm_counts(res.xi[idx], res.size[idx], mask)


def refit_glmm(res: GLMMResult, keep: np.ndarray) -> GLMMResult:
    """:func:`rma_glmm` with the options of the one-group fit ``res`` on the studies ``keep`` (warnings silenced)."""
    size = {"ni" if res.measure == "PLO" else "ti": res.size[keep]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rma_glmm(res.measure, xi=res.xi[keep], slab=[res.slab[i] for i in np.flatnonzero(keep)],
                        test=res.test, level=res.level, n_agq=res.n_quadrature, **size, **res.correction.to_dict())


def _subset_heterogeneity(yi: np.ndarray, vi: np.ndarray, idx: np.ndarray, kept: np.ndarray, tau2: np.ndarray):
    """I^2, H^2 of each subset ``idx[b]`` (cells ``kept``) from its studies with a finite outcome, as a direct fit."""
    return batch_heterogeneity(Batch.from_arrays(yi[idx], vi[idx], mask=kept & np.isfinite(vi[idx])), tau2, True)


def fit_count_subsets(res: GLMMResult, idx: np.ndarray, kept: np.ndarray, yi: np.ndarray, vi: np.ndarray
                      ) -> tuple[dict, int, np.ndarray]:
    """The binomial-normal (Poisson-normal) GLMM of ``res`` on each subset of its studies, as one batch.

    Arguments and returns as :func:`fit_table_subsets`, for one-group counts
    (``yi``, ``vi``: the studies' PLO or IRLN). Subsets whose studies have no
    events (or, for proportions, only events) are separated: no GLMM fit.
    The rows that Newton's method does not converge are NaN here;
    :func:`refit_glmm` gives their direct fit (Nelder-Mead after Newton,
    which needs ``warnings.catch_warnings`` and so is not run inside the
    worker threads of GOSH).
    """
    n = idx.shape[0]
    out = {f: np.full(n, np.nan) for f in COLUMNS}
    x_sum = np.where(kept, res.xi[idx], 0.0).sum(-1)
    size_sum = np.where(kept, res.size[idx], 0.0).sum(-1)
    separated = (x_sum == 0) | ((res.measure == "PLO") & (x_sum == size_sum))
    rows = np.flatnonzero(~separated)
    if rows.size == 0:
        return out, n, rows
    width = int(kept[rows].sum(-1).max())  # the subsets fitted, packed as narrow as they allow
    idx, kept = idx[rows, :width], kept[rows, :width]
    sub = glmm_counts(res, idx, kept)
    with np.errstate(over="ignore"):  # exp overflows at trial points far out; step halving rejects them
        fit = fit_glmm(sub, res.n_quadrature)
    tau2 = fit.theta**2
    q, _, q_pvalue = wald_q(wald_contributions(sub, saturated_glm(sub)), kept.sum(-1))
    het = _subset_heterogeneity(yi, vi, idx, kept, tau2)
    cols = {"estimate": fit.beta, "vb": fit.vb, "tau2": tau2, "q": q, "q_pvalue": q_pvalue, "i2": het.i2, "h2": het.h2}
    for f in COLUMNS:
        out[f][rows] = np.where(fit.converged, cols[f], np.nan)
    return out, n - rows.size, rows[~fit.converged]


def fit_table_subsets(res: GLMMResult, idx: np.ndarray, kept: np.ndarray, yi: np.ndarray, vi: np.ndarray
                      ) -> tuple[dict, int, np.ndarray]:
    """The OR GLMM of ``res`` on each subset of its studies, as one batch.

    Parameters
    ----------
    res
        A GLMM fit of 2x2 tables.
    idx, kept
        ``[n, W]``: the studies of each subset packed into the leading columns
        and the cells in use (:func:`~metapool.influence._refit.pack_subsets`).
    yi, vi
        The studies' log odds ratios and sampling variances (escalc's ``OR``)
        behind I^2 and H^2.

    Returns
    -------
    tuple
        The columns of :data:`COLUMNS` (``[n]``: ML estimate of mu and its
        variance, tau2, the Wald statistic QE.Wld and its p-value (NaN for one
        study), I^2, H^2), the number of separated subsets (no ML estimate)
        and the rows whose fit did not converge; both are NaN in every column.
    """
    n = idx.shape[0]
    out = {f: np.full(n, np.nan) for f in COLUMNS}
    arms = table_counts(res, idx, kept)
    minus, plus = separation(arms)
    rows = np.flatnonzero(~(minus | plus))
    if rows.size == 0:
        return out, n, rows
    sub = arms.take(rows)
    fit, _, _ = fit_um_fs(sub, res.n_quadrature)
    tau2 = fit.theta**2
    _, terms = saturated_tables(sub)
    q, _, q_pvalue = wald_q(terms, kept[rows].sum(-1))
    het = _subset_heterogeneity(yi, vi, idx[rows], kept[rows], tau2)
    cols = {"estimate": fit.mu, "vb": fit.vb, "tau2": tau2, "q": q, "q_pvalue": q_pvalue, "i2": het.i2, "h2": het.h2}
    for f in COLUMNS:
        out[f][rows] = np.where(fit.converged, cols[f], np.nan)
    return out, n - rows.size, rows[~fit.converged]


def table_wald_terms(res: GLMMResult) -> np.ndarray:
    """Each study's term of the fit's Wald heterogeneity statistic ``q`` (they sum to it)."""
    return saturated_tables(table_counts(res))[1][0]
