"""Profile-likelihood confidence interval for tau2 of rma_glmm (GLMMResult.heterogeneity_ci)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import optimize, stats

import metapool as mp
from metapool.exceptions import MetapoolError
from metapool.glmm.kernels import Counts, agq_deviance
from metapool.models.results import HeterogeneityCI

PLO = dict(xi=[4, 12, 3, 20, 8, 15, 2, 30], ni=[50, 60, 40, 80, 70, 65, 45, 90])
IRLN = dict(xi=[3, 10, 25, 7, 40, 2], ti=[100, 120, 300, 90, 250, 80])


def fit(measure, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mp.rma_glmm(measure, **kw)


def lr_statistic(res, tau2):
    """2 (logL_max - logL_profile(tau2)), the profile maximised independently of the method."""
    counts = Counts.from_arrays("binomial" if res.measure == "PLO" else "poisson", res.xi, res.size)
    theta = np.array([math.sqrt(tau2)])

    def dev(b):
        return float(agq_deviance(counts, np.array([b]), theta, res.n_quadrature)[0][0])

    opt = optimize.minimize_scalar(dev, bounds=(res.estimate - 5, res.estimate + 5), method="bounded",
                                   options={"xatol": 1e-11})
    ll_profile = float(counts.saturated_constant[0]) - opt.fun / 2.0
    return 2.0 * (res.marginal_loglik - ll_profile)


@pytest.mark.parametrize("measure, data", [("PLO", PLO), ("IRLN", IRLN)])
def test_limits_solve_the_likelihood_ratio_equation(measure, data):
    res = fit(measure, **data)
    assert res.model in ("binomial-normal", "poisson-normal") and res.tau2 > 0
    ci = res.heterogeneity_ci()
    assert isinstance(ci, HeterogeneityCI) and ci.level == 0.95 and not ci.upper_capped
    est, lo, hi = ci.tau2
    assert est == res.tau2 and 0 < lo < est < hi
    crit = stats.chi2.ppf(0.95, 1)
    assert lr_statistic(res, lo) == pytest.approx(crit, abs=1e-6)
    assert lr_statistic(res, hi) == pytest.approx(crit, abs=1e-6)
    assert lr_statistic(res, est) == pytest.approx(0.0, abs=1e-6)
    # tau, I^2 and H^2 follow from the tau2 limits with vt, as RMAResult's interval
    vt = res.vt
    assert ci.tau == pytest.approx(tuple(math.sqrt(t) for t in ci.tau2))
    assert ci.i2 == pytest.approx(tuple(100 * t / (vt + t) for t in ci.tau2))
    assert ci.h2 == pytest.approx(tuple(1 + t / vt for t in ci.tau2))
    assert ci.i2[0] == pytest.approx(res.i2) and ci.h2[0] == pytest.approx(res.h2)


def test_interval_widens_as_the_level_rises():
    res = fit("PLO", **PLO)
    cis = [res.heterogeneity_ci(level) for level in (80, 0.95, 99)]
    assert [c.level for c in cis] == [0.8, 0.95, 0.99]
    for narrow, wide in zip(cis, cis[1:]):
        assert wide.tau2[1] < narrow.tau2[1] and wide.tau2[2] > narrow.tau2[2]


def test_lower_limit_is_zero_when_tau2_is_zero():
    # identical proportions: tau2 = 0, the common-effect model
    res = fit("PLO", xi=[5, 10, 20, 40], ni=[25, 50, 100, 200])
    assert res.tau2 == 0.0
    ci = res.heterogeneity_ci()
    assert ci.tau2[:2] == (0.0, 0.0) and ci.tau2[2] > 0 and ci.i2[1] == 0.0 and ci.h2[1] == 1.0
    assert lr_statistic(res, ci.tau2[2]) == pytest.approx(stats.chi2.ppf(0.95, 1), abs=1e-6)


def test_lower_limit_is_zero_for_homogeneous_data():
    # mild heterogeneity, not significant: the statistic at tau2 = 0 is below the critical value
    res = fit("PLO", xi=[10, 14, 9, 12, 16, 11], ni=[100, 110, 95, 105, 120, 100])
    ci = res.heterogeneity_ci()
    assert lr_statistic(res, 0.0) < stats.chi2.ppf(0.95, 1)
    assert ci.tau2[1] == 0.0 and ci.tau2[0] <= ci.tau2[2] and ci.tau2[2] > 0


def test_large_k_gives_a_tight_interval_around_the_estimate():
    rng = np.random.default_rng(4)
    k = 60
    ni = rng.integers(50, 300, k)
    xi = rng.binomial(ni, 1 / (1 + np.exp(-(-1.5 + rng.normal(0, 0.5, k)))))
    res = fit("PLO", xi=xi, ni=ni)
    lo, hi = res.heterogeneity_ci().tau2[1:]
    assert 0 < lo < res.tau2 < hi
    # with k = 60 the interval is roughly the Wald-type exp(+-1.96 * sqrt(2/k)) around tau2
    assert res.tau2 / 3 < lo and hi < 3 * res.tau2


def test_no_interval_without_a_fit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sep = mp.rma_glmm("PLO", xi=[0, 0, 0], ni=[10, 20, 30])
        one = mp.rma_glmm("PLO", xi=[3], ni=[10])
    for res in (sep, one):
        with pytest.raises(MetapoolError):
            res.heterogeneity_ci()
