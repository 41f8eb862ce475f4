"""Mean and SD from median, IQR and range: Wan et al. (2014) BMC Med Res Methodol 14:135;
Luo et al. (2018) Stat Methods Med Res 27:1785-1805."""

import numpy as np
import pytest

from metapool.medians import estimate_mean_sd
from scipy import stats

from metapool.medians.mean_sd import WAN_TABLE1, WAN_TABLE2, wan_eta, wan_xi

def expected_order_statistic(r, n):
    """E[Z_(r:n)] of standard normal values, by quadrature."""
    from scipy import integrate

    beta = stats.beta(r, n - r + 1)
    f = lambda z: z * beta.pdf(stats.norm.cdf(z)) * stats.norm.pdf(z)  # noqa: E731
    return integrate.quad(f, -12, 12, epsabs=1e-12, limit=200)[0]


@pytest.mark.parametrize("n", [2, 3, 5, 10, 12, 25, 50])
def test_table1_is_twice_the_expected_maximum(n):
    # the published three decimals; n = 12 is printed 3.259 for 3.2585 (as R's meta copies it)
    assert WAN_TABLE1[n - 1] == pytest.approx(2 * expected_order_statistic(n, n), abs=6e-4)
    assert wan_xi(n) == WAN_TABLE1[n - 1]


@pytest.mark.parametrize("q", [1, 2, 5, 12, 24, 50])
def test_table2_is_twice_the_expected_third_quartile(q):
    # Q = 12 and 24 are printed 1.311 and 1.330 for 1.3105 and 1.3295
    assert WAN_TABLE2[q - 1] == pytest.approx(2 * expected_order_statistic(3 * q + 1, 4 * q + 1), abs=6e-4)
    assert wan_eta(4 * q + 1) == WAN_TABLE2[q - 1]


def test_approximations_beyond_the_tables():
    assert wan_xi(51) == pytest.approx(2 * stats.norm.ppf((51 - 0.375) / 51.25))
    assert wan_eta(202) == pytest.approx(2 * stats.norm.ppf((0.75 * 202 - 0.125) / 202.25))
    assert wan_eta(7) == WAN_TABLE2[1]  # Q = ceil((7 - 1) / 4) = 2, as R's meta


def test_luo_mean_published_example():
    # metaBLUE::Luo.mean(c(1, 4, 10), n = 30, "S1") prints $muhat 4.356748
    est = estimate_mean_sd(30, 4, minimum=1, maximum=10)
    assert est.scenario == ("C1",)
    assert round(float(est.mean[0]), 6) == 4.356748
    assert est.sd[0] == 9 / WAN_TABLE1[29]  # n = 30 <= 50: Table 1


def test_scenarios_and_formulas():
    n = np.array([25, 100, 60, 40])
    est = estimate_mean_sd(
        n, [10, 12, 9, np.nan], q1=[6, 8, np.nan, 1], q3=[15, 18, np.nan, 2],
        minimum=[1, np.nan, 2, 0], maximum=[30, np.nan, 20, 3],
    )  # fmt: skip
    assert est.scenario == ("C3", "C2", "C1", "")
    w1, w2 = 2.2 / (2.2 + 25**0.75), 0.7 - 0.72 / 25**0.55
    assert est.mean[0] == pytest.approx(w1 * 31 / 2 + w2 * 21 / 2 + (1 - w1 - w2) * 10)
    assert est.sd[0] == pytest.approx(0.5 * (29 / WAN_TABLE1[24] + 9 / WAN_TABLE2[5]))
    w = 0.7 + 0.39 / 100
    assert est.mean[1] == pytest.approx(w * 13 + (1 - w) * 12)
    assert est.sd[1] == pytest.approx(10 / WAN_TABLE2[24])
    assert np.isnan(est.mean[3]) and np.isnan(est.sd[3])
    d = est.to_dict()["studies"]
    assert d[3] == {"study": "Study 4", "scenario": None, "mean": None, "sd": None}
    assert "C3" in est.summary().to_text()
    wan = estimate_mean_sd(n, [10, 12, 9, np.nan], q1=[6, 8, np.nan, 1], q3=[15, 18, np.nan, 2],
                           minimum=[1, np.nan, 2, 0], maximum=[30, np.nan, 20, 3], mean_method="wan")  # fmt: skip
    assert wan.mean[:3] == pytest.approx([(1 + 12 + 20 + 30 + 30) / 8, 38 / 3, 40 / 4])
    np.testing.assert_array_equal(wan.sd, est.sd)


def test_unordered_summary_is_an_error():
    with pytest.raises(ValueError, match="ordered"):
        estimate_mean_sd(30, 5, q1=6, q3=9)
