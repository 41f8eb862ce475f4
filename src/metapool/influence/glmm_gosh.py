"""GOSH for GLMM fits: the GLMM on subsets of the studies.

metafor's ``gosh`` stops for ``rma.glmm`` fits; this is metapool's extension.
Every subset is one row of a padded batch (``mask``) fitted in one call of the
batched quadrature kernels per chunk: :func:`~metapool.models.glmm_kernels.fit_glmm`
for the binomial-normal (Poisson-normal) model, whose few rows that Newton's
method does not converge are refitted one by one with
:func:`~metapool.models.glmm.rma_glmm` (which falls back to Nelder-Mead);
:func:`~metapool.influence.glmm_or.fit_table_subsets` for 2x2 tables
(``UM.FS``). Every subset has the numbers of a direct fit.
"""

from __future__ import annotations

import numpy as np

from ..inference.heterogeneity import wald_q
from ..models.fit import batch_heterogeneity
from ..models.glmm_kernels import fit_glmm, saturated_glm, wald_contributions
from ..models.glmm_results import GLMMResult
from ..models.kernels import Batch
from ._refit import pack_subsets
from .glmm import glmm_counts, refit_glmm, require_glmm
from .glmm_or import fit_table_subsets
from .gosh import GoshResult, gosh, run_chunks, subset_plan

__all__ = ["GLMM_SUBSETS", "GLMM_CHUNK", "TABLE_CHUNK"]

#: Subsets fitted by default: all 2^k - 1 while that is at most this many (k <= 13),
#: else this many random ones (about 20-30 s at k = 32 on two cores).
GLMM_SUBSETS = 10_000
#: Subsets fitted per call of the kernel (larger batches run slower per fit: cache).
GLMM_CHUNK = 128
#: The same for 2x2 tables, whose arrays are 2 groups x 19 stencil points wide (about 5 ms per
#: subset at k = 10 on one core: 10,000 subsets take 30-60 s on two cores).
TABLE_CHUNK = 8

_FIELDS = ("q", "i2", "h2", "tau2", "estimate")


def _fit_subsets(res: GLMMResult, incl: np.ndarray, yi: np.ndarray, vi: np.ndarray
                 ) -> tuple[dict, int, int, np.ndarray]:
    """q, I^2, H^2, tau2 and estimate of the GLMM on each subset ``incl[b]``.

    Returns the columns, the number of separated subsets and of failed fits
    (both NaN), and the rows whose Newton fit of a one-group GLMM failed (NaN
    here): :func:`_retry` refits those by :func:`rma_glmm`, whose Nelder-Mead
    fallback needs ``warnings.catch_warnings``, which is not thread-safe, so it
    runs after the worker threads.
    """
    none = np.zeros(0, dtype=int)
    if res.measure == "OR":
        return (*fit_table_subsets(res, incl, yi, vi), none)
    n = incl.shape[0]
    out = {f: np.full(n, np.nan) for f in _FIELDS}
    x_sum, size_sum = incl @ res.xi, incl @ res.size
    separated = (x_sum == 0) | ((res.measure == "PLO") & (x_sum == size_sum))
    rows = np.flatnonzero(~separated)
    if rows.size == 0:
        return out, int(separated.sum()), 0, none
    idx, kept = pack_subsets(incl[rows])
    sub = glmm_counts(res, idx, kept)
    fit = fit_glmm(sub, res.n_quadrature)
    tau2 = fit.theta**2
    q, _, _ = wald_q(wald_contributions(sub, saturated_glm(sub)), kept.sum(-1))
    het = batch_heterogeneity(Batch.from_arrays(yi[idx], vi[idx], mask=kept), tau2, True)
    cols = {"q": q, "i2": het.i2, "h2": het.h2, "tau2": tau2, "estimate": fit.beta}
    retry = rows[~fit.converged]
    for f in _FIELDS:
        out[f][rows] = cols[f]
        out[f][retry] = np.nan
    return out, int(separated.sum()), 0, retry


def _retry(res: GLMMResult, incl: np.ndarray, rows, out: dict) -> int:
    """Refit the subsets ``rows`` by :func:`rma_glmm` (Nelder-Mead after Newton); the number still failing."""
    failed = 0
    for r in rows:
        refit = refit_glmm(res, incl[r])
        ok = refit.converged and refit.exact is None
        failed += not ok
        for f in _FIELDS:
            out[f][r] = getattr(refit, f) if ok else np.nan
    return failed


@gosh.register
def _(res: GLMMResult, subsets: int | None = None, *, seed=None, chunk: int | None = None,
      workers: int | None = None, progress=None) -> GoshResult:
    """GOSH of a GLMM fit (beyond metafor): the GLMM refitted to subsets of the studies.

    All ``2^k - 1`` subsets when that is at most :data:`GLMM_SUBSETS` (10,000;
    k <= 13) or ``subsets``, else ``subsets`` (default 10,000) random subsets
    drawn as for rma fits (size ~ Binomial(k, 1/2) given >= 1; ``seed``).
    Per subset: the ML estimate of mu and tau2 (AGQ with the fit's quadrature
    points), the Wald heterogeneity statistic ``q`` (NaN for one study) and
    I^2, H^2 as the GLMM defines them (from the studies' PLO/IRLN/OR ``vi``).
    Subsets whose studies have no events (or only events; for 2x2 tables,
    where every study has no events in one group or only events in the
    other) have no GLMM fit (separation); they and any failed fits are NaN,
    counted in ``notes``. ``chunk``: subsets per kernel call (default
    :data:`GLMM_CHUNK`, for 2x2 tables :data:`TABLE_CHUNK`).
    """
    require_glmm(res, 2, "GOSH")
    k = res.k
    if chunk is None:
        chunk = TABLE_CHUNK if res.measure == "OR" else GLMM_CHUNK
    n, masks, exhaustive = subset_plan(k, subsets, seed, (1 << k) - 1 <= GLMM_SUBSETS, GLMM_SUBSETS)
    es = res.effect_sizes()
    yi, vi = np.asarray(es.yi, dtype=float), np.asarray(es.vi, dtype=float)
    incl = np.empty((n, k), dtype=bool)
    out = {f: np.empty(n) for f in _FIELDS}
    lost = np.zeros((2, -(-n // chunk)), dtype=int)
    retry: list = [None] * len(lost[0])

    def fit_chunk(lo: int, hi: int) -> None:
        m = masks(lo, hi)
        incl[lo:hi] = m
        cols, lost[0, lo // chunk], lost[1, lo // chunk], again = _fit_subsets(res, m, yi, vi)
        retry[lo // chunk] = lo + again
        for f in _FIELDS:
            out[f][lo:hi] = cols[f]

    run_chunks(n, chunk, workers, fit_chunk, progress)
    separated, failed = (int(v) for v in lost.sum(axis=1))
    failed += _retry(res, incl, np.concatenate(retry), out)
    notes = []
    tables = res.measure == "OR"
    if separated:
        what = ("are separated (every study has no events in one group or only events in the other)" if tables
                else "have no events (or only events) in every study")
        notes.append(f"{separated} subsets {what}: no GLMM fit (separation), NaN.")
    if failed:
        how = "Newton's method" if tables else "Newton's method and Nelder-Mead"
        notes.append(f"{failed} subset fits did not converge ({how}): NaN.")
    return GoshResult(slab=res.slab, incl=incl, k=incl.sum(axis=1), exhaustive=bool(exhaustive),
                      method="GLMM", notes=tuple(notes), **out)
