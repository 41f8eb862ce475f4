"""GOSH: the model fitted to every subset of the studies (or a random sample).

Every subset is one row of a padded batch with a mask, fitted by the same
batched code as :func:`metapool.rma`, in chunks to bound memory.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import singledispatch

import numpy as np

from .._summary import Summarized
from ..exceptions import MetapoolError, OptionError
from ..inference.heterogeneity import common_i2_h2
from ..models.mh_peto import MHResult, refit_tables
from ..models.results import RMAResult, _freeze
from ._refit import refit_subsets, require_intercept_only, require_k

__all__ = ["GoshResult", "gosh", "subset_plan", "run_chunks", "EXHAUSTIVE_MAX_K", "SAMPLED_SUBSETS", "CHUNK"]

#: Largest k fitted exhaustively by default (2^20 - 1 = 1,048,575 subsets).
EXHAUSTIVE_MAX_K = 20
#: Number of random subsets fitted by default beyond EXHAUSTIVE_MAX_K (metafor's default too).
SAMPLED_SUBSETS = 10**6
#: Subsets fitted per batch.
CHUNK = 1 << 14


@dataclass(frozen=True)
class GoshResult(Summarized):
    """Fits of the model to subsets of the studies (Olkin et al. 2012).

    Rows are ordered by subset size ``k`` and, within a size, as metafor's
    ``gosh`` orders them (``incl`` read as binary numbers with study 1 as the
    lowest bit). Failed fits are NaN.

    Attributes
    ----------
    incl
        ``[n, K]`` booleans: the studies of each subset.
    k, q, i2, h2, tau2, estimate
        Per subset: number of studies, Q, I^2 (percent), H^2, tau2, pooled estimate.
    exhaustive
        True when every subset was fitted, False for a random sample.
    notes
        Remarks, e.g. how many subsets have no fit (separated GLMM subsets).
    """

    slab: tuple
    incl: np.ndarray
    k: np.ndarray
    q: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    tau2: np.ndarray
    estimate: np.ndarray
    exhaustive: bool
    method: str
    notes: tuple = ()

    def __post_init__(self) -> None:
        _freeze(self)

    @property
    def n(self) -> int:
        return int(self.k.shape[0])

    def to_dict(self) -> dict:
        """A compact summary (the subset table itself is in the arrays / :meth:`to_frame`)."""
        def rng(a):
            return [float(np.nanmin(a)), float(np.nanmax(a))]

        return {"subsets": self.n, "exhaustive": self.exhaustive, "method": self.method,
                "estimate_range": rng(self.estimate), "i2_range": rng(self.i2),
                "failed": int(np.isnan(self.estimate).sum()), "notes": list(self.notes)}

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({"k": self.k, "QE": self.q, "I2": self.i2, "H2": self.h2, "tau2": self.tau2,
                             "estimate": self.estimate})


def _exhaustive_codes(k: int) -> np.ndarray:
    """Subset codes 1 .. 2^k - 1 (bit j = study j), stably sorted by size."""
    codes = np.arange(1, 1 << k, dtype=np.int64)
    size = np.zeros(codes.shape, dtype=np.int64)
    for j in range(k):
        size += (codes >> j) & 1
    return codes[np.argsort(size, kind="stable")]


def _sampled_masks(k: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Random subsets as metafor samples them: size m ~ Binomial(k, 1/2) given m >= 1."""
    sizes = np.arange(1, k + 1)
    logp = np.array([math.lgamma(k + 1) - math.lgamma(m + 1) - math.lgamma(k - m + 1) for m in sizes])
    p = np.exp(logp - logp.max())
    m = rng.choice(sizes, size=n, p=p / p.sum())
    ranks = np.argsort(np.argsort(rng.random((n, k)), axis=1), axis=1)
    masks = ranks < m[:, None]
    return masks[np.argsort(m, kind="stable")]


@singledispatch
def gosh(res, subsets: int | None = None, *, seed=None, chunk: int = CHUNK,
         workers: int | None = None, progress=None) -> GoshResult:
    """Fit the model to all subsets of the studies, or to a random sample of them.

    Parameters
    ----------
    res
        A fitted model without moderators (k >= 2).
    subsets
        Number of subsets to fit. None: all ``2^k - 1`` subsets when
        k <= 20, else 10^6 random ones. A number at least ``2^k - 1`` also
        fits all subsets.
    seed
        Seed of the random sample (numpy ``default_rng``).
    chunk
        Subsets fitted per batch (memory: about ``chunk * k * 100`` bytes).
    workers
        Threads fitting chunks in parallel (default: the number of CPUs).
    progress
        Optional ``progress(done, total)``, called after each chunk of fits.

    Notes
    -----
    Numbers per subset equal metafor's ``gosh`` (every subset is a full fit
    with the model's estimator). For DL, H^2 is ``Q/(k - 1)`` as metafor's
    gosh reports it (below 1 when Q < k - 1, where the fitted model's H^2 is 1). metafor fits all subsets only up to 10^6
    (k <= 19) and samples at k = 20; metapool fits all subsets up to k = 20.
    Random samples cannot reproduce R's random numbers. GLMM fits (which
    metafor's ``gosh`` refuses) have their own defaults, see
    :mod:`metapool.influence.glmm`.

    References
    ----------
    Olkin I, Dahabreh IJ, Trikalinos TA (2012). GOSH - a graphical display of
    study heterogeneity. Res Synth Methods 3:214-223.
    """
    raise MetapoolError(f"gosh is not available for {type(res).__name__} results.")


