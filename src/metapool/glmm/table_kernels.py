"""Batched numerics of the GLMM for 2x2 tables with fixed study effects (metafor's ``UM.FS``).

Study i has two groups with ``x_i1`` events of ``n_i1`` (group 1, metafor's
``ai`` of ``n1i``) and ``x_i2`` of ``n_i2`` (group 2, ``ci`` of ``n2i``):

    logit p_i1 = alpha_i + mu + b_i / 2,    logit p_i2 = alpha_i - b_i / 2,    b_i ~ N(0, tau2)

with a fixed intercept ``alpha_i`` per study, so that the log odds ratio of
study i is ``mu + b_i``. This is the model metafor's ``rma.glmm(measure="OR",
model="UM.FS")`` fits by ``lme4::glmer(cbind(x, n - x) ~ -1 + group1 + study +
(group12 - 1 | study), nAGQ = 7)``: the treatment indicator ``group1`` (1, 0)
in the fixed part, the contrast coding ``group12`` (+1/2, -1/2, metafor's
default ``coding = 1/2``) in the random part.

The marginal likelihood of each study is approximated by adaptive
Gauss-Hermite quadrature (AGQ) as lme4 defines it for a scalar random effect
per study (see :mod:`metapool.glmm.kernels`), here with two
observations sharing the random effect: with ``u`` standard normal,
``b = theta u`` and loadings ``l = theta (1/2, -1/2)``,
``phi_i(u) = sum_j d_ij(eta0_ij + l_j u) + u^2`` and
``s = (1 + sum_j l_j^2 w_ij(u0))^(-1/2)``.

The AGQ deviance is a sum over studies and ``alpha_i`` enters only study i's
term, so the Hessian over ``(theta, mu, alpha_1, ..., alpha_k)`` is an arrowhead
matrix. Newton's method uses it whole: per study a 3x3 block in ``(theta, mu,
alpha_i)`` by central differences (the stencil of lme4's ``deriv12``,
batched over studies), the intercepts eliminated by the Schur complement,
leaving a 2x2 system in ``(theta, mu)``. The same Schur complement at the
optimum gives ``Var(mu) = 2 [H^-1]_mu,mu``, what lme4's ``vcov`` computes from
its finite-difference Hessian over all k + 2 parameters.

Arrays carry a leading batch axis: counts ``[B, K, 2]`` (group 1, group 2),
study mask ``[B, K]``, parameters ``theta[B]``, ``mu[B]``, ``alpha[B, K]``.

References
----------
Stijnen T, Hamza TH, Özdemir P (2010). Random effects meta-analysis of event
outcome in the framework of the generalized linear mixed model. Stat Med
29:3046-3067.
Jackson D, Law M, Stijnen T, Viechtbauer W, White IR (2018). A comparison of
seven random-effects models for meta-analyses that estimate the summary odds
ratio. Stat Med 37:1059-1085 (this is their model with fixed study-specific
intercepts and a random treatment effect coded +-1/2).
Bates D, Mächler M, Bolker B, Walker S (2015). Fitting linear mixed-effects
models using lme4. J Stat Softw 67(1):1-48.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..inference.heterogeneity import wald_terms
from .kernels import (HESSIAN_DELTA, Counts, SaturatedFit, boundary_theta, damped_newton, moment_start,
                           reflected_step, saturated_glm, study_agq)

__all__ = ["GROUP1", "GROUP12", "arm_counts", "study_deviance", "FSFit", "fit_fs", "start_values",
           "separation", "saturated_tables"]

#: Fixed-effect design of mu in the two groups (metafor's ``X.fit = group1``).
GROUP1 = np.array([1.0, 0.0])
#: Random-effect coding of the two groups (metafor's ``coding = 1/2``).
GROUP12 = np.array([0.5, -0.5])

# offsets in (theta, mu, alpha) of the 19-point central-difference stencil
_PAIRS = ((0, 1), (0, 2), (1, 2))
_STENCIL = np.array(
    [(0, 0, 0)]
    + [tuple(s if i == j else 0 for i in range(3)) for j in range(3) for s in (1, -1)]
    + [tuple(si if i == a else sj if i == b else 0 for i in range(3))
       for a, b in _PAIRS for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1))],
    dtype=float,
)


def arm_counts(events, totals, mask=None) -> Counts:
    """Binomial :class:`Counts` of both groups, shaped ``[B, K, 2]`` (``mask`` ``[B, K]``).

    A table with no events (or only events) in both groups is masked out as
    well: with its own intercept its likelihood tends to 1 as the intercept
    diverges, whatever mu and tau, so it adds nothing to the deviance, the
    saturated model or the information (such tables reach the model only
    with ``drop00=False``).
    """
    x = np.asarray(events, dtype=float)
    n = np.asarray(totals, dtype=float)
    if x.ndim == 2:
        x, n = x[None], n[None]
    study = np.ones(x.shape[:2], dtype=bool) if mask is None else np.atleast_2d(np.asarray(mask, dtype=bool))
    study = study & ~(np.all(x == 0, -1) | np.all(x == n, -1))
    return Counts.from_arrays("binomial", x, n, np.repeat(study[..., None], 2, axis=-1))


def study_deviance(arms: Counts, theta, mu, alpha, n_agq: int, u_start=None):
    """AGQ deviance of every study (relative to the saturated model), ``[B, ..., K]``.

    ``arms`` are counts ``[B, K, 2]``; ``theta`` and ``mu`` have shape
    ``[B, ...]``, ``alpha`` ``[B, ..., K]``. Returns the per-study deviances
    (0 for padded studies) and the conditional modes (for warm starts).
    """
    alpha = np.asarray(alpha, dtype=float)
    theta = np.asarray(theta, dtype=float).reshape(alpha.shape[:-1] + (1, 1))
    mu = np.asarray(mu, dtype=float).reshape(alpha.shape[:-1] + (1, 1))
    c = arms
    for _ in range(alpha.ndim - 2):
        c = c.insert_axis(1)
    dev, u = study_agq(c, alpha[..., None] + mu * GROUP1, theta * GROUP12, n_agq, u_start)
    return np.where(c.mask[..., 0], dev, 0.0), u


@dataclass(frozen=True)
class _Derivatives:
    """Deviance with its gradient and arrowhead Hessian at one point per analysis."""

    f: np.ndarray  # [B]
    g: np.ndarray  # [B, 2] in (theta, mu)
    g_alpha: np.ndarray  # [B, K]
    a: np.ndarray  # [B, 2, 2]: (theta, mu) block
    b: np.ndarray  # [B, K, 2]: (theta, mu) x alpha_i
    c: np.ndarray  # [B, K]: alpha_i x alpha_i
    u: np.ndarray  # [B, K] conditional modes


def _derivatives(arms: Counts, x, alpha, n_agq: int, u_start) -> _Derivatives:
    """Central differences of the deviance per study (lme4's ``deriv12`` stencil)."""
    d = HESSIAN_DELTA
    st = d * _STENCIL
    theta = x[:, None, 0] + st[None, :, 0]
    mu = x[:, None, 1] + st[None, :, 1]
    dev, u = study_deviance(arms, theta, mu, alpha[:, None, :] + st[None, :, 2, None], n_agq,
                            None if u_start is None else u_start[:, None, :])
    d0 = dev[:, 0]
    g = np.stack([(dev[:, 1 + 2 * j] - dev[:, 2 + 2 * j]) / (2 * d) for j in range(3)], axis=-1)
    h = np.empty(d0.shape + (3, 3))
    for j in range(3):
        h[..., j, j] = (dev[:, 1 + 2 * j] - 2 * d0 + dev[:, 2 + 2 * j]) / d**2
    for p, (i, j) in enumerate(_PAIRS):
        pp, pm, mp, mm = (dev[:, 7 + 4 * p + q] for q in range(4))
        h[..., i, j] = h[..., j, i] = (pp - pm - mp + mm) / (4 * d**2)
    return _Derivatives(
        f=d0.sum(-1), g=g[..., :2].sum(1), g_alpha=g[..., 2], a=h[..., :2, :2].sum(1),
        b=h[..., :2, 2], c=h[..., 2, 2], u=u[:, 0],
    )


def _schur(dv: _Derivatives, mask, free_theta: bool):
    """The (theta, mu) system after eliminating the intercepts: ``S``, ``r`` and safe ``c``."""
    c = np.where(mask, dv.c, 1.0)
    scale = np.maximum(np.abs(c).max(-1, keepdims=True), 1e-300)
    c = np.where(np.abs(c) > 1e-10 * scale, np.abs(c), 1e-10 * scale)
    b = np.where(mask[..., None], dv.b, 0.0)
    g_alpha = np.where(mask, dv.g_alpha, 0.0)
    if not free_theta:
        b = b * np.array([0.0, 1.0])
    s = dv.a - np.einsum("bki,bkj,bk->bij", b, b, 1.0 / c)
    r = dv.g - np.einsum("bki,bk->bi", b, g_alpha / c)
    if not free_theta:
        s = s * np.array([[0.0, 0.0], [0.0, 1.0]]) + np.array([[1.0, 0.0], [0.0, 0.0]])
        r = r * np.array([0.0, 1.0])
    return s, r, b, c, g_alpha


def _newton_step(dv: _Derivatives, mask, free_theta: bool):
    """Newton step for (theta, mu) and the intercepts; negative curvature reflected."""
    s, r, b, c, g_alpha = _schur(dv, mask, free_theta)
    step = reflected_step(s, r)
    step_alpha = np.where(mask, -(g_alpha + np.einsum("bki,bi->bk", b, step)) / c, 0.0)
    return step, step_alpha


@dataclass(frozen=True)
class FSFit:
    """Batched ML fit of the UM.FS model (arrays ``[B]``, ``alpha`` ``[B, K]``).

    ``deviance`` is the AGQ deviance relative to the saturated model; ``vb``
    the variance of ``mu``: ``2 [H^-1]_mu,mu`` of the finite-difference Hessian
    over all parameters (lme4's default), or where that Hessian is not
    positive definite the conditional information of ``mu`` with the
    intercepts profiled out (lme4's ``RX``-based fallback;
    ``vb_from_hessian`` False). With ``theta`` fixed (``free_theta`` False)
    the Hessian is over ``mu`` and the intercepts only.
    """

    theta: np.ndarray
    mu: np.ndarray
    alpha: np.ndarray
    deviance: np.ndarray
    vb: np.ndarray
    vb_from_hessian: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    at_boundary: np.ndarray


def start_values(arms: Counts) -> tuple[np.ndarray, np.ndarray]:
    """Start ``(theta, mu)`` ``[B, 2]`` and ``alpha`` ``[B, K]`` from the tables with 1/2 added.

    ``mu`` is the inverse-variance mean of the empirical log odds ratios,
    ``theta`` their excess spread (at least 0.2), ``alpha_i`` the empirical
    logit of group 2.
    """
    x, n = arms.x + 0.5, arms.size + 1.0
    logit = np.log(x / (n - x))
    v = (1.0 / x + 1.0 / (n - x)).sum(-1)
    y = logit[..., 0] - logit[..., 1]
    m = arms.mask[..., 0]
    return np.stack(moment_start(y, v, m), axis=-1), np.where(m, logit[..., 1], 0.0)


def fit_fs(arms: Counts, n_agq: int = 7, *, start=None, theta=None, maxiter: int = 200,
           tol: float = 1e-9) -> FSFit:
    """Maximum-likelihood fit of the UM.FS model by Newton's method (arrowhead Hessian).

    Every step is halved until the deviance decreases; ``theta`` is kept as
    its absolute value and, below lme4's ``boundary.tol``, set to 0 when that
    does not increase the deviance beyond rounding (lme4's ``check.boundary``).
    ``start`` is ``((theta, mu) [B, 2], alpha [B, K])`` (default
    :func:`start_values`); a given ``theta`` (``[B]``) is held fixed, which
    fits the common-effect logistic model with study intercepts at
    ``theta = 0`` and gives the profile likelihood of tau at other values.
    """
    x, alpha = start_values(arms) if start is None else (np.array(start[0], float), np.array(start[1], float))
    free = theta is None
    if not free:
        x[:, 0] = theta
    mask = arms.mask[..., 0]
    dv = _derivatives(arms, x, alpha, n_agq, None)
    (x, alpha), dv, converged, n_iter = damped_newton(
        (x, alpha), dv, lambda p, d: _derivatives(arms, p[0], p[1], n_agq, d.u),
        lambda d: _newton_step(d, mask, free), maxiter, tol)
    th = x[:, 0].copy()
    if free:
        zero = np.zeros(len(th))
        th = boundary_theta(th, dv.f, lambda: study_deviance(arms, zero, x[:, 1], alpha, n_agq)[0].sum(-1))
    vb, from_h = _mu_variance(arms, th, x[:, 1], alpha, dv, free)
    return FSFit(theta=th, mu=x[:, 1], alpha=alpha, deviance=dv.f, vb=vb, vb_from_hessian=from_h,
                 converged=converged, n_iter=n_iter, at_boundary=th == 0.0)


def separation(arms: Counts) -> tuple[np.ndarray, np.ndarray]:
    """Whether the ML log odds ratio of each analysis is -inf and whether it is +inf (``[B]`` each).

    With free study intercepts mu -> -inf raises every study's likelihood
    exactly when each study has no events in group 1 or only events in
    group 2 (and mu -> +inf symmetrically).
    """
    a, c = arms.x[..., 0], arms.x[..., 1]
    b, d = arms.size[..., 0] - a, arms.size[..., 1] - c
    out = ~arms.mask[..., 0]
    return np.all(out | (a == 0) | (d == 0), -1), np.all(out | (c == 0) | (b == 0), -1)


def saturated_tables(arms: Counts) -> tuple[SaturatedFit, np.ndarray]:
    """The saturated logistic model of the 2k groups and each study's term of metafor's ``QE.Wld``.

    R's ``glm`` with a parameter per group (:func:`saturated_glm`, per
    analysis over the groups ``[B, 2K]``). metafor's Wald statistic ``b'
    V^-1 b`` (contrasts of the study log odds ratios) equals ``sum w_i
    (theta_i - theta_w)^2`` with ``theta_i`` the study's log odds ratio and
    ``w_i = 1 / (1/w_i1 + 1/w_i2)`` from the final IRLS weights; the terms
    are ``[B, K]`` (0 for padded studies).
    """
    B, K = arms.x.shape[:2]
    sat = saturated_glm(Counts.from_arrays("binomial", arms.x.reshape(B, -1), arms.size.reshape(B, -1),
                                           arms.mask.reshape(B, -1)))
    coef, w = sat.coef.reshape(B, K, 2), sat.weight.reshape(B, K, 2)
    with np.errstate(divide="ignore"):
        wi = 1.0 / (1.0 / w[..., 0] + 1.0 / w[..., 1])
    return sat, wald_terms(coef[..., 0] - coef[..., 1], wi, arms.mask[..., 0])


def _mu_variance(arms: Counts, theta, mu, alpha, dv: _Derivatives, free_theta: bool):
    """Var(mu): ``2 [S^-1]_mu,mu`` of the Schur complement, else the conditional information.

    The fallback is ``1 / sum_i (I_mm - I_am^2 / I_aa)`` with the information
    ``X' (W - W l l' W / (1 + l' W l)) X`` of each study's (alpha_i, mu) at the
    conditional modes (lme4's ``RX``).
    """
    mask = arms.mask[..., 0]
    free = free_theta & (theta > 0)
    vb = np.empty(theta.shape)
    ok = np.empty(theta.shape, dtype=bool)
    for flag in (True, False):
        rows = free == flag
        if not rows.any():
            continue
        sub = _Derivatives(*(v[rows] for v in vars(dv).values()))
        s, _, _, _, _ = _schur(sub, mask[rows], flag)
        det = s[:, 0, 0] * s[:, 1, 1] - s[:, 0, 1] ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            v = 2.0 * s[:, 0, 0] / det
        good = np.isfinite(v) & (v > 0) & (s[:, 0, 0] > 0) & np.all(np.where(mask[rows], sub.c > 0, True), -1)
        vb[rows], ok[rows] = v, good
    load = theta[:, None, None] * GROUP12
    _, w = arms.score_weight(alpha[..., None] + mu[:, None, None] * GROUP1 + load * dv.u[..., None])
    wl = w * load
    shrink = (1.0 + (wl * load).sum(-1))[..., None, None]
    w_eff = w[..., :, None] * np.eye(2) - wl[..., :, None] * wl[..., None, :] / shrink
    i_aa = w_eff.sum((-1, -2))
    i_am = w_eff[..., 0].sum(-1)
    i_mm = w_eff[..., 0, 0]
    info = np.where(mask, i_mm - i_am**2 / np.where(mask, i_aa, 1.0), 0.0).sum(-1)
    return np.where(ok, vb, 1.0 / info), ok
