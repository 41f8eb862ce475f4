"""Batched iterative solvers for tau2 >= 0: metafor's Fisher scoring and a safeguarded search.

* :func:`fisher_scoring` runs metafor's algorithm for ML, REML and EB step for
  step (start at the HE estimate, step halving at the bound, stop when tau2
  changes by at most ``threshold``), so that the estimates equal metafor's,
  including where its absolute stopping rule halts before the optimum.
* :func:`solve` is a safeguarded Newton search to the exact root: each
  analysis keeps a bracket ``[lo, hi]`` around the root of its estimating
  equation; a step that leaves the bracket, or does not halve the error fast
  enough, is replaced by bisection (the strategy of Numerical Recipes'
  ``rtsafe``). It always converges. It serves where Fisher scoring oscillates
  and fails (metafor stops with an error there) and, with
  ``Control(algorithm="newton")``, for exact optima everywhere.

Only analyses not yet converged keep iterating.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .kernels import Batch
from .uniroot import R_TOL


@dataclass(frozen=True)
class Control:
    """Convergence control of iterative estimators.

    Attributes
    ----------
    tol
        Convergence when a step changes tau2 by less than ``tol * (1 + tau2)``.
    maxiter
        Iteration limit; analyses that reach it are flagged as not converged.
    root_tol
        Tolerance of the bracketing search of PM and PMM. The default is
        metafor's (R's ``uniroot`` default, about 1.2e-4 in tau2), so that the
        estimates equal metafor's; a smaller value gives the exact root.
    algorithm
        ML/REML/EB: ``"fisher"`` (default) runs metafor's Fisher scoring, whose
        results equal metafor's, and switches to the safeguarded search where
        it does not converge; ``"newton"`` always solves to the exact optimum
        (``tol``), also where metafor's absolute stopping rule halts early on
        tiny tau2 scales.
    threshold, fisher_maxiter
        metafor's stopping rule (change in tau2 at most ``threshold``) and
        iteration limit of Fisher scoring.
    """

    tol: float = 1e-12
    maxiter: int = 200
    root_tol: float = R_TOL
    algorithm: str = "fisher"
    threshold: float = 1e-5
    fisher_maxiter: int = 100


@dataclass(frozen=True)
class Root:
    """Roots for a batch: value, converged flag and iterations used."""

    x: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray


def _halved(x: np.ndarray, step: np.ndarray) -> np.ndarray:
    """``x + step``, with the step halved until the result is >= 0 (metafor's rule)."""
    target = x + step
    if not np.count_nonzero(target < 0):  # the usual case: no step crosses zero
        return target
    with np.errstate(divide="ignore", invalid="ignore"):
        halvings = np.ceil(np.log2(-step / x))
        halved = np.maximum(x + step * np.exp2(-halvings), 0.0)
    out = np.where(target >= 0, target, np.where(x > 0, halved, 0.0))
    return np.where(np.isfinite(out), out, 0.0)


ScoreFn = Callable[[Batch, np.ndarray], tuple[np.ndarray, np.ndarray]]
StepFn = Callable[[Batch, np.ndarray], np.ndarray]


def solve(batch: Batch, score: ScoreFn, start: np.ndarray, control: Control) -> Root:
    """Find, for every analysis, a root in ``tau2 >= 0`` of ``score``, climbing from ``start``.

    Like Fisher scoring (metafor starts it at the HE estimate), the search
    moves from ``start`` in the direction the score points to, so that it
    reaches the same local solution. Once a point with ``f > 0`` is known the
    root is bracketed and every step is safeguarded (bisection when a step
    leaves the bracket or converges slowly). While only points with ``f < 0``
    are known the search steps down, halving a step that would cross zero as
    metafor does; reaching 0 with ``f(0) <= 0`` gives the root 0 (the estimate
    is truncated at zero).

    Parameters
    ----------
    batch
        The analyses.
    score
        ``score(sub_batch, tau2) -> (f, step)``: ``f > 0`` where tau2 must grow,
        and the proposed Newton/scoring step (``step`` has the sign of ``f``).
    start
        Starting values (negative or missing values are read as 0).
    control
        Tolerance and iteration limit.
    """
    n = batch.size
    x_out = np.zeros(n)
    n_iter = np.full(n, control.maxiter, dtype=int)
    converged = np.zeros(n, dtype=bool)

    x = np.maximum(np.nan_to_num(np.asarray(start, dtype=float), nan=0.0), 0.0)
    active = np.arange(n)
    sub = batch
    f, step = score(sub, x)
    lo = np.zeros(n)
    hi = np.full(n, np.inf)
    bracketed = np.zeros(n, dtype=bool)
    dx_old = np.full(n, np.inf)
    for it in range(1, control.maxiter + 1):
        bracketed |= f > 0
        lo = np.where(f > 0, x, lo)
        hi = np.where(f < 0, x, hi)
        newton = x + step
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(newton) | (newton <= lo) | (newton >= hi)
            bad |= np.isfinite(hi) & (np.abs(step) > 0.5 * dx_old)
        bisect = np.where(np.isfinite(hi), 0.5 * (lo + hi), 2.0 * lo + 1.0)
        descend = _halved(x, step)
        x_new = np.where(bracketed, np.where(bad, bisect, newton), descend)
        at_zero = ~bracketed & (x == 0)
        x_new = np.where((f == 0) | at_zero, x, x_new)
        dx = np.abs(x_new - x)
        finished = (f == 0) | at_zero | (dx <= control.tol * (1.0 + x))
        if finished.any():
            rows = active[finished]
            # A descent that still points below zero has converged on the bound 0.
            on_bound = ~bracketed & (f < 0) & ~(newton > 0)
            x_out[rows] = np.where(on_bound[finished], 0.0, x_new[finished])
            converged[rows] = True
            n_iter[rows] = it
            keep = ~finished
            if not keep.any():
                break
            active, x_new, lo, hi, bracketed, dx = (
                active[keep], x_new[keep], lo[keep], hi[keep], bracketed[keep], dx[keep]
            )
            sub = sub.take(keep)
        x, dx_old = x_new, dx
        f, step = score(sub, x)
    else:
        x_out[active] = x
    return Root(x_out, converged, n_iter)


def fisher_scoring(batch: Batch, step: StepFn, start: np.ndarray, control: Control) -> Root:
    """metafor's Fisher scoring for tau2, for every analysis of the batch.

    Parameters
    ----------
    batch
        The analyses.
    step
        ``step(sub_batch, tau2) -> adj``: the Fisher scoring update (evaluated
        with floating-point warnings off; a non-finite step counts as 0). For
        one analysis without moderators it is called with a float ``tau2`` and
        returns a float (see :func:`~metapool.models.kernels.moments`).
    start
        Starting values (metafor: the HE estimate, truncated at 0).
    control
        ``threshold`` and ``fisher_maxiter``.

    Returns
    -------
    Root
        ``converged`` is False where the iteration limit was reached (metafor
        stops with an error there).
    """
    n = batch.size
    x = np.fmax(np.asarray(start, dtype=float), 0.0)  # missing starts are read as 0
    if n == 1 and batch.intercept_only:
        root = _fisher_scoring_one(batch, step, float(x[0]), control)
        if root is not None:
            return root
    x_out = np.zeros(n)
    n_iter = np.full(n, control.fisher_maxiter, dtype=int)
    converged = np.zeros(n, dtype=bool)
    active = np.arange(n)
    sub = batch
    with np.errstate(invalid="ignore", divide="ignore"):  # non-finite steps are replaced by 0
        for it in range(1, control.fisher_maxiter + 1):
            adj = step(sub, x)
            finite = np.isfinite(adj)
            if np.count_nonzero(finite) < finite.size:
                adj[~finite] = 0.0
            new = _halved(x, adj)  # metafor halves a step that would cross tau2 = 0
            finished = np.abs(new - x) <= control.threshold
            x = new
            if np.count_nonzero(finished):
                rows = active[finished]
                x_out[rows] = x[finished]
                converged[rows] = True
                n_iter[rows] = it
                keep = ~finished
                if not np.count_nonzero(keep):
                    break
                active, x = active[keep], x[keep]
                sub = sub.take(keep)
        else:
            x_out[active] = x
    return Root(x_out, converged, n_iter)


def _fisher_scoring_one(batch: Batch, step: StepFn, x: float, control: Control) -> Root | None:
    """:func:`fisher_scoring` of one analysis without moderators, in Python floats.

    The iterates of the batched loop (up to the order of additions in the
    step's sums); the scalar bookkeeping saves numpy's per-call overhead, which
    dominates a single fit. Returns None where a step divides by zero (e.g.
    k = 1), for the batched loop to handle as it does.
    """
    try:
        for it in range(1, control.fisher_maxiter + 1):
            adj = step(batch, x)
            if not math.isfinite(adj):
                adj = 0.0
            new = x + adj
            if new < 0:  # metafor halves a step that would cross tau2 = 0
                new = float(_halved(np.array([x]), np.array([adj]))[0])
            if abs(new - x) <= control.threshold:
                return Root(np.array([new]), np.array([True]), np.array([it]))
            x = new
    except ZeroDivisionError:
        return None
    return Root(np.array([x]), np.array([False]), np.array([control.fisher_maxiter]))
