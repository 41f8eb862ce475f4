"""Edge cases follow metafor's documented conventions."""

import math
import warnings

import numpy as np
import pytest

import metapool as mp
from metapool.exceptions import MetapoolError, MetapoolWarning


@pytest.mark.parametrize("method", list(mp.ESTIMATORS))
def test_k1_uses_tau2_zero_and_z(method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = mp.rma(yi=[0.3], vi=[0.04], method=method, test="knha")
    assert res.k == 1 and res.tau2 == 0.0 and math.isnan(res.tau2_se)
    assert res.ddf is None  # metafor switches to test = "z" when k = 1
    assert res.se == pytest.approx(0.2)
    assert (res.q, res.q_pvalue, res.i2, res.h2) == (0.0, 1.0, 0.0, 1.0)
    if res.random:
        assert res.predict().pi_lower == pytest.approx(res.ci_lower)


def test_k1_warns_about_the_test():
    with pytest.warns(MetapoolWarning, match="k = 1"):
        mp.rma(yi=[0.3], vi=[0.04], test="t")


def test_k1_has_no_tau2_ci():
    with pytest.raises(MetapoolError, match="k >= 2"):
        mp.rma(yi=[0.3], vi=[0.04]).heterogeneity_ci()


@pytest.mark.parametrize("method", list(mp.ESTIMATORS))
def test_identical_estimates_give_tau2_zero(method):
    res = mp.rma(yi=[0.5] * 5, vi=[0.1, 0.2, 0.3, 0.1, 0.2], method=method)
    assert res.tau2 == 0.0
    assert res.q == 0.0 and res.q_pvalue == 1.0
    assert res.i2 == 0.0


def test_identical_estimates_knha_zero_width():
    # metafor: s^2 = 0 so se = 0 and the CI collapses to the estimate.
    res = mp.rma(yi=[0.5] * 4, vi=[0.1, 0.2, 0.3, 0.1], test="knha")
    assert res.se == 0.0
    assert res.ci_lower == res.ci_upper == pytest.approx(0.5)


def test_common_effect_has_no_prediction_interval():
    res = mp.rma(yi=[0.1, 0.5, 0.9], vi=[0.1, 0.1, 0.1], method="FE")
    assert res.method == "CE"
    assert math.isnan(res.predict().pi_lower)
    assert res.to_dict()["pi_lower"] is None
    with pytest.raises(MetapoolError, match="common-effect"):
        res.heterogeneity_ci()


def test_all_zero_events_are_flagged_for_logit():
    with pytest.warns(MetapoolWarning, match="artefact of the continuity correction"):
        res = mp.rma(mp.escalc("PLO", xi=[0, 0, 0], ni=[10, 20, 30]))
    assert any("artefact" in w for w in res.warnings)
    assert res.corrected == ("Study 1", "Study 2", "Study 3")


def test_all_zero_events_pft_is_meaningful_and_uncorrected():
    res = mp.rma(mp.escalc("PFT", xi=[0, 0, 0], ni=[10, 20, 30]))
    assert res.corrected == ()
    back = res.back()
    assert back.estimate == 0.0 and 0 < back.ci_upper < 0.2


def test_pr_corrects_zero_and_full_studies_like_metafor():
    es = mp.escalc("PR", xi=[0, 10, 5], ni=[10, 10, 10])
    assert list(es.corrected) == [True, True, False]
    assert es.yi[0] == pytest.approx(0.5 / 11)
    assert es.yi[1] == pytest.approx(10.5 / 11)


def test_drop00_excludes_double_zero_studies():
    es = mp.escalc("OR", ai=[0, 2], n1i=[10, 10], ci=[0, 4], n2i=[10, 10], drop00=True)
    assert np.isnan(es.yi[0]) and "drop00" in es.exclusions[0].reason
    es = mp.escalc("OR", ai=[0, 2], n1i=[10, 10], ci=[0, 4], n2i=[10, 10])
    assert es.yi[0] == pytest.approx(0.0) and es.vi[0] == pytest.approx(4.19047619047619)


def test_variance_ratio_warning():
    with pytest.warns(MetapoolWarning, match="largest to smallest sampling variance"):
        mp.rma(yi=[0.1, 0.2, 0.3], vi=[1e-8, 0.5, 1.0])


def test_freeman_tukey_with_unequal_sizes_shows_logit_result():
    with pytest.warns(MetapoolWarning, match="Freeman-Tukey"):
        res = mp.rma(mp.escalc("PFT", xi=[2, 30, 400], ni=[10, 100, 2000]))
    assert res.companion is not None and res.companion.measure == "PLO"
    assert "companion" in res.to_dict()


def test_reml_converges_where_fisher_scoring_oscillates():
    # metafor's default Fisher scoring fails on these data (issue #2).
    yi = (0.1153, 0.1926, -0.2021, -0.3676, 0.001, -0.5706, 0.2592, -0.3303)
    vi = (0.007935, 0.656, 0.119, 0.4472, 4.806, 0.01315, 1.136, 1.609)
    with pytest.warns(MetapoolWarning, match="Fisher scoring .* did not converge"):
        res = mp.rma(yi=yi, vi=vi, method="REML")
    assert res.converged
    assert res.tau2 == pytest.approx(0.0972307, abs=1e-7)
    assert res.estimate == pytest.approx(-0.1935153, abs=1e-7)
    assert res.se == pytest.approx(0.1891229, abs=1e-7)


def test_convergence_failure_is_an_error():
    with pytest.raises(mp.ConvergenceError):
        mp.rma(yi=[0.1, 0.9, -0.5, 0.3], vi=[0.01, 0.02, 0.03, 0.04], control=mp.Control(maxiter=1, fisher_maxiter=1))


def test_results_are_frozen():
    res = mp.rma(yi=[0.1, 0.5], vi=[0.1, 0.1])
    with pytest.raises(AttributeError):
        res.tau2 = 1.0
    with pytest.raises(ValueError):
        res.yi[0] = 3.0
