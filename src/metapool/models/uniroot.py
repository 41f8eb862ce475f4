"""Brent root search with R's ``uniroot`` defaults.

metafor finds the Paule-Mandel estimate and the Q-profile confidence limits
with ``uniroot(..., tol = .Machine$double.eps^0.25)``; its values are
therefore exact only to about 1e-4. To give numbers identical to metafor,
metapool runs the same algorithm (Brent 1973, as in R's ``zeroin``) on the same
interval with the same tolerance, through :func:`scipy.optimize.brentq`
(whose stopping rule ``(xtol + rtol |b|) / 2`` equals R's with ``rtol = 4 eps``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: R's default ``uniroot`` tolerance, ``.Machine$double.eps^0.25``.
R_TOL = float(np.finfo(float).eps ** 0.25)


def uniroot(f: Callable[[float], float], lower: float, upper: float, maxiter: int = 1000) -> float | None:
    """Root of ``f`` on ``[lower, upper]`` as R's ``uniroot`` finds it, or None.

    ``f(lower)`` and ``f(upper)`` must have opposite signs (or one be zero).
    """
    from scipy.optimize import brentq

    try:
        return float(brentq(f, lower, upper, xtol=R_TOL, rtol=4 * np.finfo(float).eps, maxiter=maxiter))
    except (RuntimeError, ValueError):
        return None
