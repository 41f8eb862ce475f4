"""Pooled medians: McGrath et al. (2019) Stat Med 38:969-984 and McGrath et al. (2025).

Reference numbers come from tests/published/medians_reference.R (R 4.2, Hmisc 4.8,
metafor 3.8-1), which restates the few lines of metamedian's ``pool.med`` and
``metamedian_survival`` (metamedian is not packaged for Debian).
"""

import numpy as np
import pytest
from scipy import stats

from metapool.datasets import load_dataset
from metapool.medians import (
    describe_medians,
    median_survival_se,
    pool_median_survival,
    pool_medians,
    pool_medians_qe,
    qe_fit,
    weighted_quantile,
)

# metamedian's pool.med() example (differences of medians) and invented weights
YI = [5.23, 3.10, 0.50, 0.78, 3.48, 0.59, 2.20, 5.06, 4.00]
WI = [50, 120, 33, 80, 45, 60, 210, 75, 90]


def triple(res):
    return res.ci_lower, res.estimate, res.ci_upper


def test_median_of_medians_normal_approximation():
    # R: quantile(yi, c(.5 - p, .5, .5 + p)), p = qnorm(.975) / (2 sqrt(9))
    assert triple(pool_medians(YI)) == pytest.approx((0.663475790583186, 3.1, 4.65008243148328), rel=1e-13)
    res90 = pool_medians(YI, level=90)
    assert triple(res90) == pytest.approx((0.743303747838961, 3.1, 4.20472645942475), rel=1e-13)
    assert res90.coverage == 0.9


def test_weighted_median_of_medians_matches_hmisc():
    # R: Hmisc::wtd.quantile(yi, weights = wi, probs = c(.5 - p, .5, .5 + p))
    assert triple(pool_medians(YI, n=WI, method="WM")) == (0.78, 2.2, 4.0)
    yt = [3, 3, 5, 7, 7, 7, 9, 12, 15, 15, 20, 4]
    wt = [10, 20, 5, 5, 30, 8, 12, 40, 7, 3, 25, 60]
    assert triple(pool_medians(yt, n=wt, method="wm")) == (4.0, 7.0, 12.0)


def test_weighted_exact_interval():
    # R: coverage 1 - 2 pbinom(1, 9, .5) = 0.9609375; wtd.quantile at (2/9, .5, 8/9)
    res = pool_medians(YI, n=WI, method="WM", exact=True)
    assert triple(res) == (0.78, 2.2, 5.06)
    assert res.coverage == 0.9609375


def test_exact_unweighted_is_the_sign_test_interval():
    res = pool_medians(YI, exact=True)
    ys = np.sort(YI)
    # (Y_(2), Y_(8)): P(Y_(2) <= m <= Y_(8)) = 1 - 2 P(Bin(9, 1/2) <= 1)
    assert (res.ci_lower, res.ci_upper) == (ys[1], ys[7])
    assert res.coverage == pytest.approx(1 - 2 * stats.binom.cdf(1, 9, 0.5))
    with pytest.raises(ValueError, match="too few"):
        pool_medians(YI[:5], exact=True)


def test_weighted_quantile_equal_weights_is_type7_on_integers():
    x = np.array([4.0, 1.0, 3.0, 2.0])
    # with unit weights Hmisc's rule reduces to R's type-7 quantile
    assert weighted_quantile(x, np.ones(4), [0.0, 0.25, 0.5, 1.0]) == pytest.approx(np.quantile(x, [0, 0.25, 0.5, 1]))


def test_missing_medians_are_left_out():
    res = pool_medians([1.0, np.nan, 3.0, 2.0], slab=["a", "b", "c", "d"])
    assert res.k == 3 and [(e.row, e.label) for e in res.exclusions] == [(1, "b")] and res.estimate == 2.0


def test_descriptive_summary():
    s = describe_medians([8, 3, 25, 10, 4, np.nan], slab=list("abcdef"))
    assert (s.k, s.median, s.q1, s.q3, s.minimum, s.maximum) == (5, 8.0, 4.0, 10.0, 3.0, 25.0)
    assert s.missing == ("f",)
    assert s.text(0, "months") == "8 months (IQR 4\u201310; k = 5)"


