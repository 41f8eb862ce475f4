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
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    lower: np.ndarray,
    upper: np.ndarray,
    tol: float = R_TOL,
    maxiter: int = 1000,
) -> tuple[np.ndarray, np.ndarray]:
    """Roots of many functions on ``[lower, upper]``, each as R's ``uniroot`` finds it.

    Every problem runs exactly the iterates of R's ``zeroin.c`` (the branches
    are taken per problem, with the same floating-point operations), so the
    result of each equals that of a scalar run; finished problems leave the
    batch, and ``f`` is evaluated on the others only.

    Parameters
    ----------
    f
        ``f(x, rows)``: values at ``x[j]`` of the functions of problems ``rows[j]``.
    lower, upper
        Search intervals, ``[n]``; ``f(lower)`` and ``f(upper)`` must not have
        the same sign.
    tol, maxiter
        R's ``tol`` and ``maxiter``.

    Returns
    -------
    (root, found)
        ``found`` is False (and ``root`` NaN) where the end points have the same
        sign or ``maxiter`` evaluations did not reach the tolerance.
    """
    a = np.array(lower, dtype=float)
    b = np.array(upper, dtype=float)
    n = a.shape[0]
    root = np.full(n, np.nan)
    rows = np.arange(n)
    fa, fb = f(a, rows), f(b, rows)
    root[fa == 0.0] = a[fa == 0.0]
    at_b = (fa != 0.0) & (fb == 0.0)
    root[at_b] = b[at_b]
    keep = (fa != 0.0) & (fb != 0.0) & ~(fa * fb > 0)
    rows, a, b, fa, fb = rows[keep], a[keep], b[keep], fa[keep], fb[keep]
    c, fc = a.copy(), fa.copy()
    found = ~np.isnan(root)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(maxiter + 1):
            if rows.size == 0:
                break
            prev_step = b - a
            swap = np.abs(fc) < np.abs(fb)  # keep b the best approximation
            a, b, c = np.where(swap, b, a), np.where(swap, c, b), np.where(swap, b, c)
            fa, fb, fc = np.where(swap, fb, fa), np.where(swap, fc, fb), np.where(swap, fb, fc)
            tol_act = 2.0 * _EPS * np.abs(b) + tol / 2.0
            new_step = (c - b) / 2.0
            done = (np.abs(new_step) <= tol_act) | (fb == 0.0)
            root[rows[done]] = b[done]
            found[rows[done]] = True
            interpolate = ~done & (np.abs(prev_step) >= tol_act) & (np.abs(fa) > np.abs(fb))
            cb = c - b
            # secant where a == c, else inverse quadratic interpolation
            t1 = np.where(a == c, fb / fa, fb / fc)
            q_iq = fa / fc
            t2 = fb / fa
            p = np.where(a == c, cb * t1, t2 * (cb * q_iq * (q_iq - t1) - (b - a) * (t1 - 1.0)))
            q = np.where(a == c, 1.0 - t1, (q_iq - 1.0) * (t1 - 1.0) * (t2 - 1.0))
            q = np.where(p > 0, -q, q)
            p = np.where(p > 0, p, -p)
            accept = interpolate & (p < (0.75 * cb * q - np.abs(tol_act * q) / 2.0)) & (p < np.abs(prev_step * q / 2.0))
            new_step = np.where(accept, p / q, new_step)
            new_step = np.where(np.abs(new_step) < tol_act, np.where(new_step > 0, tol_act, -tol_act), new_step)
            live = ~done
            rows, a, b, c, fa, fb, fc, new_step = (
                rows[live], b[live], b[live] + new_step[live], c[live], fb[live], fb[live], fc[live], new_step[live]
            )
            if rows.size == 0:
                break
            fb = f(b, rows)
            same_side = ((fb > 0) & (fc > 0)) | ((fb < 0) & (fc < 0))
            c, fc = np.where(same_side, a, c), np.where(same_side, fa, fc)
    return root, found
