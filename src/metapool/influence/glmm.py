"""Leave-one-out, cumulative, influence, Baujat and GOSH analyses of GLMM fits (beyond metafor).

metafor's ``rma.glmm`` has no ``leave1out``, ``cumul``, ``influence``,
``baujat`` or ``gosh``; metapool refits the GLMM to subsets of the studies
(:mod:`metapool.glmm.subsets`), so boundary and separated subsets get the same
answers (common-effect, exact or none) as a direct fit of that subset with
:func:`~metapool.rma_glmm`. The binomial-normal (Poisson-normal) model of
one-group counts is refitted one subset at a time by ``rma_glmm`` for
leave-one-out and cumulative analyses (Newton's method with its Nelder-Mead
fallback); the model of 2x2 tables (``UM.FS``) is refitted to all subsets as
one batch (:func:`~metapool.glmm.subsets.fit_table_subsets`).

Influence diagnostics mirror each definition of metafor's
``influence.rma.uni`` and ``baujat.rma`` with the ingredients of the GLMM:

* ``mu``, ``Var(mu) = se^2``, ``tau2``: the fit; ``mu(-i)``, ``se(-i)``,
  ``tau2(-i)``, ``QE(-i)`` (the Wald heterogeneity statistic): the refit
  without study i.
* ``I_i(tau2)``: study i's observed Fisher information for ``mu`` at fixed
  tau2 (:mod:`metapool.glmm.information`), the GLMM's counterpart of the
  weight ``1 / (v_i + tau2)`` of the normal model.
* ``y_i``, ``v_i``: the study's logit (log rate, log odds ratio) and sampling
  variance from :func:`~metapool.effect_sizes.escalc` (1/2 added to zero
  cells; for OR to every cell of a table with a zero cell, metafor's
  ``add = 1/2, to = "only0"``, ``drop00`` as the fit).

GOSH: every subset is one row of a padded batch (``mask``) fitted in one call
of the batched quadrature kernels per chunk:
:func:`~metapool.glmm.kernels.fit_glmm` for the binomial-normal
(Poisson-normal) model, whose few rows that Newton's method does not converge
are refitted one by one with ``rma_glmm`` (which falls back to Nelder-Mead);
:func:`~metapool.glmm.subsets.fit_table_subsets` for 2x2 tables. Every subset
has the numbers of a direct fit.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import MetapoolError
from ..glmm.information import information_share, study_information
from ..glmm.kernels import fit_glmm, saturated_glm, wald_contributions
from ..glmm.result import GLMMResult, require_glmm
from ..glmm.subsets import fit_table_subsets, glmm_counts, refit_glmm, table_wald_terms
from ..inference.heterogeneity import wald_q
from ..inference.tests import coefficient_tests
from ..models.fit import batch_heterogeneity
from ..models.kernels import Batch
from ._refit import pack_subsets
from .cumulative import cumulative, cumulative_order
from .diagnostics import BaujatData, InfluenceDiagnostics, baujat, deletion_diagnostics, influence
from .gosh import GoshResult, gosh, run_chunks, subset_plan
from .leave_one_out import leave_one_out, leave_one_out_masks
from .series import SubsetSeries

__all__ = ["glmm_subset_series", "GLMM_SUBSETS", "GLMM_CHUNK", "TABLE_CHUNK"]

_FIELDS = ("estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper", "q", "q_pvalue", "tau2", "i2", "h2")



def _table_columns(res: GLMMResult, masks: np.ndarray) -> tuple[dict, np.ndarray]:
    """The series columns of the OR GLMM on each subset, from one batch of fits."""
    es = res.effect_sizes()
    yi, vi = np.asarray(es.yi, dtype=float), np.asarray(es.vi, dtype=float)
    cols, _, _ = fit_table_subsets(res, *pack_subsets(masks), yi, vi)
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


def _case_deletion(res: GLMMResult):
    """mu(-i), se(-i), tau2(-i), QE(-i) of the leave-one-out refits (NaN where a refit fails)."""
    loo = leave_one_out(res)
    return loo.estimate, loo.se, loo.tau2, loo.q


@influence.register
def _(res: GLMMResult) -> InfluenceDiagnostics:
    """Influence diagnostics of a GLMM fit by case-deletion refits (beyond metafor).

    metafor's definitions (``influence.rma.uni``, with its ``s2w = 1``) with
    the GLMM's ingredients (see the module docstring: ``mu``, ``se``,
    ``tau2``, their refits without study i, the per-study information
    ``I_i`` and the study-level ``y_i``, ``v_i``):

    * ``rstudent = (y_i - mu(-i)) / sqrt(v_i + tau2(-i) + se(-i)^2)``;
    * ``hat = I_i(tau2) / sum_j I_j(tau2)``, ``weight = 100 hat`` (percent);
    * ``dffits = (mu - mu(-i)) / sqrt(hat_i (tau2(-i) + v_i))``;
    * ``cook_d = (mu - mu(-i))^2 / se^2``; ``cov_r = se(-i)^2 / se^2``;
    * ``dfbetas = (mu - mu(-i)) / sqrt(1 / sum_j I_j(tau2(-i)))``, the
      variance of mu from all k studies with tau2 set to ``tau2(-i)``;
    * ``tau2_del = tau2(-i)``, ``qe_del = QE(-i)``, the Wald statistic;
    * influential as metafor flags it (p = 1).

    Refits that fail (or whose remaining studies are separated) give NaN.
    """
    require_glmm(res, 2, "Influence diagnostics")
    mu_del, se_del, tau2_del, qe_del = _case_deletion(res)
    es = res.effect_sizes()
    yi, vi = np.asarray(es.yi, dtype=float), np.asarray(es.vi, dtype=float)
    ok = np.isfinite(tau2_del)
    hat = information_share(res)
    with np.errstate(invalid="ignore", divide="ignore"):
        vb_all = np.where(ok, 1.0 / study_information(res, np.where(ok, tau2_del, 0.0)).sum(axis=1), np.nan)
    return deletion_diagnostics(res, res.se**2, yi, vi, hat, 100.0 * hat, mu_del, se_del**2, tau2_del, qe_del, vb_all)


@baujat.register
def _(res: GLMMResult) -> BaujatData:
    """Baujat-plot data of a GLMM fit (beyond metafor, whose ``baujat`` stops for ``rma.glmm``).

    * ``x``: the study's term ``w_i (theta_i - theta_w)^2`` of the Wald
      heterogeneity statistic (``theta_i``, ``w_i``: coefficient and IRLS
      weight of the saturated GLM; :func:`~metapool.glmm.kernels.wald_contributions`;
      for 2x2 tables the study's log odds ratio in the saturated logistic
      model and ``w_i = 1 / (1/w_i1 + 1/w_i2)`` from its two groups,
      :func:`~metapool.glmm.table_kernels.saturated_tables`), so the
      ``x`` sum to the fit's ``q`` as metafor's sum to Q;
    * ``y``: ``(mu(-i) - mu)^2 / se(-i)^2`` from the leave-one-out refits,
      metafor's definition.
    """
    require_glmm(res, 2, "The Baujat plot")
    mu_del, se_del, _, _ = _case_deletion(res)
    if res.measure == "OR":
        x = table_wald_terms(res)
    else:
        counts = glmm_counts(res)
        x = wald_contributions(counts, saturated_glm(counts))[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        y = (mu_del - res.estimate) ** 2 / se_del**2
    return BaujatData(res.slab, x, y)


#: Subsets fitted by default: all 2^k - 1 while that is at most this many (k <= 13),
#: else this many random ones (about 20-30 s at k = 32 on two cores).
GLMM_SUBSETS = 10_000
#: Subsets fitted per call of the kernel (larger batches run slower per fit: cache).
GLMM_CHUNK = 128
#: The same for 2x2 tables, whose arrays are 2 groups x 19 stencil points wide (about 5 ms per
#: subset at k = 10 on one core: 10,000 subsets take 30-60 s on two cores).
TABLE_CHUNK = 8

_GOSH_FIELDS = ("q", "i2", "h2", "tau2", "estimate")


def _fit_subsets(res: GLMMResult, incl: np.ndarray, yi: np.ndarray, vi: np.ndarray
                 ) -> tuple[dict, int, int, np.ndarray]:
    """q, I^2, H^2, tau2 and estimate of the GLMM on each subset ``incl[b]``.

    Returns the columns, the number of separated subsets and of failed fits
    (both NaN), and the rows whose Newton fit of a one-group GLMM failed (NaN
    here): :func:`_retry` refits those by :func:`~metapool.rma_glmm`, whose
    Nelder-Mead fallback needs ``warnings.catch_warnings``, which is not thread-safe, so it
    runs after the worker threads.
    """
    none = np.zeros(0, dtype=int)
    if res.measure == "OR":
        return (*fit_table_subsets(res, *pack_subsets(incl), yi, vi), none)
    n = incl.shape[0]
    out = {f: np.full(n, np.nan) for f in _GOSH_FIELDS}
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
    for f in _GOSH_FIELDS:
        out[f][rows] = cols[f]
        out[f][retry] = np.nan
    return out, int(separated.sum()), 0, retry


def _retry(res: GLMMResult, incl: np.ndarray, rows, out: dict) -> int:
    """Refit the subsets ``rows`` by :func:`~metapool.rma_glmm` (Nelder-Mead after Newton); the number failing."""
    failed = 0
    for r in rows:
        refit = refit_glmm(res, incl[r])
        ok = refit.converged and refit.exact is None
        failed += not ok
        for f in _GOSH_FIELDS:
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
    out = {f: np.empty(n) for f in _GOSH_FIELDS}
    lost = np.zeros((2, -(-n // chunk)), dtype=int)
    retry: list = [None] * len(lost[0])

    def fit_chunk(lo: int, hi: int) -> None:
        m = masks(lo, hi)
        incl[lo:hi] = m
        cols, lost[0, lo // chunk], lost[1, lo // chunk], again = _fit_subsets(res, m, yi, vi)
        retry[lo // chunk] = lo + again
        for f in _GOSH_FIELDS:
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
