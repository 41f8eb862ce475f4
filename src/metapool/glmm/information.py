"""Each study's information for the pooled value of a GLMM fit: the GLMM's weights and hat values.

``I_i(tau2)`` is study i's observed Fisher information for ``mu`` at fixed
tau2, ``(1/2) d^2 D_i / d mu^2`` of its term ``D_i`` of the AGQ deviance
(central second difference, step :data:`INFO_STEP`) at the fitted ``mu``. It
is the GLMM's counterpart of the weight ``1 / (v_i + tau2)`` of the normal
model, which is exactly that model's per-study information; its shares
``I_i / sum_j I_j`` are the weights of a GLMM fit (forest plot, influence
diagnostics).

For 2x2 tables (``UM.FS``) study i also has its own fixed intercept
``alpha_i``: with the Hessian ``H`` of ``D_i`` in ``(mu, alpha_i)``,

    I_i(tau2) = (1/2) (H_mu,mu - H_mu,alpha^2 / H_alpha,alpha),

the Schur complement of the study's 2x2 block: the information on ``mu`` of
the study's deviance profiled over its intercept. It is evaluated at the
fitted ``mu`` and at the intercept that minimises ``D_i`` there (the fitted
``alpha_i`` when tau2 is the fit's).
"""

from __future__ import annotations

import numpy as np

from .kernels import Counts, agq_deviance
from .result import GLMMResult, require_glmm
from .table_kernels import arm_counts, start_values, study_deviance

__all__ = ["information", "study_information", "information_share", "share", "table_information", "INFO_STEP"]

#: Step in mu of the second difference behind the per-study information.
INFO_STEP = 1e-3


def information(measure: str, xi, size, mu: float, tau2, n_agq: int) -> np.ndarray:
    """Each study's observed Fisher information for mu at ``mu``, for each tau2.

    Parameters
    ----------
    measure
        ``"PLO"``, ``"IRLN"`` or ``"OR"``.
    xi, size
        The studies' events and sizes (person-time), as
        :attr:`GLMMResult.xi <metapool.glmm.result.GLMMResult.xi>` and ``size``
        hold them (``[k]``, for OR ``[k, 2]``).
    mu
        The pooled value (logit, log rate, log odds ratio).
    tau2
        Values of tau2, shape ``[m]``.
    n_agq
        Quadrature points (the fit's).

    Returns
    -------
    ndarray
        ``[m, k]``: ``(1/2) d^2 D_i / d mu^2`` of study i's term of the AGQ
        deviance, by a central second difference. Every study is one analysis
        of a batch, so the terms come out separately. For 2x2 tables the
        Schur complement over the study's intercept (:func:`table_information`).
    """
    if measure == "OR":
        return table_information(xi, size, mu, tau2, n_agq, INFO_STEP)
    tau = np.sqrt(np.asarray(tau2, dtype=float))
    xi, size = np.asarray(xi, dtype=float), np.asarray(size, dtype=float)
    counts = Counts.from_arrays("binomial" if measure == "PLO" else "poisson", xi[:, None], size[:, None])
    k, m = len(xi), tau.shape[0]  # [k, 1]: one study per analysis
    beta = np.broadcast_to(mu + INFO_STEP * np.array([-1.0, 0.0, 1.0]), (k, m, 3))
    theta = np.broadcast_to(tau[None, :, None], (k, m, 3))
    dev, _ = agq_deviance(counts, beta, theta, n_agq)
    info = (dev[..., 0] - 2.0 * dev[..., 1] + dev[..., 2]) / (2.0 * INFO_STEP**2)
    return info.T


def study_information(res: GLMMResult, tau2) -> np.ndarray:
    """:func:`information` of the studies of the fit ``res`` at its ``mu``, for each tau2 (``[m, k]``)."""
    return information(res.measure, res.xi, res.size, res.estimate, tau2, res.n_quadrature)


