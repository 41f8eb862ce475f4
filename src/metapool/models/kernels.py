"""Batched weighted least squares: the numeric core of every model.

All arrays carry a leading batch axis ``B``: ``y[B, K]``, ``v[B, K]``,
``X[B, K, p]`` and a boolean ``mask[B, K]`` marking real studies (analyses
with fewer studies are padded). A single meta-analysis is a batch of one, so
the batch engine and :func:`metapool.rma` run the very same code.

The quantities follow the meta-regression ("P-matrix") notation of
Viechtbauer (2005, 2010): with ``W = diag(w)``, ``w = 1/(v + tau2)``,

    P = W - W X (X'WX)^-1 X'W,

``Q = y'Py``, ``tr(P)``, ``tr(PP)`` and ``y'PPy = sum(w^2 r^2)`` where ``r``
are the GLS residuals.

References
----------
Viechtbauer W (2005). J Educ Behav Stat 30:261-293.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import NamedTuple

import numpy as np

__all__ = ["Batch", "WLS", "wls", "Moments", "moments", "trace_pp", "yppp_y", "ols", "traces", "Traces", "rowsum"]


def rowsum(a: np.ndarray) -> np.ndarray:
    """Sums over the study axis of ``a[B, K]``, as a matrix-vector product.

    numpy's ``sum(axis=1)`` pays a per-row overhead that makes it about ten
    times slower than one elementwise pass when K is small; BLAS sums the rows
    at the speed of one pass. (The order of the additions differs, which
    changes results in the last bit only.)
    """
    return a @ _ones(a.shape[1])


@lru_cache(maxsize=64)
def _ones(k: int) -> np.ndarray:
    ones = np.ones(k)
    ones.flags.writeable = False
    return ones


@dataclass(frozen=True)
class Batch:
    """Padded arrays of a batch of meta-analyses (see module docstring)."""

    y: np.ndarray
    v: np.ndarray
    X: np.ndarray
    mask: np.ndarray
    intercept_only: bool = False

    @classmethod
    def from_arrays(cls, y, v, X=None, mask=None) -> Batch:
        """Build a batch; padded cells are neutralised (y = 0, v = 1, X = 0).

        ``y`` and ``v`` may be 1-D (one analysis) or 2-D; ``X`` defaults to an
        intercept column.
        """
        y = np.atleast_2d(np.asarray(y, dtype=float))
        v = np.atleast_2d(np.asarray(v, dtype=float))
        intercept_only = X is None
        if X is None:
            X = np.ones(y.shape + (1,))
        X = np.asarray(X, dtype=float)
        if X.ndim == 2:
            X = X[None, :, :]
        if mask is None:  # nothing to neutralise
            return cls(y.copy(), v.copy(), X, np.ones(y.shape, dtype=bool), intercept_only)
        mask = np.atleast_2d(np.asarray(mask, dtype=bool))
        y = np.where(mask, y, 0.0)
        v = np.where(mask, v, 1.0)
        X = np.where(mask[..., None], X, 0.0)
        return cls(y, v, X, mask, intercept_only)

    @property
    def size(self) -> int:
        return self.y.shape[0]

    @property
    def p(self) -> int:
        return self.X.shape[2]

    @cached_property
    def k(self) -> np.ndarray:
        """Number of studies of each analysis."""
        return self.mask.sum(axis=1)

    @cached_property
    def common(self) -> WLS:
        """The common-effect fit (tau2 = 0), computed once: Q, DL, HS and I^2 all need it."""
        return wls(self, 0.0)

    @cached_property
    def padding(self) -> np.ndarray:
        """1.0 on padded cells, 0.0 on studies."""
        return (~self.mask).astype(float)

    @cached_property
    def v_open(self) -> np.ndarray:
        """``v`` with padding at infinity, so that weights ``1/(v + tau2)`` vanish there."""
        return np.where(self.mask, self.v, np.inf)

    def take(self, rows) -> Batch:
        """The sub-batch of the given rows (for iterating only unconverged rows)."""
        return Batch(self.y[rows], self.v[rows], self.X[rows], self.mask[rows], self.intercept_only)


@dataclass(frozen=True)
class WLS:
    """Weighted least squares fit of every analysis in a batch at given tau2."""

    w: np.ndarray  # [B, K] weights, 0 on padding
    beta: np.ndarray  # [B, p]
    vb: np.ndarray  # [B, p, p] = (X'WX)^-1
    resid: np.ndarray  # [B, K]
    q: np.ndarray  # [B] y'Py = sum w r^2
    trace_p: np.ndarray  # [B] tr(P)
    ypp_y: np.ndarray  # [B] y'PPy = sum w^2 r^2
    sum_w2: np.ndarray | None = None  # [B] sum w^2 (models without moderators)


def _inv(a: np.ndarray) -> np.ndarray:
    if a.shape[-1] == 1:
        return 1.0 / a
    return np.linalg.inv(a)


def exclusive_sum(a: np.ndarray) -> np.ndarray:
    """``sum_{j != i} a_j`` along axis 1, without cancellation (prefix + suffix sums).

    With weights spanning many orders of magnitude, ``sum(a) - a_i`` loses all
    precision when ``a_i`` dominates; traces of ``P`` are built from these.
    """
    zero = np.zeros((a.shape[0], 1))
    prefix = np.concatenate([zero, np.cumsum(a[:, :-1], axis=1)], axis=1)
    suffix = np.concatenate([np.cumsum(a[:, :0:-1], axis=1)[:, ::-1], zero], axis=1)
    return prefix + suffix


def _col(tau2, n: int) -> np.ndarray | float:
    t = np.asarray(tau2, dtype=float)
    return t[:, None] if t.ndim else float(t)


def wls(batch: Batch, tau2) -> WLS:
    """GLS fit with weights ``1/(v + tau2)`` for each analysis of the batch.

    ``tau2`` is a scalar or an array ``[B]``.
    """
    w = 1.0 / (batch.v_open + _col(tau2, batch.size))  # 0 on padding
    X = batch.X
    y = batch.y
    sum_w2 = None
    if batch.intercept_only:
        sum_w = rowsum(w)
        a = 1.0 / sum_w
        beta = (rowsum(w * y) * a)[:, None]
        resid = y - beta
        vb = a[:, None, None]
        sum_w2 = rowsum(w * w)
        # tr(P) = sum w_i (1 - w_i / sum w) = S (1 - sum (w_i / S)^2): direct unless
        # the weights concentrate on one study, then from exclusive sums.
        trace_p = sum_w - sum_w2 * a
        dominated = sum_w2 * a * a > 0.5
        if np.count_nonzero(dominated):
            wd = w[dominated]
            trace_p[dominated] = rowsum(wd * exclusive_sum(wd)) * a[dominated]
    else:
        sum_w = rowsum(w)
        wX = w[:, :, None] * X
        vb = _inv(np.einsum("bkp,bkq->bpq", wX, X))
        beta = np.einsum("bpq,bq->bp", vb, np.einsum("bkp,bk->bp", wX, y))
        resid = y - np.einsum("bkp,bp->bk", X, beta)
        trace_p = sum_w - np.einsum("bpq,bqp->b", vb, np.einsum("bkp,bkq->bpq", wX, wX))
    wr = w * resid
    return WLS(
        w=w,
        beta=beta,
        vb=vb,
        resid=resid,
        q=rowsum(wr * resid),
        trace_p=trace_p,
        ypp_y=rowsum(wr * wr),
        sum_w2=sum_w2,
    )


def trace_pp(batch: Batch, fit: WLS) -> np.ndarray:
    """``tr(PP)`` for the weights of ``fit`` (needed by REML)."""
    w = fit.w
    if fit.sum_w2 is not None:
        # tr(PP) = sum w^2 - 2 sum w^3 / S + (sum w^2 / S)^2, direct where the terms
        # cancel to at most a third of their magnitude, else without cancellation.
        a = fit.vb[:, 0, 0]
        s2 = fit.sum_w2
        s3a = rowsum(w * w * w) * a
        square = (s2 * a) ** 2
        out = s2 - 2.0 * s3a + square
        dom = 4.0 * s3a > s2 + square
        if dom.any():
            # P_ii = w_i (1 - w_i/s), P_ij = -w_i w_j / s: both parts summed without cancellation.
            wd, ad = w[dom], a[dom][:, None]
            w2 = wd * wd
            diag = wd * exclusive_sum(wd) * ad
            out[dom] = rowsum(diag * diag) + rowsum(w2 * exclusive_sum(w2)) * ad[:, 0] ** 2
        return out
    X = batch.X
    wX = w[:, :, None] * X
    a = np.einsum("bpq,bkq,bk,bkr->bpr", fit.vb, wX, w, wX)  # vb X'W^3X
    m = np.einsum("bpq,bkq,bkr->bpr", fit.vb, wX, wX)  # vb X'W^2X
    return (w * w).sum(axis=1) - 2.0 * np.einsum("bpp->b", a) + np.einsum("bpq,bqp->b", m, m)


class Moments(NamedTuple):
    """The sums of an iterative tau2 step at given tau2, per analysis (``[B]`` or floats)."""

    sum_w: np.ndarray
    sum_w2: np.ndarray
    q: np.ndarray  # y'Py
    ypp_y: np.ndarray  # y'PPy
    trace_p: np.ndarray
    trace_pp: np.ndarray | None  # tr(PP); with moderators only when asked for (with_pp)
    k: np.ndarray  # number of studies


def moments(batch: Batch, tau2: np.ndarray | float, with_pp: bool = False) -> Moments:
    """The sums that ML, REML and EB scoring steps need at ``tau2`` (``[B]``).

    Equal to the corresponding fields of :func:`wls` and :func:`trace_pp`.
    Models without moderators take a fused path of a few array operations per
    step (an iteration of Fisher scoring on one analysis is dominated by
    numpy's per-call overhead): the sums of ``w``, ``w y``, ``w^2`` and ``w^3``
    give every trace directly. For a batch of one such analysis ``tau2`` may
    be a float: the sums are then Python floats (from 1-D dot products, equal
    to the batched sums up to the order of additions), which avoids numpy's
    overhead on scalars; a zero denominator raises ``ZeroDivisionError``
    there. Analyses whose weights concentrate on one
    study, where the direct traces cancel, are recomputed by :func:`wls` and
    :func:`trace_pp`.
    """
    if not batch.intercept_only:
        fit = wls(batch, tau2)
        return Moments(rowsum(fit.w), rowsum(fit.w * fit.w), fit.q, fit.ypp_y, fit.trace_p,
                       trace_pp(batch, fit) if with_pp else None, batch.k)
    scalar = isinstance(tau2, float)
    if scalar:  # 1-D dot products: the fastest sums for one analysis
        y = batch.y[0]
        w = 1.0 / (batch.v_open[0] + tau2)  # 0 on padding
        w2 = w * w
        sum_w, sum_wy = float(w.dot(_ones(w.size))), float(w.dot(y))
        sum_w2, sum_w3 = float(w.dot(w)), float(w2.dot(w))
    else:
        y = batch.y
        w = 1.0 / (batch.v_open + tau2[:, None])
        w2 = w * w
        sum_w, sum_wy, sum_w2, sum_w3 = rowsum(w), rowsum(w * y), rowsum(w2), rowsum(w2 * w)
    a = 1.0 / sum_w
    mu = sum_wy * a
    resid = y - (mu if scalar else mu[:, None])
    wr = w * resid
    if scalar:
        q, ypp_y = float(wr.dot(resid)), float(wr.dot(wr))
    else:
        q, ypp_y = rowsum(wr * resid), rowsum(wr * wr)
    s2a = sum_w2 * a
    s3a = sum_w3 * a
    square = s2a * s2a
    trace_p = sum_w - s2a
    tr_pp = sum_w2 - 2.0 * s3a + square
    # trace_pp's criterion for its cancellation-free form; it holds wherever wls's
    # criterion for tr(P) does (sum p^2 > 1/2 with p = w / sum w implies
    # 4 sum p^3 > sum p^2 + (sum p^2)^2, as sum p^3 >= (sum p^2)^2)
    dominated = 4.0 * s3a > sum_w2 + square
    if scalar:
        if dominated:
            fit = wls(batch, np.array([tau2]))
            trace_p, tr_pp = float(fit.trace_p[0]), float(trace_pp(batch, fit)[0])
        return Moments(sum_w, sum_w2, q, ypp_y, trace_p, tr_pp, int(batch.k[0]))
    if np.count_nonzero(dominated):
        rows = np.flatnonzero(dominated)
        sub = batch.take(rows)
        fit = wls(sub, tau2[rows])
        trace_p[rows] = fit.trace_p
        tr_pp[rows] = trace_pp(sub, fit)
    return Moments(sum_w, sum_w2, q, ypp_y, trace_p, tr_pp, batch.k)


def yppp_y(batch: Batch, fit: WLS) -> np.ndarray:
    """``y'PPPy = u'Pu`` with ``u = Py = W r`` (for exact Newton steps)."""
    w = fit.w
    u = w * fit.resid
    wu = w * u
    if batch.X.shape[2] == 1 and batch.intercept_only:
        centred = u - rowsum(wu)[:, None] * fit.vb[:, :, 0]  # padding has w = 0
        return rowsum(w * centred * centred)
    xwu = np.einsum("bkp,bk->bp", batch.X, wu)
    return (wu * u).sum(axis=1) - np.einsum("bp,bpq,bq->b", xwu, fit.vb, xwu)


def ols(batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """Unweighted least squares: residual sum of squares and leverages ``h_ii``."""
    X = batch.X
    m = batch.mask.astype(float)
    if X.shape[2] == 1 and batch.intercept_only:
        k = rowsum(m)
        resid = (batch.y - rowsum(batch.y * m)[:, None] / k[:, None]) * m
        return rowsum(resid * resid), m / k[:, None]
    xtx = np.einsum("bkp,bk,bkq->bpq", X, m, X)
    inv = _inv(xtx)
    beta = np.einsum("bpq,bkq,bk->bp", inv, X, batch.y * m)
    resid = (batch.y - np.einsum("bkp,bp->bk", X, beta)) * m
    hat = np.einsum("bkp,bpq,bkq->bk", X, inv, X) * m
    return np.sum(resid**2, axis=1), hat


@dataclass(frozen=True)
class Traces:
    """Traces involving ``P`` and ``V = diag(v)`` used by standard errors of tau2."""

    tr_p: np.ndarray
    tr_pp: np.ndarray
    tr_pv: np.ndarray
    tr_ppv: np.ndarray
    tr_pvpv: np.ndarray


#: Elements of the explicit ``P`` matrices formed at once by :func:`traces`.
TRACE_CHUNK = 4_000_000


def traces(batch: Batch, w: np.ndarray) -> Traces:
    """Traces of ``P``, ``PP``, ``PV``, ``PPV`` and ``PVPV`` for weights ``w``.

    ``P = W - WX(X'WX)^-1 X'W`` is formed explicitly (in chunks of analyses),
    as metafor does: expansions through ``p x p`` matrices cancel badly when
    moderators are on raw scales such as calendar years.
    """
    X, v = batch.X, batch.v * batch.mask
    n, k = w.shape
    step = max(1, TRACE_CHUNK // max(1, k * k))
    parts = []
    for lo in range(0, n, step):
        ws, Xs, vs = w[lo : lo + step], X[lo : lo + step], v[lo : lo + step]
        wX = ws[:, :, None] * Xs
        a = np.linalg.inv(np.einsum("bkp,bkq->bpq", wX, Xs))
        P = -np.einsum("bkp,bpq,blq->bkl", wX, a, wX)
        idx = np.arange(k)
        P[:, idx, idx] += ws
        diag = P[:, idx, idx]
        P2 = P * P
        parts.append((
            diag.sum(axis=1),
            P2.sum(axis=(1, 2)),
            (diag * vs).sum(axis=1),
            np.einsum("bkl,bl->b", P2, vs),
            np.einsum("bk,bkl,bl->b", vs, P2, vs),
        ))
    tr_p, tr_pp, tr_pv, tr_ppv, tr_pvpv = (np.concatenate(c) for c in zip(*parts))
    return Traces(tr_p=tr_p, tr_pp=tr_pp, tr_pv=tr_pv, tr_ppv=tr_ppv, tr_pvpv=tr_pvpv)
