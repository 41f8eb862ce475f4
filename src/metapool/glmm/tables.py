"""GLMM for 2x2 tables: the unconditional model with fixed study effects (metafor's ``UM.FS``).

:func:`rma_glmm_fs` is what :func:`metapool.rma_glmm` runs for
``measure="OR"``; the numerics are in :mod:`metapool.glmm.table_kernels`.
"""

from __future__ import annotations

import warnings as _warnings

import numpy as np

from ..effect_sizes.escalc import escalc
from ..exceptions import ConvergenceWarning, DataValidationError
from .assemble import glmm_result
from .kernels import Counts, conditional_loglik
from .model import HESSIAN_NOTE, model_studies
from .result import Correction, GLMMResult
from .table_kernels import (GROUP1, GROUP12, FSFit, arm_counts, fit_fs, saturated_tables, separation, start_values,
                            study_deviance)

__all__ = ["rma_glmm_fs", "fit_um_fs", "OR_MODELS", "profile_deviance"]

#: GLMMs of 2x2 tables: code (metafor's ``model``) -> description.
OR_MODELS = {
    "UM.FS": "unconditional model with fixed study effects (logistic, fixed study intercepts,"
             " random log odds ratio coded +-1/2)",
}
NEWTON = "Newton (arrowhead Hessian; study intercepts eliminated by the Schur complement)"


def _take(fit: FSFit, rows) -> FSFit:
    return FSFit(**{name: a[rows] for name, a in vars(fit).items()})


def _put(fit: FSFit, rows, new: FSFit) -> FSFit:
    """``fit`` with the analyses ``rows`` (indices) replaced by those of ``new`` (in that order)."""
    fields = {}
    for name, a in vars(fit).items():
        fields[name] = np.array(a, copy=True)
        fields[name][rows] = getattr(new, name)
    return FSFit(**fields)


def fit_um_fs(arms: Counts, n_agq: int = 7) -> tuple[FSFit, FSFit, np.ndarray]:
    """The fit of each analysis as :func:`metapool.rma_glmm` reports it for ``measure="OR"``.

    First the common-effect logistic model with study intercepts (theta = 0);
    then, for analyses with at least two studies, the random-effects fit from
    its ``mu`` and intercepts (theta from :func:`start_values`) and, where
    Newton's method does not converge, again from the moment start (the
    converged or lower-deviance one kept). An analysis with one study, or
    whose random-effects fit has theta at its boundary 0 or no lower deviance,
    gets the common-effect fit. Returns the fits, the common-effect fits and
    the mask of analyses that got them.
    """
    fe = fit_fs(arms, n_agq, theta=np.zeros(arms.x.shape[0]))
    common = np.ones(fe.mu.shape, dtype=bool)
    rows = np.flatnonzero(arms.mask[..., 0].sum(-1) > 1)
    if rows.size == 0:
        return fe, fe, common
    sub = arms.take(rows)
    theta0 = start_values(sub)[0][:, 0]
    fit = fit_fs(sub, n_agq, start=(np.stack([theta0, fe.mu[rows]], -1), fe.alpha[rows]))
    retry = np.flatnonzero(~fit.converged)
    if retry.size:
        other = fit_fs(sub.take(retry), n_agq)
        better = other.converged | (other.deviance < fit.deviance[retry])
        fit = _put(fit, retry[better], _take(other, better))
    random = ~fit.at_boundary & (fit.deviance < fe.deviance[rows])
    common[rows[random]] = False
    return _put(fe, rows[random], _take(fit, random)), fe, common