def information_share(res: GLMMResult) -> np.ndarray:
    """Each study's share of the information for mu at the fit: the GLMM's hat values.

    ``hat_i = I_i(tau2) / sum_j I_j(tau2)`` with the per-study information of
    :func:`study_information` (one batched quadrature, no refits); ``100 hat``
    are the fit's :attr:`~metapool.glmm.result.GLMMResult.weights`, the
    weights of :func:`~metapool.influence.influence` and of a GLMM's forest
    plot, the counterpart of the normal model's ``w_i / sum w_j``.
    """
    require_glmm(res, 1, "The weight of each study (its share of the information)")
    return share(res.measure, res.xi, res.size, res.estimate, res.tau2, res.n_quadrature)


def share(measure: str, xi, size, mu: float, tau2: float, n_agq: int) -> np.ndarray:
    """``I_i(tau2) / sum_j I_j(tau2)`` of the studies at ``mu`` (arguments as :func:`information`; NaN if undefined)."""
    info = information(measure, xi, size, mu, np.array([tau2]), n_agq)[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return info / info.sum()


# (mu, alpha) offsets of the central-difference stencil of the 2x2 Hessian
_STENCIL = np.array([(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)], dtype=float)


def _intercepts(arms: Counts, theta, mu: float, n_agq: int, step: float, tol=1e-10, maxiter=50) -> np.ndarray:
    """``alpha_i`` minimising each study's ``D_i`` at ``mu`` and each ``theta`` (``[m, k]``; Newton).

    ``D_i`` depends on ``alpha_i`` alone among the intercepts, so all studies
    move together; the derivatives are central differences with ``step``.
    """
    m = theta.shape[0]
    alpha = np.broadcast_to(start_values(arms)[1], (m, arms.x.shape[1])).copy()
    offsets = step * np.array([0.0, 1.0, -1.0])
    th, mu3 = np.broadcast_to(theta[None, :, None], (1, m, 3)), np.full((1, m, 3), mu)
    for _ in range(maxiter):
        dev = study_deviance(arms, th, mu3, alpha[None, :, None, :] + offsets[:, None], n_agq)[0][0]
        g = (dev[:, 1] - dev[:, 2]) / (2.0 * step)
        h = (dev[:, 1] - 2.0 * dev[:, 0] + dev[:, 2]) / step**2
        delta = np.clip(-g / np.maximum(np.abs(h), 1e-12), -1.0, 1.0)
        alpha = alpha + delta
        if np.abs(delta).max() < tol * (1.0 + np.abs(alpha).max()):
            break
    return alpha


def table_information(events, totals, mu: float, tau2, n_agq: int, step: float) -> np.ndarray:
    """``I_i(tau2)`` of each 2x2 table (module docstring) at ``mu``, ``[m, k]`` for tau2 ``[m]``.

    The Hessian in ``(mu, alpha_i)`` comes from central differences with
    ``step`` (the stencil of lme4's ``deriv12``), all studies and tau2 values
    in one batched quadrature.
    """
    theta = np.sqrt(np.asarray(tau2, dtype=float))
    m = theta.shape[0]
    arms = arm_counts(events, totals)
    alpha = _intercepts(arms, theta, mu, n_agq, step / 10.0)
    st = step * _STENCIL
    dev = study_deviance(arms, np.broadcast_to(theta[None, :, None], (1, m, 9)),
                         np.broadcast_to(mu + st[:, 0], (1, m, 9)),
                         alpha[None, :, None, :] + st[:, 1, None], n_agq)[0][0]
    d0 = dev[:, 0]
    h_mm = (dev[:, 1] - 2.0 * d0 + dev[:, 2]) / step**2
    h_aa = (dev[:, 3] - 2.0 * d0 + dev[:, 4]) / step**2
    h_ma = (dev[:, 5] - dev[:, 6] - dev[:, 7] + dev[:, 8]) / (4.0 * step**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(arms.mask[0, :, 0], 0.5 * (h_mm - h_ma**2 / h_aa), 0.0)  # a masked table: no information
