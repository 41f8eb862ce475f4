"""Batched numerics of random-intercept GLMMs for study counts.

The binomial-normal (logit link) and Poisson-normal (log link, log exposure as
offset) models of Stijnen, Hamza & Özdemir (2010) are fitted by maximum
likelihood, with the marginal likelihood of every study approximated by
adaptive Gauss-Hermite quadrature (AGQ) exactly as lme4's ``glmer(nAGQ=)``
defines it, so that the estimates equal metafor's ``rma.glmm``.

All arrays carry a leading batch axis: events ``x[B, K]``, sizes (binomial) or
exposures (Poisson) ``size[B, K]`` and ``mask[B, K]``. Parameters are
``(beta, theta)`` with ``theta = tau``, the standard deviation of the random
intercept (lme4's parametrisation; the deviance is even in ``theta``).

For study i with spherical random effect ``u`` (``b = theta u``) and
observations j (one here; two groups of a 2x2 table in
:mod:`metapool.glmm.table_kernels`) with linear predictors
``eta0_ij + l_ij u`` (``l_ij`` the random-effect loadings, ``theta`` here) let
``phi_i(u) = sum_j d_ij(eta0_ij + l_ij u) + u^2``, where ``d_ij`` is the
deviance residual (relative to the saturated model). With the conditional mode
``u0`` and ``s = (1 + sum_j l_ij^2 w_ij(u0))^(-1/2)`` (``w`` the GLM weight),
the AGQ deviance is

    D_i = phi_i(u0) - 2 log s - 2 log sum_q w_q exp(-(phi_i(u0 + s z_q) - phi_i(u0))/2 + z_q^2/2)

with Gauss-Hermite nodes ``z_q`` and weights ``w_q`` for the standard normal
density (:func:`study_agq`); the marginal log-likelihood is
``ll_saturated - sum_i D_i / 2``.

References
----------
Stijnen T, Hamza TH, Özdemir P (2010). Random effects meta-analysis of event
outcome in the framework of the generalized linear mixed model. Stat Med
29:3046-3067.
Pinheiro JC, Bates DM (1995). Approximations to the log-likelihood function in
the nonlinear mixed-effects model. J Comput Graph Stat 4:12-35 (AGQ).
Bates D, Mächler M, Bolker B, Walker S (2015). Fitting linear mixed-effects
models using lme4. J Stat Softw 67(1):1-48.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import special

from ..inference.heterogeneity import wald_terms

__all__ = [
    "FAMILIES",
    "Counts",
    "gauss_hermite",
    "study_agq",
    "agq_deviance",
    "conditional_loglik",
    "GLMMFit",
    "fit_glmm",
    "damped_newton",
    "moment_start",
    "reflected_step",
    "boundary_theta",
    "saturated_glm",
    "SaturatedFit",
    "wald_contributions",
]

#: Models of the counts: code -> (likelihood, link).
FAMILIES = {"binomial": "binomial likelihood, logit link", "poisson": "Poisson likelihood, log link"}

_EPS = np.finfo(float).eps
#: Finite-difference step of the Hessian (lme4's ``deriv12`` default).
HESSIAN_DELTA = 1e-4
#: theta below this is tried at 0 (lme4's ``boundary.tol``).
BOUNDARY_TOL = 1e-5
#: Study sizes (binomial) or event counts (Poisson) above which the deviance is
#: computed without first-order cancellation (see :meth:`Counts.deviance`).
PRECISE_ABOVE = 1e4


def _xlogy(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0) / y), 0.0)


@dataclass(frozen=True)
class Counts:
    """Study counts of a batch of analyses.

    ``x`` are events; ``size`` the number of patients (binomial) or the
    person-time (Poisson); padded cells (``mask`` False) hold x = 0, size = 1.
    """

    family: str
    x: np.ndarray
    size: np.ndarray
    mask: np.ndarray
    sat: np.ndarray  # the deviance terms that do not depend on eta

    @classmethod
    def from_arrays(cls, family: str, x, size, mask=None) -> Counts:
        if family not in FAMILIES:
            raise ValueError(f"family must be one of {sorted(FAMILIES)}, not {family!r}")
        x = np.atleast_2d(np.asarray(x, dtype=float))
        size = np.atleast_2d(np.asarray(size, dtype=float))
        mask = np.ones(x.shape, dtype=bool) if mask is None else np.atleast_2d(np.asarray(mask, dtype=bool))
        x, size = np.where(mask, x, 0.0), np.where(mask, size, 1.0)
        if family == "binomial":
            sat = _xlogy(x, size) + _xlogy(size - x, size)
        else:
            sat = _xlogy(x, 1.0) - x
        return cls(family, x, size, mask, sat)

    @property
    def offset(self) -> np.ndarray:
        """Linear-predictor offset: log exposure (Poisson) or 0."""
        return np.log(self.size) if self.family == "poisson" else np.zeros_like(self.x)

    @property
    def saturated_constant(self) -> np.ndarray:
        """``sum_i log f(x_i | saturated)`` per analysis (binomial coefficients included)."""
        x, s = self.x, self.size
        if self.family == "binomial":
            m = s - x
            ll = (special.gammaln(s + 1) - special.gammaln(x + 1) - special.gammaln(m + 1)
                  + _xlogy(x, s) + _xlogy(m, s))
        else:
            ll = _xlogy(x, 1.0) - x - special.gammaln(x + 1)
        return np.where(self.mask, ll, 0.0).sum(axis=-1)

    def expand(self, extra: int = 0, tail: int = 0) -> Counts:
        """The same counts shaped ``[B, 1 * extra, K, 1 * tail]`` to broadcast against parameters."""
        B, K = self.x.shape

        def shape(a):
            return a.reshape((B,) + (1,) * extra + (K,) + (1,) * tail)

        return Counts(self.family, shape(self.x), shape(self.size), shape(self.mask), shape(self.sat))

    def insert_axis(self, axis: int) -> Counts:
        """The same counts with a length-1 axis inserted at ``axis`` (to broadcast against parameters)."""
        shape = list(self.x.shape)
        shape.insert(axis if axis >= 0 else len(shape) + 1 + axis, 1)
        return Counts(self.family, *(a.reshape(shape) for a in (self.x, self.size, self.mask, self.sat)))

    def take(self, rows) -> Counts:
        """The analyses ``rows`` (index or boolean mask of the batch axis)."""
        return Counts(self.family, self.x[rows], self.size[rows], self.mask[rows], self.sat[rows])

    @property
    def precise(self) -> bool:
        """Whether the cancellation-free deviance is needed (counts above :data:`PRECISE_ABOVE`)."""
        return bool(np.max(self.size if self.family == "binomial" else self.x) > PRECISE_ABOVE)

    def deviance(self, eta):
        """Deviance residuals ``d(eta)`` (eta includes the offset).

        Near the saturated fit the two terms of the binomial deviance cancel to
        first order, losing about ``log10(n)`` digits (fatal for the
        finite-difference Hessian when n ~ 10^7). For such counts the exact
        rearrangement ``x (log1p(a) - a) + m (log1p(b) - b) + n (p - mu)^2 /
        (mu (1 - mu))`` with ``a = (p - mu) / mu``, ``b = (mu - p) / (1 - mu)``
        (and its Poisson analogue) is used near the fit.
        """
        x, s = self.x, self.size
        if self.family == "binomial":
            direct = self.sat + x * np.logaddexp(0.0, -eta) + (s - x) * np.logaddexp(0.0, eta)
        else:
            direct = self.sat - x * eta + np.exp(eta)
        if not self.precise:
            return 2.0 * direct
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.family == "binomial":
                mu, mu1 = special.expit(eta), special.expit(-eta)
                diff = x / s - mu
                a, b = diff / mu, -diff / mu1
                near = s * diff * diff / (mu * mu1) + x * (np.log1p(a) - a) + (s - x) * (np.log1p(b) - b)
                ok = (np.abs(a) < 0.5) & (np.abs(b) < 0.5)
            else:
                mean = np.exp(eta)
                a = (x - mean) / mean
                near = x * (np.log1p(a) - a) + mean * a * a
                ok = np.abs(a) < 0.5
            return 2.0 * np.where(ok, near, direct)

    def score_weight(self, eta):
        """Score ``x - E x`` and GLM weight (Fisher information) in eta."""
        if self.family == "binomial":
            mu = special.expit(eta)
            return self.x - self.size * mu, self.size * mu * (1.0 - mu)
        mean = np.exp(eta)
        return self.x - mean, mean


@functools.lru_cache(maxsize=8)
def gauss_hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for the standard normal density (lme4's ``GHrule``)."""
    z, w = np.polynomial.hermite_e.hermegauss(n)
    return z, w / np.sqrt(2.0 * np.pi)


