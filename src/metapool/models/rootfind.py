"""A safeguarded, batched Newton/Fisher-scoring root finder on tau2 >= 0.

Plain Fisher scoring (metafor's algorithm for ML, REML and EB) oscillates on a
small share of data sets and then fails to converge. Here each analysis keeps
a bracket ``[lo, hi]`` around the root of its estimating equation; a scoring
step that leaves the bracket, or does not halve the error fast enough, is
replaced by bisection (the strategy of Numerical Recipes' ``rtsafe``). The
estimating equations used are decreasing through their root, so the search
always converges. Only analyses not yet converged keep iterating.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .kernels import Batch


@dataclass(frozen=True)
class Control:
    """Convergence control of iterative estimators.

    Attributes
    ----------
    tol
        Convergence when a step changes tau2 by less than ``tol * (1 + tau2)``.
    maxiter
        Iteration limit; analyses that reach it are flagged as not converged.
    """

    tol: float = 1e-12
    maxiter: int = 200


@dataclass(frozen=True)
class Root:
    """Roots for a batch: value, converged flag and iterations used."""

    x: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray


ScoreFn = Callable[[Batch, np.ndarray], tuple[np.ndarray, np.ndarray]]


def solve(batch: Batch, score: ScoreFn, start: np.ndarray, control: Control) -> Root:
    """Find, for every analysis, the root in ``tau2 >= 0`` of ``score``.

    Parameters
    ----------
    batch
        The analyses.
    score
        ``score(sub_batch, tau2) -> (f, step)``: ``f > 0`` where tau2 must grow,
        and the proposed scoring step (``step`` has the sign of ``f``).
    start
        Starting values (any values >= 0).
    control
        Tolerance and iteration limit.

    Returns
    -------
    Root
        ``x = 0`` where ``f(0) <= 0`` (the estimate is truncated at zero).
    """
    n = batch.size
    x_out = np.zeros(n)
    n_iter = np.zeros(n, dtype=int)
    converged = np.zeros(n, dtype=bool)

    f0, _ = score(batch, np.zeros(n))
    at_zero = ~(f0 > 0)
    converged[at_zero] = True
    n_iter[at_zero] = 1
    active = np.flatnonzero(~at_zero)
    if active.size == 0:
        return Root(x_out, converged, n_iter)

    sub = batch.take(active)
    x = np.maximum(np.asarray(start, dtype=float)[active], 0.0)
    lo = np.zeros(active.size)
    hi = np.full(active.size, np.inf)
    dx_old = np.full(active.size, np.inf)
    for it in range(1, control.maxiter + 1):
        f, step = score(sub, x)
        lo = np.where(f > 0, x, lo)
        hi = np.where(f < 0, x, hi)
        x_new = x + step
        bad = ~np.isfinite(x_new) | (x_new <= lo) | (x_new >= hi) | (np.abs(step) > 0.5 * np.abs(dx_old))
        bisect = np.where(np.isfinite(hi), 0.5 * (lo + hi), 2.0 * lo + 1.0)
        bad &= np.isfinite(hi) | ~(x_new > lo)
        x_new = np.where(bad, bisect, x_new)
        x_new = np.where(f == 0, x, x_new)
        dx = x_new - x
        dx_old = np.where(bad, np.abs(dx), np.abs(step))
        done = np.abs(dx) <= control.tol * (1.0 + x)
        x = x_new
        if done.any():
            rows = active[done]
            x_out[rows] = x[done]
            converged[rows] = True
            n_iter[rows] = it
            keep = ~done
            active, x, lo, hi, dx_old = active[keep], x[keep], lo[keep], hi[keep], dx_old[keep]
            if active.size == 0:
                break
            sub = sub.take(keep)
    if active.size:
        x_out[active] = x
        n_iter[active] = control.maxiter
    return Root(x_out, converged, n_iter)
