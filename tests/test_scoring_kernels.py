"""The fused scoring sums (``moments``) and the scalar Fisher scoring of one analysis.

A single fit without moderators runs Fisher scoring in Python floats
(``_fisher_scoring_one``); a batch runs the array loop. Both must give the same
iterates, and ``moments`` must equal the sums of :func:`wls` and
:func:`trace_pp` it replaces, including where the weights concentrate on one
study (the cancellation-free traces) and with padding.
"""

from __future__ import annotations

import numpy as np
import pytest

from metapool.models.kernels import Batch, moments, trace_pp, wls
from metapool.models.rootfind import Control, fisher_scoring
from metapool.models.tau2 import ESTIMATORS, _eb_fisher, _he_estimate, _ml_fisher, _reml_fisher

RNG = np.random.default_rng(20261126)


def _data(k, spread=1.0):
    vi = RNG.uniform(0.01, 0.2, k) * np.exp(RNG.normal(0, spread, k))
    yi = RNG.normal(0.3, np.sqrt(0.05 + vi))
    return yi, vi


CASES = [_data(k, s) for k, s in ((2, 1), (5, 0.5), (32, 1), (80, 3))]
# one study carries nearly all the weight: the traces take their cancellation-free form
DOMINATED = (np.array([0.1, 0.5, -0.2, 0.3]), np.array([1e-9, 0.2, 0.3, 0.25]))


@pytest.mark.parametrize("yi, vi", CASES + [DOMINATED])
@pytest.mark.parametrize("tau2", [0.0, 0.013, 0.7])
def test_moments_equal_wls_and_trace_pp(yi, vi, tau2):
    batch = Batch.from_arrays(yi, vi)
    fit = wls(batch, np.array([tau2]))
    want = (fit.w.sum(), (fit.w**2).sum(), fit.q[0], fit.ypp_y[0], fit.trace_p[0], trace_pp(batch, fit)[0])
    for m in (moments(batch, np.array([tau2]), with_pp=True), moments(batch, tau2, with_pp=True)):
        got = [np.asarray(x).reshape(-1)[0] for x in (m.sum_w, m.sum_w2, m.q, m.ypp_y, m.trace_p, m.trace_pp)]
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=0)


def test_scalar_moments_are_python_floats():
    yi, vi = CASES[2]
    m = moments(Batch.from_arrays(yi, vi), 0.05, with_pp=True)
    assert all(type(x) is float for x in (m.sum_w, m.sum_w2, m.q, m.ypp_y, m.trace_p, m.trace_pp))


def test_padded_batch_moments_equal_unpadded():
    yi = np.full((len(CASES), 80), np.nan)
    vi = np.full((len(CASES), 80), np.nan)
    mask = np.zeros((len(CASES), 80), dtype=bool)
    for i, (y, v) in enumerate(CASES):
        yi[i, : len(y)], vi[i, : len(v)], mask[i, : len(y)] = y, v, True
    tau2 = np.array([0.0, 0.02, 0.3, 1.0])
    m = moments(Batch.from_arrays(yi, vi, mask=mask), tau2, with_pp=True)
    for i, (y, v) in enumerate(CASES):
        one = moments(Batch.from_arrays(y, v), float(tau2[i]), with_pp=True)
        np.testing.assert_allclose([m.ypp_y[i], m.trace_p[i], m.trace_pp[i], m.q[i]],
                                   [one.ypp_y, one.trace_p, one.trace_pp, one.q], rtol=1e-12)


@pytest.mark.parametrize("step", [_reml_fisher, _ml_fisher, _eb_fisher])
def test_scalar_fisher_scoring_equals_batched_loop(step):
    # the same analysis alone (scalar path) and twice in a batch (array loop)
    for yi, vi in CASES[1:] + [DOMINATED]:
        one = Batch.from_arrays(yi, vi)
        two = Batch.from_arrays(np.vstack([yi, yi]), np.vstack([vi, vi]))
        start = _he_estimate(one)
        alone = fisher_scoring(one, step, start, Control())
        batched = fisher_scoring(two, step, np.repeat(start, 2), Control())
        np.testing.assert_allclose(alone.x, batched.x[:1], rtol=1e-12, atol=1e-15)
        assert alone.n_iter[0] == batched.n_iter[0] and alone.converged[0] == batched.converged[0]


def test_scalar_path_hands_division_by_zero_to_the_array_loop():
    # k = 1: tr(PP) = 0, a Python float division raises; the array loop answers as before
    one = Batch.from_arrays([0.4], [0.1])
    root = fisher_scoring(one, _reml_fisher, np.array([0.0]), Control())
    assert root.converged[0] and root.x[0] == 0.0 and root.n_iter[0] == 1


def test_scalar_path_halves_a_step_that_crosses_zero():
    # homogeneous data from a large start: the first step would cross tau2 = 0
    yi, vi = np.array([0.1, 0.12, 0.09, 0.11, 0.1]), np.array([0.05, 0.04, 0.06, 0.05, 0.05])
    one = Batch.from_arrays(yi, vi)
    two = Batch.from_arrays(np.vstack([yi, yi]), np.vstack([vi, vi]))
    alone = fisher_scoring(one, _reml_fisher, np.array([2.0]), Control())
    batched = fisher_scoring(two, _reml_fisher, np.array([2.0, 2.0]), Control())
    assert alone.x[0] == pytest.approx(batched.x[0], abs=1e-15) and alone.x[0] >= 0.0
    assert alone.n_iter[0] == batched.n_iter[0]


@pytest.mark.parametrize("method", ["ML", "REML", "EB"])
def test_estimators_single_equals_batch_row(method):
    yi, vi = CASES[2]
    est = ESTIMATORS[method].func
    alone = est(Batch.from_arrays(yi, vi), Control())
    batched = est(Batch.from_arrays(np.vstack([yi, yi[::-1]]), np.vstack([vi, vi[::-1]])), Control())
    np.testing.assert_allclose(alone.tau2, batched.tau2[:1], rtol=1e-12)
    np.testing.assert_allclose(alone.se, batched.se[:1], rtol=1e-12)