def subset_plan(k: int, subsets: int | None, seed, exhaustive_default: bool, n_default: int):
    """Which subsets a GOSH analysis fits: ``(n, masks(lo, hi), exhaustive)``.

    All ``2^k - 1`` subsets (ordered as metafor orders them) when ``subsets``
    is at least that many, or, with ``subsets`` None, when
    ``exhaustive_default``; else ``subsets`` (default ``n_default``) random
    subsets drawn with ``seed``. ``masks(lo, hi)`` gives rows ``lo:hi``.
    """
    total = (1 << k) - 1 if k < 63 else np.inf
    if subsets is not None and subsets < 2:
        raise OptionError(f"The 'subsets' parameter of gosh must be >= 2. Got {subsets!r}.")
    exhaustive = total <= subsets if subsets is not None else exhaustive_default
    if exhaustive:
        codes = _exhaustive_codes(k)
        bits = np.arange(k, dtype=np.int64)

        def masks(lo, hi):
            return ((codes[lo:hi, None] >> bits) & 1).astype(bool)

        return codes.shape[0], masks, True
    n = n_default if subsets is None else int(subsets)
    incl_all = _sampled_masks(k, n, np.random.default_rng(seed))
    return n, lambda lo, hi: incl_all[lo:hi], False


def run_chunks(n: int, chunk: int, workers: int | None, fit_chunk, progress=None) -> None:
    """Call ``fit_chunk(lo, hi)`` for ``lo = 0, chunk, 2 chunk, ...`` in ``workers`` threads.

    ``progress(done, total)`` is called after each chunk (from the worker threads).
    """
    starts = range(0, n, chunk)
    lock, done = threading.Lock(), [0]

    def one(lo: int) -> None:
        hi = min(n, lo + chunk)
        fit_chunk(lo, hi)
        if progress is not None:
            with lock:
                done[0] += hi - lo
                progress(done[0], n)

    threads = max(1, min(workers or os.cpu_count() or 1, len(starts)))
    if threads == 1:
        for lo in starts:
            one(lo)
    else:  # numpy releases the GIL in its array operations: chunks run in parallel
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, starts))


@gosh.register
def _(res: RMAResult, subsets: int | None = None, *, seed=None, chunk: int = CHUNK,
      workers: int | None = None, progress=None) -> GoshResult:
    require_intercept_only(res, "GOSH")

    def fit(m: np.ndarray) -> tuple:
        bf = refit_subsets(res, m)
        h2 = bf.het.h2
        if res.method == "DL":
            # metafor's gosh computes DL subsets in closed form with H^2 = Q/(k - 1), also
            # below 1 where rma's H^2 = 1 + tau2/vt stays at 1 (I^2 agrees either way)
            h2 = np.where(bf.k > 1, common_i2_h2(bf.het.q, bf.k - 1)[1], 1.0)
        return bf.converged, bf.het.q, bf.het.i2, h2, bf.tau2, bf.coef.estimate[:, 0]

    return _fit_subsets(res, subsets, seed, chunk, workers, progress, fit)


@gosh.register
def _(res: MHResult, subsets: int | None = None, *, seed=None, chunk: int = CHUNK,
      workers: int | None = None, progress=None) -> GoshResult:
    """Mantel-Haenszel and Peto fits: each subset refitted by the model's own method (metafor's gosh of
    ``rma.mh`` / ``rma.peto``), tau2 = 0. A subset without an estimate (only double-zero tables) is a
    failed fit for Peto's method but keeps its Q = 0 under Mantel-Haenszel, as in metafor."""

    def fit(m: np.ndarray) -> tuple:
        tf = refit_tables(res, m)
        estimate = tf.coef.estimate[:, 0]
        ok = np.isfinite(estimate) if res.method == "PETO" else np.ones(m.shape[0], dtype=bool)
        return ok, tf.q, tf.i2, tf.h2, np.zeros(m.shape[0]), estimate

    return _fit_subsets(res, subsets, seed, chunk, workers, progress, fit)


def _fit_subsets(res, subsets, seed, chunk: int, workers, progress, fit) -> GoshResult:
    """GOSH of ``res`` with ``fit(masks) -> (ok, q, i2, h2, tau2, estimate)`` fitting one chunk of subsets."""
    require_k(res, 2, "GOSH")
    k = res.k
    n, masks, exhaustive = subset_plan(k, subsets, seed, k <= EXHAUSTIVE_MAX_K, SAMPLED_SUBSETS)
    incl = np.empty((n, k), dtype=bool)
    names = ("q", "i2", "h2", "tau2", "estimate")
    out = {name: np.empty(n) for name in names}

    def fit_chunk(lo: int, hi: int) -> None:
        m = masks(lo, hi)
        incl[lo:hi] = m
        ok, *values = fit(m)
        for name, value in zip(names, values):
            out[name][lo:hi] = np.where(ok, value, np.nan)

    run_chunks(n, chunk, workers, fit_chunk, progress)
    return GoshResult(slab=res.slab, incl=incl, k=incl.sum(axis=1), exhaustive=bool(exhaustive),
                      method=res.method, **out)
