"""Estimators of the between-study variance tau2, and their registry.

Every estimator is written in meta-regression form (design matrix ``X`` with
``p`` columns), batched over analyses, truncated at zero, and returns the
standard error of tau2 as metafor reports it. ML, REML and EB run metafor's
Fisher scoring step for step (:func:`metapool.models.rootfind.fisher_scoring`,
so that the estimates equal metafor's) and, where it oscillates and fails as
metafor does, the safeguarded search of :func:`metapool.models.rootfind.solve`,
which always converges (``Control(algorithm="newton")`` uses it throughout).
Their scoring steps take their sums from
:func:`metapool.models.kernels.moments`. PM and PMM reproduce
metafor's ``uniroot`` search (see :mod:`metapool.models.uniroot`); where
metafor's search interval is too short, it is extended instead of failing.

References
----------
DerSimonian R, Laird N (1986). Control Clin Trials 7:177-188 (DL).
Hedges LV, Olkin I (1985). Statistical Methods for Meta-Analysis (HE).
Hunter JE, Schmidt FL (2004). Methods of Meta-Analysis, 2nd ed. (HS).
Sidik K, Jonkman JN (2005). JRSS C 54:367-384 (SJ).
Viechtbauer W (2005). J Educ Behav Stat 30:261-293 (ML, REML).
Morris CN (1983). JASA 78:47-55 (EB).
Paule RC, Mandel J (1982). J Res Natl Bur Stand 87:377-385 (PM).
Viechtbauer W, Lopez-Lopez JA, Sanchez-Meca J, Marin-Martinez F (2015).
Psychol Methods 20:360-374 (PMM).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._distributions import chi2_isf
from .._validation import check_choice
from .kernels import WLS, Batch, moments, ols, rowsum, trace_pp, traces, wls, yppp_y
from .rootfind import Control, Root, fisher_scoring, solve
from .uniroot import R_TOL, uniroot

__all__ = ["Tau2Estimator", "ESTIMATORS", "ALIASES", "get_estimator", "Tau2Fit", "q_root", "log_likelihood"]


@dataclass(frozen=True)
class Tau2Fit:
    """tau2 estimates of a batch with standard errors and convergence information."""

    tau2: np.ndarray
    se: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    reset_to_zero: np.ndarray | None = None
    fallback: np.ndarray | None = None
    fit: WLS | None = None  # the weighted fit at ``tau2``, where the estimator computed it


@dataclass(frozen=True)
class Tau2Estimator:
    """One tau2 estimator of the registry.

    ``func(batch, control) -> Tau2Fit``; ``random`` is False only for the
    common-effect model (tau2 fixed at 0).
    """

    code: str
    name: str
    reference: str
    func: Callable
    iterative: bool = False
    random: bool = True


def _df(batch: Batch) -> np.ndarray:
    return (batch.k - batch.p).astype(float)


def _fit(tau2, se, converged=None, n_iter=None) -> Tau2Fit:
    n = tau2.shape[0]
    return Tau2Fit(
        tau2,
        se,
        np.ones(n, dtype=bool) if converged is None else converged,
        np.zeros(n, dtype=int) if n_iter is None else n_iter,
    )


def _truncate(raw: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(raw), np.maximum(raw, 0.0), np.nan)


def _ce(batch: Batch, control: Control) -> Tau2Fit:
    n = batch.size
    return Tau2Fit(np.zeros(n), np.full(n, np.nan), np.ones(n, dtype=bool), np.zeros(n, dtype=int), fit=batch.common)


def _dl(batch: Batch, control: Control) -> Tau2Fit:
    fit = batch.common
    df = _df(batch)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau2 = _truncate((fit.q - df) / fit.trace_p)
        tr_pp = trace_pp(batch, fit)
        se = np.sqrt(2 * df + 4 * tau2 * fit.trace_p + 2 * tau2**2 * tr_pp) / fit.trace_p
    return _fit(tau2, se)


def _he_estimate(batch: Batch) -> np.ndarray:
    rss, hat = ols(batch)
    tr_pv = rowsum(batch.mask * batch.v * (1.0 - hat))
    with np.errstate(invalid="ignore", divide="ignore"):
        return _truncate((rss - tr_pv) / _df(batch))


def _he(batch: Batch, control: Control) -> Tau2Fit:
    df = _df(batch)
    tau2 = _he_estimate(batch)
    t = traces(batch, batch.mask.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(2 * t.tr_pvpv + 4 * tau2 * t.tr_pv + 2 * tau2**2 * df) / df
    return _fit(tau2, se)


def _hs(batch: Batch, control: Control) -> Tau2Fit:
    fit = batch.common
    sum_w = rowsum(fit.w)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau2 = _truncate((fit.q - batch.k) / sum_w)
        tr_pp = trace_pp(batch, fit)
        se = np.sqrt(2 * _df(batch) + 4 * tau2 * fit.trace_p + 2 * tau2**2 * tr_pp) / sum_w
    return _fit(tau2, se)


def _sj(batch: Batch, control: Control) -> Tau2Fit:
    # metafor's starting value is the intercept-only mean squared deviation,
    # with or without moderators.
    k = batch.k
    ybar = rowsum(batch.y * batch.mask) / k
    start = rowsum(((batch.y - ybar[:, None]) * batch.mask) ** 2) / k
    df = _df(batch)
    with np.errstate(invalid="ignore", divide="ignore"):
        fit = wls(batch, start)
        tau2 = _truncate(start * fit.q / df)
        t = traces(batch, fit.w)
        se = start / df * np.sqrt(2 * t.tr_pvpv + 4 * tau2 * t.tr_ppv + 2 * tau2**2 * t.tr_pp)
    return _fit(tau2, se)


def _newton_step(f: np.ndarray, neg_hessian: np.ndarray, information: np.ndarray) -> np.ndarray:
    """Newton step where the log-likelihood is locally concave, else Fisher scoring."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(neg_hessian > 0, f / neg_hessian, f / information)


