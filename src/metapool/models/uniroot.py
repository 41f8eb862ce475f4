"""Brent's root search exactly as R's ``uniroot`` runs it.

metafor finds the Paule-Mandel estimate and the Q-profile confidence limits
with ``uniroot(..., tol = .Machine$double.eps^0.25)``, so its values are exact
only to about 1e-4 in tau2, and *which* approximation it returns depends on
the iterates of R's implementation of Brent's method (R's ``zeroin.c``, after
Brent 1973 and Forsythe, Malcolm & Moler 1977). :func:`scipy.optimize.brentq`
implements the same method with different interpolation decisions and stops at
other points, so it cannot reproduce metafor's numbers; this module follows
the published algorithm step by step instead.

References
----------
Brent RP (1973). Algorithms for Minimization without Derivatives, ch. 4.
Forsythe GE, Malcolm MA, Moler CB (1977). Computer Methods for Mathematical
Computations, routine ZEROIN.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: R's default ``uniroot`` tolerance, ``.Machine$double.eps^0.25``.
R_TOL = float(np.finfo(float).eps ** 0.25)
_EPS = float(np.finfo(float).eps)


def uniroot(
    f: Callable[[float], float],
    lower: float,
    upper: float,
    tol: float = R_TOL,
    maxiter: int = 1000,
) -> float | None:
    """Root of ``f`` on ``[lower, upper]`` as R's ``uniroot`` finds it, or None.

    ``f(lower)`` and ``f(upper)`` must not have the same sign. Returns None when
    they do or when ``maxiter`` evaluations do not reach the tolerance.
    """
    a, b = float(lower), float(upper)
    fa, fb = f(a), f(b)
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    if fa * fb > 0:
        return None
    c, fc = a, fa
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):  # keep b the best approximation
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2.0 * _EPS * abs(b) + tol / 2.0
        new_step = (c - b) / 2.0
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:  # secant
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:  # inverse quadratic interpolation
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2.0) and p < abs(prev_step * q / 2.0):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return None
