"""Property tests: invariances every correct meta-analysis must satisfy."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import metapool as mp
from metapool.models.fit import fit_batch
from metapool.models.kernels import Batch
from metapool.models.rootfind import Control
from metapool.models.tau2 import get_estimator

METHODS = list(mp.ESTIMATORS)
TESTS = list(mp.TESTS)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def datasets(draw, min_k=2, max_k=25):
    k = draw(st.integers(min_k, max_k))
    yi = draw(st.lists(st.floats(-4, 4, allow_nan=False), min_size=k, max_size=k))
    vi = draw(st.lists(st.floats(0.005, 2.0), min_size=k, max_size=k))
    return np.array(yi), np.array(vi)


# By default ML/REML/EB stop as metafor does (absolute change of tau2 <= 1e-5) and PM/PMM
# search with R's uniroot tolerance; the invariances hold for exact solutions.
EXACT = Control(root_tol=1e-13, algorithm="newton")


def fit(yi, vi, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mp.rma(yi=yi, vi=vi, control=EXACT, **kw)


def close(a, b, rel=1e-7, abs_=1e-9):
    return a == pytest.approx(b, rel=rel, abs=abs_)


@SETTINGS
@given(datasets(), st.sampled_from(METHODS), st.sampled_from(TESTS), st.randoms(use_true_random=False))
def test_study_order_does_not_matter(data, method, test, rnd):
    yi, vi = data
    perm = list(range(len(yi)))
    rnd.shuffle(perm)
    a = fit(yi, vi, method=method, test=test)
    b = fit(yi[perm], vi[perm], method=method, test=test)
    for attr in ("estimate", "se", "tau2", "q", "i2", "ci_lower", "ci_upper"):
        assert close(getattr(a, attr), getattr(b, attr), rel=1e-6, abs_=1e-8), attr


@SETTINGS
@given(datasets(), st.sampled_from(METHODS), st.floats(-10, 10))
def test_location_equivariance(data, method, shift):
    yi, vi = data
    a = fit(yi, vi, method=method)
    b = fit(yi + shift, vi, method=method)
    assert close(b.estimate, a.estimate + shift, rel=1e-6, abs_=1e-6)
    assert close(b.tau2, a.tau2, rel=1e-6, abs_=1e-8)
    assert close(b.se, a.se, rel=1e-6, abs_=1e-8)


@SETTINGS
@given(datasets(), st.sampled_from(METHODS), st.floats(0.05, 20))
def test_scale_equivariance(data, method, c):
    yi, vi = data
    a = fit(yi, vi, method=method)
    b = fit(yi * c, vi * c * c, method=method)
    assert close(b.estimate, a.estimate * c, rel=1e-6, abs_=1e-8)
    assert close(b.tau2, a.tau2 * c * c, rel=1e-6, abs_=1e-9 * c * c)
    assert close(b.i2, a.i2, rel=1e-6, abs_=1e-6)


@SETTINGS
@given(datasets(min_k=3), st.sampled_from(TESTS))
def test_random_effects_with_tau2_zero_equals_common_effect(data, test):
    yi, vi = data
    # Shrink the spread so that Q < k - 1 and DL truncates tau2 at 0.
    yi = yi.mean() + (yi - yi.mean()) * 1e-3
    re = fit(yi, vi, method="DL", test=test)
    assume(re.tau2 == 0.0)
    ce = fit(yi, vi, method="CE", test=test)
    for attr in ("estimate", "se", "ci_lower", "ci_upper", "pvalue", "q"):
        assert close(getattr(re, attr), getattr(ce, attr), rel=1e-12, abs_=1e-14), attr


@SETTINGS
@given(datasets(), st.sampled_from(METHODS))
def test_estimate_is_weighted_mean_with_re_weights(data, method):
    yi, vi = data
    res = fit(yi, vi, method=method)
    w = 1.0 / (vi + res.tau2)
    assert close(res.estimate, np.sum(w * yi) / np.sum(w), rel=1e-10, abs_=1e-12)
    assert close(res.se, np.sqrt(1.0 / np.sum(w)), rel=1e-10)
    assert close(res.weights.sum(), 100.0, rel=1e-12)


@SETTINGS
@given(st.lists(datasets(min_k=1, max_k=12), min_size=1, max_size=6), st.sampled_from(METHODS), st.sampled_from(TESTS))
def test_batch_equals_loop(analyses, method, test):
    kmax = max(len(y) for y, _ in analyses)
    y = np.zeros((len(analyses), kmax))
    v = np.ones((len(analyses), kmax))
    mask = np.zeros((len(analyses), kmax), dtype=bool)
    for i, (yi, vi) in enumerate(analyses):
        y[i, : len(yi)], v[i, : len(vi)], mask[i, : len(yi)] = yi, vi, True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bf = fit_batch(Batch.from_arrays(y, v, mask=mask), get_estimator(method), test, 0.95, EXACT)
    for i, (yi, vi) in enumerate(analyses):
        one = fit(yi, vi, method=method, test=test)
        assert bf.tau2[i] == pytest.approx(one.tau2, rel=1e-10, abs=1e-12)
        assert bf.coef.estimate[i, 0] == pytest.approx(one.estimate, rel=1e-10, abs=1e-12)
        assert bf.coef.ci_lower[i, 0] == pytest.approx(one.ci_lower, rel=1e-10, abs=1e-12)
        assert bf.het.i2[i] == pytest.approx(one.i2, rel=1e-10, abs=1e-12)
