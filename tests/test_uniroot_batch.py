"""The batched R ``zeroin`` runs exactly the iterates of the scalar algorithm, problem by problem.

``scalar_zeroin`` below is a line-by-line transcription of R's ``zeroin.c`` (Brent
1973; Forsythe, Malcolm & Moler 1977), as metapool ran it one analysis at a time
before the search was batched. With the same function values both must return
bit-identical roots.
"""

import numpy as np
import pytest

from metapool.models.uniroot import R_TOL, uniroot

EPS = float(np.finfo(float).eps)


def scalar_zeroin(f, a, b, tol=R_TOL, maxiter=1000):
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
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2.0 * EPS * abs(b) + tol / 2.0
        new_step = (c - b) / 2.0
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
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


def family(x, c):
    """Decreasing functions like Q(tau2) - target: sum_j c1_j / (c2_j + x) - c0 (elementwise)."""
    return c[..., 1] / (c[..., 2] + x) + c[..., 3] / (c[..., 4] + x) + c[..., 5] * np.exp(-x) - c[..., 0]


@pytest.mark.parametrize("tol", [R_TOL, 1e-10])
def test_batched_zeroin_equals_the_scalar_one(tol):
    rng = np.random.default_rng(1)
    n = 400
    coef = np.exp(rng.uniform(-4, 4, (n, 6)))
    coef[:, 0] = rng.uniform(0.0, 2.0, n)
    coef[:5, 0] = 0.0  # no sign change: no root
    upper = np.exp(rng.uniform(-2, 6, n))
    upper[5] = 0.0  # f(lower) == f(upper) side: a root at the end point or none
    root, found = uniroot(lambda x, rows: family(x, coef[rows]), np.zeros(n), upper, tol)
    for i in range(n):
        want = scalar_zeroin(lambda x: float(family(x, coef[i])), 0.0, float(upper[i]), tol)
        if want is None:
            assert not found[i] and np.isnan(root[i])
        else:
            assert found[i] and root[i] == want, i


def test_iteration_limit_and_exact_zeros():
    root, found = uniroot(lambda x, rows: x - 0.3, np.array([0.0, 0.3, 0.0]), np.array([1.0, 1.0, 0.3]))
    assert found.all() and root[1] == 0.3 and root[2] == 0.3
    root, found = uniroot(lambda x, rows: np.exp(x) - 1.5, np.array([0.0]), np.array([1.0]), tol=1e-300, maxiter=2)
    assert not found[0] and np.isnan(root[0])
    assert scalar_zeroin(lambda x: np.exp(x) - 1.5, 0.0, 1.0, tol=1e-300, maxiter=2) is None