def rma_glmm_fs(data=None, *, ai=None, bi=None, ci=None, di=None, n1i=None, n2i=None, slab=None,
                test: str = "z", level: float = 0.95, n_agq: int = 7,
                correction: Correction = Correction()) -> GLMMResult:
    """Random-effects GLMM of 2x2 tables with fixed study intercepts (metafor's ``UM.FS``).

    The model, for study i with ``ai`` events of ``n1i`` (group 1) and ``ci``
    of ``n2i`` (group 2)::

        logit p_i1 = alpha_i + mu + b_i / 2,   logit p_i2 = alpha_i - b_i / 2,   b_i ~ N(0, tau2)

    fitted by maximum likelihood with ``n_agq``-point adaptive Gauss-Hermite
    quadrature, equal to metafor's ``rma.glmm(measure="OR", model="UM.FS")``
    (lme4's ``glmer``, metafor's ``coding = 1/2``). ``mu`` is the pooled log
    odds ratio. Arguments are validated by :func:`metapool.rma_glmm`, which
    documents them; ``level`` is a fraction here.

    Studies with no events, or only events, in both groups are dropped with
    ``correction.drop00`` (metafor's default ``drop00 = TRUE``) and listed in
    ``exclusions``; otherwise they count among the k studies but, with their
    own intercept, carry no information on ``mu`` or ``tau2``
    (:func:`~metapool.glmm.table_kernels.arm_counts` leaves them out of the
    likelihood). I^2 and H^2 use the typical within-study variance of the
    study log odds ratios with ``correction`` (by default 1/2 added to tables
    with a zero cell), as metafor does.

    References
    ----------
    Stijnen T, Hamza TH, Özdemir P (2010). Stat Med 29:3046-3067.
    Jackson D, Law M, Stijnen T, Viechtbauer W, White IR (2018). Stat Med 37:1059-1085.
    """
    cols = {r: v for r, v in dict(ai=ai, bi=bi, ci=ci, di=di, n1i=n1i, n2i=n2i).items() if v is not None}
    # the model's studies: tables with counts (escalc's default correction gives each a finite log odds ratio)
    table = escalc("OR", data, slab=slab, drop00=correction.drop00, **cols)
    keep, exclusions, k = model_studies(table)
    a, b, c, d = (np.asarray(table.cells[r], dtype=float)[keep] for r in ("ai", "bi", "ci", "di"))
    events, totals = np.stack([a, c], -1), np.stack([a + b, c + d], -1)
    arms = arm_counts(events, totals)
    uninformative = k - int(arms.mask[0, :, 0].sum())
    if uninformative == k:
        raise DataValidationError("Every table has no events (or only events) in both groups: the odds ratio"
                                  " is not estimable.")
    minus, plus = separation(arms)
    if minus[0] or plus[0]:
        why = ("-inf: every study has no events in group 1 or only events in group 2" if minus[0] else
               "+inf: every study has no events in group 2 or only events in group 1")
        raise DataValidationError(
            f"The maximum-likelihood log odds ratio is {why} (separation); no GLMM estimate exists"
            " (lme4 fails or reports an arbitrary large value). Report the counts, or use an exact method."
        )
    warns, notes = [], []
    fit, fe, common = fit_um_fs(arms, n_agq)
    model = "common-effect" if common[0] else "UM.FS"
    if k == 1:
        notes.append("k = 1: tau^2 cannot be estimated; the common-effect logistic model was fitted"
                     " (metafor stops: more parameters than observations).")
    elif common[0]:
        notes.append("tau^2 is estimated at its boundary 0: the result is the common-effect logistic"
                     " model with fixed study intercepts.")
    converged = bool(fit.converged[0])
    if not converged:
        warns.append("Newton's method did not converge: the estimates are the last iterate and may not be"
                     " the maximum-likelihood estimates.")
    if not fit.vb_from_hessian[0]:
        notes.append(HESSIAN_NOTE)
    if uninformative:
        notes.append(f"drop00 = False: {uninformative} of the k = {k} tables have no events (or only events) in"
                     " both groups; they count among the studies but carry no information on the odds ratio"
                     " (their intercepts diverge).")
    for w in warns:
        _warnings.warn(w, ConvergenceWarning, stacklevel=3)
    _, modes = study_deviance(arms, fit.theta, fit.mu, fit.alpha, n_agq)
    loglik = conditional_loglik(arms, fit.alpha[..., None] + fit.mu[:, None, None] * GROUP1,
                                fit.theta[:, None, None] * GROUP12, modes)
    return glmm_result(
        table, keep, measure="OR", model=model, test=test, level=level, xi=events, size=totals,
        estimate=float(fit.mu[0]), vb=float(fit.vb[0]), tau2=float(fit.theta[0] ** 2),
        saturate=lambda: (*saturated_tables(arms), fe.deviance[0]), loglik=float(loglik[0]),
        marginal_loglik=float(arms.saturated_constant[0].sum() - fit.deviance[0] / 2.0), n_quadrature=n_agq,
        optimizer=NEWTON, converged=converged, n_iter=int(fit.n_iter[0]), exclusions=exclusions, warnings=warns,
        notes=notes, correction=correction,
    )


def profile_deviance(res: GLMMResult):
    """The saturated log-likelihood constant and ``tau2 -> min_{mu, alpha} deviance`` of a UM.FS fit.

    For :meth:`GLMMResult.heterogeneity_ci`: the profile deviance at fixed
    tau2 maximises over the pooled log odds ratio and every study intercept
    (Newton's method with theta held fixed).
    """
    arms = arm_counts(res.xi, res.size)
    start = (np.array([[0.0, res.estimate]]), start_values(arms)[1])

    def profile(tau2: float) -> float:
        fit = fit_fs(arms, res.n_quadrature, start=start, theta=np.array([np.sqrt(max(tau2, 0.0))]))
        return float(fit.deviance[0])

    return float(arms.saturated_constant[0].sum()), profile