def _ml_score(batch: Batch, tau2: np.ndarray):
    # 2 x score and 2 x (negative) Hessian of the profile log-likelihood.
    fit = wls(batch, tau2)
    f = fit.ypp_y - rowsum(fit.w)
    info = rowsum(fit.w * fit.w)
    return f, _newton_step(f, 2.0 * yppp_y(batch, fit) - info, info)


def _reml_score(batch: Batch, tau2: np.ndarray):
    fit = wls(batch, tau2)
    f = fit.ypp_y - fit.trace_p
    info = trace_pp(batch, fit)
    return f, _newton_step(f, 2.0 * yppp_y(batch, fit) - info, info)


# The Fisher scoring steps; fisher_scoring() evaluates them with floating-point
# warnings off and replaces non-finite steps by 0.
def _ml_fisher(batch: Batch, tau2: np.ndarray) -> np.ndarray:
    """metafor's ML Fisher scoring step ``(y'PPy - sum w) / sum w^2``."""
    m = moments(batch, tau2)
    return (m.ypp_y - m.sum_w) / m.sum_w2


def _reml_fisher(batch: Batch, tau2: np.ndarray) -> np.ndarray:
    """metafor's REML Fisher scoring step ``(y'PPy - tr P) / tr(PP)``."""
    m = moments(batch, tau2, with_pp=True)
    return (m.ypp_y - m.trace_p) / m.trace_pp


def _eb_fisher(batch: Batch, tau2: np.ndarray) -> np.ndarray:
    """metafor's EB step ``(Q k / (k - p) - k) / sum w``."""
    m = moments(batch, tau2)
    return (m.q * m.k / (m.k - batch.p) - m.k) / m.sum_w


