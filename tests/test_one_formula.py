"""Each formula family exists once (issue 11): every place that shows a number gets the same one.

The prediction interval, the back-transformation of an estimate with its
limits, the exact binomial and Poisson intervals, I^2/H^2 and the GLMM
Wald-type Q live in :mod:`metapool.inference`; these tests check that the
results, their summaries, forest rows, the batch engine and the subgroup
analysis give the values those functions give, and that the light modules
stay light.
"""

import json
import math
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import metapool as mp
from metapool.batch.engine import fit_many
from metapool.effect_sizes.transforms import TRANSFORMS, harmonic_mean, iirft, ipft
from metapool.inference import (clopper_pearson, common_i2_h2, critical, natural_limits, poisson_exact,
                                prediction_interval, random_i2_h2, wald_q)
from metapool.moderators.subgroups import subgroup_analysis
from metapool.plots.forest_data import pooled_row

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def proportions(draw, min_k=3, max_k=12):
    k = draw(st.integers(min_k, max_k))
    ni = np.array(draw(st.lists(st.integers(5, 2000), min_size=k, max_size=k)))
    share = np.array(draw(st.lists(st.floats(0.02, 0.98), min_size=k, max_size=k)))
    return np.round(share * ni).astype(int), ni


def quiet(f, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args, **kw)


def values(p):
    return (p.estimate, p.ci_lower, p.ci_upper, p.pi_lower, p.pi_upper)


def same(*numbers) -> bool:
    """All tuples of numbers equal to the bit (NaN equal to NaN)."""
    return all(np.array_equal(np.array(numbers[0], dtype=float), np.array(n, dtype=float), equal_nan=True)
               for n in numbers[1:])


@SETTINGS
@given(proportions(), st.sampled_from(["PLO", "PFT", "PAS", "PR"]), st.sampled_from(["REML", "DL", "FE"]),
       st.sampled_from(["z", "t"]))
def test_one_prediction_interval_and_back_transformation(data, measure, method, test):
    """Result fields, predict(), JSON, back(), the forest row and predict(transf=True) agree to the bit."""
    xi, ni = data
    res = quiet(mp.rma, mp.escalc(measure, xi=xi, ni=ni), method=method, test=test)
    crit = critical(res.level, np.array([np.inf if res.ddf is None else res.ddf]))[0]
    lo, hi = prediction_interval(res.estimate, res.se, res.tau2 if res.random else math.nan, crit)
    p, d = res.predict(), res.to_dict()
    assert same((p.pi_lower, p.pi_upper), (res.pi_lower, res.pi_upper), (lo, hi))
    assert (d["pi_lower"], d["pi_upper"]) == ((p.pi_lower, p.pi_upper) if res.random else (None, None))
    back = res.back()
    t = res.back_transform
    if t is None:
        assert back is None
        return
    assert same(values(back), values(p.back_transformed(t, res.ni)), values(res.predict(transf=True)))
    assert back.estimate == float(t(np.array([p.estimate]), res.ni)[0])
    assert (back.ci_lower, back.ci_upper) == tuple(map(float, natural_limits(t, p.ci_lower, p.ci_upper, res.ni)))
    assert back.ci_lower <= back.estimate <= back.ci_upper
    assert d["back"] == back.to_dict()
    row = pooled_row(res)
    pi = values(back)[3:] if res.k >= 3 else (math.nan, math.nan)  # the forest row shows a PI from k = 3
    assert same((row.estimate, row.ci_lower, row.ci_upper, row.pi_lower, row.pi_upper), values(back)[:3] + pi)


@settings(SETTINGS, max_examples=8)
@given(proportions(min_k=2, max_k=8), st.sampled_from(["z", "t"]))
def test_glmm_prediction_interval_and_back_transformation(data, test):
    xi, ni = data
    res = quiet(mp.rma_glmm, "PLO", xi=xi, ni=ni, test=test)
    assume(res.exact is None)  # separated data: the exact interval (test_exact_intervals)
    p = res.predict()
    assert (res.pi_lower, res.pi_upper) == (p.pi_lower, p.pi_upper)
    crit = critical(res.level, np.array([np.inf if res.ddf is None else res.ddf]))[0]
    assert (p.pi_lower, p.pi_upper) == tuple(map(float, prediction_interval(res.estimate, res.se, res.tau2, crit)))
    back = res.back()
    assert same(values(back), values(p.back_transformed(res.back_transform)))
    row = pooled_row(res)
    assert same((row.estimate, row.ci_lower, row.ci_upper), values(back)[:3])
    assert res.to_dict()["back"] == back.to_dict()


def test_back_takes_a_level():
    """``back(level)`` is ``predict(level=level)`` back-transformed (it passed the level as ``newmods``)."""
    res = mp.rma(mp.escalc("PLO", xi=[3, 10, 20, 7], ni=[30, 40, 50, 25]))
    assert same(values(res.back(0.9)), values(res.predict(level=0.9).back_transformed(res.back_transform, res.ni)))
    assert res.back(90).ci_upper < res.back().ci_upper


@pytest.mark.parametrize("measure, size, inverse", [("PFT", "ni", ipft), ("IRFT", "ti", iirft)])
def test_batch_back_transformation_is_rma_back(measure, size, inverse):
    """The batch engine back-transforms as ``rma(...).back()``, IRFT with the inverse of IRFT (it used PFT's)."""
    xi, sizes = [3, 5, 10, 0, 7], [100.0, 250.0, 300.0, 80.0, 33.0]
    table = pd.DataFrame({"g": 1, "x": xi, "s": sizes})
    row = fit_many(table, "g", measure=measure, xi="x", **{size: "s"}).iloc[0]
    res = mp.rma(mp.escalc(measure, xi=xi, **{size: sizes}))
    back = res.back()
    assert back.estimate == pytest.approx(float(inverse(res.estimate, harmonic_mean(sizes))), rel=1e-12)
    for key in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"):
        assert row[f"back_{key}"] == pytest.approx(getattr(back, key), rel=1e-10)


