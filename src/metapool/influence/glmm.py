"""Leave-one-out, cumulative, influence, Baujat and GOSH analyses of GLMM fits (beyond metafor).

metafor's ``rma.glmm`` has no ``leave1out``, ``cumul``, ``influence``,
``baujat`` or ``gosh``; metapool refits the GLMM to subsets of the studies,
all subsets of an analysis as one batch of the quadrature kernels
(:mod:`metapool.glmm.subsets`; GOSH in chunks), so that every subset has the
numbers of a direct fit with :func:`~metapool.rma_glmm`: boundary and
separated subsets get the same answers (common-effect, or none). Subsets of
one-group counts that Newton's method does not converge are refitted one by
one by ``rma_glmm``, which falls back to Nelder-Mead; Newton's method is the
only optimiser of the model of 2x2 tables (``UM.FS``), whose unconverged
subsets are NaN as the direct fit reports them.

Influence diagnostics mirror each definition of metafor's
``influence.rma.uni`` and ``baujat.rma`` with the ingredients of the GLMM:

* ``mu``, ``Var(mu) = se^2``, ``tau2``: the fit; ``mu(-i)``, ``se(-i)``,
  ``tau2(-i)``, ``QE(-i)`` (the Wald heterogeneity statistic): the refit
  without study i.
* ``I_i(tau2)``: study i's observed Fisher information for ``mu`` at fixed
  tau2 (:mod:`metapool.glmm.information`), the GLMM's counterpart of the
  weight ``1 / (v_i + tau2)`` of the normal model.
* ``y_i``, ``v_i``: the study's logit (log rate, log odds ratio) and sampling
  variance from :func:`~metapool.effect_sizes.escalc` with the fit's
  ``add``, ``to``, ``drop00`` (:attr:`GLMMResult.correction
  <metapool.glmm.result.GLMMResult.correction>`; by default metafor's
  ``add = 1/2, to = "only0"``: 1/2 added to zero cells, for OR to every cell
  of a table with a zero cell).

GOSH fits its subsets in chunks of that batch
(:func:`~metapool.glmm.subsets.fit_count_subsets`,
:func:`~metapool.glmm.subsets.fit_table_subsets`) on worker threads; the
Nelder-Mead refits run after the threads.
"""

from __future__ import annotations

import numpy as np

from ..glmm.information import information_share, study_information
from ..glmm.kernels import saturated_glm, wald_contributions
from ..glmm.result import GLMMResult, require_glmm
from ..glmm.subsets import fit_count_subsets, fit_table_subsets, glmm_counts, refit_glmm, table_wald_terms
from ..inference.tests import coefficient_tests
from ._refit import pack_subsets
from .cumulative import cumulative, prefix_masks
from .diagnostics import BaujatData, InfluenceDiagnostics, baujat, deletion_diagnostics, influence
from .gosh import GoshResult, gosh, run_chunks, subset_plan
from .leave_one_out import leave_one_out, leave_one_out_masks
from .series import SubsetSeries

__all__ = ["glmm_subset_series", "GLMM_SUBSETS", "GLMM_CHUNK", "TABLE_CHUNK"]

_FIELDS = ("estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper", "q", "q_pvalue", "tau2", "i2", "h2")


def _subset_columns(res: GLMMResult, masks: np.ndarray, yi: np.ndarray, vi: np.ndarray
                    ) -> tuple[dict, int, np.ndarray]:
    """The GLMM of ``res`` on each subset ``masks[b]`` as one batch (:mod:`metapool.glmm.subsets`).

    Returns the columns of :data:`~metapool.glmm.subsets.COLUMNS`, the number
    of separated subsets and the rows whose Newton fit did not converge (all
    NaN; :func:`_refit_unconverged` takes them further).
    """
    fit = fit_table_subsets if res.measure == "OR" else fit_count_subsets
    return fit(res, *pack_subsets(masks), yi, vi)


def _refit_unconverged(res: GLMMResult, masks: np.ndarray, rows, out: dict, fields) -> int:
    """Fill ``fields`` of the subsets ``rows`` from their direct fit; the number that still fail.

    A one-group GLMM is refitted by :func:`~metapool.rma_glmm`, which falls
    back to Nelder-Mead where Newton's method fails; Newton's method is the
    only optimiser of the OR model, so its rows stay NaN (as the direct fit
    reports them unconverged).
    """
    if res.measure == "OR":
        return len(rows)
    failed = 0
    for r in rows:
        refit = refit_glmm(res, masks[r])
        ok = refit.converged and refit.exact is None
        failed += not ok
        for f in fields:
            out[f][r] = getattr(refit, f) if ok else np.nan
    return failed


def glmm_subset_series(res: GLMMResult, kind: str, masks: np.ndarray, slab) -> SubsetSeries:
    """Refit the GLMM of ``res`` to each subset ``masks[i]``, all subsets as one batch; NaN where a refit fails."""
    es = res.effect_sizes()
    cols, _, unconverged = _subset_columns(res, masks, np.asarray(es.yi, dtype=float), np.asarray(es.vi, dtype=float))
    k = masks.sum(axis=1)
    ddf = k - 1.0 if res.test == "t" else np.full(len(masks), np.inf)
    co = coefficient_tests(cols["estimate"][:, None], cols["vb"][:, None, None], ddf, res.level)
    out = {f: getattr(co, f)[:, 0] for f in ("estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper")}
    out |= {f: cols[f] for f in ("q", "q_pvalue", "tau2", "i2", "h2")}
    _refit_unconverged(res, masks, unconverged, out, _FIELDS)
    return SubsetSeries(kind=kind, slab=tuple(slab), k=k, ddf=ddf, method="GLMM", test=res.test, level=res.level,
                        random=True, **out)


@leave_one_out.register
def _(res: GLMMResult) -> SubsetSeries:
    require_glmm(res, 2, "Leave-one-out analysis")
    return glmm_subset_series(res, "leave-one-out", leave_one_out_masks(res.k), res.slab)


@cumulative.register
def _(res: GLMMResult, order=None, *, decreasing: bool = False) -> SubsetSeries:
    require_glmm(res, 1, "Cumulative meta-analysis")
    idx, masks = prefix_masks(res, order, decreasing)
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
    separated = np.zeros(-(-n // chunk), dtype=int)
    unconverged: list = [None] * len(separated)

    def fit_chunk(lo: int, hi: int) -> None:
        m = masks(lo, hi)
        incl[lo:hi] = m
        cols, separated[lo // chunk], rows = _subset_columns(res, m, yi, vi)
        unconverged[lo // chunk] = lo + rows
        for f in _GOSH_FIELDS:
            out[f][lo:hi] = cols[f]

    run_chunks(n, chunk, workers, fit_chunk, progress)
    # rma_glmm's Nelder-Mead fallback needs warnings.catch_warnings, not thread-safe: after the threads
    failed = _refit_unconverged(res, incl, np.concatenate(unconverged), out, _GOSH_FIELDS)
    separated = int(separated.sum())
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