def _eb_score(batch: Batch, tau2: np.ndarray):
    # Q(tau2) = k - p; Q decreases with derivative -y'PPy.
    fit = wls(batch, tau2)
    f = fit.q - _df(batch)
    with np.errstate(invalid="ignore", divide="ignore"):
        return f, f / fit.ypp_y


def _q_se(batch: Batch, fit: WLS) -> np.ndarray:
    """metafor's standard error for the Q-based EB/PM/PMM estimators (``fit`` at tau2)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(2.0 * batch.k**2 / _df(batch)) / rowsum(fit.w)


def log_likelihood(batch: Batch, tau2, restricted: bool, fit: WLS | None = None) -> np.ndarray:
    """(Restricted) log-likelihood of the model at ``tau2``, up to a constant.

    ``fit`` is the weighted fit at ``tau2`` when the caller has it.
    """
    t = np.asarray(tau2, dtype=float)
    if fit is None:
        fit = batch.common if t.ndim == 0 and t == 0.0 else wls(batch, t)
    # log(v + tau2) summed over studies = -sum log w (w = 0 on padding, where log 1 is added)
    ll = 0.5 * (rowsum(np.log(fit.w + batch.padding)) - fit.q)
    if restricted:
        ll += 0.5 * (np.log(fit.vb[:, 0, 0]) if batch.p == 1 else np.linalg.slogdet(fit.vb)[1])
    return ll


def _iterative(score, fisher, se_of: Callable, likelihood: str | None = None) -> Callable:
    def estimate(batch: Batch, control: Control) -> Tau2Fit:
        start = _he_estimate(batch)
        fallback = np.zeros(batch.size, dtype=bool)
        if control.algorithm == "newton":
            root = solve(batch, score, start, control)
        else:
            root = fisher_scoring(batch, fisher, start, control)
            fallback = ~root.converged
            if fallback.any():  # metafor stops with an error here; the safeguarded search does not
                rows = np.flatnonzero(fallback)
                again = solve(batch.take(rows), score, start[rows], control)
                root = Root(
                    np.where(fallback, 0.0, root.x), root.converged.copy(), root.n_iter.copy()
                )
                root.x[rows], root.converged[rows] = again.x, again.converged
                root.n_iter[rows] += again.n_iter
        tau2 = root.x
        fit = wls(batch, tau2)
        reset = np.zeros(batch.size, dtype=bool)
        if likelihood is not None:
            # As metafor: a local maximum below the likelihood at 0 gives way to 0.
            restricted = likelihood == "REML"
            gain = log_likelihood(batch, 0.0, restricted) - log_likelihood(batch, tau2, restricted, fit)
            reset = (gain > R_TOL) & (tau2 > 1e-5)
            if np.count_nonzero(reset):
                tau2 = np.where(reset, 0.0, tau2)
                fit = wls(batch, tau2)
        with np.errstate(invalid="ignore", divide="ignore"):
            se = se_of(batch, fit)
        return Tau2Fit(tau2, se, root.converged, root.n_iter, reset, fallback, fit)

    return estimate


def _ml_se(batch: Batch, fit: WLS) -> np.ndarray:
    return np.sqrt(2.0 / rowsum(fit.w * fit.w))


def _reml_se(batch: Batch, fit: WLS) -> np.ndarray:
    return np.sqrt(2.0 / trace_pp(batch, fit))


def _mad(y: np.ndarray) -> float:
    """R's ``mad()``: scaled median absolute deviation."""
    return 1.482602218505602 * float(np.median(np.abs(y - np.median(y))))


