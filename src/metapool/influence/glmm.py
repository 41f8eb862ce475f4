"""Leave-one-out and cumulative analyses of GLMM fits, by refitting.

metafor's ``rma.glmm`` has no ``leave1out`` or ``cumul``; metapool refits the
GLMM to each subset, so boundary and separated subsets get the same answers
(common-effect, exact or none) as a direct fit of that subset with
:func:`~metapool.models.glmm.rma_glmm`. The binomial-normal (Poisson-normal)
model of one-group counts is refitted one subset at a time by ``rma_glmm``
(Newton's method with its Nelder-Mead fallback); the model of 2x2 tables
(``UM.FS``) is refitted to all subsets as one batch
(:func:`~metapool.influence.glmm_or.fit_table_subsets`).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..exceptions import MetapoolError
from ..inference.tests import coefficient_tests
from ..models.glmm import rma_glmm
from ..models.glmm_kernels import Counts
from ..models.glmm_results import GLMMResult
from .cumulative import cumulative, cumulative_order
from .glmm_or import fit_table_subsets
from .leave_one_out import leave_one_out, leave_one_out_masks
from .series import SubsetSeries

__all__ = ["glmm_counts", "glmm_subset_series", "refit_glmm", "require_glmm"]

_FIELDS = ("estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper", "q", "q_pvalue", "tau2", "i2", "h2")


def require_glmm(res: GLMMResult, minimum: int, what: str) -> None:
    """Raise unless ``res`` is a GLMM fit (not the exact answer) with ``minimum`` studies."""
    if res.exact is not None:
        raise MetapoolError(f"{what} needs a GLMM fit; separated data have an exact interval only.")
    if res.k < minimum:
        raise MetapoolError(f"{what} needs at least {minimum} studies; the model has k = {res.k}.")


def glmm_counts(res: GLMMResult, idx=None, mask=None) -> Counts:
    """The one-group counts of ``res`` as one analysis (``[1, k]``), or of studies ``idx[B, W]`` as a batch.

    ``mask`` marks the cells of ``idx`` in use (see :func:`~metapool.influence._refit.pack_subsets`).
    """
    family = "binomial" if res.measure == "PLO" else "poisson"
    if idx is None:
        return Counts.from_arrays(family, res.xi, res.size)
    return Counts.from_arrays(family, res.xi[idx], res.size[idx], mask=mask)


def refit_glmm(res: GLMMResult, keep: np.ndarray) -> GLMMResult:
    """:func:`rma_glmm` with the options of the one-group fit ``res`` on the studies ``keep`` (warnings silenced)."""
    size = {"ni" if res.measure == "PLO" else "ti": res.size[keep]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rma_glmm(res.measure, xi=res.xi[keep], slab=[res.slab[i] for i in np.flatnonzero(keep)],
                        test=res.test, level=res.level, n_agq=res.n_quadrature, **size)


def _table_columns(res: GLMMResult, masks: np.ndarray) -> tuple[dict, np.ndarray]:
    """The series columns of the OR GLMM on each subset, from one batch of fits."""
    es = res.effect_sizes()
    cols, _, _ = fit_table_subsets(res, masks, np.asarray(es.yi, dtype=float), np.asarray(es.vi, dtype=float))
    k = masks.sum(axis=1)
    ddf = k - 1.0 if res.test == "t" else np.full(len(masks), np.inf)
    co = coefficient_tests(cols["estimate"][:, None], cols["vb"][:, None, None], ddf, res.level)
    tests = {f: getattr(co, f)[:, 0] for f in ("estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper")}
    return tests | {f: cols[f] for f in ("q", "q_pvalue", "tau2", "i2", "h2")}, ddf


def glmm_subset_series(res: GLMMResult, kind: str, masks: np.ndarray, slab) -> SubsetSeries:
    """Refit the GLMM of ``res`` to each subset ``masks[i]``; NaN where a refit fails."""
    if res.measure == "OR":
        cols, ddf = _table_columns(res, masks)
    else:
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
