"""Permutation tests for meta-analytic models (metafor's ``permutest``).

For a model with moderators the rows of the design matrix are permuted
against the effect sizes; for a model without moderators the signs of the
effect sizes are flipped. Every permutation is one row of a padded batch, so
all of them are fitted by :func:`metapool.models.fit.fit_batch` in chunks.
Permutation p-values are the share of permutations whose statistic is at
least as extreme as the observed one (Follmann & Proschan 1999; Higgins &
Thompson 2004). When the number of distinct permutations does not exceed
``iter`` the test is exact (all of them, as metafor does); otherwise ``iter``
random permutations are drawn from a seeded generator, the first being the
observed data.

References
----------
Follmann DA, Proschan MA (1999). Valid inference in random effects
meta-analysis. Biometrics 55:732-737.
Higgins JPT, Thompson SG (2004). Controlling the risk of spurious findings
from meta-regression. Stat Med 23:1663-1682.
Viechtbauer W, Lopez-Lopez JA, Sanchez-Meca J, Marin-Martinez F (2015). A
comparison of procedures to test for moderators in mixed-effects
meta-regression models. Psychol Methods 20:360-374.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._summary import Summarized
from ..exceptions import MetapoolError
from ..models.fit import fit_batch
from ..models.kernels import Batch
from ..models.results import RMAResult, _num
from ..models.tau2 import get_estimator

__all__ = ["PermutationTest", "permutest"]

#: Comparison tolerance for "at least as extreme" (metafor's ``comptol``).
COMPTOL = float(np.finfo(float).eps ** 0.5)
#: Permutations fitted per batch.
CHUNK = 4096


@dataclass(frozen=True)
class PermutationTest(Summarized):
    """Permutation p-values of the coefficients and of the omnibus test.

    Attributes
    ----------
    names
        Coefficient names.
    pvalues
        Permutation p-value of each coefficient's test statistic (two-sided).
    qm_pvalue
        Permutation p-value of the omnibus test (QM) of the moderators, or of
        the single coefficient of a model without moderators.
    iterations, exact, seed
        Number of permutations, whether all distinct permutations were used,
        and the seed of the random ones.
    failed
        Permutations whose fit failed (left out of the p-values).
    """

    names: tuple
    pvalues: np.ndarray
    qm_pvalue: float
    iterations: int
    exact: bool
    seed: int | None
    failed: int = 0

    def to_dict(self) -> dict:
        return {
            "coefficients": [{"name": n, "pvalue": _num(p)} for n, p in zip(self.names, self.pvalues)],
            "qm_pvalue": _num(self.qm_pvalue),
            "iterations": self.iterations,
            "exact": self.exact,
            "seed": self.seed,
            "failed": self.failed,
        }


def _unique_row_permutations(X: np.ndarray) -> np.ndarray:
    """All distinct orderings of the rows of ``X`` (rows that are equal are interchangeable)."""
    _, codes = np.unique(X, axis=0, return_inverse=True)
    codes = codes.ravel()
    perms = sorted(set(itertools.permutations(codes.tolist())))
    by_code = {c: list(np.flatnonzero(codes == c)) for c in set(codes.tolist())}
    out = []
    for p in perms:
        pools = {c: iter(rows) for c, rows in by_code.items()}
        out.append([next(pools[c]) for c in p])
    return np.array(out, dtype=int)


def _n_unique_permutations(X: np.ndarray) -> float:
    _, counts = np.unique(X, axis=0, return_counts=True)
    n = math.factorial(int(counts.sum()))
    for c in counts:
        n //= math.factorial(int(c))
    return float(n)


def permutest(
    res: RMAResult,
    iter: int = 1000,
    exact: bool = False,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PermutationTest:
    """Permutation test of a fitted model's coefficients (metafor's ``permutest``).

    Parameters
    ----------
    res
        A fitted :func:`metapool.rma` model.
    iter
        Number of random permutations (the test is exact, using every distinct
        permutation, when there are no more than ``iter`` of them).
    exact
        Force the exact test.
    seed
        Seed of the random permutations (drawn from numpy's default generator;
        the numbers differ from R's, within Monte Carlo error).
    progress
        Called as ``progress(done, total)`` after each chunk of fits.

    Raises
    ------
    MetapoolError
        An exact test with too many permutations to enumerate (over 10^7).
    """
    if iter < 2:
        raise MetapoolError("A permutation test needs iter >= 2.")
    k = res.k
    X = res.X if res.X is not None else np.ones((k, 1))
    intercept_only = res.X is None
    n_exact = 2.0**k if intercept_only else _n_unique_permutations(X)
    use_exact = exact or n_exact <= iter
    if use_exact and n_exact > 1e7:
        raise MetapoolError(f"An exact permutation test would need {n_exact:.3g} fits; use random permutations.")
    rng = None
    if not use_exact:
        seed = int(np.random.SeedSequence().entropy % 2**31) if seed is None else int(seed)
        rng = np.random.default_rng(seed)
    total = int(n_exact) if use_exact else int(iter)
    if intercept_only:
        signs = (
            np.array(list(itertools.product((1.0, -1.0), repeat=k)))
            if use_exact
            else np.vstack([np.ones(k), rng.choice((-1.0, 1.0), size=(total - 1, k))])
        )
        rows = None
    else:
        rows = (
            _unique_row_permutations(X)
            if use_exact
            else np.vstack([np.arange(k), np.array([rng.permutation(k) for _ in range(total - 1)], dtype=int)])
        )
    estimator = get_estimator(res.method)
    which = np.array([n != "intrcpt" for n in res.coefficients.names]) if not intercept_only else np.array([True])
    centred = res.moderators is not None and not res.moderators.intercept
    z_perm, qm_perm = [], []
    for start in range(0, total, CHUNK):
        stop = min(start + CHUNK, total)
        n = stop - start
        if intercept_only:
            y = signs[start:stop] * res.yi
            Xb = None
        else:
            y = np.broadcast_to(res.yi, (n, k))
            Xb = X[rows[start:stop]]
        batch = Batch.from_arrays(y, np.broadcast_to(res.vi, (n, k)), Xb)
        tau_batch = Batch.from_arrays(y - y.mean(axis=1, keepdims=True), batch.v, Xb) if centred else None
        fixed = np.full(n, res.tau2) if res.tau2_fixed else None
        bf = fit_batch(batch, estimator, res.test, res.level, res.control, fixed, tau_batch)
        stat = bf.coef.statistic
        b = bf.coef.estimate[:, which]
        v = bf.vb[:, which][:, :, which]
        qm = np.einsum("bp,bp->b", b, np.linalg.solve(v, b[..., None])[..., 0])
        if np.isfinite(bf.coef.ddf).all():
            qm = qm / which.sum()  # the F form of QM, as the observed statistic
        qm = np.where(bf.converged, qm, np.nan)
        z_perm.append(np.where(bf.converged[:, None], stat, np.nan))
        qm_perm.append(qm)
        if progress is not None:
            progress(stop, total)
    z_perm = np.concatenate(z_perm)
    qm_perm = np.concatenate(qm_perm)
    z_obs = res.coefficients.statistic
    qm_obs = res.moderators.statistic if res.moderators is not None else z_obs[0] ** 2
    with np.errstate(invalid="ignore"):
        pvalues = np.nanmean(np.abs(z_perm) >= np.abs(z_obs) - COMPTOL, axis=0)
        qm_p = float(np.nanmean(qm_perm >= qm_obs - COMPTOL))
    return PermutationTest(
        names=res.coefficients.names,
        pvalues=np.minimum(pvalues, 1.0),
        qm_pvalue=qm_p,
        iterations=total,
        exact=use_exact,
        seed=None if use_exact else seed,
        failed=int(np.isnan(qm_perm).sum()),
    )