def _observation_sum(c: Counts):
    """Sum over the observations of a study (the last axis), as one addition per observation.

    Much faster than a reduction over a short strided axis, and the same
    sequential sum; a view where there is one observation.
    """
    n = c.x.shape[-1]

    def total(a):
        out = a[..., 0]
        for j in range(1, n):
            out = out + a[..., j]
        return out

    return total


def _conditional_mode(c: Counts, eta0, load, u, tol=1e-10, maxiter=100):
    """Minimise ``phi(u) = sum_j d_j(eta0_j + load_j u) + u^2`` per study by safeguarded Newton.

    The observations j of a study are the last axis of ``c``, ``eta0`` and
    ``load``. ``phi`` is convex; a step is halved only where it increases
    ``phi`` by more than rounding.
    """
    total = _observation_sum(c)

    def phi(v):
        return total(c.deviance(eta0 + load * v[..., None])) + v * v

    f = phi(u)
    for _ in range(maxiter):
        score, w = c.score_weight(eta0 + load * u[..., None])
        step = (u - total(load * score)) / (total(load * load * w) + 1.0)
        if not np.any(np.abs(step) > tol * (1.0 + np.abs(u))):
            break
        trial = u - step
        f_t = phi(trial)
        for _ in range(60):
            worse = f_t > f + 1e-10 * (1.0 + np.abs(f))
            if not worse.any():
                break
            step = np.where(worse, 0.5 * step, step)
            trial = u - step
            f_t = phi(trial)
        u, f = trial, f_t
    return u, f


