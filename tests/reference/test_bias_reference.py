"""Bias and sensitivity analyses against metafor (fixture from generate_bias.R).

Every model is fitted in R with a tight convergence threshold that metafor's
refits (leave1out, influence, regtest, gosh, trimfill) carry over; metapool
fits with ``Control(algorithm="newton")`` (exact optima, carried over to its
refits too), so iterative estimators are compared to the same relative 1e-8
as closed-form ones. Data: metafor's dat.hackshaw1998 and dat.bcg and random data sets
(k = 3 to 55, some with small-study effects, one with tied variances).
"""

import functools
import gzip
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import metapool as mp
from metapool.bias import fsn, lfk_index, peters, ranktest, regtest, trimfill
from metapool.influence import baujat, cumulative, gosh, influence, leave_one_out

FIXTURE = Path(__file__).with_name("bias_reference.json.gz")
REL, ABS = 1e-8, 1e-10


@functools.lru_cache(maxsize=1)
def reference() -> dict:
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def arr(x) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in np.atleast_1d(x)], dtype=float)


def check(ours, ref, what: str, rel=REL, abs_=ABS) -> None:
    ours, ref = np.atleast_1d(np.asarray(ours, dtype=float)), arr(ref)
    assert ours.shape == ref.shape, what
    np.testing.assert_allclose(ours, ref, rtol=rel, atol=abs_, equal_nan=True, err_msg=what)


EXACT = mp.Control(algorithm="newton")


def fits():
    for ds in reference()["datasets"]:
        for f in ds["fits"]:
            yield pytest.param(ds, f, id=f"{ds['id']}-{f['method']}-{f['test']}")


def model(ds, f):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mp.rma(yi=arr(ds["yi"]), vi=arr(ds["vi"]), ni=None if ds["ni"] is None else arr(ds["ni"]),
                      method=f["method"], test=f["test"], control=EXACT)


@pytest.mark.parametrize("ds,f", list(fits()))
def test_fit_and_regtest(ds, f):
    res = model(ds, f)
    check(res.estimate, f["fit"]["estimate"], "estimate")
    check(res.tau2, f["fit"]["tau2"], "tau2", abs_=1e-9)
    for r in f["regtest"]:
        what = f"regtest {r['model']} {r['predictor']}"
        if "error" in r:
            with pytest.raises(mp.MetapoolError):
                regtest(res, r["model"], r["predictor"])
            continue
        ours = regtest(res, r["model"], r["predictor"])
        check(ours.statistic, r["zval"], what)
        check(ours.pvalue, r["pval"], what)
        assert (ours.ddf is None) == (r["ddf"] is None), f"{what} ddf: ours {ours.ddf}, metafor {r['ddf']}"
        if r["ddf"] is not None:
            check(ours.ddf, r["ddf"], what + " ddf")
        check(np.nan if ours.limit is None else ours.limit, r["est"], what + " limit")
        check(np.nan if ours.ci_lower is None else ours.ci_lower, r["ci_lb"], what + " ci")
        check(np.nan if ours.ci_upper is None else ours.ci_upper, r["ci_ub"], what + " ci")


@pytest.mark.parametrize("ds,f", list(fits()))
def test_trimfill(ds, f):
    res = model(ds, f)
    for t in f["trimfill"]:
        what = f"trimfill {t['estimator']} {t['side_arg']}"
        side = None if t["side_arg"] == "auto" else t["side_arg"]
        if "error" in t or res.k < 3:
            continue
        ours = trimfill(res, side=side, estimator=t["estimator"])
        assert ours.k0 == t["k0"], what
        assert ours.side == t["side"], what
        check(ours.se_k0, t["se_k0"], what)
        check(ours.p_k0, t["p_k0"], what)
        m = ours.model
        for ours_v, key in ((m.estimate, "estimate"), (m.se, "se"), (m.ci_lower, "ci_lb"),
                            (m.ci_upper, "ci_ub"), (m.tau2, "tau2"), (m.statistic, "zval")):
            check(ours_v, t[key], f"{what} {key}", abs_=1e-9)
        check(ours.filled_yi, t["filled_yi"], what + " filled yi")
        check(ours.filled_vi, t["filled_vi"], what + " filled vi")


def _series(ours, ref, what):
    stat = "zval" if "zval" in ref else "tval"
    for mine, key in (("estimate", "estimate"), ("se", "se"), ("statistic", stat), ("pvalue", "pval"),
                      ("ci_lower", "ci.lb"), ("ci_upper", "ci.ub"), ("q", "Q"), ("q_pvalue", "Qp"),
                      ("tau2", "tau2"), ("i2", "I2"), ("h2", "H2")):
        check(getattr(ours, mine), ref[key], f"{what} {key}", abs_=1e-9)


@pytest.mark.parametrize("ds,f", list(fits()))
def test_leave_one_out_and_cumulative(ds, f):
    res = model(ds, f)
    _series(leave_one_out(res), f["leave1out"], "leave1out")
    _series(cumulative(res, arr(ds["order"])), f["cumul"], "cumul")