def q_root(
    batch: Batch, target: np.ndarray, upper: np.ndarray, tol: float = R_TOL
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``Q(tau2) = target`` per analysis, as metafor's ``uniroot`` does.

    Parameters
    ----------
    batch
        Analyses.
    target
        Right-hand side per analysis.
    upper
        Upper end of the search interval per analysis; where ``Q(upper)`` is
        still above the target the interval is doubled until it brackets the
        root (metafor stops with an error there).
    tol
        Tolerance of the root search (R's default ``uniroot`` tolerance).

    Returns
    -------
    (tau2, found)
        ``tau2 = 0`` where ``Q(0) < target``; ``found`` is False where no root
        could be bracketed or Brent's search failed.
    """
    n = batch.size
    out = np.zeros(n)
    found = np.ones(n, dtype=bool)
    rows = np.flatnonzero(~(batch.common.q < target))
    if rows.size == 0:
        return out, found
    sub, goal = batch.take(rows), np.asarray(target, dtype=float)[rows]

    def f(t: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return wls(sub if idx.size == sub.size else sub.take(idx), t).q - goal[idx]

    # Widen the interval until Q(hi) <= target (metafor stops with an error instead).
    hi = np.array(upper, dtype=float)[rows]
    above = np.arange(rows.size)
    for _ in range(60):
        above = above[~(f(hi[above], above) <= 0)]
        if above.size == 0:
            break
        hi[above] *= 2.0
    bracketed = f(hi, np.arange(rows.size)) <= 0
    root, ok = uniroot(f, np.zeros(rows.size), hi, tol)
    found[rows] = ok & bracketed
    out[rows] = np.where(found[rows], root, np.nan)
    return out, found


def _pm_like(target_of: Callable[[Batch], np.ndarray]) -> Callable:
    def estimate(batch: Batch, control: Control) -> Tau2Fit:
        upper = np.array(
            [max(100.0, 10.0 * _mad(batch.y[i][batch.mask[i]]) ** 2) for i in range(batch.size)]
        )
        tau2, found = q_root(batch, target_of(batch), upper, control.root_tol)
        fit = wls(batch, tau2)
        return Tau2Fit(tau2, _q_se(batch, fit), found, np.where(found, 1, 0), fit=fit)

    return estimate


_REF_DL = "DerSimonian & Laird (1986)"
ESTIMATORS: dict[str, Tau2Estimator] = {
    e.code: e
    for e in (
        Tau2Estimator("CE", "common effect (inverse variance, tau2 = 0)", "fixed/equal effects", _ce, random=False),
        Tau2Estimator("DL", "DerSimonian-Laird", _REF_DL, _dl),
        Tau2Estimator("HE", "Hedges (variance component)", "Hedges & Olkin (1985)", _he),
        Tau2Estimator("HS", "Hunter-Schmidt", "Hunter & Schmidt (2004)", _hs),
        Tau2Estimator("SJ", "Sidik-Jonkman", "Sidik & Jonkman (2005)", _sj),
        Tau2Estimator(
            "ML", "maximum likelihood", "Viechtbauer (2005)", _iterative(_ml_score, _ml_fisher, _ml_se, "ML"), iterative=True
        ),
        Tau2Estimator(
            "REML", "restricted maximum likelihood", "Viechtbauer (2005)", _iterative(_reml_score, _reml_fisher, _reml_se, "REML"),
            iterative=True,
        ),
        Tau2Estimator("EB", "empirical Bayes", "Morris (1983)", _iterative(_eb_score, _eb_fisher, _q_se), iterative=True),
        Tau2Estimator("PM", "Paule-Mandel", "Paule & Mandel (1982)", _pm_like(_df), iterative=True),
        Tau2Estimator(
            "PMM", "median-unbiased Paule-Mandel", "Viechtbauer et al. (2015)",
            _pm_like(lambda b: chi2_isf(0.5, _df(b))), iterative=True,
        ),
    )
}

#: Other spellings accepted for estimator codes (metafor's names of the common-effect model).
ALIASES = {"FE": "CE", "EE": "CE"}


def get_estimator(code: str, owner: str = "rma") -> Tau2Estimator:
    """Look up an estimator by code or alias (case-insensitive)."""
    if isinstance(code, str) and code.upper() in ALIASES:
        code = ALIASES[code.upper()]
    return ESTIMATORS[check_choice(owner, "method", code, list(ESTIMATORS) + list(ALIASES))]
