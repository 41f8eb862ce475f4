"""Leave-one-out and cumulative analyses of GLMM fits, by refitting.

metafor's ``rma.glmm`` has no ``leave1out`` or ``cumul``; metapool refits the
binomial-normal (Poisson-normal) model to each subset with
:func:`~metapool.models.glmm.rma_glmm`, so boundary and separated subsets get
the same answers (common-effect or exact) as a direct fit of that subset.
GLMM fits are not batched by :func:`~metapool.models.fit.fit_batch`, hence
one refit per subset.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..exceptions import MetapoolError
from ..models.glmm import rma_glmm
from ..models.glmm_kernels import Counts
from ..models.glmm_results import GLMMResult
from .cumulative import cumulative, cumulative_order
from .leave_one_out import leave_one_out, leave_one_out_masks
from .series import SubsetSeries

__all__ = ["glmm_counts", "glmm_subset_series", "refit_glmm", "require_glmm", "SINGLE_GROUP"]

#: GLMM measures whose subsets these analyses refit (one-group counts: events and totals or person-time).
SINGLE_GROUP = ("PLO", "IRLN")

_FIELDS = ("estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper", "q", "q_pvalue", "tau2", "i2", "h2")


def require_glmm(res: GLMMResult, minimum: int, what: str) -> None:
    """Raise unless ``res`` is a one-group GLMM fit (not the exact answer) with ``minimum`` studies."""
    if res.measure not in SINGLE_GROUP:
        raise MetapoolError(f"{what}: defined for GLMM fits of one-group counts ({', '.join(SINGLE_GROUP)}),"
                            f" not {res.measure}.")
    if res.exact is not None:
        raise MetapoolError(f"{what} needs a GLMM fit; separated data have an exact interval only.")
    if res.k < minimum:
        raise MetapoolError(f"{what} needs at least {minimum} studies; the model has k = {res.k}.")


def glmm_counts(res: GLMMResult, idx=None, mask=None) -> Counts:
    """The counts of ``res`` as one analysis (``[1, k]``), or of studies ``idx[B, W]`` as a batch.

    ``mask`` marks the cells of ``idx`` in use (see :func:`~metapool.influence._refit.pack_subsets`).
    """
    family = "binomial" if res.measure == "PLO" else "poisson"
    if idx is None:
        return Counts.from_arrays(family, res.xi, res.size)
    return Counts.from_arrays(family, res.xi[idx], res.size[idx], mask=mask)


def refit_glmm(res: GLMMResult, keep: np.ndarray) -> GLMMResult:
    """:func:`rma_glmm` with the options of ``res`` on the studies ``keep`` (warnings silenced)."""
    size = {"ni" if res.measure == "PLO" else "ti": res.size[keep]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rma_glmm(res.measure, xi=res.xi[keep], slab=[res.slab[i] for i in np.flatnonzero(keep)],
                        test=res.test, level=res.level, n_agq=res.n_quadrature, **size)


def glmm_subset_series(res: GLMMResult, kind: str, masks: np.ndarray, slab) -> SubsetSeries:
    """Refit the GLMM of ``res`` to each subset ``masks[i]``; NaN where a refit fails."""
    cols = {f: np.full(len(masks), np.nan) for f in _FIELDS}
    ddf = np.full(len(masks), np.inf)
    for i, keep in enumerate(masks):
        try:
            r = refit_glmm(res, keep)
        except MetapoolError:
            continue
        if not r.converged:
            continue
        for f in _FIELDS:
            cols[f][i] = getattr(r, f)
        ddf[i] = np.inf if r.ddf is None else r.ddf
    return SubsetSeries(kind=kind, slab=tuple(slab), k=masks.sum(axis=1), ddf=ddf, method="GLMM",
                        test=res.test, level=res.level, random=True, **cols)


@leave_one_out.register
def _(res: GLMMResult) -> SubsetSeries:
    require_glmm(res, 2, "Leave-one-out analysis")
    return glmm_subset_series(res, "leave-one-out", leave_one_out_masks(res.k), res.slab)


@cumulative.register
def _(res: GLMMResult, order=None, *, decreasing: bool = False) -> SubsetSeries:
    require_glmm(res, 1, "Cumulative meta-analysis")
    idx = cumulative_order(res, order, decreasing=decreasing)
    rank = np.empty(res.k, dtype=int)
    rank[idx] = np.arange(res.k)
    masks = rank[None, :] <= np.arange(res.k)[:, None]
    return glmm_subset_series(res, "cumulative", masks, [res.slab[i] for i in idx])
