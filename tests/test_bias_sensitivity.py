"""Bias and sensitivity analyses: contracts beyond the metafor fixture.

Batch equals loop (every subset refit equals ``rma`` on the reduced data),
k < 3 is reported as undefined, orders and subsets are as documented, and
every result renders and serialises to strict JSON.
"""

import json
import math
import warnings

import numpy as np
import pytest

import metapool as mp
from metapool.bias import (
    BIAS_TESTS, DEFAULT_BIAS_TESTS, bias_report, fsn, funnel_data, lfk, ranktest, regtest, trimfill,
)
from metapool.bias.rank import kendall_cdf, kendall_tau
from metapool.datasets import load_dataset
from metapool.influence import baujat, cumulative, gosh, influence, leave_one_out


@pytest.fixture(scope="module")
def bcg():
    d = load_dataset("bcg")
    es = mp.escalc("RR", d, ai="tpos", bi="tneg", ci="cpos", di="cneg", slab="author")
    return d, es


def fit(yi, vi, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mp.rma(yi=np.asarray(yi), vi=np.asarray(vi), **kw)


@pytest.mark.parametrize("method,test", [("REML", "z"), ("DL", "knha"), ("FE", "t"), ("PM", "z")])
def test_leave_one_out_equals_refits(bcg, method, test):
    _, es = bcg
    res = mp.rma(es, method=method, test=test)
    loo = leave_one_out(res)
    for i in range(res.k):
        keep = np.arange(res.k) != i
        r = fit(res.yi[keep], res.vi[keep], method=method, test=test)
        for name in ("estimate", "se", "ci_lower", "ci_upper", "tau2", "i2", "q"):
            assert math.isclose(getattr(loo, name)[i], getattr(r, name), rel_tol=1e-9, abs_tol=1e-12), name


def test_cumulative_order_and_ties(bcg):
    d, es = bcg
    res = mp.rma(es)
    year = np.asarray(d["year"], dtype=float)
    cum = cumulative(res, d["year"])  # text column: sorted as numbers
    order = np.argsort(year, kind="stable")
    assert cum.slab == tuple(res.slab[i] for i in order)
    assert list(cum.k) == list(range(1, res.k + 1))
    last = fit(res.yi, res.vi)
    assert math.isclose(cum.estimate[-1], last.estimate, rel_tol=1e-10)
    down = cumulative(res, year, decreasing=True)
    expected = sorted(range(res.k), key=lambda i: -year[i])  # stable: ties in data order
    assert down.slab == tuple(res.slab[i] for i in expected)
    with pytest.raises(mp.DataValidationError):
        cumulative(res, year[:-1])


def test_gosh_exhaustive_and_sampled(bcg):
    _, es = bcg
    res = fit(es.yi[:8], es.vi[:8])
    g = gosh(res)
    assert g.exhaustive and g.n == 2**8 - 1
    assert np.all(np.diff(g.k) >= 0)
    assert math.isclose(g.estimate[-1], res.estimate, rel_tol=1e-10)
    single = g.k == 1
    np.testing.assert_allclose(g.estimate[single], res.yi, rtol=1e-12)
    s1, s2 = gosh(res, 100, seed=1), gosh(res, 100, seed=1)
    assert not s1.exhaustive and s1.n == 100
    np.testing.assert_array_equal(s1.incl, s2.incl)
    assert s1.incl.sum(axis=1).min() >= 1
    assert gosh(res, 10_000).exhaustive
    with pytest.raises(mp.OptionError):
        gosh(res, 1)


@pytest.mark.parametrize("k", [1, 2])
def test_small_k_is_undefined(k):
    res = fit([0.1, 0.5][:k], [0.04, 0.09][:k])
    for f in (regtest, ranktest, trimfill, lfk):
        with pytest.raises(mp.MetapoolError, match="at least 3 studies"):
            f(res)
    report = bias_report(res).to_dict()
    assert set(report) == set(DEFAULT_BIAS_TESTS)
    for code in ("egger", "begg", "trimfill", "lfk"):
        assert "undefined" in report[code]
    json.dumps(report, allow_nan=False)


def test_k1_sensitivity_is_undefined():
    res = fit([0.1], [0.04])
    for f in (leave_one_out, influence, baujat, gosh):
        with pytest.raises(mp.MetapoolError, match="at least 2 studies"):
            f(res)


def test_kendall_exact_distribution():
    from scipy import stats

    rng = np.random.default_rng(3)
    for n in (3, 5, 9, 14):
        x, y = rng.normal(size=n), rng.normal(size=n)
        tau, p, exact = kendall_tau(x, y)
        ref = stats.kendalltau(x, y, method="exact")
        assert exact and math.isclose(tau, ref.statistic, rel_tol=1e-12)
        assert math.isclose(p, ref.pvalue, rel_tol=1e-9)
    # the distribution sums to one and is symmetric
    n = 7
    m = n * (n - 1) // 2
    pmf = np.diff([kendall_cdf(q, n) for q in range(-1, m + 1)])
    assert math.isclose(pmf.sum(), 1.0, rel_tol=1e-12)
    np.testing.assert_allclose(pmf, pmf[::-1], rtol=1e-9, atol=1e-15)


def test_regtest_options(bcg):
    _, es = bcg
    res = mp.rma(es)
    with pytest.raises(mp.OptionError):
        regtest(res, predictor="n")
    no_n = fit(res.yi, res.vi)
    with pytest.raises(mp.DataValidationError, match="sample size"):
        regtest(no_n, predictor="ninv")
    assert regtest(res, predictor="ni").limit is None
    with pytest.raises(mp.DataValidationError, match="same for every study"):
        regtest(fit([0.1, 0.3, 0.2, 0.5], [0.04] * 4))


def test_trimfill_mirrors_studies(bcg):
    _, es = bcg
    res = mp.rma(es)
    tf = trimfill(res)
    assert tf.model.k == res.k + tf.k0
    assert tf.model.slab[-tf.k0:] == tuple(f"Filled {i + 1}" for i in range(tf.k0))
    assert tf.filled.sum() == tf.k0
    none = trimfill(fit([-0.2, 0.0, 0.2, 0.1, -0.1], [0.04, 0.05, 0.04, 0.05, 0.045]), side="left")
    if none.k0 == 0:
        assert none.filled_yi.size == 0


def test_funnel_contours(bcg):
    _, es = bcg
    res = mp.rma(es)
    f = funnel_data(res)
    j = f.contour_levels.index(0.95)
    np.testing.assert_allclose(f.contour_upper[j][1:] / f.se_grid[1:], 1.959963984540054, rtol=1e-12)
    np.testing.assert_allclose(f.contour_lower[j], -f.contour_upper[j], rtol=0)
    assert f.se_grid[-1] == pytest.approx(np.sqrt(res.vi).max())
    assert np.all((f.pvalue > 0) & (f.pvalue <= 1))


def test_fsn_types(bcg):
    _, es = bcg
    res = mp.rma(es)
    assert fsn(res).fsnum == 598  # metafor's documented value for dat.bcg
    with pytest.raises(mp.OptionError):
        fsn(res, type="REM")


def test_everything_renders_and_serialises(bcg):
    d, es = bcg
    res = mp.rma(es)
    results = [f(res) for f in (regtest, ranktest, trimfill, fsn, lfk, leave_one_out, influence, baujat)]
    results += [cumulative(res, d["year"]), gosh(res), bias_report(res)]
    for r in results:
        doc = r.summary()
        assert doc.to_text() and doc.to_markdown() and doc.to_html()
        json.dumps(r.to_dict(), allow_nan=False)
    json.dumps(funnel_data(res).to_dict(), allow_nan=False)


def test_registry_and_dispatch():
    assert {"egger", "begg", "trimfill", "lfk", "fsn", "peters"} <= set(BIAS_TESTS)
    for t in BIAS_TESTS.values():
        assert t.name and t.reference and callable(t.function)
    for f in (regtest, ranktest, trimfill, lfk, leave_one_out, influence, gosh):
        with pytest.raises(mp.MetapoolError, match="not available"):
            f(object())


def test_cli_bias_and_sensitivity(tmp_path, capsys):
    from metapool.cli.main import main

    csv = tmp_path / "bcg.csv"
    d = load_dataset("bcg")
    rows = ["study,tpos,tneg,cpos,cneg"] + [
        f"{d['author'][i].replace(',', '')},{d['tpos'][i]},{d['tneg'][i]},{d['cpos'][i]},{d['cneg'][i]}"
        for i in range(13)
    ]
    csv.write_text("\n".join(rows) + "\n")
    args = [str(csv), "--events1", "tpos", "--total1", "tneg", "--events2", "cpos", "--total2", "cneg"]
    assert main(["pool", *args, "--bias", "--sensitivity", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"egger", "begg", "trimfill", "lfk"} <= set(out["bias"])
    assert {"z", "p", "limit"} <= set(out["bias"]["egger"])
    assert {"tau", "p"} <= set(out["bias"]["begg"])
    assert {"k0", "side", "estimate", "ci_lower", "ci_upper"} <= set(out["bias"]["trimfill"])
    assert len(out["sensitivity"]["leave_one_out"]) == 13
    assert len(out["sensitivity"]["influence"]) == 13
    assert main(["pool", *args, "--bias", "--sensitivity"]) == 0
    text = capsys.readouterr().out
    assert "Regression test for funnel plot asymmetry" in text and "Influence diagnostics" in text


def test_moderator_models_are_reported_not_guessed(bcg):
    d, es = bcg
    res = mp.rma(es, mods=["ablat"], data=d)
    for f in (regtest, trimfill, funnel_data, leave_one_out, cumulative, influence, baujat, gosh):
        with pytest.raises(mp.MetapoolError, match="without moderators"):
            f(res)
    assert "undefined" in bias_report(res).to_dict()["egger"]


def test_peters_from_the_two_by_two_table(bcg):
    from metapool.bias import peters

    d, _ = bcg
    es = mp.escalc("OR", d, ai="tpos", bi="tneg", ci="cpos", di="cneg")
    res = mp.rma(es)
    a, b, c, dd = (np.asarray(d[x], dtype=float) for x in ("tpos", "tneg", "cpos", "cneg"))
    direct = peters(res, a + c, b + dd)
    assert peters(res, table=es).statistic == direct.statistic
    with pytest.raises(mp.DataValidationError):
        peters(res)
