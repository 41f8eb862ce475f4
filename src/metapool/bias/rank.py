"""Begg and Mazumdar's rank correlation test for funnel-plot asymmetry."""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

import numpy as np

from .._distributions import norm_sf2
from .._summary import Rendered
from ..exceptions import MetapoolError
from ..models.results import RMAResult, _num

__all__ = ["RankTest", "ranktest", "kendall_tau", "kendall_cdf", "MAX_K_EXACT"]

#: Largest number of studies whose p-value comes from the exact null distribution
#: (without ties, as metafor's ``cor.test(..., exact = TRUE)``). Its cost grows with
#: k^3 (1 s at k = 500); above, the normal approximation is used, as R's
#: ``cor.test`` does by default from 50 observations.
MAX_K_EXACT = 300


@dataclass(frozen=True)
class RankTest(Rendered):
    """Kendall's tau between standardised effect sizes and their variances.

    ``exact`` tells whether the p-value is from the exact null distribution
    (no ties, k <= :data:`MAX_K_EXACT`) or the normal approximation (with tie
    corrections).
    """

    k: int
    tau: float
    pvalue: float
    exact: bool

    def to_dict(self) -> dict:
        return {"k": self.k, "tau": _num(self.tau), "p": _num(self.pvalue), "exact": self.exact}


def kendall_cdf(q: int, n: int) -> float:
    """P(T <= q) for the number T of concordant pairs of n untied observations.

    The distribution of T is that of the number of inversions of a random
    permutation, built up one element at a time (normalised at each step).
    """
    if q < 0:
        return 0.0
    m = n * (n - 1) // 2
    if q >= m:
        return 1.0
    p = np.ones(1)
    for j in range(2, n + 1):
        # adding the j-th element creates 0..j-1 new inversions, each with probability 1/j
        c = np.concatenate([np.zeros(1), np.cumsum(p)])
        size = p.size + j - 1
        hi = np.minimum(np.arange(size) + 1, p.size)
        lo = np.maximum(np.arange(size) - j + 1, 0)
        p = (c[hi] - c[lo]) / j
    return float(np.sum(p[: q + 1]))


def _ties(a: np.ndarray) -> np.ndarray:
    _, counts = np.unique(a, return_counts=True, axis=0)
    return counts[counts > 1].astype(float)


def _inversions(ranks: np.ndarray) -> int:
    """Number of pairs i < j with ``ranks[i] > ranks[j]`` (integer ranks), by bottom-up merging.

    Each pass sorts blocks of twice the width, counting for every element of a
    right half the elements of its left half above it: O(k log^2 k) time and
    O(k) memory.
    """
    n = ranks.size
    index = np.arange(n)
    size = int(ranks.max()) + 1 if n else 1
    cur, count, width = ranks.astype(np.int64), 0, 1
    while width < n:
        block = index // (2 * width)
        right = (index // width) % 2 == 1
        left_keys = (block * size + cur)[~right]  # sorted: blocks ascending, each half sorted
        rb, rv = block[right], cur[right]
        at_most = np.searchsorted(left_keys, rb * size + rv, side="right")
        block_end = np.searchsorted(left_keys, (rb + 1) * size, side="left")
        count += int(np.sum(block_end - at_most))
        cur = np.sort(block * size + cur) - block * size
        width *= 2
    return count


def _kendall_s(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's S (concordant minus discordant pairs) in O(k log^2 k), as Knight (1966)."""
    n = x.size
    order = np.lexsort((y, x))
    discordant = _inversions(np.unique(y, return_inverse=True)[1][order])
    pairs = n * (n - 1) // 2
    tied_x, tied_y = _ties(x), _ties(y)
    tied_xy = _ties(np.column_stack([x, y]))
    tied = sum(int(np.sum(t * (t - 1))) // 2 for t in (tied_x, tied_y))
    concordant = pairs - tied + int(np.sum(tied_xy * (tied_xy - 1))) // 2 - discordant
    return float(concordant - discordant)


def kendall_tau(x, y) -> tuple[float, float, bool]:
    """Kendall's tau-b of ``x`` and ``y`` with its two-sided p-value, as R's ``cor.test``.

    Without ties (and up to :data:`MAX_K_EXACT` pairs of values) the p-value is
    exact; otherwise it uses the normal approximation with tie-corrected
    variance. Returns ``(tau, p, exact)``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.size
    s = _kendall_s(x, y)
    t0 = n * (n - 1) / 2.0
    xt, yt = _ties(x), _ties(y)
    t1 = np.sum(xt * (xt - 1)) / 2.0
    t2 = np.sum(yt * (yt - 1)) / 2.0
    tau = s / np.sqrt((t0 - t1) * (t0 - t2))
    if xt.size == 0 and yt.size == 0 and n <= MAX_K_EXACT:
        q = int(round((tau + 1) * n * (n - 1) / 4))
        p = 1.0 - kendall_cdf(q - 1, n) if q > n * (n - 1) / 4 else kendall_cdf(q, n)
        return float(tau), min(2.0 * p, 1.0), True
    v0 = n * (n - 1) * (2 * n + 5)
    vt = np.sum(xt * (xt - 1) * (2 * xt + 5))
    vu = np.sum(yt * (yt - 1) * (2 * yt + 5))
    v1 = np.sum(xt * (xt - 1)) * np.sum(yt * (yt - 1))
    v2 = np.sum(xt * (xt - 1) * (xt - 2)) * np.sum(yt * (yt - 1) * (yt - 2))
    var_s = (v0 - vt - vu) / 18 + v1 / (2 * n * (n - 1)) + v2 / (9 * n * (n - 1) * (n - 2))
    z = tau * np.sqrt((t0 - t1) * (t0 - t2)) / np.sqrt(var_s)
    return float(tau), float(norm_sf2(z)), False


@singledispatch
def ranktest(res) -> RankTest:
    """Rank correlation test (Begg & Mazumdar 1994), equal to metafor's ``ranktest``.

    Kendall's tau between the standardised deviates
    ``(y_i - mu_CE) / sqrt(v_i - 1/sum w)`` (``mu_CE`` the common-effect
    estimate, ``w = 1/v``) and the sampling variances ``v_i``.

    References
    ----------
    Begg CB, Mazumdar M (1994). Operating characteristics of a rank
    correlation test for publication bias. Biometrics 50:1088-1101.
    """
    raise MetapoolError(f"ranktest is not available for {type(res).__name__} results.")


@ranktest.register
def _(res: RMAResult) -> RankTest:
    if res.k < 3:
        raise MetapoolError(f"The rank correlation test needs at least 3 studies (k = {res.k}): it is undefined.")
    yi, vi = np.asarray(res.yi), np.asarray(res.vi)
    w = 1.0 / vi
    theta = np.sum(w * yi) / np.sum(w)
    ystar = (yi - theta) / np.sqrt(vi - 1.0 / np.sum(w))
    for values, what in ((vi, "sampling variance"), (ystar, "standardised effect size")):
        if np.ptp(values) == 0:
            raise MetapoolError(f"The rank correlation test is undefined: every study has the same {what}"
                                " (Kendall's tau has no variance).")
    tau, p, exact = kendall_tau(ystar, vi)
    return RankTest(res.k, tau, p, exact)
