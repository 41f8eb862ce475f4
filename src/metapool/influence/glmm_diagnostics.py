"""Influence diagnostics and Baujat-plot data of GLMM fits (an extension of metafor).

metafor's ``influence()`` and ``baujat()`` stop for ``rma.glmm`` fits. metapool
mirrors each definition of metafor's ``influence.rma.uni`` and ``baujat.rma``
with the ingredients of the GLMM (binomial-normal, Poisson-normal, or the
model of 2x2 tables with fixed study intercepts, ``UM.FS``), taken from
case-deletion refits of the GLMM (:func:`~metapool.models.glmm.rma_glmm` on
the data without study i, as :func:`~metapool.influence.leave_one_out` runs
them):

* ``mu``, ``Var(mu) = se^2``, ``tau2``: the fit; ``mu(-i)``, ``se(-i)``,
  ``tau2(-i)``, ``QE(-i)`` (the Wald heterogeneity statistic): the refit
  without study i.
* ``I_i(tau2)``: study i's observed Fisher information for ``mu`` at fixed
  tau2, ``(1/2) d^2 D_i / d mu^2`` of its term ``D_i`` of the AGQ deviance
  (central second difference, step :data:`INFO_STEP`) at the fitted ``mu``.
  It is the GLMM's counterpart of the weight ``1 / (v_i + tau2)`` of the
  normal model, which is exactly that model's per-study information. For
  2x2 tables study i also has its own intercept ``alpha_i``: ``I_i`` is the
  Schur complement ``(1/2) (H_mu,mu - H_mu,alpha^2 / H_alpha,alpha)`` of the
  Hessian of ``D_i`` in ``(mu, alpha_i)`` (the information of ``D_i``
  profiled over ``alpha_i``), at the fitted ``mu`` and the ``alpha_i`` that
  minimises ``D_i`` there (:mod:`metapool.influence.glmm_or`).
* ``y_i``, ``v_i``: the study's logit (log rate, log odds ratio) and sampling
  variance from :func:`~metapool.effect_sizes.escalc` (1/2 added to zero
  cells; for OR to every cell of a table with a zero cell, metafor's
  ``add = 1/2, to = "only0"``, ``drop00`` as the fit).
"""

from __future__ import annotations

import numpy as np

from ..models.glmm_kernels import agq_deviance
from ..models.glmm_results import GLMMResult
from .diagnostics import BaujatData, InfluenceDiagnostics, baujat, deletion_diagnostics, influence
from .glmm import glmm_counts, require_glmm
from .glmm_or import table_information, table_wald_terms
from .leave_one_out import leave_one_out

__all__ = ["study_information", "information_share", "INFO_STEP"]

#: Step in mu of the second difference behind the per-study information.
INFO_STEP = 1e-3


def study_information(res: GLMMResult, tau2) -> np.ndarray:
    """Each study's observed Fisher information for mu at the fitted mu, for each tau2.

    Parameters
    ----------
    res
        A GLMM fit.
    tau2
        Values of tau2, shape ``[m]``.

    Returns
    -------
    ndarray
        ``[m, k]``: ``(1/2) d^2 D_i / d mu^2`` of study i's term of the AGQ
        deviance (the quadrature of the fit), by a central second difference.
        Every study is one analysis of a batch, so the terms come out separately.
        For 2x2 tables the Schur complement over the study's intercept
        (:func:`~metapool.influence.glmm_or.table_information`).
    """
    if res.measure == "OR":
        return table_information(res, tau2, INFO_STEP)
    tau = np.sqrt(np.asarray(tau2, dtype=float))
    counts = glmm_counts(res, np.arange(res.k)[:, None])  # [k, 1]: one study per analysis
    k, m = res.k, tau.shape[0]
    beta = np.broadcast_to(res.estimate + INFO_STEP * np.array([-1.0, 0.0, 1.0]), (k, m, 3))
    theta = np.broadcast_to(tau[None, :, None], (k, m, 3))
    dev, _ = agq_deviance(counts, beta, theta, res.n_quadrature)
    info = (dev[..., 0] - 2.0 * dev[..., 1] + dev[..., 2]) / (2.0 * INFO_STEP**2)
    return info.T


def information_share(res: GLMMResult) -> np.ndarray:
    """Each study's share of the information for mu at the fit: the GLMM's hat values.

    ``hat_i = I_i(tau2) / sum_j I_j(tau2)`` with the per-study information of
    :func:`study_information` (one batched quadrature, no refits); ``100 hat``
    are the weights of :func:`~metapool.influence.influence` and of a GLMM's
    forest plot, the counterpart of the normal model's ``w_i / sum w_j``.
    """
    require_glmm(res, 1, "The weight of each study (its share of the information)")
    info = study_information(res, np.array([res.tau2]))[0]
    return info / info.sum()


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
      weight of the saturated GLM; :func:`~metapool.models.glmm_kernels.wald_contributions`;
      for 2x2 tables the study's log odds ratio in the saturated logistic
      model and ``w_i = 1 / (1/w_i1 + 1/w_i2)`` from its two groups,
      :func:`~metapool.models.glmm_fs_kernels.saturated_tables`), so the
      ``x`` sum to the fit's ``q`` as metafor's sum to Q;
    * ``y``: ``(mu(-i) - mu)^2 / se(-i)^2`` from the leave-one-out refits,
      metafor's definition.
    """
    from ..models.glmm_kernels import saturated_glm, wald_contributions

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