@pytest.mark.parametrize("ds,f", list(fits()))
def test_influence_and_baujat(ds, f):
    res = model(ds, f)
    inf = influence(res)
    ref = f["influence"]
    for mine, key in (("rstudent", "rstudent"), ("dffits", "dffits"), ("cook_d", "cook.d"), ("cov_r", "cov.r"),
                      ("tau2_del", "tau2.del"), ("qe_del", "QE.del"), ("hat", "hat"), ("weight", "weight"),
                      ("dfbetas", "dfbs")):
        check(getattr(inf, mine), ref[key], f"influence {key}", abs_=1e-9)
    assert list(inf.influential) == ref["is_infl"]
    b = baujat(res)
    check(b.x, f["baujat"]["x"], "baujat x", abs_=1e-9)
    check(b.y, f["baujat"]["y"], "baujat y", abs_=1e-9)


GOSH = [p for p in fits() if "gosh" in p.values[1]]


@pytest.mark.parametrize("ds,f", GOSH)
def test_gosh(ds, f):
    res = model(ds, f)
    g = gosh(res)
    ref = f["gosh"]
    codes = (g.incl * (1 << np.arange(res.k))).sum(axis=1)
    np.testing.assert_array_equal(codes, arr(ref["incl"]))
    for mine, key in (("k", "k"), ("q", "QE"), ("i2", "I2"), ("h2", "H2"), ("tau2", "tau2"),
                      ("estimate", "estimate")):
        # abs 1e-8: where REML's tau2 sits at the boundary metafor stops at ~1e-11, metapool at 0
        check(getattr(g, mine), ref[key], f"gosh {key}", abs_=1e-8)


@pytest.mark.parametrize("ds", reference()["datasets"], ids=lambda d: d["id"])
def test_ranktest_fsn_lfk_peters(ds):
    res = model(ds, {"method": "FE", "test": "z"})
    rt = ranktest(res)
    check(rt.tau, ds["ranktest"]["tau"], "ranktest tau")
    check(rt.pvalue, ds["ranktest"]["pval"], "ranktest p")
    for key, kwargs in (("Rosenthal", {"type": "Rosenthal"}), ("Orwin", {"type": "Orwin"}),
                        ("OrwinWeighted", {"type": "Orwin", "weighted": True}), ("Rosenberg", {"type": "Rosenberg"})):
        ours, ref = fsn(res, **kwargs), ds["fsn"][key]
        check(ours.fsnum, ref["fsnum"], f"fsn {key}")
        check(ours.pvalue, ref["pval"], f"fsn {key} p")
        check(ours.mean_effect, ref["meanes"], f"fsn {key} mean")
        check(ours.target, ref["target"], f"fsn {key} target")
    check(lfk_index(res.yi, np.sqrt(res.vi)).index, ds["lfk"], "lfk")
    if "peters" in ds:
        p = peters(res, arr(ds["events"]), arr(ds["nonevents"]))
        check(p.statistic, ds["peters"]["tval"], "peters t")
        check(p.pvalue, ds["peters"]["pval"], "peters p")
        check(p.limit, ds["peters"]["est"], "peters intercept")


def test_lfk_worked_example():
    """The example of Furuya-Kanamori et al. (2018) as distributed with metasens::lfkindex."""
    pain = reference()["lfk_pain"]
    r = lfk_index(arr(pain["yi"]), np.sqrt(arr(pain["vi"])))
    check(r.index, pain["lfk"], "lfk pain")
    assert r.interpretation == "major asymmetry"
    assert math.isclose(r.index, -3.3101115386, rel_tol=1e-9)


GLMM_ABS = 1e-4  # lme4's optimiser tolerance (see test_glmm_reference.py)


@pytest.mark.parametrize("g", reference()["glmm"], ids=lambda g: g["id"])
def test_glmm_refits_and_study_level_tests(g):
    """GLMM leave-one-out/cumulative equal rma.glmm refitted by hand on the reduced data."""
    from metapool.glmm.model import rma_glmm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = rma_glmm("PLO", xi=arr(g["xi"]), ni=arr(g["ni"]))
    loo = leave_one_out(res)
    cum = cumulative(res)
    for series, refs, rows in ((loo, g["leave1out"], range(res.k)), (cum, g["cumul"], range(1, res.k))):
        for ref, i in zip(refs, rows):
            if "error" in ref:
                continue
            for mine, key in (("estimate", "estimate"), ("tau2", "tau2")):
                assert abs(getattr(series, mine)[i] - ref[key]) <= GLMM_ABS, (series.kind, i, key)
            assert abs(series.se[i] - ref["se"]) <= GLMM_ABS * max(1.0, ref["se"]), (series.kind, i)
            check(series.q[i], ref["QE"], f"{series.kind} QE", rel=1e-5)  # glm() stops at epsilon 1e-8
    rt = regtest(res)
    check(rt.statistic, g["regtest"]["zval"], "glmm regtest", rel=1e-6)
    check(rt.limit, g["regtest"]["est"], "glmm regtest limit", rel=1e-6)
    tf = trimfill(res)
    assert tf.k0 == g["trimfill"]["k0"] and tf.side == g["trimfill"]["side"]
    check(tf.model.estimate, g["trimfill"]["estimate"], "glmm trimfill", rel=1e-6)