def study_agq(c: Counts, eta0, load, n_agq: int, u_start=None):
    """AGQ deviance ``D_i`` of every study with a scalar random effect shared by its observations.

    ``c`` holds the counts with the observations of each study on the last
    axis (``[B, ..., K, J]``), ``eta0`` their linear predictors without the
    random effect and ``load`` its loadings (broadcasting against ``c``).
    Returns ``D_i`` ``[B, ..., K]`` (padded studies not zeroed) and the
    conditional modes (for warm starts). ``n_agq = 1`` is the Laplace
    approximation.
    """
    total = _observation_sum(c)
    shape = np.broadcast_shapes(c.x.shape, np.shape(eta0), np.shape(load))[:-1]
    u = np.zeros(shape) if u_start is None else np.broadcast_to(u_start, shape)
    u, phi0 = _conditional_mode(c, eta0, load, u)
    _, w = c.score_weight(eta0 + load * u[..., None])
    s = 1.0 / np.sqrt(total(load * load * w) + 1.0)
    z, wq = gauss_hermite(n_agq)
    uq = u[..., None] + s[..., None] * z
    phiq = total(c.insert_axis(-2).deviance(eta0[..., None, :] + load[..., None, :] * uq[..., None])) + uq * uq
    expo = -0.5 * (phiq - phi0[..., None]) + 0.5 * z * z
    return phi0 - 2.0 * np.log(s) - 2.0 * np.log(np.sum(wq * np.exp(expo), axis=-1)), u