def test_subgroups_with_one_tau2_back_transform_with_their_own_sizes():
    """Freeman-Tukey cell means use the harmonic mean of the subgroup's studies, as separate fits do."""
    xi, ni = [3, 10, 20, 7, 40, 2], [30, 40, 500, 25, 900, 12]
    groups = ["a", "a", "b", "a", "b", "b"]
    es = mp.escalc("PFT", xi=xi, ni=ni)
    res = subgroup_analysis(es, groups, tau2="common")
    for sub, members in zip(res.subgroups, (np.array(groups) == "a", np.array(groups) == "b")):
        hm = harmonic_mean(np.array(ni)[members])
        back = sub.back()
        assert back.estimate == float(ipft(sub.estimate, hm)) and back.scale == "natural"
        assert (back.ci_lower, back.ci_upper) == tuple(map(float, natural_limits(
            TRANSFORMS["ipft_hm"], sub.ci_lower, sub.ci_upper, np.array(ni)[members])))


def test_natural_limits_are_ordered_and_keep_nan():
    t = TRANSFORMS["exp"]
    lo, hi = natural_limits(lambda x, ni=None: -t(x), np.array([0.0, np.nan]), np.array([1.0, np.nan]))
    assert lo[0] == -math.e and hi[0] == -1.0
    assert np.isnan(lo[1]) and np.isnan(hi[1])


def test_exact_intervals():
    """Clopper-Pearson and exact Poisson limits: scipy.stats' classic formulas; the GLMM's separated case uses them."""
    from scipy import stats

    x, n = np.array([0, 3, 10, 20]), np.array([20, 20, 20, 20])
    lo, hi = clopper_pearson(x, n, 0.9)
    for i in range(len(x)):
        ci = stats.binomtest(int(x[i]), int(n[i])).proportion_ci(0.9, method="exact")
        assert (lo[i], hi[i]) == pytest.approx((ci.low, ci.high), rel=1e-9, abs=1e-15)  # scipy: a root search
    t = 250.0
    lo, hi = poisson_exact(x, t, 0.95)
    ref_lo = np.where(x > 0, stats.chi2.ppf(0.025, 2 * x) / 2, 0.0) / t
    ref_hi = stats.chi2.ppf(0.975, 2 * x + 2) / 2 / t
    np.testing.assert_allclose(lo, ref_lo, rtol=1e-12)
    np.testing.assert_allclose(hi, ref_hi, rtol=1e-12)
    for measure, size, exact in (("PLO", "ni", clopper_pearson), ("IRLN", "ti", poisson_exact)):
        res = quiet(mp.rma_glmm, measure, xi=[0, 0, 0], **{size: [10.0, 20.0, 30.0]})
        assert (res.back().ci_lower, res.back().ci_upper) == tuple(map(float, exact(0.0, 60.0, res.level)))


def test_i2_h2_of_common_and_random_effects():
    i2, h2 = common_i2_h2(np.array([0.0, 3.0, 12.0, np.nan]), 4.0)
    np.testing.assert_array_equal(i2, [0.0, 0.0, 100.0 * 8.0 / 12.0, np.nan])
    np.testing.assert_array_equal(h2, [0.0, 0.75, 3.0, np.nan])
    i2, h2 = random_i2_h2([0.0, 0.5, np.inf], 0.5)
    np.testing.assert_array_equal(i2, [0.0, 50.0, 100.0])
    np.testing.assert_array_equal(h2, [1.0, 2.0, np.inf])
    tables = dict(ai=[6, 12, 3, 20], n1i=[36, 50, 30, 60], ci=[11, 10, 9, 18], n2i=[54, 50, 31, 62])
    res = mp.rma_mh(measure="OR", **tables)
    assert (res.i2, res.h2) == tuple(float(v) for v in common_i2_h2(res.q, res.q_df))
    fe = mp.rma(mp.escalc("OR", **tables), method="FE")
    assert (fe.i2, fe.h2) == tuple(float(v) for v in common_i2_h2(fe.q, fe.q_df))


def test_glmm_wald_q_is_the_sum_of_its_terms():
    """The fit's Q, leave-one-out Q and Baujat x come from one set of terms (wald_q)."""
    from metapool.influence import baujat, leave_one_out

    xi, ni = [3, 10, 20, 5, 7, 1], [30, 40, 50, 20, 70, 15]
    res = quiet(mp.rma_glmm, "PLO", xi=xi, ni=ni)
    x = baujat(res).x
    q, df, p = wald_q(x, res.k)
    assert (res.q, res.q_df, res.q_pvalue) == (float(q), float(df), float(p))
    loo = leave_one_out(res)
    first = quiet(mp.rma_glmm, "PLO", xi=xi[1:], ni=ni[1:])
    assert loo.q[0] == first.q and loo.q_pvalue[0] == first.q_pvalue
    assert np.isnan(wald_q(np.array([[1.0, 0.0]]), [1])[0][0])


def _loaded(modules: str, names: tuple) -> list:
    """Which of ``names`` a fresh interpreter has loaded after importing ``modules``."""
    code = f"import json, sys, {modules}; print(json.dumps([m for m in {list(names)!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_plots_and_medians_do_not_import_scipy_stats():
    assert _loaded("metapool.plots, metapool.medians", ("scipy.stats",)) == []


def test_import_metapool_stays_light():
    assert _loaded("metapool", ("pandas", "matplotlib", "scipy.stats")) == []
