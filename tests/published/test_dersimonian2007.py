"""DerSimonian R, Kacker R (2007). Random-effects model for meta-analysis of clinical
trials: an update. Contemp Clin Trials 28:105-114. CLASP example (log odds ratios),
Tables 3 and 4 (pages 111-112): tau, mu and se for several tau2 estimators.
"""

import math

import pytest

import metapool as mp

N1 = [156, 303, 565, 1570, 103, 4659]
N2 = [74, 303, 477, 1565, 105, 4650]
AI = [5, 5, 12, 69, 9, 313]
CI = [8, 17, 9, 94, 11, 352]


@pytest.mark.parametrize(
    "method, tau, mu, se",
    [
        ("PM", 0.3681, -0.3811, 0.2060),
        ("HE", 0.4410, -0.4035, 0.2327),  # "CA" in the paper
        ("DL", 0.2323, -0.3240, 0.1540),
        ("EB", 0.3681, -0.3811, 0.2060),
        # tau = 0.0023 (tau2 = 5e-6) is where Fisher scoring stops under its 1e-5 rule; the
        # ML score is negative at tau2 = 0, so the exact ML optimum is 0 (see test below).
        ("ML", 0.0023, -0.1974, 0.0694),
        ("REML", 0.1843, -0.2980, 0.1343),
        ("HS", 0.1330, -0.2666, 0.1125),
        ("SJ", 0.4572, -0.4079, 0.2386),
    ],
)
def test_clasp(method, tau, mu, se):
    res = mp.rma(mp.escalc("OR", ai=AI, n1i=N1, ci=CI, n2i=N2), method=method)
    assert math.sqrt(res.tau2) == pytest.approx(tau, abs=5e-5)
    assert res.estimate == pytest.approx(mu, abs=5e-5)
    assert res.se == pytest.approx(se, abs=5e-5)


def test_exact_ml_optimum_is_zero():
    es = mp.escalc("OR", ai=AI, n1i=N1, ci=CI, n2i=N2)
    assert mp.rma(es, method="ML", control=mp.Control(algorithm="newton")).tau2 == 0.0