def agq_deviance(counts: Counts, beta, theta, n_agq: int, u_start=None):
    """AGQ deviance ``sum_i D_i`` (relative to the saturated model) at ``(beta, theta)``.

    ``beta`` and ``theta`` have shape ``[B, ...]``; returns the deviance of that
    shape and the conditional modes ``[B, ..., K]`` (for warm starts): the
    one-observation case of :func:`study_agq`. ``n_agq = 1`` is the Laplace
    approximation.
    """
    beta = np.asarray(beta, dtype=float)[..., None, None]
    theta = np.asarray(theta, dtype=float)[..., None, None]
    c = counts.expand(beta.ndim - 3, tail=1)
    eta0 = beta + (np.log(c.size) if c.family == "poisson" else 0.0)
    dev_i, u = study_agq(c, eta0, theta, n_agq, u_start)
    return np.where(c.mask[..., 0], dev_i, 0.0).sum(axis=-1), u


def conditional_loglik(c: Counts, eta0, load, u) -> np.ndarray:
    """metafor's log-likelihood of a GLMM fit: saturated log-likelihood - deviance / 2.

    metafor's ``rma.glmm`` reports ``ll = ll.QE - deviance(glmer fit) / 2``,
    and lme4's ``deviance()`` of a GLMM is the conditional deviance: the
    deviance of the counts at the conditional modes ``u`` of the random
    effects (linear predictors ``eta0 + load u``), not ``-2`` times the
    marginal log-likelihood. Shapes as in :func:`study_agq` (``u`` is
    ``[B, ..., K]``); returns ``[B, ...]``.
    """
    dev = np.where(c.mask, c.deviance(eta0 + load * u[..., None]), 0.0)
    return c.saturated_constant.sum(axis=-1) - dev.sum(axis=(-2, -1)) / 2.0


# -- maximum likelihood -----------------------------------------------------------------
_STENCIL = np.array(
    [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)], dtype=float
)


@dataclass(frozen=True)
class _Derivatives:
    """Deviance, gradient and Hessian in (theta, beta) at one point per analysis, with the modes."""

    f: np.ndarray  # [B]
    g: np.ndarray  # [B, 2]
    hess: np.ndarray  # [B, 2, 2]
    u: np.ndarray  # [B, K] conditional modes (warm starts)


def _derivatives(counts: Counts, x, n_agq: int, delta: float, u_start) -> _Derivatives:
    """Deviance, gradient and Hessian in (theta, beta) by lme4's central differences."""
    pts = x[:, None, :] + delta * _STENCIL[None, :, :]
    f, u = agq_deviance(counts, pts[..., 1], pts[..., 0], n_agq, u_start)
    f0 = f[:, 0]
    g = np.stack([(f[:, 1] - f[:, 2]), (f[:, 3] - f[:, 4])], axis=-1) / (2 * delta)
    h00 = (f[:, 1] - 2 * f0 + f[:, 2]) / delta**2
    h11 = (f[:, 3] - 2 * f0 + f[:, 4]) / delta**2
    h01 = (f[:, 5] - f[:, 6] - f[:, 7] + f[:, 8]) / (4 * delta**2)
    hess = np.stack([np.stack([h00, h01], -1), np.stack([h01, h11], -1)], -2)
    return _Derivatives(f0, g, hess, u[:, 0])


@dataclass(frozen=True)
class GLMMFit:
    """Batched ML fit (arrays ``[B]``; ``hessian`` is ``[B, 2, 2]`` in (theta, beta)).

    ``deviance`` is the AGQ deviance relative to the saturated model;
    ``vb`` the variance of beta from the finite-difference Hessian (lme4's
    default), or from the conditional information ``1 / sum w/(1 + tau2 w)``
    where that Hessian cannot be inverted (``vb_from_hessian`` False).
    """

    beta: np.ndarray
    theta: np.ndarray
    deviance: np.ndarray
    hessian: np.ndarray
    vb: np.ndarray
    vb_from_hessian: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    at_boundary: np.ndarray


