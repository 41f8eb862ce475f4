"""Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3):1-48. Worked example: BCG vaccine trials (dat.bcg), risk ratios.

Values as printed in the paper (section 3), to the digits printed.
"""

import pytest

import metapool as mp
from metapool.datasets import load_dataset


@pytest.fixture(scope="module")
def bcg():
    data = load_dataset("bcg")
    return mp.escalc("RR", data, ai="tpos", bi="tneg", ci="cpos", di="cneg", slab="author")


def test_escalc_first_studies(bcg):
    assert bcg.yi[:3] == pytest.approx([-0.8893, -1.5854, -1.3481], abs=5e-5)
    assert bcg.vi[:3] == pytest.approx([0.3256, 0.1946, 0.4154], abs=5e-5)


def test_random_effects_reml(bcg):
    res = mp.rma(bcg)
    assert res.tau2 == pytest.approx(0.3132, abs=5e-5)
    assert res.tau2_se == pytest.approx(0.1664, abs=5e-5)
    assert res.i2 == pytest.approx(92.22, abs=5e-3)
    assert res.h2 == pytest.approx(12.86, abs=5e-3)
    assert res.q == pytest.approx(152.2330, abs=5e-5)
    assert res.estimate == pytest.approx(-0.7145, abs=5e-5)
    assert res.se == pytest.approx(0.1798, abs=5e-5)
    assert res.statistic == pytest.approx(-3.9744, abs=5e-5)
    assert (res.ci_lower, res.ci_upper) == pytest.approx((-1.0669, -0.3622), abs=5e-5)


def test_predict_with_exp(bcg):
    back = mp.rma(bcg).back()
    assert back.estimate == pytest.approx(0.49, abs=5e-3)
    assert (back.ci_lower, back.ci_upper) == pytest.approx((0.34, 0.70), abs=5e-3)
    assert (back.pi_lower, back.pi_upper) == pytest.approx((0.15, 1.55), abs=5e-3)


def test_confint_q_profile(bcg):
    hci = mp.rma(bcg).heterogeneity_ci()
    assert hci.tau2[1:] == pytest.approx((0.1197, 1.1115), abs=5e-5)
    assert hci.tau[1:] == pytest.approx((0.3460, 1.0543), abs=5e-5)
    assert hci.i2[1:] == pytest.approx((81.9177, 97.6781), abs=5e-4)
    assert hci.h2[1:] == pytest.approx((5.5303, 43.0680), abs=5e-4)


def test_common_effect(bcg):
    res = mp.rma(bcg, method="FE")
    assert res.estimate == pytest.approx(-0.4303, abs=5e-5)
    assert res.se == pytest.approx(0.0405, abs=5e-5)