def test_median_survival_se():
    # Wald reading of the CI; lower half-width when the upper limit was not reached
    z = stats.norm.ppf(0.975)
    se = median_survival_se([10, 10], [6, 7], [14, np.nan])
    assert se == pytest.approx([8 / (2 * z), 3 / z])


def test_pool_median_survival_matches_metafor_on_demo_data():
    # R: rma.uni(yi = median, sei = se_med(median, lower, upper), method = "REML")
    data = load_dataset("aml_hma_ven_synthetic")
    res = pool_median_survival("os_median_months", "os_median_lower", "os_median_upper", data, slab="study", ni="n")
    assert res.k == 28 and len(res.exclusions) == 4
    assert res.tau2 == pytest.approx(3.93270380472102, rel=1e-4)
    assert res.estimate == pytest.approx(7.66117269733185, rel=1e-7)
    assert res.se == pytest.approx(0.47254520236168, rel=1e-5)
    assert res.i2 == pytest.approx(70.1008218477372, rel=1e-5)
    se_r = [1.63268306215889, 1.50512969792773, 1.04593758669554, 1.30104431515787, 1.76023642639006]
    assert np.sqrt(res.vi[:5]) == pytest.approx(se_r, rel=1e-12)


def test_median_outside_its_ci_is_an_error():
    with pytest.raises(ValueError, match="outside its CI"):
        pool_median_survival([5.0, 6.0], [6.0, 4.0], [9.0, 8.0], slab=["x", "y"])


# Quantile estimation: metamedian's qe() examples 1 and 2 (example 2 with the q3 values the
# documentation mistypes as equal to q1 replaced by 16.1 and 17.2); R restatement of qe.fit
# in medians_reference.R.
QE_MED = [6.1, 5.2, 3.1, 2.8, 4.5]
QE_Q1 = [2.0, 1.6, 2.6, 0.9, 3.2]
QE_Q3 = [10.2, 13.0, 8.3, 8.2, 9.9]
QE_N = [100, 92, 221, 81, 42]


def test_qe_fits_match_r_optim():
    fits = [qe_fit(QE_N[i], QE_MED[i], q1=QE_Q1[i], q3=QE_Q3[i]) for i in range(5)]
    assert [f.family for f in fits] == ["normal", "weibull", "log-normal", "log-normal", "log-normal"]
    r_var = [0.580412666727462, 1.06994342861657, 0.129368531006033, 0.385710521722744, 0.901937067888891]
    assert [f.variance for f in fits] == pytest.approx(r_var, rel=1e-8)
    res = pool_medians_qe(QE_N, QE_MED, q1=QE_Q1, q3=QE_Q3)
    assert res.estimate == pytest.approx(4.20919705445515, rel=1e-6)
    assert res.tau2 == pytest.approx(1.57679017545373, rel=1e-4)


def test_qe_mixed_scenarios_and_means():
    s1 = qe_fit(52, 8.7, minimum=0.7, maximum=22.2)
    s2 = qe_fit(34, 10.7, q1=5.2, q3=16.1)
    s3 = qe_fit(57, 11.0, minimum=1.1, q1=5.3, q3=17.2, maximum=24.7)
    assert (s1.scenario, s2.scenario, s3.scenario) == ("S1", "S2", "S3")
    assert (s1.family, s2.family, s3.family) == ("gamma", "normal", "normal")
    # the gamma fit stops within 1e-4 of R's optimum (L-BFGS-B line searches differ slightly)
    assert s1.variance == pytest.approx(0.688223657308389, rel=1e-4)
    assert s2.variance == pytest.approx(3.01636057554473, rel=1e-8)
    assert s3.variance == pytest.approx(0.958918668403181, rel=1e-8)
    res = pool_medians_qe(
        [52, 34, 57, 90], [8.7, 10.7, 11.0, np.nan], q1=[np.nan, 5.2, 5.3, np.nan],
        q3=[np.nan, 16.1, 17.2, np.nan], minimum=[0.7, np.nan, 1.1, np.nan],
        maximum=[22.2, np.nan, 24.7, np.nan], mean=[np.nan, np.nan, np.nan, 12.2], sd=[np.nan, np.nan, np.nan, 4.2],
    )  # fmt: skip
    assert res.vi[3] == pytest.approx(4.2**2 / 90)
    assert res.estimate == pytest.approx(10.7272976697159, rel=1e-4)