def _start(counts: Counts) -> np.ndarray:
    """Start values (theta, beta) from empirical logits / log rates (0.5 added)."""
    x, s, m = counts.x, counts.size, counts.mask
    if counts.family == "binomial":
        y = np.log((x + 0.5) / (s - x + 0.5))
        v = 1.0 / (x + 0.5) + 1.0 / (s - x + 0.5)
    else:
        y = np.log((x + 0.5) / s)
        v = 1.0 / (x + 0.5)
    return np.stack(moment_start(y, v, m), axis=-1)


def moment_start(y, v, mask) -> tuple[np.ndarray, np.ndarray]:
    """Start ``(theta, mean)`` ``[B]`` from study estimates ``y`` with variances ``v`` (``[B, K]``).

    The inverse-variance mean and theta from the excess spread of ``y``
    around it over the mean ``v`` (at least 0.2).
    """
    w = np.where(mask, 1.0 / v, 0.0)
    mean = (w * y).sum(-1) / w.sum(-1)
    k = mask.sum(-1)
    spread = np.where(mask, (y - mean[:, None]) ** 2, 0.0).sum(-1) / np.maximum(k - 1, 1)
    vbar = np.where(mask, v, 0.0).sum(-1) / k
    return np.sqrt(np.maximum(spread - vbar, 0.04)), mean


def reflected_step(hess, grad):
    """Newton step ``-H^-1 g`` with the eigenvalues of ``H`` replaced by their absolute values.

    Negative curvature is reflected; eigenvalues are floored at 1e-10 of the
    largest. ``hess`` is ``[B, p, p]``, ``grad`` ``[B, p]``.
    """
    lam, vec = np.linalg.eigh(hess)
    scale = np.maximum(np.abs(lam).max(-1, keepdims=True), 1e-300)
    lam = np.maximum(np.abs(lam), 1e-10 * scale)
    return -np.einsum("bij,bj->bi", vec, np.einsum("bji,bj->bi", vec, grad) / lam)


def damped_newton(params: tuple, dv, evaluate, newton_step, maxiter: int, tol: float):
    """Modified Newton's method with step halving, batched over analyses (both GLMMs' optimiser).

    Parameters
    ----------
    params
        Arrays ``[B, ...]``; column 0 of the first is theta, kept as its
        absolute value.
    dv
        The derivatives at ``params``: a dataclass of arrays ``[B, ...]``
        with the deviance ``f`` and the gradient ``g`` of the first array's
        parameters among its fields.
    evaluate
        ``evaluate(params, dv)``: the derivatives at ``params`` (``dv``, those
        at the current point, give warm starts).
    newton_step
        ``newton_step(dv)``: the steps, shaped as ``params``.
    maxiter, tol
        Iterations at most; a relative step (largest step over
        ``1 + max |param|``) below ``tol`` is convergence.

    Returns
    -------
    tuple
        ``(params, dv, converged, n_iter)``. Every step is halved until the
        deviance decreases; a row whose step cannot lower it keeps its point
        and stops, converged if its gradient vanishes there.
    """
    B = dv.f.shape[0]
    converged = np.zeros(B, dtype=bool)
    n_iter = np.zeros(B, dtype=int)
    for _ in range(maxiter):
        steps = newton_step(dv)
        size, scale = np.abs(steps[0]).max(-1), np.abs(params[0]).max(-1)
        for step, p in zip(steps[1:], params[1:]):
            size, scale = np.maximum(size, np.abs(step).max(-1)), np.maximum(scale, np.abs(p).max(-1))
        scale = 1.0 + scale
        converged |= size / scale < tol
        if converged.all():
            break
        n_iter += ~converged
        t = np.where(converged, 0.0, 1.0)
        for _ in range(40):  # step halving; each trial point comes with its derivatives
            trial = tuple(p + t[:, None] * step for p, step in zip(params, steps))
            trial[0][:, 0] = np.abs(trial[0][:, 0])
            new = evaluate(trial, dv)
            worse = (new.f > dv.f + 1e-12 * np.abs(dv.f)) & (t > 0)
            if not worse.any():
                break
            t = np.where(worse, 0.5 * t, t)
        # rows whose step could not lower the deviance keep their point: converged
        # if the gradient vanishes there, otherwise they stop unconverged; an
        # accepted step shorter than tol ends the iterations too
        stalled = worse & ~converged
        converged |= stalled & (np.abs(dv.g).max(-1) < 1e-6 * (1.0 + np.abs(dv.f)))
        converged |= ~worse & (t * size / scale < tol)
        params = tuple(np.where(worse[:, None], p, q) for p, q in zip(params, trial))
        dv = type(dv)(*(np.where(worse.reshape((B,) + (1,) * (old.ndim - 1)), old, fresh)
                        for old, fresh in zip(vars(dv).values(), vars(new).values())))
        if stalled.all():
            break
    return params, dv, converged, n_iter


def boundary_theta(theta, f, deviance_at_zero):
    """``theta`` with values below :data:`BOUNDARY_TOL` set to 0 where the deviance allows (lme4's ``check.boundary``).

    ``f`` is the deviance at ``theta``; ``deviance_at_zero()`` gives it at
    theta = 0 (called only when some theta is that small). A theta is set to
    0 when that does not increase the deviance beyond rounding.
    """
    edge = (theta > 0) & (theta < BOUNDARY_TOL)
    if not edge.any():
        return theta.copy()
    return np.where(edge & (deviance_at_zero() <= f + 1e-10 * (1.0 + np.abs(f))), 0.0, theta)


def fit_glmm(counts: Counts, n_agq: int = 7, maxiter: int = 200, tol: float = 1e-9, start=None) -> GLMMFit:
    """Maximum-likelihood fit of the random-intercept model by modified Newton.

    The gradient and Hessian of the AGQ deviance come from central differences
    (the stencil of lme4's ``deriv12``); negative curvature is reflected, and
    every step is halved until the deviance decreases (:func:`damped_newton`).
    ``theta`` is kept as its absolute value; a ``theta`` below lme4's
    ``boundary.tol`` is set to 0 when that does not increase the deviance
    beyond rounding (:func:`boundary_theta`).
    ``start`` (``[B, 2]``, theta and beta) overrides the moment-based start.
    """
    x = _start(counts) if start is None else np.array(start, dtype=float)
    B = x.shape[0]
    dv = _derivatives(counts, x, n_agq, HESSIAN_DELTA, np.zeros(counts.x.shape)[:, None, :])
    (x,), dv, converged, n_iter = damped_newton(
        (x,), dv, lambda p, d: _derivatives(counts, p[0], n_agq, HESSIAN_DELTA, d.u[:, None, :]),
        lambda d: (reflected_step(d.hess, d.g),), maxiter, tol)
    theta = boundary_theta(x[:, 0], dv.f, lambda: agq_deviance(counts, x[:, 1], np.zeros(B), n_agq)[0])
    vb, from_h = _beta_variance(counts, x[:, 1], theta, dv.u, dv.hess)
    return GLMMFit(
        beta=x[:, 1], theta=theta, deviance=dv.f, hessian=dv.hess, vb=vb, vb_from_hessian=from_h,
        converged=converged, n_iter=n_iter, at_boundary=theta == 0.0,
    )


def _beta_variance(counts: Counts, beta, theta, u, hess):
    """Var(beta): 2 [H^-1]_beta,beta of the deviance Hessian, else the conditional information.

    The fallback ``1 / sum w / (1 + theta^2 w)`` (lme4's ``RX``-based variance)
    uses the GLM weights at the conditional modes ``u``.
    """
    det = hess[:, 0, 0] * hess[:, 1, 1] - hess[:, 0, 1] ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        v_hess = 2.0 * hess[:, 0, 0] / det
    ok = np.isfinite(v_hess) & (v_hess > 0)
    eta = beta[:, None] + counts.offset + theta[:, None] * u
    _, w = counts.score_weight(eta)
    info = np.where(counts.mask, w / (1.0 + theta[:, None] ** 2 * w), 0.0).sum(-1)
    return np.where(ok, v_hess, 1.0 / info), ok


# -- the saturated and common-effect GLMs (heterogeneity tests) --------------------------
@dataclass(frozen=True)
class SaturatedFit:
    """R's ``glm`` fit of the saturated model (one parameter per study), per analysis.

    ``coef`` and ``weight`` are per study (the weight of the last IRLS
    iteration, from which R's ``vcov`` comes); ``deviance`` is the residual
    deviance; ``converged`` as glm's.
    """

    coef: np.ndarray
    weight: np.ndarray
    deviance: np.ndarray
    converged: np.ndarray


def _r_linkinv_mueta(family: str, eta):
    """R's C-level inverse link and its derivative (with their clamping)."""
    if family == "binomial":
        e = np.exp(np.clip(eta, -30, 30))
        outside = np.abs(eta) > 30
        tmp = np.where(outside, np.where(eta < 0, _EPS, 1.0 / _EPS), e)
        mu = tmp / (1.0 + tmp)
        mu_eta = np.where(outside, _EPS, e / ((1.0 + e) * (1.0 + e)))
        return mu, mu_eta, mu * (1.0 - mu)
    mu = np.maximum(np.exp(eta), _EPS)
    return mu, mu, mu


def saturated_glm(counts: Counts, epsilon: float = 1e-8, maxit: int = 25) -> SaturatedFit:
    """Replicate ``glm(y ~ study)`` (IRLS from R's starting values and stopping rule).

    Each study has its own parameter, so the IRLS update is per study,
    ``eta <- eta + (y - mu) / mu.eta``; iterations stop when the total deviance
    changes by less than ``epsilon (|dev| + 0.1)``. Studies with no (or only)
    events drift towards infinity as in R, and their final coefficients and
    weights matter for the Wald test, hence the replication.
    """
    fam, m = counts.family, counts.mask
    x, s, off = counts.x, counts.size, counts.offset
    if fam == "binomial":
        y = x / s
        eta = np.log((s * y + 0.5) / (s + 1.0)) - np.log1p(-(s * y + 0.5) / (s + 1.0))
    else:
        y = x
        eta = np.log(x + 0.1)

    def dev(eta):
        mu, _, _ = _r_linkinv_mueta(fam, eta)
        if fam == "binomial":
            d = 2.0 * s * (_xlogy(y, mu) + _xlogy(1.0 - y, 1.0 - mu))
        else:
            d = 2.0 * np.where(y > 0, _xlogy(y, mu) - (y - mu), mu)
        return np.where(m, d, 0.0).sum(-1)

    devold = dev(eta)
    done = np.zeros(x.shape[0], dtype=bool)
    weight = np.zeros_like(x)
    for _ in range(maxit):
        mu, mu_eta, var = _r_linkinv_mueta(fam, eta)
        w = (s if fam == "binomial" else 1.0) * mu_eta**2 / var
        new = eta + (y - mu) / mu_eta
        d = dev(new)
        eta = np.where(done[:, None], eta, new)
        weight = np.where(done[:, None], weight, w)
        done = done | (np.abs(d - devold) / (np.abs(d) + 0.1) < epsilon)
        devold = np.where(done, devold, d)
        if done.all():
            break
    return SaturatedFit(coef=eta - off, weight=weight, deviance=dev(eta), converged=done)


def wald_contributions(counts: Counts, sat: SaturatedFit) -> np.ndarray:
    """Each study's term ``w_i (theta_i - theta_w)^2`` of the Wald heterogeneity statistic.

    ``theta_i`` and ``w_i`` are the coefficients and IRLS weights of the
    saturated GLM ``sat`` (of ``counts``); the terms (``[B, K]``, 0 in padded
    cells; :func:`~metapool.inference.heterogeneity.wald_terms`) sum to
    metafor's ``QE.Wld`` (:func:`~metapool.inference.heterogeneity.wald_q`).
    """
    return wald_terms(sat.coef, sat.weight, counts.mask)
